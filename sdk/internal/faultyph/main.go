// Command faultyph is a homology plugin that misbehaves on request. The
// sdk's tests build it as nt-ph-faulty to check what a host sees when a
// plugin panics, hangs or logs.
package main

import (
	"context"
	"math"

	"github.com/neuraltopology/neuraltopology/sdk"
)

type faulty struct{}

func (faulty) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "faulty", Kind: sdk.KindPH, Version: "0.0.1", Protocol: sdk.ProtocolVersion, Description: "test fixture"}, nil
}

// Compute panics for MaxDim 99, blocks until cancelled for MaxDim 98, logs
// for MaxDim 97, and otherwise echoes the matrix size as one H0 pair.
func (faulty) Compute(ctx context.Context, r sdk.HomologyRequest) ([]sdk.Diagram, error) {
	switch r.MaxDim {
	case 99:
		panic("faulty plugin asked to crash")
	case 98:
		<-ctx.Done()
		return nil, ctx.Err()
	case 97:
		sdk.Logger().Warn("faulty plugin says hello", "dim", 97)
	}
	n := 0.0
	if r.Distances != nil {
		n = float64(len(r.Distances.Data))
	}
	return []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{n, math.Inf(1)}}}}, nil
}

func main() { sdk.Serve(faulty{}) }
