package stats

import (
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Alternative is the direction a test looks in.
type Alternative int

// The alternatives: the mean differs from zero, is above it, is below it.
const (
	TwoSided Alternative = iota
	Greater
	Less
)

// TResult is a one-sample t-test of the mean of per-unit values (one per
// seed, network or recording) against zero, with the t interval of the
// mean.
type TResult struct {
	N        int
	Mean, SD float64
	T        float64
	P        float64 // in the direction asked for
	Lo, Hi   float64 // two-sided t interval of the mean at the level asked for
}

// TTest tests whether the mean of x (one value per independent unit)
// differs from zero in the direction alt, and gives the two-sided t
// interval of the mean at level. NaN values are dropped; with fewer than
// two values P is NaN (nothing can be said).
func TTest(x []float64, alt Alternative, level float64) TResult {
	x = finite(x)
	r := TResult{N: len(x), Mean: Mean(x), SD: math.NaN(), T: math.NaN(), P: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	if len(x) < 2 {
		return r
	}
	r.SD = stat.StdDev(x, nil)
	if r.SD == 0 {
		// Every unit gave the same value (integer counts can), so the
		// t statistic is undefined; the interval is the point, and the
		// p-value is the exact sign-flip test's: n units all on one
		// side happen with probability 2^-n under a symmetric null.
		r.Lo, r.Hi = r.Mean, r.Mean
		r.P = 1
		if r.Mean != 0 {
			r.T = math.Inf(int(math.Copysign(1, r.Mean)))
			p := math.Pow(0.5, n(x))
			switch {
			case alt == TwoSided:
				r.P = math.Min(1, 2*p)
			case (alt == Greater) == (r.Mean > 0):
				r.P = p
			}
		}
		return r
	}
	n := float64(len(x))
	se := r.SD / math.Sqrt(n)
	r.T = r.Mean / se
	td := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}
	switch alt {
	case Greater:
		r.P = td.Survival(r.T)
	case Less:
		r.P = td.CDF(r.T)
	default:
		r.P = math.Min(1, 2*td.Survival(math.Abs(r.T)))
	}
	q := td.Quantile(1 - (1-level)/2)
	r.Lo, r.Hi = r.Mean-q*se, r.Mean+q*se
	return r
}

// TInterval is the two-sided t interval of the mean of x at level: exact
// for normal data, where a percentile bootstrap over a handful of seeds
// covers far less than its level. One value gives that value.
func TInterval(x []float64, level float64) (lo, hi float64) {
	x = finite(x)
	switch len(x) {
	case 0:
		return math.NaN(), math.NaN()
	case 1:
		return x[0], x[0]
	}
	r := TTest(x, TwoSided, level)
	return r.Lo, r.Hi
}

// Holm adjusts p-values for the family they belong to (Holm 1979): the
// family-wise error rate stays at most alpha when adjusted values are
// compared with alpha. NaN values are left NaN and not counted.
func Holm(p []float64) []float64 {
	idx := order(p)
	m := len(idx)
	adj := nanLike(p)
	run := 0.0
	for rank, i := range idx {
		v := math.Min(1, float64(m-rank)*p[i])
		run = math.Max(run, v)
		adj[i] = run
	}
	return adj
}

// BH turns p-values into Benjamini-Hochberg q-values: calling every
// hypothesis with q < alpha keeps the expected share of false discoveries
// at most alpha (for independent or positively dependent tests). NaN
// values are left NaN and not counted.
func BH(p []float64) []float64 {
	idx := order(p)
	m := len(idx)
	q := nanLike(p)
	run := 1.0
	for rank := m - 1; rank >= 0; rank-- {
		i := idx[rank]
		run = math.Min(run, p[i]*float64(m)/float64(rank+1))
		q[i] = run
	}
	return q
}

// order lists the indices of the non-NaN p-values, smallest first.
func order(p []float64) []int {
	var idx []int
	for i, v := range p {
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	return idx
}

func nanLike(p []float64) []float64 {
	out := make([]float64, len(p))
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

func finite(x []float64) []float64 {
	out := make([]float64, 0, len(x))
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// IQM is the interquartile mean: the mean of the middle half of the
// values, the aggregate Agarwal et al. (2021) recommend for a few runs
// (robust to one outlying seed, less noisy than the median). A quarter
// of the values, rounded down, is cut from each end.
func IQM(x []float64) float64 {
	x = finite(x)
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	cut := len(s) / 4
	return Mean(s[cut : len(s)-cut])
}

// StratifiedBootstrapCI is the percentile bootstrap interval of f over
// strata (e.g. tasks, each with its seeds), resampling the values within
// each stratum, as rliable does for aggregate scores. The generator is
// seeded so a report is the same each time it is built.
func StratifiedBootstrapCI(strata [][]float64, f func(flat []float64) float64, level float64, resamples int, seed uint64) (lo, hi float64) {
	r := rand.New(rand.NewPCG(seed, uint64(len(strata))))
	vals := make([]float64, 0, resamples)
	var flat []float64
	for range resamples {
		flat = flat[:0]
		for _, s := range strata {
			for range s {
				flat = append(flat, s[r.IntN(len(s))])
			}
		}
		if v := f(flat); !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return math.NaN(), math.NaN()
	}
	sort.Float64s(vals)
	a := (1 - level) / 2
	return stat.Quantile(a, stat.Empirical, vals, nil), stat.Quantile(1-a, stat.Empirical, vals, nil)
}

// ProbImprovement is the probability that a run of configuration x beats
// a run of configuration y: P(X > Y) + P(X = Y)/2 over all pairs (the
// Mann-Whitney statistic over the number of pairs), as rliable reports it.
func ProbImprovement(x, y []float64) float64 {
	x, y = finite(x), finite(y)
	if len(x) == 0 || len(y) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, a := range x {
		for _, b := range y {
			switch {
			case a > b:
				s++
			case a == b:
				s += 0.5
			}
		}
	}
	return s / float64(len(x)*len(y))
}

// Detrend returns y minus its least-squares polynomial in t of the given
// degree (t rescaled to [-1, 1] for a well-conditioned fit). The degree is
// lowered to what the number of points allows (at least 2 points per
// coefficient).
func Detrend(t, y []float64, degree int) []float64 {
	n := len(y)
	for degree > 0 && n < 2*(degree+1) {
		degree--
	}
	if n == 0 {
		return nil
	}
	lo, hi := t[0], t[0]
	for _, v := range t {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	a := mat.NewDense(n, degree+1, nil)
	for i, v := range t {
		u := 0.0
		if hi > lo {
			u = 2*(v-lo)/(hi-lo) - 1
		}
		p := 1.0
		for j := 0; j <= degree; j++ {
			a.Set(i, j, p)
			p *= u
		}
	}
	var coef mat.VecDense
	if err := coef.SolveVec(a, mat.NewVecDense(n, append([]float64(nil), y...))); err != nil {
		out := make([]float64, n)
		m := Mean(y)
		for i, v := range y {
			out[i] = v - m
		}
		return out
	}
	var fit mat.VecDense
	fit.MulVec(a, &coef)
	out := make([]float64, n)
	for i := range y {
		out[i] = y[i] - fit.AtVec(i)
	}
	return out
}

// TrendDegree is the degree of the polynomial DetrendedDiffCorr removes.
// With a cubic, core/sweepreport's calibration test fails: a steep fall
// shared by both series under random-walk noise reads as "moving
// together" in 0.10-0.14 of null sweeps; degree 5 keeps them within
// [0.03, 0.07] with the same power.
const TrendDegree = 5

// DetrendedDiffCorr measures how two series of one run move together
// beyond their trends: each is detrended by a polynomial of TrendDegree
// in t, and Spearman's rho is taken of the two residual series' first
// differences. Two series that merely share a trend (both falling over
// training) correlate whatever their relation, and autocorrelated noise
// makes a raw correlation swing far from zero; this statistic is centred
// on zero when the series' fluctuations are unrelated, so across
// independent runs it can be tested with TTest. NaN with fewer than 6
// points or a constant series.
func DetrendedDiffCorr(t, x, y []float64) float64 {
	if len(x) != len(y) || len(x) != len(t) || len(x) < 6 {
		return math.NaN()
	}
	rx, ry := Detrend(t, x, TrendDegree), Detrend(t, y, TrendDegree)
	dx, dy := make([]float64, len(x)-1), make([]float64, len(x)-1)
	for i := range dx {
		dx[i], dy[i] = rx[i+1]-rx[i], ry[i+1]-ry[i]
	}
	return Spearman(dx, dy)
}

// Slope is the least-squares slope of y against t; NaN with fewer than 3
// points or a constant t. Across runs it is tested with TTest: being
// linear in y, it is normal whenever the noise is (stationary,
// autocorrelated or a random walk), where a rank correlation with time
// piles up near +-1 for a random walk: tested on Fisher's z instead,
// core/sweepreport's calibration test fails (0.072-0.074 at 5 seeds
// under random walks).
func Slope(t, y []float64) float64 {
	if len(t) != len(y) || len(t) < 3 {
		return math.NaN()
	}
	mt, my := Mean(t), Mean(y)
	var sxy, sxx float64
	for i := range t {
		sxy += (t[i] - mt) * (y[i] - my)
		sxx += (t[i] - mt) * (t[i] - mt)
	}
	if sxx == 0 {
		return math.NaN()
	}
	return sxy / sxx
}

func n(x []float64) float64 { return float64(len(x)) }

// FisherZ is atanh(r), with r kept within 0.999 of +-1 so a perfect rank
// correlation stays finite. Correlations are averaged and tested across
// runs on this scale, where they are closer to normal.
func FisherZ(r float64) float64 {
	return math.Atanh(math.Max(-0.999, math.Min(0.999, r)))
}

// DetectableEffect is the smallest true mean, in units of the per-unit
// standard deviation, that a one-sided t-test at alpha over n units
// detects with the given power: (t_{1-alpha} + t_{power}) / sqrt(n) with
// n-1 degrees of freedom (the usual approximation of the noncentral t,
// within a few percent for n >= 5). For a two-sided test pass alpha/2.
func DetectableEffect(n int, alpha, power float64) float64 {
	if n < 2 {
		return math.NaN()
	}
	td := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	return (td.Quantile(1-alpha) + td.Quantile(power)) / math.Sqrt(float64(n))
}
