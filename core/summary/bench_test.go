package summary

import (
	"math/rand/v2"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// BenchmarkSummarize digests diagrams the size of one 500-point snapshot
// cloud (499 finite H0 bars + 1 essential, 200 H1, 50 H2) at the default
// 64-point Betti curve.
func BenchmarkSummarize(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	mk := func(dim, n int) sdk.Diagram {
		d := sdk.Diagram{Dim: dim}
		for i := 0; i < n; i++ {
			birth := rng.Float64() * 3
			d.Pairs = append(d.Pairs, [2]float64{birth, birth + rng.Float64()*2})
		}
		return d
	}
	ds := []sdk.Diagram{mk(0, 499), mk(1, 200), mk(2, 50)}
	ds[0].Pairs = append(ds[0].Pairs, [2]float64{0, inf})
	b.ReportAllocs()
	for b.Loop() {
		Summarize(ds, 5, Options{})
	}
}
