package mjenv_test

import (
	"context"
	"fmt"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Stepping a batch of four InvertedPendulum-v4 environments in-process,
// as a learning test would.
func Example() {
	ctx := context.Background()
	env := mjenv.New()
	h, spec, err := env.Open(ctx, sdk.EnvConfig{TaskID: "InvertedPendulum-v4", NumEnvs: 4, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer env.Close(ctx, h)
	fmt.Println("obs", spec.ObsDim, "act", spec.ActDim, "bounds", spec.ActLow, spec.ActHigh, "dt", spec.DT)

	episodes := 0
	for range 100 {
		res, err := env.Step(ctx, h, sdk.NewMatrix(spec.NumEnvs, spec.ActDim)) // zero force
		if err != nil {
			fmt.Println(err)
			return
		}
		episodes += len(res.Episodes)
	}
	fmt.Println("episodes ended:", episodes > 0)
	// Output:
	// obs 4 act 1 bounds [-3] [3] dt 0.04
	// episodes ended: true
}
