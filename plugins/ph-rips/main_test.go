package main

import (
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestConformance runs the sdk's conformance kit against the built
// nt-ph-rips binary: handshake, Describe, small and bad inputs, and a
// payload beyond gRPC's default message limit.
func TestConformance(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-ph-rips")
	plugintest.Run(t, bin)
}
