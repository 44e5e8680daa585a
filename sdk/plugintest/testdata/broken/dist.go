package main

import (
	"context"
	"fmt"
	"math"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// dist computes Euclidean distances.
type dist struct {
	name  string
	short bool // the fault: the matrix of 60 points misses its last value
}

func (d *dist) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: d.name, Kind: sdk.KindDist, Version: "0.1.0", Protocol: sdk.ProtocolVersion,
		Description:  "Euclidean distances (conformance kit fixture)",
		Capabilities: map[string]string{sdk.CapMetric: "true"}}, nil
}

func (d *dist) Compute(_ context.Context, p sdk.Matrix, params map[string]string) (sdk.DistanceResult, error) {
	for k := range params {
		return sdk.DistanceResult{}, fmt.Errorf("%s: no parameter %q", d.name, k)
	}
	if err := p.Validate(true); err != nil {
		return sdk.DistanceResult{}, fmt.Errorf("%s: points: %v", d.name, err)
	}
	n := p.Rows
	m := sdk.NewMatrix(n, n)
	for i := range n {
		for j := range n {
			var s float64
			for k := range p.Cols {
				x := p.At(i, k) - p.At(j, k)
				s += x * x
			}
			m.Data[i*n+j] = math.Sqrt(s)
		}
	}
	if d.short && n == 60 {
		m.Data = m.Data[:n*n-1]
	}
	return sdk.DistanceResult{Distances: m, Components: 1}, nil
}
