package recording

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Alpha is the level of the shuffle test: a bar is significant when its
// p-value is at most Alpha.
const Alpha = 0.05

// Gap is how much longer a significant bar must be than the next one
// for the next and all shorter ones not to count: significant bars
// that stand Gap times below a longer significant bar of the same
// dimension are left out of SignificantBetti. A shuffle test answers
// "is there structure", not "how many features": once a population
// has a torus, its geometry (fields crowded on one side, a walled
// arena sampling the torus unevenly) can leave a short loop or void
// that also beats every shuffle; on simulated grid modules such bars
// were 1.7 to 2.4 times shorter than the torus's void, and its two
// loops within 1.3 times of each other.
const Gap = 1.5

// MinShuffles is the fewest shuffles with which a p-value can reach
// Alpha: (1 + 0) / (N + 1) <= 0.05 needs N >= 19.
const MinShuffles = 19

// Shuffle returns a copy of rates (time bins x units) with each unit's
// column circularly shifted by its own uniform random offset: each
// unit keeps its own rate and autocorrelation, while the population's
// joint structure (the thing a ring or a torus is made of) is broken.
func Shuffle(rates sdk.Matrix, r *rand.Rand) sdk.Matrix {
	T, U := rates.Rows, rates.Cols
	out := sdk.NewMatrix(T, U)
	for u := range U {
		off := r.IntN(T)
		for t := range T {
			out.Data[((t+off)%T)*U+u] = rates.Data[t*U+u]
		}
	}
	return out
}

// Homology computes the diagrams of a point cloud (an sdk.Homology
// plugin behind it).
type Homology func(ctx context.Context, pts sdk.Matrix) ([]sdk.Diagram, error)

// Test is a shuffle test's outcome.
type Test struct {
	Shuffles int
	// Observed are the cloud's diagrams, sorted as diagram.Sorted sorts.
	Observed []sdk.Diagram
	// MaxBars[d][i] is the largest Persistence of the finite bars in
	// dimension d of shuffle i.
	MaxBars [][]float64
	// PValues[i][j] belongs to Observed[i].Pairs[j]: (1 + the shuffles
	// whose largest Persistence in that dimension is at least the bar's)
	// / (N + 1); NaN for an essential (infinite) bar, which is not tested.
	PValues [][]float64
	// SignificantBetti[d] counts the bars of dimension d with p <= Alpha
	// down to the first gap of Gap (see Gap), plus the essential classes
	// (a cloud's one component is present in every shuffle and is
	// counted as there).
	SignificantBetti []int
	// BeyondGap[d] counts the bars of dimension d with p <= Alpha left
	// out of SignificantBetti[d] by the gap rule.
	BeyondGap []int
}

// sample returns the rows of pts homology is computed on: m of them,
// density-aware (Subsample), with the seed.
func (c Cloud) sample(pts sdk.Matrix, m int, seed uint64) sdk.Matrix {
	return Rows(pts, Subsample(pts, m, seed))
}

// ShuffleTest computes the diagrams of c's points (subsampled to m) and
// of n shuffled controls made from c's rates with the same preprocessing
// and subsampling, and the p-value of every observed bar.
func ShuffleTest(ctx context.Context, c Cloud, n, m int, seed uint64, ph Homology) (Test, error) {
	if n > 0 && !c.HasRates() {
		return Test{}, fmt.Errorf("shuffled controls need the binned rates behind the points (a cloud from nthost recording import)")
	}
	if n > 0 && n < MinShuffles {
		return Test{}, fmt.Errorf("%d shuffles: want at least %d, fewer can never reach p <= %g", n, MinShuffles, Alpha)
	}
	obs, err := ph(ctx, c.sample(c.Points, m, seed))
	if err != nil {
		return Test{}, err
	}
	obs = diagram.Sorted(obs)
	maxDim := 0
	for _, d := range obs {
		maxDim = max(maxDim, d.Dim)
	}
	t := Test{Shuffles: n, Observed: obs, MaxBars: make([][]float64, maxDim+1)}
	r := rand.New(rand.NewPCG(seed, 0x5af1e))
	for i := range n {
		pts, err := Preprocess(Shuffle(c.Rates, r), c.Options)
		if err != nil {
			return Test{}, fmt.Errorf("shuffle %d: %v", i+1, err)
		}
		ds, err := ph(ctx, c.sample(pts, m, seed+uint64(i)+1))
		if err != nil {
			return Test{}, fmt.Errorf("shuffle %d: %w", i+1, err)
		}
		longest := make([]float64, maxDim+1)
		for _, d := range ds {
			if d.Dim <= maxDim {
				for _, p := range d.Pairs {
					longest[d.Dim] = max(longest[d.Dim], Persistence(d.Dim, p))
				}
			}
		}
		for d := range longest {
			t.MaxBars[d] = append(t.MaxBars[d], longest[d])
		}
	}
	t.assess()
	return t, nil
}

// assess fills PValues and SignificantBetti from Observed and MaxBars.
func (t *Test) assess() {
	t.PValues = make([][]float64, len(t.Observed))
	t.SignificantBetti = make([]int, len(t.MaxBars))
	t.BeyondGap = make([]int, len(t.MaxBars))
	for i, d := range t.Observed {
		ps := make([]float64, len(d.Pairs))
		var sig []float64
		for j, p := range d.Pairs {
			l := Persistence(d.Dim, p)
			if math.IsInf(p[1], 1) {
				ps[j] = math.NaN()
				t.SignificantBetti[d.Dim]++
				continue
			}
			if t.Shuffles == 0 {
				ps[j] = math.NaN()
				continue
			}
			ge := 0
			for _, m := range t.MaxBars[d.Dim] {
				if m >= l {
					ge++
				}
			}
			ps[j] = float64(1+ge) / float64(t.Shuffles+1)
			if ps[j] <= Alpha {
				sig = append(sig, l)
			}
		}
		kept := beforeGap(sig)
		t.SignificantBetti[d.Dim] += kept
		t.BeyondGap[d.Dim] = len(sig) - kept
		t.PValues[i] = ps
	}
}

// beforeGap returns how many of the lengths, sorted longest first, come
// before the first that is Gap times shorter than the one before it.
func beforeGap(lengths []float64) int {
	slices.SortFunc(lengths, func(a, b float64) int { return cmp.Compare(b, a) })
	for i := 1; i < len(lengths); i++ {
		if lengths[i]*Gap <= lengths[i-1] {
			return i
		}
	}
	return len(lengths)
}

// Persistence is the statistic a bar is tested by: its length, death
// minus birth; 0 for an essential bar, which is not tested.
func Persistence(dim int, p [2]float64) float64 {
	if math.IsInf(p[1], 1) {
		return 0
	}
	return p[1] - p[0]
}

// WriteJSON writes the diagrams as diagram.WriteJSON does, each with
// the p-values of its pairs (null for an essential bar or without
// shuffles), and the test's shuffles, alpha, gap, significant_betti,
// beyond_gap and the shuffles' longest bars per dimension.
func (t Test) WriteJSON(w io.Writer) error {
	type dgm struct {
		Dim     int           `json:"dim"`
		Pairs   [][2]*float64 `json:"pairs"`
		PValues []*float64    `json:"p_values"`
	}
	doc := struct {
		Diagrams         []dgm       `json:"diagrams"`
		Shuffles         int         `json:"shuffles"`
		Alpha            float64     `json:"alpha"`
		Gap              float64     `json:"gap"`
		SignificantBetti []int       `json:"significant_betti"`
		BeyondGap        []int       `json:"beyond_gap"`
		ShuffleMaxBars   [][]float64 `json:"shuffle_max_bars"`
	}{Diagrams: []dgm{}, Shuffles: t.Shuffles, Alpha: Alpha, Gap: Gap, SignificantBetti: t.SignificantBetti, BeyondGap: t.BeyondGap, ShuffleMaxBars: t.MaxBars}
	for i, d := range t.Observed {
		jd := dgm{Dim: d.Dim, Pairs: make([][2]*float64, len(d.Pairs)), PValues: make([]*float64, len(d.Pairs))}
		for j, p := range d.Pairs {
			b, e := p[0], p[1]
			jd.Pairs[j][0] = &b
			if !math.IsInf(e, 1) {
				jd.Pairs[j][1] = &e
			}
			if pv := t.PValues[i][j]; !math.IsNaN(pv) {
				jd.PValues[j] = &pv
			}
		}
		doc.Diagrams = append(doc.Diagrams, jd)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(doc)
}
