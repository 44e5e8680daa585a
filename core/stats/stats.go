// Package stats holds the statistics a sweep's report states its claims
// with: bootstrap confidence intervals of a mean over seeds, Spearman's
// rank correlation, the two-sided sign test, and Fisher's combination of
// correlations from several seeds. Distributions and moments come from
// gonum's stat packages.
package stats

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Mean is the arithmetic mean; NaN for no values.
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return stat.Mean(x, nil)
}

// BootstrapCI is the percentile bootstrap interval of the mean of x at
// the given level (0.95 for 95%), from resamples drawn with a fixed seed
// so a report is the same every time it is built. With one value the
// interval is that value: one seed says nothing about spread, and the
// report shows n beside every band.
func BootstrapCI(x []float64, level float64, resamples int, seed uint64) (lo, hi float64) {
	switch len(x) {
	case 0:
		return math.NaN(), math.NaN()
	case 1:
		return x[0], x[0]
	}
	r := rand.New(rand.NewPCG(seed, uint64(len(x))))
	means := make([]float64, resamples)
	for b := range means {
		s := 0.0
		for range x {
			s += x[r.IntN(len(x))]
		}
		means[b] = s / float64(len(x))
	}
	sort.Float64s(means)
	alpha := (1 - level) / 2
	return stat.Quantile(alpha, stat.Empirical, means, nil), stat.Quantile(1-alpha, stat.Empirical, means, nil)
}

// Ranks gives each value its rank (1 = smallest), ties the mean of the
// ranks they span.
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// Spearman is the rank correlation of x and y: Pearson's correlation of
// their ranks. NaN when fewer than 3 pairs or either is constant.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) || len(x) < 3 {
		return math.NaN()
	}
	rx, ry := Ranks(x), Ranks(y)
	if constant(rx) || constant(ry) {
		return math.NaN()
	}
	return stat.Correlation(rx, ry, nil)
}

func constant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

// SignTest is the two-sided exact sign test of pos positive against neg
// negative differences (zeros dropped before): the probability, with
// each sign equally likely, of a split at least this uneven.
func SignTest(pos, neg int) float64 {
	n := pos + neg
	if n == 0 {
		return 1
	}
	b := distuv.Binomial{N: float64(n), P: 0.5}
	return math.Min(1, 2*b.CDF(float64(min(pos, neg))))
}

// Combined is Fisher's fixed-effect combination of correlations from
// several independent samples (seeds).
type Combined struct {
	R float64 // the combined correlation, tanh of the weighted mean z
	Z float64 // the weighted mean z over its standard error
	P float64 // two-sided p-value of Z under no correlation
	K int     // samples combined (those with n >= 4 and a defined r)
	N int     // pairs over those samples
}

// CombineSpearman combines Spearman correlations rs over ns pairs each:
// z = atanh(r) has variance about 1.06/(n-3) for Spearman's rho (Fieller,
// Hartley and Pearson 1957), so sum((n-3) z) / sqrt(1.06 sum(n-3)) is
// standard normal when there is no correlation.
func CombineSpearman(rs []float64, ns []int) Combined {
	var c Combined
	var sw, swz float64
	for i, r := range rs {
		if math.IsNaN(r) || ns[i] < 4 {
			continue
		}
		r = math.Max(-0.999999, math.Min(0.999999, r))
		w := float64(ns[i] - 3)
		sw += w
		swz += w * math.Atanh(r)
		c.K++
		c.N += ns[i]
	}
	if c.K == 0 {
		return Combined{R: math.NaN(), Z: math.NaN(), P: math.NaN()}
	}
	c.R = math.Tanh(swz / sw)
	c.Z = swz / math.Sqrt(1.06*sw)
	c.P = 2 * distuv.UnitNormal.Survival(math.Abs(c.Z))
	return c
}

// Argsort returns the indices of x in ascending order of their values,
// ties in index order (NaN first, as cmp.Compare orders it): the rank
// order several analyses need without moving the values themselves.
func Argsort(x []float64) []int {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	return idx
}
