package rips

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/workloads"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// persistences returns the bar lengths of one diagram, longest first.
func persistences(dg sdk.Diagram) []float64 {
	var out []float64
	for _, p := range dg.Pairs {
		out = append(out, p[1]-p[0])
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

func mustPoints(t *testing.T, pts sdk.Matrix, opt Options) []sdk.Diagram {
	t.Helper()
	dg, err := ComputePoints(context.Background(), &pts, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(dg) != opt.MaxDim+1 {
		t.Fatalf("%d diagrams, want %d", len(dg), opt.MaxDim+1)
	}
	for k, g := range dg {
		if g.Dim != k {
			t.Fatalf("diagram %d has Dim %d", k, g.Dim)
		}
		for _, p := range g.Pairs {
			if !(p[1] > p[0]) {
				t.Fatalf("dim %d: zero-length or reversed pair %v", k, p)
			}
		}
	}
	return dg
}

func TestNoisyCircle(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pts := sdk.NewMatrix(80, 2)
	for i := range 80 {
		a := 2 * math.Pi * rng.Float64()
		pts.Data[2*i] = math.Cos(a) + 0.03*rng.NormFloat64()
		pts.Data[2*i+1] = math.Sin(a) + 0.03*rng.NormFloat64()
	}
	dg := mustPoints(t, pts, Options{MaxDim: 1})
	h1 := persistences(dg[1])
	if len(h1) == 0 || h1[0] < 1.0 {
		t.Fatalf("no long H1 bar on a circle: %v", h1)
	}
	if len(h1) > 1 && h1[1] > 0.2 {
		t.Fatalf("second H1 bar too long: %v", h1)
	}
	// One component, born at 0, essential.
	if b := Betti(dg, 0.5); b[0] != 1 || b[1] != 1 {
		t.Fatalf("Betti at 0.5 = %v, want [1 1]", b)
	}
}

func TestSphere(t *testing.T) {
	// A Fibonacci lattice: evenly spread, so sampling holes stay small.
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 200
	pts := sdk.NewMatrix(n, 3)
	golden := math.Pi * (3 - math.Sqrt(5))
	for i := range n {
		z := 1 - 2*(float64(i)+0.5)/n
		r := math.Sqrt(1 - z*z)
		pts.Data[3*i] = r*math.Cos(golden*float64(i)) + 0.01*rng.NormFloat64()
		pts.Data[3*i+1] = r*math.Sin(golden*float64(i)) + 0.01*rng.NormFloat64()
		pts.Data[3*i+2] = z + 0.01*rng.NormFloat64()
	}
	dg := mustPoints(t, pts, Options{MaxDim: 2})
	h2 := persistences(dg[2])
	if len(h2) == 0 || h2[0] < 0.5 {
		t.Fatalf("no long H2 bar on a sphere: %v", h2)
	}
	if len(h2) > 1 && h2[1] > 0.1 {
		t.Fatalf("second H2 bar too long: %v", h2)
	}
	if h1 := persistences(dg[1]); len(h1) > 0 && h1[0] > 0.25 {
		t.Fatalf("long H1 bar on a sphere: %v", h1)
	}
}

func TestTorus(t *testing.T) {
	// A jittered angle grid on the torus with radii 2.5 and 1.
	rng := rand.New(rand.NewPCG(3, 4))
	const na, nb = 32, 12
	pts := sdk.NewMatrix(na*nb, 3)
	for i := range na {
		for j := range nb {
			a := 2 * math.Pi * (float64(i) + 0.1*rng.Float64()) / na
			b := 2 * math.Pi * (float64(j) + 0.1*rng.Float64()) / nb
			k := 3 * (i*nb + j)
			pts.Data[k] = (2.5 + math.Cos(b)) * math.Cos(a)
			pts.Data[k+1] = (2.5 + math.Cos(b)) * math.Sin(a)
			pts.Data[k+2] = math.Sin(b)
		}
	}
	dg := mustPoints(t, pts, Options{MaxDim: 2})
	h1, h2 := persistences(dg[1]), persistences(dg[2])
	if len(h1) < 3 || h1[1] < 3*h1[2] {
		t.Fatalf("want two H1 bars standing out, got %v", h1[:min(5, len(h1))])
	}
	if len(h2) < 2 || h2[0] < 3*h2[1] {
		t.Fatalf("want one H2 bar standing out, got %v", h2[:min(5, len(h2))])
	}
}

func TestClusters(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pts := sdk.NewMatrix(40, 2)
	for i := range 40 {
		c := float64(i % 4)
		pts.Data[2*i] = 10*c + 0.1*rng.NormFloat64()
		pts.Data[2*i+1] = 0.1 * rng.NormFloat64()
	}
	dg := mustPoints(t, pts, Options{MaxDim: 1})
	long, inf := 0, 0
	for _, p := range dg[0].Pairs {
		switch {
		case math.IsInf(p[1], 1):
			inf++
		case p[1] > 5:
			long++
		case p[1] > 1:
			t.Fatalf("H0 bar %v between cluster scale and gap", p)
		}
	}
	if long != 3 || inf != 1 {
		t.Fatalf("4 clusters: %d long finite H0 bars and %d essential, want 3 and 1", long, inf)
	}
	if len(dg[0].Pairs) != 40 {
		t.Fatalf("%d H0 bars for 40 distinct points", len(dg[0].Pairs))
	}
}

// TestCoefficients: the real projective plane has H1 = Z/2 over Z/2 but
// no H1 over Z/3, so the long bar must appear for p=2 only.
func TestCoefficients(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	// Antipodal pairs on S^2 identified: the metric min(|x-y|, |x+y|).
	n := 300
	v := make([][3]float64, n)
	for i := range v {
		var s float64
		for k := range 3 {
			v[i][k] = rng.NormFloat64()
			s += v[i][k] * v[i][k]
		}
		for k := range 3 {
			v[i][k] /= math.Sqrt(s)
		}
	}
	d := sdk.NewMatrix(n, n)
	for i := range n {
		for j := range n {
			var a, b float64
			for k := range 3 {
				a += (v[i][k] - v[j][k]) * (v[i][k] - v[j][k])
				b += (v[i][k] + v[j][k]) * (v[i][k] + v[j][k])
			}
			d.Data[i*n+j] = math.Sqrt(min(a, b))
		}
	}
	long := func(p int) float64 {
		dg, err := Compute(context.Background(), &d, Options{MaxDim: 1, Coeff: p})
		if err != nil {
			t.Fatal(err)
		}
		if h := persistences(dg[1]); len(h) > 0 {
			return h[0]
		}
		return 0
	}
	if l2, l3 := long(2), long(3); l2 < 0.6 || l3 > 0.35 {
		t.Fatalf("RP^2 longest H1 bar: Z/2 %v (want > 0.6), Z/3 %v (want < 0.35)", l2, l3)
	}
}

func TestThresholdBeyondEnclosingRadiusChangesNothing(t *testing.T) {
	d := MustEuclidean(workloads.Torus(120, 4))
	a, err := Compute(context.Background(), &d, Options{MaxDim: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compute(context.Background(), &d, Options{MaxDim: 2, Threshold: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	if msg := diffDiagrams(a, toWant(b)); msg != "" {
		t.Fatal(msg)
	}
	// A small threshold cuts bars: everything born after it is gone and
	// bars still alive at it become essential.
	c, err := Compute(context.Background(), &d, Options{MaxDim: 1, Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c[1].Pairs {
		if p[0] > 0.5 || (p[1] > 0.5 && !math.IsInf(p[1], 1)) {
			t.Fatalf("pair %v crosses threshold 0.5", p)
		}
	}
}

func toWant(dg []sdk.Diagram) [][][2]float64 {
	out := make([][][2]float64, len(dg))
	for i, g := range dg {
		out[i] = g.Pairs
	}
	return out
}

func TestPointsMatchDistances(t *testing.T) {
	pts := workloads.Gaussian(60, 4, 2)
	d := MustEuclidean(pts)
	a, err := Compute(context.Background(), &d, Options{MaxDim: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := mustPoints(t, pts, Options{MaxDim: 2})
	if msg := diffDiagrams(a, toWant(b)); msg != "" {
		t.Fatal(msg)
	}
}

func TestOnePoint(t *testing.T) {
	d := sdk.NewMatrix(1, 1)
	dg, err := Compute(context.Background(), &d, Options{MaxDim: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(dg) != 3 || len(dg[0].Pairs) != 1 || !math.IsInf(dg[0].Pairs[0][1], 1) || len(dg[1].Pairs)+len(dg[2].Pairs) != 0 {
		t.Fatalf("one point: %v, want one essential H0 bar", dg)
	}
}

func TestBadInput(t *testing.T) {
	sq := func(n int, f func(d []float64)) *sdk.Matrix {
		m := sdk.NewMatrix(n, n)
		for i := range n {
			for j := range n {
				if i != j {
					m.Data[i*n+j] = 1
				}
			}
		}
		if f != nil {
			f(m.Data)
		}
		return &m
	}
	big := sdk.NewMatrix(2000, 2000)
	for i := range 2000 {
		for j := range 2000 {
			if i != j {
				big.Data[i*2000+j] = 1
			}
		}
	}
	cases := []struct {
		name string
		d    *sdk.Matrix
		opt  Options
		want string
	}{
		{"nil", nil, Options{}, "no distance matrix"},
		{"empty", &sdk.Matrix{}, Options{}, "empty"},
		{"non-square", &sdk.Matrix{Rows: 2, Cols: 3, Data: make([]float64, 6)}, Options{}, "not square"},
		{"short data", &sdk.Matrix{Rows: 2, Cols: 2, Data: make([]float64, 3)}, Options{}, "needs 4 values"},
		{"asymmetric", sq(3, func(d []float64) { d[1] = 2 }), Options{}, "not symmetric"},
		{"negative", sq(3, func(d []float64) { d[3], d[1] = -1, -1 }), Options{}, "negative"},
		{"diagonal", sq(3, func(d []float64) { d[4] = 0.5 }), Options{}, "diagonal (1,1)"},
		{"nan", sq(3, func(d []float64) { d[5] = math.NaN() }), Options{}, "NaN"},
		{"inf", sq(3, func(d []float64) { d[5] = math.Inf(1) }), Options{}, "+Inf"},
		{"coeff 4", sq(3, nil), Options{Coeff: 4}, "not a prime"},
		{"coeff 1", sq(3, nil), Options{Coeff: 1}, "not a prime"},
		{"maxdim -1", sq(3, nil), Options{MaxDim: -1}, "max dimension -1 is negative"},
		{"maxdim 40 memory", sq(40, nil), Options{MaxDim: 40, MemoryLimit: 1 << 30}, "dimension 19 (of 0..39) at threshold 1 has up to 1.38e+11 simplices"},
		{"threshold", sq(3, nil), Options{Threshold: -1}, "threshold"},
		{"memory estimate", sq(300, nil), Options{MaxDim: 3, MemoryLimit: 1 << 20}, "has up to 3.31e+08 simplices"}, // C(300,4)
		{"index bits", &big, Options{MaxDim: 5}, "63 bits"},
	}
	for _, c := range cases {
		_, err := Compute(context.Background(), c.d, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", c.name, err)
		}
	}
	// With the up-front estimate switched off, the columns actually kept
	// (over a hundred in dimension 2 here) hit the assembly's budget.
	survivingFraction = 1 << 30
	_, err := Compute(context.Background(), randomDist(60), Options{MaxDim: 2, MemoryLimit: 512})
	survivingFraction = 16
	if err == nil || !strings.Contains(err.Error(), "needs more than 32 columns") {
		t.Errorf("column budget: error %v", err)
	}
	if _, err := ComputePoints(context.Background(), &sdk.Matrix{Rows: 0, Cols: 3}, Options{}); err == nil {
		t.Errorf("empty point cloud accepted")
	}
}

func randomDist(n int) *sdk.Matrix {
	d := MustEuclidean(workloads.Gaussian(n, 6, 1))
	return &d
}

func TestCancel(t *testing.T) {
	d := MustEuclidean(workloads.Torus(300, 5))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compute(ctx, &d, Options{MaxDim: 2}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: error %v, want context.Canceled", err)
	}
}

func TestBetti(t *testing.T) {
	dg := []sdk.Diagram{
		{Dim: 0, Pairs: [][2]float64{{0, 1}, {0, 2.5}, {0, math.Inf(1)}}},
		{Dim: 1, Pairs: [][2]float64{{2.5, 3}, {1, 2}, {2, 4}}},
	}
	// At 2.5: H0 bars alive are [0,inf) only ([0,2.5) died exactly at
	// 2.5); H1: [2.5,3) is born at 2.5 and [2,4) alive.
	if got := Betti(dg, 2.5); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("Betti(2.5) = %v, want [1 2]", got)
	}
	if got := Betti(dg, 0); !slices.Equal(got, []int{3, 0}) {
		t.Fatalf("Betti(0) = %v, want [3 0]", got)
	}
}

func TestPlugin(t *testing.T) {
	var h sdk.Homology = Plugin{}
	info, err := h.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "rips" || info.Kind != sdk.KindPH || info.Protocol != sdk.ProtocolVersion || info.Capabilities["max_dim"] == "" {
		t.Fatalf("Describe = %+v", info)
	}
	pts := workloads.Gaussian(30, 3, 1)
	d := MustEuclidean(pts)
	a, err := h.Compute(context.Background(), sdk.HomologyRequest{Points: &pts, MaxDim: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &d, MaxDim: 1, Threshold: math.Inf(1), Coeff: 2})
	if err != nil {
		t.Fatal(err)
	}
	if msg := diffDiagrams(a, toWant(b)); msg != "" {
		t.Fatal(msg)
	}
	if _, err := h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 1}); err == nil {
		t.Fatal("request without input accepted")
	}
}
