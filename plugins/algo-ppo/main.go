// Command nt-algo-ppo is the PPO learner as a NeuralTopology plugin.
package main

import (
	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() { sdk.Serve(ppo.New()) }
