package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// h0 computes H0 persistence by single linkage (Prim's spanning tree):
// declared max_dim 0, coefficients of any field (H0 does not depend on
// them), distances as input.
type h0 struct {
	name    string
	overDim bool // the fault: above max_dim it answers with an empty H1 instead of refusing
	chatty  bool // the fault: prints every pair to stdout
	hang    bool // the fault: H0 of a 40-point matrix never returns, whatever the host says
	// the fault: an empty H1 beside H0, whatever dimensions were asked for
	extraDim bool
	capped   bool // the fault: at most 1,000 pairs, the longest
}

func (p *h0) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: p.name, Kind: sdk.KindPH, Version: "0.1.0", Protocol: sdk.ProtocolVersion,
		Description:  "H0 by single linkage (conformance kit fixture)",
		Capabilities: map[string]string{sdk.CapMaxDim: "0", sdk.CapCoeff: "any", sdk.CapInput: "distances"}}, nil
}

func (p *h0) Compute(ctx context.Context, r sdk.HomologyRequest) ([]sdk.Diagram, error) {
	if r.Distances == nil {
		return nil, fmt.Errorf("%s: want a distance matrix", p.name)
	}
	if len(r.Params) > 0 {
		return nil, fmt.Errorf("%s: takes no parameters", p.name)
	}
	if r.MaxDim > 0 && !p.overDim {
		return nil, fmt.Errorf("%s: computes H0 only; asked for dimensions up to %d", p.name, r.MaxDim)
	}
	d := *r.Distances
	if err := d.ValidateDistances(); err != nil {
		return nil, fmt.Errorf("%s: %v", p.name, err)
	}
	n := d.Rows
	if p.hang && n == 40 && r.Coeff == 0 {
		time.Sleep(time.Hour) // and ctx ignored
	}
	deaths := make([]float64, 0, n)
	if n > 0 {
		best := append([]float64(nil), d.Row(0)...)
		used := make([]bool, n)
		used[0] = true
		for range n - 1 {
			u := -1
			for j := range n {
				if !used[j] && (u < 0 || best[j] < best[u]) {
					u = j
				}
			}
			used[u] = true
			if w := best[u]; w > 0 {
				if r.Threshold > 0 && w > r.Threshold {
					w = math.Inf(1)
				}
				deaths = append(deaths, w)
			}
			for j := range n {
				best[j] = math.Min(best[j], d.At(u, j))
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		deaths = append(deaths, math.Inf(1))
	}
	sort.Float64s(deaths)
	if p.capped && len(deaths) > 1000 {
		deaths = deaths[len(deaths)-1000:]
	}
	dg := sdk.Diagram{Dim: 0}
	for _, w := range deaths {
		dg.Pairs = append(dg.Pairs, [2]float64{0, w})
		if p.chatty {
			fmt.Println("pair", 0, w)
		}
	}
	out := []sdk.Diagram{dg}
	top := r.MaxDim
	if p.extraDim {
		top = max(top, 1)
	}
	for k := 1; k <= top; k++ {
		out = append(out, sdk.Diagram{Dim: k})
	}
	return out, nil
}
