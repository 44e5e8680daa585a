package rips

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/diagdist"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// shapeCloud makes n points of one of four shapes: a noisy circle in
// R^2, a torus in R^3, three Gaussian clusters in R^4, a uniform cube in
// R^3 (kind mod 4).
func shapeCloud(rng *rand.Rand, kind, n int) sdk.Matrix {
	dims := []int{2, 3, 4, 3}
	dim := dims[kind%4]
	pts := sdk.NewMatrix(n, dim)
	for i := range n {
		x := pts.Row(i)
		switch kind % 4 {
		case 0:
			a := rng.Float64() * 2 * math.Pi
			x[0], x[1] = math.Cos(a)+0.1*rng.NormFloat64(), math.Sin(a)+0.1*rng.NormFloat64()
		case 1:
			a, b := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
			x[0], x[1], x[2] = (2+math.Cos(b))*math.Cos(a), (2+math.Cos(b))*math.Sin(a), math.Sin(b)
		case 2:
			c := float64(3 * (i % 3))
			for k := range x {
				x[k] = rng.NormFloat64() + c
			}
		case 3:
			for k := range x {
				x[k] = rng.Float64()
			}
		}
	}
	return pts
}

// ripserTol absorbs ripser's float32 storage and its 6 printed digits.
func ripserTol(scale float64) float64 { return 2e-5 * max(1, scale) }

// TestSubsampleWithinBound: on clouds of several shapes, seeds and
// sizes, the subsample's diagrams are within bottleneck distance 2r (r
// its reported covering radius) of ripser's exact diagrams of the whole
// cloud, in dimensions 0 and 1, given points and given a matrix.
func TestSubsampleWithinBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	sizes := []int{200, 300, 450, 600, 800, 1000, 1500, 250}
	for c := range len(sizes) {
		n := sizes[c%len(sizes)]
		kind := c % 4
		pts := shapeCloud(rng, kind, n)
		d := MustEuclidean(pts)
		m := max(20, n/(3+c%5))
		seed := int64(c)
		var res sdk.HomologyResult
		var err error
		if c%2 == 0 {
			res, err = Subsample(context.Background(), nil, &pts, m, seed, Options{MaxDim: 1})
		} else {
			res, err = Subsample(context.Background(), &d, nil, m, seed, Options{MaxDim: 1})
		}
		if err != nil {
			t.Fatal(err)
		}
		r := res.Scalars[ScalarCoveringRadius]
		if res.Scalars[ScalarBottleneckBound] != 2*r || r <= 0 || res.Scalars[ScalarSubsamplePoints] != float64(m) {
			t.Fatalf("case %d: scalars %v", c, res.Scalars)
		}
		want := runRipser(t, d, 1, 0, 2)
		for k := 0; k <= 1; k++ {
			b := diagdist.Bottleneck(res.Diagrams[k].Pairs, want[k])
			t.Logf("case %d (shape %d, n %d, m %d): H%d bottleneck %.4g, bound 2r %.4g", c, kind, n, m, k, b, 2*r)
			if !(b <= 2*r+ripserTol(2*r)) {
				t.Errorf("case %d (shape %d, n %d, m %d): H%d bottleneck %g > 2r = %g", c, kind, n, m, k, b, 2*r)
			}
		}
	}
}

// TestSubsampleCoveringRadius checks the reported radius against its
// definition, computed by brute force, and that the subsample of all
// points is the exact computation.
func TestSubsampleCoveringRadius(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pts := shapeCloud(rng, 1, 300)
	d := MustEuclidean(pts)
	m := metric{n: 300, d: func(i, j int) float64 { return d.Data[i*300+j] }}
	for _, w := range []int{1, 2, 3} {
		order, radii, cover, err := greedy(context.Background(), m, 40, 5, w)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for v := range 300 {
			near := math.Inf(1)
			for _, c := range order {
				near = min(near, d.Data[v*300+int(c)])
			}
			worst = max(worst, near)
		}
		if cover != worst || order[0] != 5 || !math.IsInf(radii[0], 1) {
			t.Fatalf("workers %d: covering radius %g, brute force %g; start %d", w, cover, worst, order[0])
		}
		for k := 2; k < len(radii); k++ {
			if radii[k] > radii[k-1] {
				t.Fatalf("insertion radii rise at %d: %v", k, radii[:k+1])
			}
		}
	}
	all, err := Subsample(context.Background(), &d, nil, 1000, 1, Options{MaxDim: 1})
	if err != nil {
		t.Fatal(err)
	}
	if all.Scalars[ScalarCoveringRadius] != 0 {
		t.Fatalf("all points: covering radius %g", all.Scalars[ScalarCoveringRadius])
	}
	if s := diffDiagrams(all.Diagrams, runRipser(t, d, 1, 0, 2)); s != "" {
		t.Fatal(s)
	}
}

// logDiagram maps a diagram to log scale; births 0 (all of dimension 0)
// map to a common floor far below every log distance, so they match
// each other and never the diagonal.
func logDiagram(p [][2]float64) [][2]float64 {
	out := make([][2]float64, len(p))
	l := func(x float64) float64 {
		if x <= 0 {
			return -1e6
		}
		return math.Log(x)
	}
	for i, q := range p {
		out[i] = [2]float64{l(q[0]), l(q[1])}
	}
	return out
}

// TestSparseWithinFactor: on clouds of several shapes, seeds, sizes
// and epsilons, the sparse Rips diagrams are within log-scale
// bottleneck distance log(1/(1-eps)) of ripser's exact ones (a
// multiplicative interleaving with that factor), and sparse Rips keeps
// far fewer edges than the n(n-1)/2 of the full filtration.
func TestSparseWithinFactor(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	sizes := []int{150, 250, 400, 600}
	epss := []float64{0.1, 0.25, 0.5, 0.8}
	for c := range 12 {
		n := sizes[c%len(sizes)]
		kind := c % 4
		eps := epss[(c/2)%len(epss)]
		pts := shapeCloud(rng, kind, n)
		d := MustEuclidean(pts)
		maxDim := 1
		if n <= 150 {
			maxDim = 2
		}
		var res sdk.HomologyResult
		var err error
		if c%2 == 0 {
			res, err = Sparse(context.Background(), nil, &pts, eps, int64(c), Options{MaxDim: maxDim})
		} else {
			res, err = Sparse(context.Background(), &d, nil, eps, int64(c), Options{MaxDim: maxDim})
		}
		if err != nil {
			t.Fatal(err)
		}
		f := res.Scalars[ScalarApproxFactor]
		if f != 1/(1-eps) {
			t.Fatalf("factor %g for eps %g", f, eps)
		}
		want := runRipser(t, d, maxDim, 0, 2)
		for k := 0; k <= maxDim; k++ {
			b := diagdist.Bottleneck(logDiagram(res.Diagrams[k].Pairs), logDiagram(want[k]))
			t.Logf("case %d (shape %d, n %d, eps %g, %d edges of %d): H%d log bottleneck %.4g, bound %.4g", c, kind, n, eps, int(res.Scalars[ScalarSparseEdges]), n*(n-1)/2, k, b, math.Log(f))
			if !(b <= math.Log(f)+1e-4) {
				t.Errorf("case %d (shape %d, n %d, eps %g): H%d log-scale bottleneck %g > log %g = %g", c, kind, n, eps, k, b, f, math.Log(f))
			}
		}
	}
}

// TestSparseEdgesDefinition checks sparseTime's cases on hand values.
func TestSparseEdgesDefinition(t *testing.T) {
	for _, tc := range []struct {
		d, early, late, eps float64
		t                   float64
		ok                  bool
	}{
		{1, 10, 1, 0.5, 1, true},                    // d <= 2*late/eps = 4: plain distance
		{5, 10, 1, 0.5, 2 * (5 - 2), true},          // late's ball stopped at 2: joined at radius 3
		{6.5, 10, 1, 0.5, 0, false},                 // radius 4.5 > late's removal at 4
		{5, 1.2, 1, 0.5, 0, false},                  // radius 3 > early's stop at 2.4
		{5, math.Inf(1), 1, 0.5, 2 * (5 - 2), true}, // joined to the first point
	} {
		got, ok := sparseTime(tc.d, tc.early, tc.late, tc.eps)
		if ok != tc.ok || ok && got != tc.t {
			t.Errorf("sparseTime(%v) = %v, %v; want %v, %v", tc, got, ok, tc.t, tc.ok)
		}
	}
}

// mstDiagram is the exact dimension-0 diagram of the Rips filtration
// of d: one bar per minimum spanning tree edge (Prim), one infinite.
func mstDiagram(d sdk.Matrix) [][2]float64 {
	n := d.Rows
	best := make([]float64, n)
	in := make([]bool, n)
	for i := range best {
		best[i] = math.Inf(1)
	}
	out := [][2]float64{{0, math.Inf(1)}}
	v := 0
	for range n - 1 {
		in[v] = true
		next := -1
		for u := range n {
			if !in[u] {
				best[u] = min(best[u], d.Data[v*n+u])
				if next < 0 || best[u] < best[next] {
					next = u
				}
			}
		}
		out = append(out, [2]float64{0, best[next]})
		v = next
	}
	return out
}

// TestSubsample3000: 400 of 3,000 points on a torus in R^3 stay within
// 2r of the exact diagrams of all 3,000: dimension 0 always (the
// minimum spanning tree's), and dimension 1 from ripser with
// RIPS_LONG=1 (ripser needs minutes of CPU for it).
func TestSubsample3000(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 4))
	pts := shapeCloud(rng, 1, 3000)
	maxDim := 0
	if os.Getenv("RIPS_LONG") != "" {
		maxDim = 1
	}
	res, err := Subsample(context.Background(), nil, &pts, 400, 1, Options{MaxDim: maxDim})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Scalars[ScalarCoveringRadius]
	d := MustEuclidean(pts)
	want := [][][2]float64{mstDiagram(d)}
	if maxDim == 1 {
		want = runRipser(t, d, 1, 0, 2)
		if b := diagdist.Bottleneck(want[0], mstDiagram(d)); b > ripserTol(1) {
			t.Fatalf("ripser's H0 is %g from the spanning tree's", b)
		}
	}
	for k := 0; k <= maxDim; k++ {
		b := diagdist.Bottleneck(res.Diagrams[k].Pairs, want[k])
		t.Logf("H%d: bottleneck %.4g, 2r = %.4g (r = %.4g)", k, b, 2*r, r)
		if !(b <= 2*r+ripserTol(2*r)) {
			t.Errorf("H%d: bottleneck %g > 2r = %g", k, b, 2*r)
		}
	}
}
