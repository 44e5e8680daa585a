package rips

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// RIPS_TEST_FORM=sparse (or dense) runs every test of the package on
// that form of the engine, whatever useSparse would choose.
func init() {
	if f := os.Getenv("RIPS_TEST_FORM"); f != "" {
		forceForm = f
	}
}

// withForm runs fn with the engine forced into form.
func withForm(form string, fn func()) { withSetting(&forceForm, form, fn) }

// withSetting runs fn with one of the engine's forcing knobs set to v,
// putting it back afterwards (a test may force several at once).
func withSetting(knob *string, v string, fn func()) {
	old := *knob
	*knob = v
	defer func() { *knob = old }()
	fn()
}

// TestSparseAgainstRipser forces the sparse form on thresholded clouds
// and tie-heavy metrics, dims up to 3, sequential and parallel with
// shuffled column orders, and compares with ripser; the dense form must agree too.
func TestSparseAgainstRipser(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	type tc struct {
		d      sdk.Matrix
		maxDim int
		p      int
		thr    float64
		name   string
	}
	var cases []tc
	for i := range 24 {
		n := 20 + rng.IntN(100)
		maxDim := 1 + i%3
		if maxDim == 3 {
			n = 15 + rng.IntN(30)
		}
		d := randomCloud(rng, n, 2+rng.IntN(5), rng.IntN(3))
		// A threshold between a tenth and the whole of a typical distance.
		thr := math.Round(d.Data[1]*100*(0.3+0.7*rng.Float64())) / 100
		cases = append(cases, tc{d, maxDim, []int{2, 3}[i%2], thr, fmt.Sprintf("cloud%d-n%d", i, n)})
	}
	for i := range 6 {
		n := 10 + rng.IntN(30)
		cases = append(cases, tc{graphMetric(rng, n), 1 + i%3, []int{2, 5}[i%2], float64(2 + i%3), fmt.Sprintf("graph%d-n%d", i, n)})
	}
	// Unthresholded too: the sparse form must also work on complete graphs.
	cases = append(cases, tc{randomCloud(rng, 30, 3, 1), 2, 2, 0, "complete-n30"})
	sparseSeen := 0
	for _, c := range cases {
		want := runRipser(t, c.d, c.maxDim, c.thr, c.p)
		for _, form := range []string{"sparse", "dense"} {
			for _, cfg := range []struct {
				workers  int
				shuffled bool
			}{{1, false}, {2, true}} {
				var got []sdk.Diagram
				var err error
				withForm(form, func() {
					withOrder(cfg.shuffled, func() {
						got, err = Compute(context.Background(), &c.d, Options{MaxDim: c.maxDim, Threshold: c.thr, Coeff: c.p, Workers: cfg.workers})
					})
				})
				if err != nil {
					t.Fatalf("%s %s: %v", c.name, form, err)
				}
				if msg := diffDiagrams(got, want); msg != "" {
					t.Fatalf("%s thr=%v maxdim=%d p=%d form=%s workers=%d shuffled=%v: %s", c.name, c.thr, c.maxDim, c.p, form, cfg.workers, cfg.shuffled, msg)
				}
			}
		}
		for k := 1; k <= c.maxDim; k++ {
			sparseSeen += len(want[k])
		}
	}
	if sparseSeen == 0 {
		t.Fatalf("no case has bars above dimension 0; the comparison says little")
	}
}

// TestPointPairs checks the matrix-free pair search against dist-euclid's
// matrix: the same pairs within the threshold with bit-identical
// distances, the same enclosing radius, and the give-up past the limit.
func TestPointPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	for _, n := range []int{2, 7, 300} { // 300: the parallel split
		pts := sdk.NewMatrix(n, 4)
		for i := range pts.Data {
			pts.Data[i] = rng.NormFloat64()
		}
		d := MustEuclidean(pts)
		thr := float32(1.5)
		edges, enc, ok, err := pointPairs(context.Background(), pts, thr, -1, 2)
		if err != nil || !ok {
			t.Fatalf("n=%d: ok=%v err=%v", n, ok, err)
		}
		if want := enclosingRadius(d.Data, n); enc != want {
			t.Fatalf("n=%d: enclosing radius %v, want %v", n, enc, want)
		}
		want := 0
		for i := range n {
			for j := range i {
				if float32(d.At(i, j)) <= thr {
					want++
				}
			}
		}
		if len(edges) != want {
			t.Fatalf("n=%d: %d pairs within %v, want %d", n, len(edges), thr, want)
		}
		for _, ed := range edges {
			if x := d.At(int(ed.u), int(ed.v)); x != ed.d || float32(x) > thr {
				t.Fatalf("n=%d: pair %d-%d has %v, matrix %v", n, ed.u, ed.v, ed.d, x)
			}
		}
		if n == 300 {
			if _, _, ok, _ := pointPairs(context.Background(), pts, thr, int64(want/2), 2); ok {
				t.Fatalf("limit %d with %d pairs did not give up", want/2, want)
			}
		}
	}
}

// TestPointsThresholdAgainstRipser runs ComputePoints on thresholded
// clouds (the matrix-free path: the threshold is below the enclosing
// radius), dims 0..3, against ripser on euclid's matrix.
func TestPointsThresholdAgainstRipser(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	for i := range 8 {
		n := 30 + rng.IntN(120)
		maxDim := 1 + i%3
		if maxDim == 3 {
			n = 20 + rng.IntN(25)
		}
		pts := sdk.NewMatrix(n, 2+i%4)
		for k := range pts.Data {
			pts.Data[k] = rng.NormFloat64()
		}
		d := MustEuclidean(pts)
		thr := 0.4 + 0.8*rng.Float64()
		if thr >= enclosingRadius(d.Data, n) {
			t.Fatalf("case %d: threshold %v not below the enclosing radius; the test would miss the sparse path", i, thr)
		}
		want := runRipser(t, d, maxDim, thr, 2+i%2)
		var got []sdk.Diagram
		var err error
		// Forced: these small clouds have too many pairs within the
		// threshold for useSparse to pick the sparse form.
		withForm("sparse", func() {
			got, err = ComputePoints(context.Background(), &pts, Options{MaxDim: maxDim, Threshold: thr, Coeff: 2 + i%2, Workers: 1 + i%2})
		})
		if err != nil {
			t.Fatal(err)
		}
		if msg := diffDiagrams(got, want); msg != "" {
			t.Fatalf("case %d n=%d thr=%v maxdim=%d: %s", i, n, thr, maxDim, msg)
		}
	}
}
