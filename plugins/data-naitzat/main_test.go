package main

import (
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestConformance runs the conformance kit against the plugin binary.
func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Build(t, ".", "nt-data-naitzat"))
}
