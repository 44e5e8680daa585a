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

// BenchmarkStepFastPath and BenchmarkStepGRPC time one InvertedPendulum
// step (about 10 us of physics) through the env plugin, over the fast path
// and over gRPC: the per-step cost of the boundary during training.
func BenchmarkStepFastPath(b *testing.B) { benchStep(b, "1") }

func BenchmarkStepGRPC(b *testing.B) { benchStep(b, "0") }

func benchStep(b *testing.B, fast string) {
	b.Setenv("NT_FASTPATH", fast)
	c := plugintest.Open(b, plugintest.Build(b, "../plugins/env-mujoco", "nt-env-mujoco"))
	e, _ := c.Env()
	ctx := context.Background()
	h, spec, err := e.Open(ctx, sdk.EnvConfig{TaskID: "InvertedPendulum-v4", NumEnvs: 1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Reset(ctx, h, 1); err != nil {
		b.Fatal(err)
	}
	act := sdk.NewMatrix(1, spec.ActDim)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Step(ctx, h, act); err != nil {
			b.Fatal(err)
		}
	}
}
