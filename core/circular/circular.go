// Package circular computes circular coordinates of a point cloud from a
// persistent cohomology class (de Silva, Morozov and Vejdemo-Johansson,
// "Persistent cohomology and circular coordinates", 2011): a map from
// every point to the circle that winds once around the hole the class
// measures, e.g. the heading a head-direction population encodes.
//
// The class is a Z/p cocycle on a Rips complex of landmarks at a scale
// inside its bar. Its values are lifted to integers in (-p/2, p/2],
// smoothed to the harmonic representative (the integer cocycle minus the
// coboundary of the least-squares vertex function), and extended from
// the landmarks to every point with a partition of unity over balls
// around the landmarks.
package circular

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/neuraltopology/neuraltopology/core/recording"
	"github.com/neuraltopology/neuraltopology/core/stats"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Result holds the circular coordinates of a cloud.
type Result struct {
	Angle     []float64  // radians in [0, 2 pi), one per point
	Bar       [2]float64 // the H1 bar decoded
	Scale     float64    // the Rips scale of the cocycle (ball radius Scale/2)
	Uncovered int        // points in no landmark's ball (given their nearest landmark's value)
	Defects   int        // triangles where the integer lift is not a cocycle
}

// Coordinates computes circular coordinates of every row of pts from the
// dimension-1 diagram h1 of the landmarks (rows lm of pts), whose
// cocycles are over Z/p and on landmark indices 0..len(lm)-1. bar picks
// the bar: 1 is the longest, 2 the next, and so on.
func Coordinates(pts sdk.Matrix, lm []int, h1 sdk.Diagram, bar, p int) (Result, error) {
	if len(h1.Cocycles) != len(h1.Pairs) {
		return Result{}, fmt.Errorf("circular: the H1 diagram has %d cocycles for %d bars (ask the ph plugin for cocycles)", len(h1.Cocycles), len(h1.Pairs))
	}
	// Longest bar first: the order of the negated lifetimes.
	neg := make([]float64, len(h1.Pairs))
	for i, b := range h1.Pairs {
		neg[i] = b[0] - b[1]
	}
	order := stats.Argsort(neg)
	if bar < 1 || bar > len(order) {
		return Result{}, fmt.Errorf("circular: bar %d: the landmarks' H1 diagram has %d bars", bar, len(order))
	}
	k := order[bar-1]
	b := h1.Pairs[k]
	death := b[1]
	if math.IsInf(death, 1) {
		// An essential class: any scale past its birth will do; take
		// twice the birth.
		death = 3 * b[0]
	}
	// The middle of the bar: the class is well inside its lifetime.
	scale := b[0] + 0.5*(death-b[0])
	L := len(lm)
	ld := make([]float64, L*L)
	for i := range L {
		for j := range L {
			ld[i*L+j] = math.Sqrt(sqDist(pts.Row(lm[i]), pts.Row(lm[j])))
		}
	}
	// The integer lift on the edges of the complex at the scale.
	alpha := map[[2]int]float64{}
	cc := h1.Cocycles[k]
	for q := range cc.V {
		i, j := int(cc.I[q]), int(cc.J[q])
		if i < 0 || j < 0 || i >= L || j >= L || i == j {
			return Result{}, fmt.Errorf("circular: cocycle edge (%d, %d) is not between two of the %d landmarks", i, j, L)
		}
		if i > j {
			i, j = j, i
		}
		if ld[i*L+j] > scale {
			continue
		}
		v := int(cc.V[q]) % p
		if v > p/2 {
			v -= p
		}
		alpha[[2]int{i, j}] = float64(v)
	}
	var edges [][2]int
	for i := range L {
		for j := i + 1; j < L; j++ {
			if ld[i*L+j] <= scale {
				edges = append(edges, [2]int{i, j})
			}
		}
	}
	a := func(i, j int) float64 {
		if i < j {
			return alpha[[2]int{i, j}]
		}
		return -alpha[[2]int{j, i}]
	}
	res := Result{Bar: b, Scale: scale}
	for _, e := range edges {
		for w := e[1] + 1; w < L; w++ {
			if ld[e[0]*L+w] <= scale && ld[e[1]*L+w] <= scale {
				if a(e[1], w)-a(e[0], w)+a(e[0], e[1]) != 0 {
					res.Defects++
				}
			}
		}
	}
	// Harmonic smoothing: f minimises sum over edges of
	// (alpha(i,j) - (f_j - f_i))^2; the normal equations are the graph
	// Laplacian's, L f = delta^T alpha, singular along constants on each
	// component, which a tiny ridge fixes without moving the differences.
	lap := mat.NewSymDense(L, nil)
	rhs := mat.NewVecDense(L, nil)
	for _, e := range edges {
		i, j := e[0], e[1]
		lap.SetSym(i, i, lap.At(i, i)+1)
		lap.SetSym(j, j, lap.At(j, j)+1)
		lap.SetSym(i, j, lap.At(i, j)-1)
		v := alpha[e]
		rhs.SetVec(j, rhs.AtVec(j)+v)
		rhs.SetVec(i, rhs.AtVec(i)-v)
	}
	for i := range L {
		lap.SetSym(i, i, lap.At(i, i)+1e-9)
	}
	var ch mat.Cholesky
	if !ch.Factorize(lap) {
		return Result{}, fmt.Errorf("circular: the landmark graph's Laplacian could not be factorised")
	}
	var f mat.VecDense
	if err := ch.SolveVecTo(&f, rhs); err != nil {
		return Result{}, fmt.Errorf("circular: harmonic smoothing: %v", err)
	}
	theta := func(i, j int) float64 { return a(i, j) - (f.AtVec(j) - f.AtVec(i)) }

	// Partition of unity over balls of radius scale/2 around the
	// landmarks: x gets -f at its most central landmark k plus the
	// weighted smoothed cocycle from k to each landmark whose ball
	// holds x (two balls that share a point are an edge at the scale).
	r := scale / 2
	res.Angle = make([]float64, pts.Rows)
	dist := make([]float64, L)
	for x := range pts.Rows {
		xr := pts.Row(x)
		best, bestD := 0, math.Inf(1)
		for j := range L {
			dist[j] = math.Sqrt(sqDist(xr, pts.Row(lm[j])))
			if dist[j] < bestD {
				best, bestD = j, dist[j]
			}
		}
		// The harmonic cocycle is alpha - delta f and alpha is integral,
		// so the vertex map whose differences it gives (mod 1) is -f.
		v := -f.AtVec(best)
		if bestD >= r {
			res.Uncovered++
		} else {
			var wsum, acc float64
			for j := range L {
				if w := r - dist[j]; w > 0 {
					wsum += w
					if j != best {
						acc += w * theta(best, j)
					}
				}
			}
			v += acc / wsum
		}
		v -= math.Floor(v)
		res.Angle[x] = 2 * math.Pi * v
	}
	return res, nil
}

func sqDist(a, b []float64) float64 {
	var s float64
	for k, v := range a {
		d := v - b[k]
		s += d * d
	}
	return s
}

// Correlation is Fisher and Lee's (1983) circular correlation of two
// angle series: the correlation over all pairs of samples of
// sin(a_i - a_j) with sin(b_i - b_j). It is 1 when b is a rotation of
// a, -1 when a reflection, near 0 when unrelated, so its absolute value
// is the agreement after the best rotation and reflection. Unlike
// coefficients built on mean directions it stays well defined for
// angles spread evenly round the circle, as a heading over a recording
// is. The sums over pairs expand into sums over samples: O(n).
func Correlation(a, b []float64) float64 {
	var ss, cc, sc, cs, saa, caa, sca, sbb, cbb, scb float64
	for i := range a {
		sa, ca := math.Sincos(a[i])
		sb, cb := math.Sincos(b[i])
		ss += sa * sb
		cc += ca * cb
		sc += sa * cb
		cs += ca * sb
		saa += sa * sa
		caa += ca * ca
		sca += sa * ca
		sbb += sb * sb
		cbb += cb * cb
		scb += sb * cb
	}
	den := (saa*caa - sca*sca) * (sbb*cbb - scb*scb)
	if den <= 0 {
		return 0
	}
	return (ss*cc - sc*cs) / math.Sqrt(den)
}

// RankCorrelation is Correlation of the circular ranks of a and b (each
// series' values replaced by 2 pi rank / n; Fisher and Lee's rank
// version). It measures agreement up to a monotone change of speed
// round the circle: circular coordinates fix how the decoded angle
// winds, not how fast it moves, which follows the population's own
// geometry (a stretch of the ring where tuning curves crowd is long).
// Ranks taken from another origin are a rotation, so the origin does
// not matter.
func RankCorrelation(a, b []float64) float64 {
	return Correlation(ranks(a), ranks(b))
}

func ranks(a []float64) []float64 {
	idx := stats.Argsort(a)
	out := make([]float64, len(a))
	for r, i := range idx {
		out[i] = 2 * math.Pi * float64(r) / float64(len(a))
	}
	return out
}

// Align returns b rotated (and reflected, if that fits better) onto a:
// the orientation with the larger mean resultant length of a - b, then
// the rotation by the mean difference. For plotting a decoded angle over
// the variable it decodes.
func Align(a, b []float64) []float64 {
	bestR, bestS, bestM := -1.0, 1.0, 0.0
	for _, s := range []float64{1, -1} {
		var sn, cs float64
		for i := range a {
			sn += math.Sin(a[i] - s*b[i])
			cs += math.Cos(a[i] - s*b[i])
		}
		if r := math.Hypot(sn, cs); r > bestR {
			bestR, bestS, bestM = r, s, math.Atan2(sn, cs)
		}
	}
	out := make([]float64, len(b))
	for i, v := range b {
		w := math.Mod(bestS*v+bestM, 2*math.Pi)
		if w < 0 {
			w += 2 * math.Pi
		}
		out[i] = w
	}
	return out
}

// Cocycles computes the H1 diagram, with a cocycle per bar over Z/p, of
// a landmark cloud (a ph plugin asked for cocycles, behind it).
type Cocycles func(ctx context.Context, landmarks sdk.Matrix, p int) (sdk.Diagram, error)

// Decode picks up to nLandmarks landmarks of pts (density-aware, as
// homology subsamples a recording), has their H1 cocycles computed over
// Z/p, and returns the circular coordinates of every point from bar
// (1: the longest) with the landmarks' row numbers.
func Decode(ctx context.Context, pts sdk.Matrix, nLandmarks, bar, p int, seed uint64, co Cocycles) (Result, []int, error) {
	if nLandmarks < 3 {
		return Result{}, nil, fmt.Errorf("circular: %d landmarks: want at least 3", nLandmarks)
	}
	lm := recording.Subsample(pts, nLandmarks, seed)
	h1, err := co(ctx, recording.Rows(pts, lm), p)
	if err != nil {
		return Result{}, nil, err
	}
	res, err := Coordinates(pts, lm, h1, bar, p)
	return res, lm, err
}

// EvenSpeed's resolution: the speed is measured in speedBins bins of the
// angle, over steps of speedLag seconds. A step of one 100 ms bin is
// mostly decoding noise where the angle moves slowly, which would pull
// every bin's speed towards the same value; 0.3 s lets the movement
// dominate while a head turning at 2.5 rad/s still moves well under
// half a turn.
const (
	speedBins = 36
	speedLag  = 0.3
)

// EvenSpeed reparametrises decoded angles (one per time bin, in time
// order, at times) so that the variable they decode moves, on average,
// equally fast at every angle. Circular coordinates fix how the angle
// winds but not how fast it advances: it advances with the population's
// geometry, fast where the ring is long in the embedding and slow where
// it is short. An animal, though, turns its head about equally fast
// whichever way it faces; so the mean |step| over speedLag seconds is
// measured in speedBins bins of the angle, and the angle is stretched
// where that speed is low and compressed where it is high (the map from
// old angle to new has slope proportional to 1 / mean speed there).
// Steps across a gap in times are left out. The map is monotone and
// fixes 0, so the winding is kept.

func EvenSpeed(angle, times []float64) []float64 {
	const bins = speedBins
	n := len(angle)
	out := slices.Clone(angle)
	if n < 3 || len(times) != n {
		return out
	}
	dts := make([]float64, n-1)
	for i := range dts {
		dts[i] = times[i+1] - times[i]
	}
	slices.Sort(dts)
	dt := dts[len(dts)/2]
	if !(dt > 0) {
		return out
	}
	lag := max(1, int(math.Round(speedLag/dt)))
	if n <= lag {
		return out
	}
	steps := make([]float64, n-lag)
	for i := range steps {
		steps[i] = times[i+lag] - times[i]
	}
	gap := 1.5 * float64(lag) * dt
	sum := make([]float64, bins)
	cnt := make([]float64, bins)
	w := 2 * math.Pi / float64(bins)
	for i, s := range steps {
		if !(s > 0) || s > gap {
			continue
		}
		d := math.Remainder(angle[i+lag]-angle[i], 2*math.Pi)
		mid := math.Mod(angle[i]+d/2, 2*math.Pi)
		if mid < 0 {
			mid += 2 * math.Pi
		}
		k := min(int(mid/w), bins-1)
		sum[k] += math.Abs(d)
		cnt[k]++
	}
	var all, nAll float64
	for k := range sum {
		all += sum[k]
		nAll += cnt[k]
	}
	if all <= 0 {
		return out
	}
	// Slope of the new angle in each bin: 1 / mean speed there; a bin
	// without steps takes the overall mean speed.
	speed := make([]float64, bins)
	for k := range speed {
		speed[k] = all / nAll
		if cnt[k] > 0 && sum[k] > 0 {
			speed[k] = sum[k] / cnt[k]
		}
	}
	// Smoothed round the circle ([1 2 1] / 4): each bin's mean is an
	// estimate from a few hundred steps, and its error would otherwise
	// be integrated into the angle.
	slope := make([]float64, bins)
	for k := range slope {
		slope[k] = 4 / (speed[(k+bins-1)%bins] + 2*speed[k] + speed[(k+1)%bins])
	}
	cum := make([]float64, bins+1)
	for k := range bins {
		cum[k+1] = cum[k] + slope[k]*w
	}
	for i, a := range angle {
		a = math.Mod(a, 2*math.Pi)
		if a < 0 {
			a += 2 * math.Pi
		}
		k := min(int(a/w), bins-1)
		v := (cum[k] + slope[k]*(a-float64(k)*w)) / cum[bins] * 2 * math.Pi
		out[i] = math.Mod(v, 2*math.Pi)
	}
	return out
}
