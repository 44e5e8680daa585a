package rips

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// noThresholdClouds are point clouds for the no-threshold path: Gaussian
// clouds in R^2..R^5, points of an integer grid (many equal distances),
// and a square, whose one H1 class dies exactly at the enclosing radius
// (the diagonal).
func noThresholdClouds(rng *rand.Rand) []sdk.Matrix {
	var out []sdk.Matrix
	for i := range 4 {
		pts := sdk.NewMatrix(40+rng.IntN(80), 2+i)
		for k := range pts.Data {
			pts.Data[k] = rng.NormFloat64()
		}
		out = append(out, pts)
	}
	for _, n := range []int{30, 60} {
		pts := sdk.NewMatrix(n, 3)
		for r, cell := range rng.Perm(125)[:n] { // distinct points of a 5x5x5 grid
			pts.Data[3*r], pts.Data[3*r+1], pts.Data[3*r+2] = float64(cell%5), float64(cell/5%5), float64(cell/25)
		}
		out = append(out, pts)
	}
	return append(out, sdk.Matrix{Rows: 4, Cols: 2, Data: []float64{0, 0, 1, 0, 1, 1, 0, 1}})
}

// TestPointsNoThresholdAgainstRipser: points without a threshold take the
// enclosing radius as ripser does for a full matrix, and the dense form
// is built from the points alone (no float64 matrix: densePointsEngine
// must be the engine used, holding no d64, lean: no byDd). The barcodes must be
// ripser's on euclid's matrix (infinite H0 bar and classes dying at the
// enclosing radius included) and bit-identical to Compute's on that
// matrix, dims 1 and 2, Z/2 and Z/3.
func TestPointsNoThresholdAgainstRipser(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(31, 7))
	for i, pts := range noThresholdClouds(rng) {
		for _, maxDim := range []int{1, 2} {
			p := 2 + (i+maxDim)%2
			d := MustEuclidean(pts)
			want := runRipser(t, d, maxDim, 0, p)
			opt := Options{MaxDim: maxDim, Coeff: p, Workers: 1 + i%2}
			ref, err := Compute(ctx, &d, opt)
			if err != nil {
				t.Fatal(err)
			}
			if msg := diffDiagrams(ref, want); msg != "" {
				t.Fatalf("cloud %d maxdim %d: Compute on the matrix: %s", i, maxDim, msg)
			}
			got, err := ComputePoints(ctx, &pts, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, ref) {
				t.Fatalf("cloud %d maxdim %d: ComputePoints\n%v\nCompute on the matrix\n%v", i, maxDim, got, ref)
			}
			// The dense form from the points, collapse off so that it is
			// also taken at dimension 2 (and the form not forced, as
			// RIPS_TEST_FORM may).
			withForm("", func() {
				withCollapse("off", func() {
					cfg, err := validate(opt)
					if err != nil {
						t.Fatal(err)
					}
					e, err := densePointsEngine(ctx, pts, cfg, maxDim)
					if err != nil || e == nil {
						t.Fatalf("cloud %d maxdim %d: no dense engine from the points (%v)", i, maxDim, err)
					}
					if e.d64 != nil || e.nbD64 != nil || e.pts == nil || e.byDd != nil {
						t.Fatalf("cloud %d: the engine holds float64 distances", i)
					}
					if want := float32(enclosingRadius(d.Data, d.Rows)); e.thr != want {
						t.Fatalf("cloud %d: threshold %v, want the enclosing radius %v", i, e.thr, want)
					}
					got, err := e.run(ctx, newTracer(), maxDim, opt.Workers)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, ref) {
						t.Fatalf("cloud %d maxdim %d: dense engine from points\n%v\nCompute on the matrix\n%v", i, maxDim, got, ref)
					}
				})
			})
			if i == 6 { // the square: H1 born at 1, dies at the enclosing radius sqrt 2
				if dg := got[1].Pairs; len(dg) != 1 || dg[0] != [2]float64{1, math.Sqrt2} {
					t.Fatalf("square: H1 %v, want [[1 1.414...]]", dg)
				}
			}
			if n := len(got[0].Pairs); n != pts.Rows || !math.IsInf(got[0].Pairs[n-1][1], 1) {
				t.Fatalf("cloud %d: H0 %v, want %d bars, the last infinite", i, got[0].Pairs, pts.Rows)
			}
		}
	}
}

// TestLeanFewestWithin: a lean engine's search through the sampled
// distances counts, for every vertex and radius (list ends, ties and
// sample boundaries included), the neighbours within the radius exactly.
func TestLeanFewestWithin(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pts := sdk.NewMatrix(90, 2)
	for k := range pts.Data {
		pts.Data[k] = float64(rng.IntN(7)) // a grid: many equal distances
	}
	cfg, err := validate(Options{MaxDim: 1})
	if err != nil {
		t.Fatal(err)
	}
	var e *engine
	withForm("", func() { withCollapse("off", func() { e, err = densePointsEngine(context.Background(), pts, cfg, 1) }) })
	if err != nil || e == nil || !e.lean {
		t.Fatalf("no lean engine (%v)", err)
	}
	for u := range int32(pts.Rows) {
		for _, v := range e.byD[e.nbOff[u]:e.nbOff[u+1]] {
			r := e.dist[int(u)*e.n+int(v)]
			for _, r := range []float32{r, math.Nextafter32(r, 0), math.Nextafter32(r, 100), 0, 100} {
				want := 0
				for _, w := range e.byD[e.nbOff[u]:e.nbOff[u+1]] {
					if e.dist[int(u)*e.n+int(w)] <= r {
						want++
					}
				}
				if _, got := e.fewestWithinDense([]int32{u}, r); got != want {
					t.Fatalf("vertex %d radius %v: %d within, want %d", u, r, got, want)
				}
			}
		}
	}
}
