// Command nt-algo-mlp is a fully connected softmax classifier (the
// learner of Naitzat et al.'s experiments) served as an algorithm plugin
// with the capability supervised.
package main

import (
	"github.com/neuraltopology/neuraltopology/plugins/algo-mlp/mlp"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() { sdk.Serve(mlp.New()) }
