package rips

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
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
// TestBitset checks the clearing flags against a map.
func TestBitset(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	b := newBitset(1000)
	want := map[int64]bool{}
	for range 300 {
		i := rng.Int64N(1000)
		b.set(i)
		want[i] = true
	}
	for i := int64(0); i < 1000; i++ {
		if b.has(i) != want[i] {
			t.Fatalf("bit %d: %v, want %v", i, b.has(i), want[i])
		}
	}
}

func TestReduceTakeovers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	d := randomCloud(rng, 60, 3, 2)
	e := newEngine(d.Data, d.Rows, 2, float32(enclosingRadius(d.Data, d.Rows)), 2)
	e.memLimit = 1 << 30
	_, _, deathEdge, err := e.dim0(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cols, err := e.assemble(context.Background(), 1, 1, func(idx int64, _ []int32, _ float32, _ *scratch) bool { return deathEdge.has(idx) })
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

// TestPackedMatchesGeneral computes Z/2 barcodes with packed terms (the
// default wherever they fit) and with the general 16-byte terms on the
// same inputs, clouds and tie-heavy graph metrics, dense and sparse,
// one and two workers: the diagrams must be equal value for value.
func TestPackedMatchesGeneral(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	type tc struct {
		name   string
		d      sdk.Matrix
		maxDim int
		thr    float64
	}
	var cases []tc
	for i := range 6 {
		cases = append(cases, tc{fmt.Sprintf("cloud%d", i), randomCloud(rng, 40+rng.IntN(80), 2+rng.IntN(5), rng.IntN(3)), 2, 0})
		cases = append(cases, tc{fmt.Sprintf("graph%d", i), graphMetric(rng, 15+rng.IntN(15)), 3, 0})
	}
	cases = append(cases, tc{"cloud-thr", randomCloud(rng, 150, 4, 2), 2, 0.6})
	for _, c := range cases {
		e := newEngine(c.d.Data, c.d.Rows, c.maxDim, 1, 2)
		if !e.packable(c.maxDim) {
			t.Fatalf("%s: packed terms not used, the comparison would prove nothing", c.name)
		}
		for _, form := range []string{"dense", "sparse"} {
			for _, workers := range []int{1, 2} {
				var packed, general []sdk.Diagram
				var err1, err2 error
				withForm(form, func() {
					packed, err1 = Compute(context.Background(), &c.d, Options{MaxDim: c.maxDim, Threshold: c.thr, Workers: workers})
					packTerms = false
					general, err2 = Compute(context.Background(), &c.d, Options{MaxDim: c.maxDim, Threshold: c.thr, Workers: workers})
					packTerms = true
				})
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: %v %v", c.name, err1, err2)
				}
				if !reflect.DeepEqual(packed, general) {
					t.Fatalf("%s %s workers=%d: packed %v\ngeneral %v", c.name, form, workers, packed, general)
				}
			}
		}
	}
}
