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
