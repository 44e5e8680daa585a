// Command nt-ph-rips serves the rips persistent homology engine as an
// nthost plugin.
package main

import (
	"runtime/debug"

	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/rips"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() {
	debug.SetGCPercent(rips.GCPercent)
	sdk.Serve(rips.Plugin{})
}
