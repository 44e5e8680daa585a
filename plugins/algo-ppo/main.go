// Command nt-algo-ppo is the PPO learner as a NeuralTopology plugin.
package main

import (
	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() {
	// The networks' kernels and BLAS run in cgo calls, two goroutines at
	// once in an update.
	sdk.SpareP()
	sdk.Serve(ppo.New())
}
