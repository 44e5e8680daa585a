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

// BenchmarkStepShm, BenchmarkStepFastPath (the socket) and BenchmarkStepGRPC
// time one InvertedPendulum step (about 10 us of physics) through the env
// plugin over each transport: the per-step cost of the boundary during
// training.
func BenchmarkStepShm(b *testing.B) { benchStep(b, sdk.TransportShm) }

func BenchmarkStepFastPath(b *testing.B) { benchStep(b, sdk.TransportSocket) }

func BenchmarkStepGRPC(b *testing.B) { benchStep(b, sdk.TransportGRPC) }

func benchStep(b *testing.B, transport string) {
	b.Setenv("NT_TRANSPORT", transport)
	c := plugintest.Open(b, plugintest.Build(b, "../plugins/env-mujoco", "nt-env-mujoco"))
	if c.Transport() != transport {
		b.Fatalf("asked for %s, got %s", transport, c.Transport())
	}
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
