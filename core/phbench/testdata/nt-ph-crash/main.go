// Command nt-ph-crash is a homology plugin that dies in Compute, so the
// bench's tests can check that a crash becomes a row, not an abort.
package main

import (
	"context"
	"os"

	"github.com/neuraltopology/neuraltopology/sdk"
)

type crash struct{}

func (crash) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "crash", Kind: sdk.KindPH, Version: "0.0.1", Protocol: sdk.ProtocolVersion, Description: "dies on Compute"}, nil
}

func (crash) Compute(context.Context, sdk.HomologyRequest) ([]sdk.Diagram, error) {
	// Written to fd 2 itself, as the Go runtime does: go-plugin has
	// swapped os.Stderr for a pipe.
	os.NewFile(2, "stderr").WriteString("fatal error: runtime: out of memory\n")
	os.Exit(2)
	return nil, nil
}

func main() { sdk.Serve(crash{}) }
