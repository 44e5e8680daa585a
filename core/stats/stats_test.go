package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestRanksTies(t *testing.T) {
	got := Ranks([]float64{30, 10, 20, 20})
	want := []float64{4, 1, 2.5, 2.5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ranks = %v, want %v", got, want)
		}
	}
}

func TestSpearman(t *testing.T) {
	// By hand: rank differences 1,1,1,1,0 -> rho = 1 - 6*4/(5*24) = 0.8.
	if r := Spearman([]float64{1, 2, 3, 4, 5}, []float64{2, 1, 4, 3, 5}); !near(r, 0.8, 1e-12) {
		t.Errorf("rho = %v, want 0.8", r)
	}
	// Monotone but not linear: rank correlation is exactly -1.
	if r := Spearman([]float64{1, 2, 3, 4}, []float64{100, 10, 1, 0.1}); !near(r, -1, 1e-12) {
		t.Errorf("rho = %v, want -1", r)
	}
	// With ties, Pearson on average ranks: x ranks 1,2,3,4; y = 1,2.5,2.5,4
	// gives cov 4.5/4... r = 4.5 / sqrt(5 * 4.5) = 0.9486832980505138.
	if r := Spearman([]float64{1, 2, 3, 4}, []float64{5, 7, 7, 9}); !near(r, 0.9486832980505138, 1e-12) {
		t.Errorf("rho with ties = %v", r)
	}
	if r := Spearman([]float64{1, 2, 3}, []float64{4, 4, 4}); !math.IsNaN(r) {
		t.Errorf("constant y: rho = %v, want NaN", r)
	}
}

func TestSignTest(t *testing.T) {
	for _, c := range []struct {
		pos, neg int
		want     float64
	}{
		{10, 0, 2.0 / 1024},            // 2 * 0.5^10
		{8, 2, 2 * 56.0 / 1024},        // 2 * (1 + 10 + 45) / 2^10
		{2, 8, 2 * 56.0 / 1024},        // symmetric
		{5, 5, 1},                      // capped at 1
		{3, 0, 0.25},                   // 2 * 1/8: three seeds can never reach 0.05
		{6, 0, 2.0 / 64},               // six seeds all agreeing: 0.03125
		{15, 5, 2 * 21700.0 / 1048576}, // sum_{k<=5} C(20,k) = 21700
	} {
		if p := SignTest(c.pos, c.neg); !near(p, c.want, 1e-12) {
			t.Errorf("SignTest(%d, %d) = %v, want %v", c.pos, c.neg, p, c.want)
		}
	}
	if p := SignTest(0, 0); p != 1 {
		t.Errorf("no data: p = %v, want 1", p)
	}
}

func TestCombineSpearman(t *testing.T) {
	// One sample, r = 0.5, n = 28: z = atanh(0.5) = 0.5493061443340549,
	// Z = 25 z / sqrt(1.06 * 25) = 2.6676665, two-sided p = erfc(Z/sqrt 2) = 0.0076380
	c := CombineSpearman([]float64{0.5}, []int{28})
	if !near(c.R, 0.5, 1e-12) || !near(c.Z, 2.6676665, 1e-6) || !near(c.P, 0.0076380, 1e-6) || c.K != 1 || c.N != 28 {
		t.Errorf("combined = %+v", c)
	}
	// Opposite correlations of equal weight cancel; samples with n < 4 or
	// an undefined r are left out.
	c = CombineSpearman([]float64{0.6, -0.6, math.NaN(), 0.9}, []int{10, 10, 10, 3})
	if !near(c.R, 0, 1e-12) || !near(c.P, 1, 1e-12) || c.K != 2 {
		t.Errorf("cancelling = %+v", c)
	}
}

func TestBootstrapCI(t *testing.T) {
	lo, hi := BootstrapCI([]float64{3, 3, 3}, 0.95, 1000, 1)
	if lo != 3 || hi != 3 {
		t.Errorf("constant: [%v, %v]", lo, hi)
	}
	lo, hi = BootstrapCI([]float64{7}, 0.95, 1000, 1)
	if lo != 7 || hi != 7 {
		t.Errorf("one value: [%v, %v]", lo, hi)
	}
	// 400 draws of N(10, 2^2): the 95% interval of the mean is about
	// 10 +- 1.96 * 2 / 20 = +-0.196 wide each side.
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float64, 400)
	for i := range x {
		x[i] = 10 + 2*r.NormFloat64()
	}
	m := Mean(x)
	lo, hi = BootstrapCI(x, 0.95, 4000, 1)
	if !(lo < m && m < hi) || !near(hi-lo, 2*0.196, 0.06) || !near(m, 10, 0.3) {
		t.Errorf("normal sample: mean %v, CI [%v, %v]", m, lo, hi)
	}
	lo2, hi2 := BootstrapCI(x, 0.95, 4000, 1)
	if lo2 != lo || hi2 != hi {
		t.Error("the same seed must give the same interval")
	}
	// Two values 0 and 1: resampled means are 0, 0.5, 1 with
	// probabilities 1/4, 1/2, 1/4, so the 95% interval is [0, 1].
	lo, hi = BootstrapCI([]float64{0, 1}, 0.95, 4000, 1)
	if lo != 0 || hi != 1 {
		t.Errorf("two values: [%v, %v], want [0, 1]", lo, hi)
	}
}

// TestArgsort: ascending, ties in index order, NaN first; the values
// read through the indices must be sorted.
func TestArgsort(t *testing.T) {
	x := []float64{3, 1, math.NaN(), 1, -2, 3, 0}
	got := Argsort(x)
	want := []int{2, 4, 6, 1, 3, 0, 5}
	if !slices.Equal(got, want) {
		t.Fatalf("Argsort(%v) = %v, want %v", x, got, want)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	y := make([]float64, 500)
	for i := range y {
		y[i] = float64(rng.IntN(40))
	}
	idx := Argsort(y)
	for k := 1; k < len(idx); k++ {
		a, b := idx[k-1], idx[k]
		if y[a] > y[b] || (y[a] == y[b] && a > b) {
			t.Fatalf("positions %d, %d: values %v, %v at indices %d, %d", k-1, k, y[a], y[b], a, b)
		}
	}
}
