package main

import (
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestConformance builds nt-algo-ppo and runs the sdk conformance kit on
// it over gRPC, as the host will start it.
func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Build(t, ".", "nt-algo-ppo"))
}
