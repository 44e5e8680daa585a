package main

import (
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

func TestConformance(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-ph-ripser")
	plugintest.Run(t, bin)
}
