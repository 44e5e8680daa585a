package rips

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestChainHeapSumsLikeAMap adds random coboundary-like runs (distinct
// simplices within a run, repeats across runs) to the working column and
// checks every pivot against the oldest nonzero term of the same sum kept
// in a map, while pivots are cancelled the way the reduction does. The
// columns grow past several heap blocks, and their blocks go through a
// shared pool between columns. The packed Z/2 form (p=2, packed) must
// find the same pivots as the general one.
func TestChainHeapSumsLikeAMap(t *testing.T) {
	for _, cfg := range []struct {
		p      int32
		packed bool
	}{{2, false}, {3, false}, {7, false}, {2, true}} {
		p := cfg.p
		rng := rand.New(rand.NewPCG(uint64(p), 1))
		h := chainHeap{pool: &blockPool{}, packed: cfg.packed}
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
					if cfg.packed {
						idx += 1<<32 - 6000 // the top of the 32-bit range
					}
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
					t.Fatalf("p=%d packed=%v column %d step %d: pivot %+v (%v), want %+v (%v)", p, cfg.packed, col, step, got, ok, best, found)
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
		if cfg.packed && (len(h.pool.kfree) == 0 || len(h.kblocks) != 1) || !cfg.packed && (len(h.pool.free) == 0 || len(h.blocks) != 1) {
			t.Fatalf("p=%d: no block went back to the pool", p)
		}
		h.pool.release()
		if len(h.pool.maps) != 0 || len(h.pool.free)+len(h.pool.kfree) != 0 {
			t.Fatalf("p=%d: release kept mappings or blocks", p)
		}
	}
}

// TestPackKeyOrder checks that the packed keys order like older: by
// diameter, then larger index first, -0 as 0, up to index 2^32-1.
func TestPackKeyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ds := []float32{0, float32(math.Copysign(0, -1)), 1e-30, 0.5, 0.5000001, 3, float32(math.MaxFloat32)}
	for range 20000 {
		a := entry{idx: rng.Int64N(1 << 32), diam: ds[rng.IntN(len(ds))], coef: 1}
		b := entry{idx: rng.Int64N(1 << 32), diam: ds[rng.IntN(len(ds))], coef: 1}
		if rng.IntN(3) == 0 {
			b.idx = a.idx
		}
		if rng.IntN(4) == 0 {
			a.idx = 1<<32 - 1
		}
		ka, kb := packKey(a.diam, a.idx), packKey(b.diam, b.idx)
		if (ka < kb) != older(a.diam, a.idx, b.diam, b.idx) {
			t.Fatalf("%+v %+v: keys %x %x disagree with older", a, b, ka, kb)
		}
		if u := unpackKey(ka); u.idx != a.idx || u.diam != a.diam || u.coef != 1 {
			t.Fatalf("%+v unpacks to %+v", a, u)
		}
	}
}
