package stats

import (
	"math"
)

// MannWhitneyResult is a two-sample rank test's outcome.
type MannWhitneyResult struct {
	// U is the Mann-Whitney statistic of x: the number of pairs (x_i,
	// y_j) with x_i > y_j, ties counting one half.
	U float64
	// P is the two-sided exact permutation p-value: the probability,
	// with the pooled values' labels assigned at random, of a rank sum
	// of x at least as far from its mean as the observed one.
	P float64
	// Effect is U / (len(x) len(y)), the probability that a random x
	// exceeds a random y (ties one half); 0.5 under no difference.
	Effect float64
}

// MannWhitney is the two-sided Mann-Whitney (Wilcoxon rank-sum) test of
// x against y, exact under ties: the null distribution of x's sum of
// mid-ranks is counted over every way of choosing len(x) of the pooled
// values, by dynamic programming over the doubled (integer) mid-ranks,
// so small samples with many ties (e.g. a layer index per network) get
// an exact p-value rather than the normal approximation. NaN when either
// sample is empty.
func MannWhitney(x, y []float64) MannWhitneyResult {
	n, m := len(x), len(y)
	if n == 0 || m == 0 {
		return MannWhitneyResult{U: math.NaN(), P: math.NaN(), Effect: math.NaN()}
	}
	pooled := append(append([]float64(nil), x...), y...)
	ranks := Ranks(pooled)
	// Doubled mid-ranks are whole numbers.
	r2 := make([]int, len(ranks))
	total := 0
	for i, r := range ranks {
		r2[i] = int(math.Round(2 * r))
		total += r2[i]
	}
	obs := 0
	for i := 0; i < n; i++ {
		obs += r2[i]
	}
	u := float64(obs)/2 - float64(n*(n+1))/2
	// count[k][s]: subsets of size k of the values seen so far whose
	// doubled ranks sum to s. Counts are float64: C(200, 100) ~ 9e58
	// still has 15 significant digits, all the p-value needs.
	count := make([][]float64, n+1)
	for k := range count {
		count[k] = make([]float64, total+1)
	}
	count[0][0] = 1
	for i, r := range r2 {
		for k := min(i+1, n); k >= 1; k-- {
			prev, cur := count[k-1], count[k]
			for s := total; s >= r; s-- {
				if prev[s-r] != 0 {
					cur[s] += prev[s-r]
				}
			}
		}
	}
	// The mean of x's doubled rank sum is n * total / (n + m); a sum is
	// as extreme when its distance from that mean is at least the
	// observed one (a small tolerance absorbs the division).
	mean := float64(n) * float64(total) / float64(n+m)
	dev := math.Abs(float64(obs) - mean)
	var all, extreme float64
	for s, c := range count[n] {
		if c == 0 {
			continue
		}
		all += c
		if math.Abs(float64(s)-mean) >= dev-1e-9 {
			extreme += c
		}
	}
	return MannWhitneyResult{U: u, P: math.Min(1, extreme/all), Effect: u / float64(n*m)}
}
