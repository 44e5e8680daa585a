// Package summary turns persistence diagrams into the numbers users read
// (Betti numbers at the seed's scale, persistent-bar counts, total
// persistence, persistence entropy, Betti curves) and defines the JSON-lines
// records a run writes, with tolerant readers and CSV writers for them.
package summary

import (
	"fmt"
	"math"
	"sort"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Defaults of Options. DefaultBettiScale is the seed's fixed filtration
// scale: its Betti numbers count bars alive at 2.5.
const (
	DefaultBettiScale  = 2.5
	DefaultFraction    = 0.1
	DefaultCurvePoints = 64
)

// Options sets the scales a Summary is measured at. A zero field takes its
// default, so Options{} is the seed's setting.
type Options struct {
	// BettiScale is the filtration value t of the Betti numbers: a bar
	// [b, d) counts when b <= t < d.
	BettiScale float64 `json:"betti_scale"`
	// Fraction sets the scale-free threshold: a bar is persistent when its
	// lifetime exceeds Fraction x diameter. Unlike BettiScale it does not
	// depend on the units of the distance, so layers of different sizes
	// can be compared.
	Fraction float64 `json:"fraction"`
	// CurvePoints is the number of scales the Betti curve is sampled at.
	CurvePoints int `json:"curve_points"`
}

// withDefaults fills zero (or meaningless negative) fields.
func (o Options) withDefaults() Options {
	if o.BettiScale == 0 || math.IsNaN(o.BettiScale) || math.IsInf(o.BettiScale, 0) {
		o.BettiScale = DefaultBettiScale
	}
	if o.Fraction <= 0 || math.IsNaN(o.Fraction) || math.IsInf(o.Fraction, 0) {
		o.Fraction = DefaultFraction
	}
	if o.CurvePoints <= 0 {
		o.CurvePoints = DefaultCurvePoints
	}
	return o
}

// DimSummary holds the numbers of one homology dimension.
type DimSummary struct {
	Dim int `json:"dim"`
	// Pairs is the number of bars; Infinite of them never die.
	Pairs    int `json:"pairs"`
	Infinite int `json:"infinite"`
	// Betti is the number of bars alive at the Options' BettiScale.
	Betti int `json:"betti"`
	// Persistent is the number of bars whose lifetime exceeds
	// Fraction x diameter; an infinite bar's lifetime is diameter - birth.
	Persistent int `json:"persistent"`
	// TotalPersistence is the sum of the finite lifetimes. Infinite bars
	// are left out rather than capped: in dimension 0 there is always one,
	// and capping it at the diameter would swamp every finite feature.
	TotalPersistence float64 `json:"total_persistence"`
	// MaxPersistence is the longest finite lifetime (0 if none).
	MaxPersistence float64 `json:"max_persistence"`
	// Entropy is the Shannon entropy (natural log) of the finite
	// lifetimes normalised to sum to 1; 0 when there are none.
	Entropy float64 `json:"entropy"`
	// BettiCurve[i] is the number of bars alive at Summary.Scales[i].
	BettiCurve []int `json:"betti_curve"`
}

// Summary is the digest of the diagrams of one point cloud.
type Summary struct {
	// Diameter is the largest distance of the cloud; the Betti curve and
	// the persistent-bar threshold are measured against it.
	Diameter   float64      `json:"diameter"`
	BettiScale float64      `json:"betti_scale"`
	Fraction   float64      `json:"fraction"`
	Scales     []float64    `json:"scales"`
	Dims       []DimSummary `json:"dims"`
}

// Dim returns the summary of dimension k and whether the diagrams had it.
func (s Summary) Dim(k int) (DimSummary, bool) {
	for _, d := range s.Dims {
		if d.Dim == k {
			return d, true
		}
	}
	return DimSummary{Dim: k}, false
}

// Betti returns the Betti number of dimension k (0 if not computed).
func (s Summary) Betti(k int) int {
	d, _ := s.Dim(k)
	return d.Betti
}

// Persistent returns the persistent-bar count of dimension k (0 if not
// computed).
func (s Summary) Persistent(k int) int {
	d, _ := s.Dim(k)
	return d.Persistent
}

// TotalBetti is the sum of the Betti numbers over all dimensions.
func (s Summary) TotalBetti() int {
	n := 0
	for _, d := range s.Dims {
		n += d.Betti
	}
	return n
}

// MaxDim is the largest dimension summarised, or -1 for none.
func (s Summary) MaxDim() int {
	m := -1
	for _, d := range s.Dims {
		m = max(m, d.Dim)
	}
	return m
}

// Diameter returns the largest entry of a distance matrix (0 for an empty
// one). NaN and infinite entries are ignored: an infinite distance marks a
// pair a metric could not join, and would make every scale meaningless.
func Diameter(d sdk.Matrix) float64 {
	m := 0.0
	for _, v := range d.Data {
		if v > m && !math.IsInf(v, 1) {
			m = v
		}
	}
	return m
}

// Summarize digests the diagrams of one point cloud whose largest distance
// is diameter. Diagrams of the same dimension are merged; the result lists
// dimensions in increasing order. Pairs with a NaN end, or with a death
// before their birth, are malformed and skipped.
func Summarize(diagrams []sdk.Diagram, diameter float64, opt Options) Summary {
	opt = opt.withDefaults()
	if math.IsNaN(diameter) || math.IsInf(diameter, 0) || diameter < 0 {
		diameter = 0
	}
	s := Summary{
		Diameter:   diameter,
		BettiScale: opt.BettiScale,
		Fraction:   opt.Fraction,
		Scales:     make([]float64, opt.CurvePoints),
	}
	for i := range s.Scales {
		if opt.CurvePoints > 1 {
			s.Scales[i] = diameter * float64(i) / float64(opt.CurvePoints-1)
		}
	}
	// The last scale is the diameter itself, exactly, so the curve ends
	// with the bars still alive when everything is connected.
	if n := len(s.Scales); n > 1 {
		s.Scales[n-1] = diameter
	}

	byDim := map[int][][2]float64{}
	for _, d := range diagrams {
		byDim[d.Dim] = append(byDim[d.Dim], d.Pairs...)
	}
	dims := make([]int, 0, len(byDim))
	for k := range byDim {
		dims = append(dims, k)
	}
	sort.Ints(dims)
	for _, k := range dims {
		s.Dims = append(s.Dims, summarizeDim(k, byDim[k], diameter, opt, s.Scales))
	}
	return s
}

func summarizeDim(k int, pairs [][2]float64, diameter float64, opt Options, scales []float64) DimSummary {
	ds := DimSummary{Dim: k, BettiCurve: make([]int, len(scales))}
	threshold := opt.Fraction * diameter
	var lifetimes []float64
	for _, p := range pairs {
		b, d := p[0], p[1]
		if math.IsNaN(b) || math.IsNaN(d) || d < b {
			continue
		}
		ds.Pairs++
		if alive(b, d, opt.BettiScale) {
			ds.Betti++
		}
		for i, t := range scales {
			if alive(b, d, t) {
				ds.BettiCurve[i]++
			}
		}
		var life float64
		if math.IsInf(d, 1) {
			ds.Infinite++
			life = diameter - b
		} else {
			life = d - b
			lifetimes = append(lifetimes, life)
			ds.TotalPersistence += life
			ds.MaxPersistence = max(ds.MaxPersistence, life)
		}
		if life > threshold {
			ds.Persistent++
		}
	}
	ds.Entropy = entropy(lifetimes, ds.TotalPersistence)
	return ds
}

// alive reports whether the bar [b, d) exists at filtration value t.
func alive(b, d, t float64) bool { return b <= t && t < d }

// entropy is -sum p log p with p = l / total; zero lifetimes add nothing
// (the limit of p log p at 0).
func entropy(lifetimes []float64, total float64) float64 {
	if total <= 0 {
		return 0
	}
	h := 0.0
	for _, l := range lifetimes {
		if l > 0 {
			p := l / total
			h -= p * math.Log(p)
		}
	}
	return h
}

// ChooseBettiScale picks a filtration value at which Betti numbers say
// something about diagrams whose units are unknown: the midpoint of the
// longest finite bar of dimension 1 or more (where the most persistent
// loop or void is surely alive), else half the last finite death in
// dimension 0 (where the clusters that merge last are still apart). why
// says which, for the user; t is 0 when no bar is finite.
func ChooseBettiScale(ds []sdk.Diagram) (t float64, why string) {
	best, bestDim := 0.0, -1
	var lastH0 float64
	for _, d := range ds {
		for _, p := range d.Pairs {
			if math.IsInf(p[1], 0) || math.IsNaN(p[1]) {
				continue
			}
			if d.Dim == 0 {
				lastH0 = max(lastH0, p[1])
				continue
			}
			if l := p[1] - p[0]; l > best {
				best, bestDim, t = l, d.Dim, (p[0]+p[1])/2
			}
		}
	}
	switch {
	case bestDim >= 1:
		return t, fmt.Sprintf("the midpoint of the longest H%d bar", bestDim)
	case lastH0 > 0:
		return lastH0 / 2, "half the last H0 merge"
	}
	return 0, "no finite bar"
}
