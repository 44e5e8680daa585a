package rips

import (
	"math/rand/v2"
	"testing"
)

// TestChainHeapSumsLikeAMap adds random coboundary-like runs (distinct
// simplices within a run, repeats across runs) to the working column and
// checks every pivot against the oldest nonzero term of the same sum kept
// in a map, while pivots are cancelled the way the reduction does. The
// columns grow past several heap blocks, and their blocks go through a
// shared pool between columns.
func TestChainHeapSumsLikeAMap(t *testing.T) {
	for _, p := range []int32{2, 3, 7} {
		rng := rand.New(rand.NewPCG(uint64(p), 1))
		h := chainHeap{pool: &blockPool{}}
		for col := 0; col < 12; col++ {
			h.reset()
			want := map[int64]int32{}
			diam := func(idx int64) float32 { return float32(idx % 13) }
			addRun := func() {
				old := h.len()
				k := 1 + rng.IntN(3000)
				seen := map[int64]bool{}
				for len(seen) < k {
					idx := int64(rng.IntN(6000))
					if seen[idx] {
						continue
					}
					seen[idx] = true
					c := 1 + rng.Int32N(p-1)
					h.append(entry{idx: idx, diam: diam(idx), coef: c})
					want[idx] = (want[idx] + c) % p
				}
				h.fix(old)
			}
			for range 1 + rng.IntN(12) {
				addRun()
			}
			for step := 0; step < 40; step++ {
				got, ok := h.pivot(p)
				var best entry
				found := false
				for idx, c := range want {
					if c == 0 {
						continue
					}
					if !found || older(diam(idx), idx, best.diam, best.idx) {
						best, found = entry{idx: idx, diam: diam(idx), coef: c}, true
					}
				}
				if ok != found || got != best {
					t.Fatalf("p=%d column %d step %d: pivot %+v (%v), want %+v (%v)", p, col, step, got, ok, best, found)
				}
				if !ok {
					break
				}
				// Cancel the pivot as adding a reduced column with the
				// same pivot does, sometimes with more terms after it.
				old := h.len()
				h.append(entry{idx: got.idx, diam: got.diam, coef: p - got.coef})
				want[got.idx] = 0
				h.fix(old)
				if rng.IntN(4) == 0 {
					addRun()
				}
			}
		}
		h.reset()
		if len(h.pool.free) == 0 || len(h.blocks) != 1 {
			t.Fatalf("p=%d: no block went back to the pool", p)
		}
	}
}
