package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteMannWhitney enumerates every assignment of the pooled values to x
// and y: the definition the dynamic programme must agree with.
func bruteMannWhitney(x, y []float64) float64 {
	pooled := append(append([]float64(nil), x...), y...)
	ranks := Ranks(pooled)
	n, N := len(x), len(pooled)
	sum := func(mask int) float64 {
		s := 0.0
		for i := 0; i < N; i++ {
			if mask&(1<<i) != 0 {
				s += ranks[i]
			}
		}
		return s
	}
	obs := sum(1<<n - 1)
	mean := float64(n) * float64(N+1) / 2
	var all, extreme int
	for mask := 0; mask < 1<<N; mask++ {
		if popcount(mask) != n {
			continue
		}
		all++
		if math.Abs(sum(mask)-mean) >= math.Abs(obs-mean)-1e-9 {
			extreme++
		}
	}
	return float64(extreme) / float64(all)
}

func popcount(v int) int {
	c := 0
	for ; v != 0; v &= v - 1 {
		c++
	}
	return c
}

func TestMannWhitneyMatchesEnumeration(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 40; trial++ {
		n, m := 1+r.IntN(7), 1+r.IntN(7)
		x, y := make([]float64, n), make([]float64, m)
		for i := range x {
			x[i] = float64(r.IntN(5)) // many ties
		}
		for i := range y {
			y[i] = float64(r.IntN(5) + r.IntN(2))
		}
		got, want := MannWhitney(x, y).P, bruteMannWhitney(x, y)
		if math.Abs(got-want) > 1e-12 {
			t.Fatalf("x %v y %v: p = %v, enumeration gives %v", x, y, got, want)
		}
	}
}

func TestMannWhitneyU(t *testing.T) {
	// Every x above every y: U = n m, and the p-value is 2 / C(8, 4).
	res := MannWhitney([]float64{5, 6, 7, 8}, []float64{1, 2, 3, 4})
	if res.U != 16 || res.Effect != 1 {
		t.Fatalf("U = %v, effect %v; want 16, 1", res.U, res.Effect)
	}
	if want := 2.0 / 70; math.Abs(res.P-want) > 1e-12 {
		t.Fatalf("p = %v, want %v", res.P, want)
	}
}

// TestMannWhitneyFalsePositiveRate draws both samples from one
// distribution (continuous, and a discrete one full of ties like a layer
// index): an exact test rejects at most 5% of the time at 0.05; with
// 1,500 simulated pairs the rate's standard error is 0.0056.
func TestMannWhitneyFalsePositiveRate(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, tc := range []struct {
		name string
		draw func() float64
	}{
		{"normal", func() float64 { return r.NormFloat64() }},
		{"ties", func() float64 { return float64(r.IntN(4)) }},
	} {
		const sims = 1500
		rejected := 0
		for s := 0; s < sims; s++ {
			x, y := make([]float64, 10), make([]float64, 10)
			for i := range x {
				x[i], y[i] = tc.draw(), tc.draw()
			}
			if MannWhitney(x, y).P < 0.05 {
				rejected++
			}
		}
		rate := float64(rejected) / sims
		if rate > 0.05+3*0.0056 {
			t.Errorf("%s: false-positive rate %.4f at alpha 0.05", tc.name, rate)
		}
		if rate < 0.01 {
			t.Errorf("%s: false-positive rate %.4f: the test has almost no size, so almost no power", tc.name, rate)
		}
	}
}

// TestMannWhitneyPower: a shift of one standard deviation with 10 per
// group is detected most of the time (about 56% for a t test).
func TestMannWhitneyPower(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	rejected := 0
	const sims = 600
	for s := 0; s < sims; s++ {
		x, y := make([]float64, 10), make([]float64, 10)
		for i := range x {
			x[i], y[i] = r.NormFloat64()+1, r.NormFloat64()
		}
		if MannWhitney(x, y).P < 0.05 {
			rejected++
		}
	}
	if rate := float64(rejected) / sims; rate < 0.4 {
		t.Errorf("power %.3f against a 1 sd shift, want > 0.4", rate)
	}
}

// TestClopperPearsonCoverage: the exact interval covers the true
// proportion in at least 95% of simulated experiments, for small and
// extreme proportions too.
func TestClopperPearsonCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, p := range []float64{0.05, 0.3, 0.5, 0.9, 1} {
		const sims = 2000
		covered := 0
		for s := 0; s < sims; s++ {
			k := 0
			for i := 0; i < 12; i++ {
				if r.Float64() < p {
					k++
				}
			}
			lo, hi := ClopperPearson(k, 12, 0.95)
			if lo <= p && p <= hi {
				covered++
			}
		}
		if c := float64(covered) / sims; c < 0.95-3*0.005 {
			t.Errorf("p = %v: coverage %.4f, want >= 0.95", p, c)
		}
	}
	if lo, hi := ClopperPearson(10, 10, 0.95); hi != 1 || math.Abs(lo-0.6915) > 1e-3 {
		t.Errorf("10 of 10: [%v, %v], want [0.6915, 1]", lo, hi)
	}
}
