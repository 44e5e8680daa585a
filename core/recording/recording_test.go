package recording

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

func randomMatrix(r *rand.Rand, n, d int) sdk.Matrix {
	m := sdk.NewMatrix(n, d)
	for i := range m.Data {
		m.Data[i] = r.NormFloat64()
	}
	return m
}

// TestLinearCKA: 1 for a rotated, scaled and shifted copy (whatever the
// dimension), symmetric, and near 0 for independent clouds.
func TestLinearCKA(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := randomMatrix(r, 400, 5)
	// y = 3 * x * Q + 7 with Q a 5 x 8 map with orthonormal rows.
	q := randomMatrix(r, 5, 8)
	for i := range 5 { // Gram-Schmidt on the rows
		row := q.Row(i)
		for j := range i {
			prev := q.Row(j)
			var dot float64
			for k := range row {
				dot += row[k] * prev[k]
			}
			for k := range row {
				row[k] -= dot * prev[k]
			}
		}
		var nrm float64
		for _, v := range row {
			nrm += v * v
		}
		for k := range row {
			row[k] /= math.Sqrt(nrm)
		}
	}
	y := sdk.NewMatrix(400, 8)
	for i := range 400 {
		for k := range 8 {
			var s float64
			for j := range 5 {
				s += x.At(i, j) * q.At(j, k)
			}
			y.Data[i*8+k] = 3*s + 7
		}
	}
	if c := LinearCKA(x, y); math.Abs(c-1) > 1e-9 {
		t.Fatalf("CKA of a rotated copy %v, want 1", c)
	}
	z := randomMatrix(r, 400, 6)
	if a, b := LinearCKA(x, z), LinearCKA(z, x); math.Abs(a-b) > 1e-12 || a > 0.1 {
		t.Fatalf("CKA of independent clouds %v (reversed %v), want the same, near 0", a, b)
	}
}

// TestShuffleShiftsEachUnit: every column of a shuffle is a circular
// shift of the original column, and the shifts differ between units.
func TestShuffleShiftsEachUnit(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m := randomMatrix(r, 50, 6)
	s := Shuffle(m, r)
	shifts := map[int]bool{}
	for u := range 6 {
		col := func(x sdk.Matrix) []float64 {
			c := make([]float64, x.Rows)
			for t := range c {
				c[t] = x.At(t, u)
			}
			return c
		}
		a, b := col(m), col(s)
		found := -1
		for off := range 50 {
			if slices.Equal(append(slices.Clone(a[50-off:]), a[:50-off]...), b) {
				found = off
			}
		}
		if found < 0 {
			t.Fatalf("unit %d: not a circular shift", u)
		}
		shifts[found] = true
	}
	if len(shifts) < 2 {
		t.Fatalf("all units shifted alike: %v", shifts)
	}
}

// TestBinSpikesCounts: rates are the counts per bin over the width, and
// spikes outside the interval are left out.
func TestBinSpikesCounts(t *testing.T) {
	b, err := BinSpikes([][]float64{{0.05, 0.15, 0.16, 0.99, 1.5}, {}}, 0, 1, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{12, 0, 0, 0, 0, 0, 4, 0}
	if !slices.Equal(b.Rates.Data, want) || !slices.Equal(b.Times, []float64{0.125, 0.375, 0.625, 0.875}) {
		t.Fatalf("rates %v times %v, want %v", b.Rates.Data, b.Times, want)
	}
}

// TestPreprocessUnitRadius: the points are centred, of RMS radius 1, and
// the leading component holds a planted strong direction.
func TestPreprocessUnitRadius(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	T, U := 3000, 20
	m := sdk.NewMatrix(T, U)
	for i := range T {
		s := math.Sin(float64(i) / 50)
		for u := range U {
			m.Data[i*U+u] = 10 + 5*s*float64(u%2*2-1) + r.NormFloat64()
		}
	}
	p, err := Preprocess(m, Options{PCA: 3})
	if err != nil {
		t.Fatal(err)
	}
	var ss float64
	mu := make([]float64, 3)
	for i := range T {
		for j, v := range p.Row(i) {
			ss += v * v
			mu[j] += v / float64(T)
		}
	}
	if math.Abs(ss/float64(T)-1) > 1e-9 || math.Abs(mu[0]) > 1e-9 {
		t.Fatalf("mean square radius %v, mean %v", ss/float64(T), mu)
	}
	var c float64
	for i := range T {
		c += p.At(i, 0) * math.Sin(float64(i)/50)
	}
	if math.Abs(c)/float64(T) < 0.3 {
		t.Fatalf("the leading component does not follow the planted signal (%v)", c/float64(T))
	}
}

// TestSubsampleKeepsSparseStretches: a circle visited three times as
// often on one side as on the other, with 5% of the bins thrown off it
// (noise of standard deviation 0.3 in every direction: bins where a
// few spikes more or less moved the population vector far). The
// subsample must leave out those bins (none further than 0.25 from the
// circle) and still cover the rarely visited side:
// no gap of angle over 0.35 rad between chosen points, for several
// seeds. Dropping the bins whose neighbours are furthest in absolute
// terms takes out the rare side whole.
func TestSubsampleKeepsSparseStretches(t *testing.T) {
	for seed := range uint64(3) {
		r := rand.New(rand.NewPCG(seed, 77))
		const n = 3000
		pts := sdk.NewMatrix(n, 3)
		for i := range n {
			row := pts.Row(i)
			// Density proportional to 2 + cos(a): by rejection.
			a := 2 * math.Pi * r.Float64()
			for 3*r.Float64() > 2+math.Cos(a) {
				a = 2 * math.Pi * r.Float64()
			}
			sd := 0.02
			if r.Float64() < 0.05 {
				sd = 0.3
			}
			row[0], row[1], row[2] = math.Cos(a)+sd*r.NormFloat64(), math.Sin(a)+sd*r.NormFloat64(), sd*r.NormFloat64()
		}
		idx := Subsample(pts, 150, seed)
		var angles []float64
		for _, i := range idx {
			x := pts.Row(i)
			if off := math.Hypot(math.Hypot(x[0], x[1])-1, x[2]); off > 0.25 {
				t.Fatalf("seed %d: picked a scattered bin %v (%.2f off the circle)", seed, x, off)
			}
			angles = append(angles, math.Atan2(x[1], x[0]))
		}
		slices.Sort(angles)
		gap := angles[0] + 2*math.Pi - angles[len(angles)-1]
		for i := 1; i < len(angles); i++ {
			gap = max(gap, angles[i]-angles[i-1])
		}
		if gap > 0.35 {
			t.Fatalf("seed %d: a gap of %.2f rad between chosen points on the circle", seed, gap)
		}
	}
}

// TestAssessGapRule: bars that beat every shuffle count down to the
// first one Gap times shorter than the bar before it; the p-values are
// untouched by the rule.
func TestAssessGapRule(t *testing.T) {
	t.Run("torus with a short extra loop", func(t *testing.T) {
		tst := Test{Shuffles: 19, MaxBars: [][]float64{make([]float64, 19), make([]float64, 19)},
			Observed: []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, math.Inf(1)}}},
				{Dim: 1, Pairs: [][2]float64{{0.1, 0.8}, {0.1, 0.7}, {0.2, 0.45}, {0.1, 0.2}}}}}
		for i := range 19 {
			tst.MaxBars[1][i] = 0.2 // the last bar ties the shuffles' longest: p = 1
		}
		tst.assess()
		if !slices.Equal(tst.SignificantBetti, []int{1, 2}) || !slices.Equal(tst.BeyondGap, []int{0, 1}) {
			t.Fatalf("significant %v, beyond the gap %v; want [1 2], [0 1]", tst.SignificantBetti, tst.BeyondGap)
		}
		if p := tst.PValues[1]; p[2] != 0.05 || p[3] != 1 {
			t.Fatalf("p-values %v", p)
		}
	})
	t.Run("no gap", func(t *testing.T) {
		if n := beforeGap([]float64{0.5, 0.6, 0.41}); n != 3 {
			t.Fatalf("%d, want 3", n)
		}
		if n := beforeGap([]float64{0.3, 0.85, 0.6}); n != 2 {
			t.Fatalf("%d, want 2 (0.3 is half of 0.6)", n)
		}
	})
}
