package mjenv

import (
	"errors"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mujoco"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// renderer is a placeholder until rendering lands.
type renderer struct{}

func (r *renderer) close() {}

func (b *batch) renderFrame(d *mujoco.Data, w, h int) (sdk.Frame, error) {
	return sdk.Frame{}, errors.New("render: not implemented yet")
}
