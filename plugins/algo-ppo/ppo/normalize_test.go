package ppo

import (
	"math"
	"math/rand/v2"
	"testing"
)

// twoPass returns the mean and population variance of the data merged
// with the normaliser's prior (mean 0, variance 1, weight 1e-4), computed
// in two passes over the whole data set.
func twoPass(data [][]float64, dim int) (mean, vari []float64) {
	const prior = 1e-4
	n := float64(len(data))
	mean, vari = make([]float64, dim), make([]float64, dim)
	for j := 0; j < dim; j++ {
		m := 0.0
		for _, row := range data {
			m += row[j]
		}
		m /= n
		ss := 0.0
		for _, row := range data {
			ss += (row[j] - m) * (row[j] - m)
		}
		tot := n + prior
		mean[j] = n * m / tot
		// Prior's own spread, the data's, and the spread between the two
		// means (the prior mean is 0).
		vari[j] = (prior*1 + ss + m*m*prior*n/tot) / tot
	}
	return mean, vari
}

func TestRunningStatMatchesTwoPass(t *testing.T) {
	rnd := rand.New(rand.NewPCG(4, 4))
	const dim = 3
	s := newRunningStat(dim)
	var all [][]float64
	for batch := 0; batch < 200; batch++ {
		n := 1 + rnd.IntN(5)
		x := make([]float64, n*dim)
		for i := 0; i < n; i++ {
			row := []float64{5 + 2*rnd.NormFloat64(), -3 + 0.1*rnd.NormFloat64(), rnd.Float64()}
			copy(x[i*dim:], row)
			all = append(all, row)
		}
		s.update(x, n)
	}
	mean, vari := twoPass(all, dim)
	for j := 0; j < dim; j++ {
		if math.Abs(s.Mean[j]-mean[j]) > 1e-10*math.Max(1, math.Abs(mean[j])) || math.Abs(s.Var[j]-vari[j]) > 1e-10*math.Max(1, vari[j]) {
			t.Errorf("coordinate %d: running (%v, %v), two-pass (%v, %v)", j, s.Mean[j], s.Var[j], mean[j], vari[j])
		}
	}
	if math.Abs(s.Count-(float64(len(all))+1e-4)) > 1e-9 {
		t.Errorf("count %v, want %v", s.Count, float64(len(all))+1e-4)
	}
	// Normalisation: (x - mean) / sqrt(var + 1e-8), clipped.
	x := []float64{5, -3, 100}
	out := make([]float64, 3)
	s.normalize(out, x, 1, 10)
	for j := 0; j < 2; j++ {
		if want := (x[j] - mean[j]) / math.Sqrt(vari[j]+1e-8); math.Abs(out[j]-want) > 1e-8 {
			t.Errorf("normalised coordinate %d = %v, want %v", j, out[j], want)
		}
	}
	if out[2] != 10 {
		t.Errorf("normalised outlier %v, want the clip 10", out[2])
	}
}

func TestReturnScalerUsesDiscountedReturnVariance(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 9))
	const gamma = 0.9
	rs := newReturnScaler(2)
	ret := []float64{0, 0}
	var seen [][]float64
	for step := 0; step < 300; step++ {
		r := []float64{rnd.NormFloat64() + 1, 3 * rnd.Float64()}
		term := []bool{step%37 == 36, step%50 == 49}
		for e := range ret {
			if term[e] {
				ret[e] = r[e]
			} else {
				ret[e] = gamma*ret[e] + r[e]
			}
			seen = append(seen, []float64{ret[e]})
		}
		raw := append([]float64(nil), r...)
		rs.scale(r, term, gamma, 100)
		_, vari := twoPass(seen, 1)
		for e := range r {
			if want := raw[e] / math.Sqrt(vari[0]+1e-8); math.Abs(r[e]-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Fatalf("step %d env %d: scaled %v, want %v", step, e, r[e], want)
			}
		}
	}
	// A large reward is clipped (the scale of a single outlier is its own
	// spread, so use a small clip to see it).
	r := []float64{1e9, -1e9}
	rs.scale(r, []bool{false, false}, gamma, 5)
	if r[0] != 5 || r[1] != -5 {
		t.Fatalf("huge rewards scaled to %v, want the clip +-5", r)
	}
}
