// Command nt-dist-manhattan is the smallest complete NeuralTopology
// plugin: a distance plugin giving the Manhattan (L1) distance matrix of a
// point cloud. docs/plugins.md walks through it.
//
// Build it as a binary named nt-<kind>-<name> where the host looks:
//
//	go build -o bin/nt-dist-manhattan ./examples/nt-dist-manhattan
package main

import (
	"context"
	"fmt"
	"math"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// manhattan implements sdk.Distance.
type manhattan struct{}

// Describe tells the host who we are; Name and Kind must match the
// binary's name and Protocol the sdk the host was built with.
func (manhattan) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:        "manhattan",
		Kind:        sdk.KindDist,
		Version:     "0.1.0",
		Protocol:    sdk.ProtocolVersion,
		Description: "Manhattan (L1) distances between points (example plugin)",
		// The L1 distance satisfies the triangle inequality; say so, and the
		// conformance kit checks it.
		Capabilities: map[string]string{sdk.CapMetric: "true"},
	}, nil
}

// Compute returns the n x n matrix of sum_k |x_ik - x_jk|.
func (manhattan) Compute(ctx context.Context, points sdk.Matrix, params map[string]string) (sdk.DistanceResult, error) {
	// Bad input is an error, never a panic: the host shows it to the user.
	if err := points.Validate(true); err != nil {
		return sdk.DistanceResult{}, fmt.Errorf("manhattan: points: %w", err)
	}
	if points.Rows == 0 {
		return sdk.DistanceResult{}, fmt.Errorf("manhattan: no points")
	}
	for k := range params {
		return sdk.DistanceResult{}, fmt.Errorf("manhattan: unknown parameter %q", k)
	}
	n := points.Rows
	d := sdk.NewMatrix(n, n)
	for i := 0; i < n; i++ {
		// Honour cancellation: the host cancels on Ctrl-C or a deadline.
		if err := ctx.Err(); err != nil {
			return sdk.DistanceResult{}, err
		}
		a := points.Row(i)
		for j := 0; j < i; j++ {
			b := points.Row(j)
			var s float64
			for k := range a {
				s += math.Abs(a[k] - b[k])
			}
			d.Data[i*n+j], d.Data[j*n+i] = s, s
		}
	}
	return sdk.DistanceResult{Distances: d, Components: 1}, nil
}

func main() { sdk.Serve(manhattan{}) }
