// Command nt-env-mujoco is the MuJoCo environment plugin: Hopper-v4,
// Walker2d-v4 and InvertedPendulum-v4 served over the sdk's gRPC protocol.
package main

import (
	"log"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() {
	env := mjenv.New()
	// Physics instabilities go to stderr, which the host shows as the
	// plugin's log.
	env.Logf = log.Printf
	sdk.Serve(env)
}
