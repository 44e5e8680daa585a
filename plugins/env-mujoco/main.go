// Command nt-env-mujoco is the MuJoCo environment plugin: Hopper-v4,
// Walker2d-v4 and InvertedPendulum-v4 served over the sdk's gRPC protocol.
package main

import (
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() { sdk.Serve(mjenv.New()) }
