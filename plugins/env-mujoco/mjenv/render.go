package mjenv

import (
	"fmt"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mujoco"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// renderer is a batch's MuJoCo renderer, made on the first Render call
// (most batches never render) and remade if a larger frame is asked for.
type renderer struct {
	r   *mujoco.Renderer
	cam mujoco.Camera
}

func (r *renderer) close() { r.r.Close() }

func (b *batch) renderFrame(d *mujoco.Data, w, h int) (sdk.Frame, error) {
	if b.render == nil || w > b.renderW || h > b.renderH {
		if b.render != nil {
			b.render.close()
			b.render = nil
		}
		mw, mh := max(w, 640), max(h, 480)
		r, err := mujoco.NewRenderer(b.model, mw, mh)
		if err != nil {
			return sdk.Frame{}, fmt.Errorf("%s: %w", b.task.ID, err)
		}
		v := b.task.View
		cam := mujoco.Camera{Lookat: v.Lookat, Distance: v.Distance, Azimuth: v.Azimuth, Elevation: v.Elevation, TrackBody: -1}
		if v.Track != "" {
			cam.TrackBody = b.model.ID(mujoco.ObjBody, v.Track)
		}
		b.render, b.renderW, b.renderH = &renderer{r: r, cam: cam}, mw, mh
	}
	pix, err := b.render.r.Render(d, b.render.cam, w, h)
	if err != nil {
		return sdk.Frame{}, fmt.Errorf("%s: %w", b.task.ID, err)
	}
	return sdk.Frame{Width: w, Height: h, Pix: pix}, nil
}
