package sdk_test

import (
	"context"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// The cost of the plugin boundary: a small call, and a 2,000 x 2,000
// float64 matrix (32 MB) sent to a plugin. `make bench-boundary` runs them;
// docs/benchmarks.md records the results.

func BenchmarkBoundarySmallCall(b *testing.B) {
	c := plugintest.Open(b, faultyForBench(b))
	h, _ := c.PH()
	m := sdk.NewMatrix(2, 2)
	req := sdk.HomologyRequest{Distances: &m}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Compute(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBoundary32MBMatrix(b *testing.B) {
	c := plugintest.Open(b, faultyForBench(b))
	h, _ := c.PH()
	m := sdk.NewMatrix(2000, 2000)
	req := sdk.HomologyRequest{Distances: &m}
	ctx := context.Background()
	b.SetBytes(int64(8 * len(m.Data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Compute(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func faultyForBench(b *testing.B) string {
	return plugintest.Build(b, "./internal/faultyph", "nt-ph-faulty")
}
