package main

import (
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestConformance runs the conformance kit against the plugin binary,
// which declares supervised and so gets the supervised checks.
func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Build(t, ".", "nt-algo-mlp"))
}
