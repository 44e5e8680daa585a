package rips

import (
	"context"
	"math/rand/v2"
	"testing"
)

// withOrder runs fn with the reduction's workers taking the columns in
// a seeded random order instead of in order (shuffled true). Out of
// order, columns keep reaching pivots that later columns own and take
// them over, which in order happens only when two workers race; the
// barcode must not change.
func withOrder(shuffled bool, fn func()) {
	if !shuffled {
		fn()
		return
	}
	reorder = func(n int) []int32 {
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		o := make([]int32, n)
		for i := range o {
			o[i] = int32(i)
		}
		rng.Shuffle(n, func(i, j int) { o[i], o[j] = o[j], o[i] })
		return o
	}
	defer func() { reorder = nil }()
	fn()
}

// TestReduceTakeovers checks that a shuffled order really exercises the
// takeover path (else the oracle tests' shuffled runs would prove
// nothing) and that the pairs, as raw simplex pairs, are exactly the
// in-order ones, on one and on two workers.
func TestReduceTakeovers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	d := randomCloud(rng, 60, 3, 2)
	e := newEngine(d.Data, d.Rows, 2, float32(enclosingRadius(d.Data, d.Rows)), 2)
	e.memLimit = 1 << 30
	_, _, deathEdge, err := e.dim0(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cols, err := e.assemble(context.Background(), 1, 1, func(idx int64, _ []int32, _ float32, _ *scratch) bool { return deathEdge[idx] })
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.reduce(context.Background(), 1, cols, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want.steals != 0 {
		t.Fatalf("in order on one worker: %d takeovers, want 0", want.steals)
	}
	key := func(r *reducer) map[rawPair]int {
		m := map[rawPair]int{}
		for _, p := range r.pairs {
			m[p]++
		}
		return m
	}
	wantPairs := key(want)
	for _, workers := range []int{1, 2} {
		var got *reducer
		withOrder(true, func() { got, err = e.reduce(context.Background(), 1, cols, workers) })
		if err != nil {
			t.Fatal(err)
		}
		if workers == 1 && got.steals == 0 {
			t.Fatalf("shuffled order on one worker made no takeover (%d columns)", len(cols))
		}
		gotPairs := key(got)
		if len(gotPairs) != len(wantPairs) {
			t.Fatalf("workers=%d: %d distinct pairs, want %d", workers, len(gotPairs), len(wantPairs))
		}
		for p, k := range wantPairs {
			if gotPairs[p] != k {
				t.Fatalf("workers=%d: pair %v found %d times, want %d", workers, p, gotPairs[p], k)
			}
		}
	}
}
