// Command nt-ph-hog is a homology plugin whose Compute reserves memory
// without end (untouched, so it costs address space, not RAM), so the
// bench's tests can check that its memory limit stops a backend alone.
package main

import (
	"context"

	"github.com/neuraltopology/neuraltopology/sdk"
)

type hog struct{}

func (hog) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "hog", Kind: sdk.KindPH, Version: "0.0.1", Protocol: sdk.ProtocolVersion, Description: "reserves memory until stopped"}, nil
}

var keep [][]byte

func (hog) Compute(ctx context.Context, _ sdk.HomologyRequest) ([]sdk.Diagram, error) {
	for i := 0; i < 1024 && ctx.Err() == nil; i++ { // at most 256 GiB
		keep = append(keep, make([]byte, 256<<20))
	}
	return nil, ctx.Err()
}

func main() { sdk.Serve(hog{}) }
