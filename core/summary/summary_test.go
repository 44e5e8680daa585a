package summary

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

var inf = math.Inf(1)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// plogp is the hand formula of one entropy term.
func plogp(p float64) float64 { return -p * math.Log(p) }

func TestSummarize(t *testing.T) {
	tests := []struct {
		name     string
		diagrams []sdk.Diagram
		diameter float64
		opt      Options
		scales   []float64
		want     []DimSummary
	}{
		{
			// Worked by hand: scale 2.5, threshold 0.1*5 = 0.5, scales 0..5.
			name: "two dims, infinite bar, empty dim",
			diagrams: []sdk.Diagram{
				{Dim: 0, Pairs: [][2]float64{{0, 1}, {0, 3}, {0, inf}}},
				{Dim: 1, Pairs: [][2]float64{{1, 2}, {2, 4}}},
				{Dim: 2},
			},
			diameter: 5,
			opt:      Options{CurvePoints: 6},
			scales:   []float64{0, 1, 2, 3, 4, 5},
			want: []DimSummary{
				{Dim: 0, Pairs: 3, Infinite: 1, Betti: 2, Persistent: 3, TotalPersistence: 4, MaxPersistence: 3,
					Entropy: plogp(0.25) + plogp(0.75), BettiCurve: []int{3, 2, 2, 1, 1, 1}},
				{Dim: 1, Pairs: 2, Betti: 1, Persistent: 2, TotalPersistence: 3, MaxPersistence: 2,
					Entropy: plogp(1.0/3) + plogp(2.0/3), BettiCurve: []int{0, 1, 1, 1, 0, 0}},
				{Dim: 2, BettiCurve: []int{0, 0, 0, 0, 0, 0}},
			},
		},
		{
			// Boundaries: a bar is alive on [birth, death); a lifetime must
			// exceed Fraction*diameter (= 2), not equal it; the infinite
			// bar born at 3 lives 4-3 = 1.
			name: "half-open bars and strict threshold",
			diagrams: []sdk.Diagram{
				{Dim: 0, Pairs: [][2]float64{{0, 1}, {1, 3}, {0.5, 3}, {3, inf}}},
			},
			diameter: 4,
			opt:      Options{BettiScale: 1, Fraction: 0.5, CurvePoints: 3},
			scales:   []float64{0, 2, 4},
			want: []DimSummary{
				{Dim: 0, Pairs: 4, Infinite: 1, Betti: 2, Persistent: 1, TotalPersistence: 1 + 2 + 2.5, MaxPersistence: 2.5,
					Entropy: plogp(1/5.5) + plogp(2/5.5) + plogp(2.5/5.5), BettiCurve: []int{1, 2, 1}},
			},
		},
		{
			// Dims arrive out of order and split; zero-length bars count as
			// pairs but add nothing to entropy; NaN and reversed pairs are
			// skipped. Threshold 0.1*10 = 1: of lifetimes 0, 2, 1 only 2
			// exceeds it.
			name: "merge, sort, degenerate and malformed pairs",
			diagrams: []sdk.Diagram{
				{Dim: 1, Pairs: [][2]float64{{2, 2}, {1, 3}}},
				{Dim: 0, Pairs: [][2]float64{{0, inf}, {math.NaN(), 1}, {2, 1}}},
				{Dim: 1, Pairs: [][2]float64{{0, 1}}},
			},
			diameter: 10,
			opt:      Options{CurvePoints: 2},
			scales:   []float64{0, 10},
			want: []DimSummary{
				{Dim: 0, Pairs: 1, Infinite: 1, Betti: 1, Persistent: 1, BettiCurve: []int{1, 1}},
				{Dim: 1, Pairs: 3, Betti: 1, Persistent: 1, TotalPersistence: 3, MaxPersistence: 2,
					Entropy: plogp(2.0/3) + plogp(1.0/3), BettiCurve: []int{1, 0}},
			},
		},
		{
			name:     "no diagrams",
			diameter: 3,
			opt:      Options{CurvePoints: 1},
			scales:   []float64{0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Summarize(tc.diagrams, tc.diameter, tc.opt)
			if s.Diameter != tc.diameter {
				t.Errorf("diameter %v, want %v", s.Diameter, tc.diameter)
			}
			if !reflect.DeepEqual(s.Scales, tc.scales) {
				t.Errorf("scales %v, want %v", s.Scales, tc.scales)
			}
			if len(s.Dims) != len(tc.want) {
				t.Fatalf("%d dims, want %d: %+v", len(s.Dims), len(tc.want), s.Dims)
			}
			for i, w := range tc.want {
				g := s.Dims[i]
				gotE, wantE := g.Entropy, w.Entropy
				g.Entropy, w.Entropy = 0, 0
				if !near(gotE, wantE) {
					t.Errorf("dim %d entropy %v, want %v", w.Dim, gotE, wantE)
				}
				if !near(g.TotalPersistence, w.TotalPersistence) || !near(g.MaxPersistence, w.MaxPersistence) {
					t.Errorf("dim %d persistence total %v max %v, want %v %v", w.Dim, g.TotalPersistence, g.MaxPersistence, w.TotalPersistence, w.MaxPersistence)
				}
				g.TotalPersistence, w.TotalPersistence, g.MaxPersistence, w.MaxPersistence = 0, 0, 0, 0
				if !reflect.DeepEqual(g, w) {
					t.Errorf("dim %d:\n got %+v\nwant %+v", w.Dim, g, w)
				}
			}
		})
	}
}

func TestSummarizeDefaults(t *testing.T) {
	s := Summarize([]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 2.5}, {0, 2.6}}}}, 10, Options{})
	if s.BettiScale != 2.5 || s.Fraction != 0.1 || len(s.Scales) != 64 {
		t.Fatalf("defaults: scale %v fraction %v points %d", s.BettiScale, s.Fraction, len(s.Scales))
	}
	if s.Scales[63] != 10 || !near(s.Scales[1], 10.0/63) {
		t.Errorf("scales should span [0, 10] evenly: %v ... %v", s.Scales[1], s.Scales[63])
	}
	// [0, 2.5) is dead at 2.5; [0, 2.6) alive.
	if s.Betti(0) != 1 || s.TotalBetti() != 1 {
		t.Errorf("betti_0 = %d, total %d, want 1 1", s.Betti(0), s.TotalBetti())
	}
	if s.Betti(2) != 0 || s.MaxDim() != 0 {
		t.Errorf("absent dim 2: betti %d, max dim %d", s.Betti(2), s.MaxDim())
	}
	if _, ok := s.Dim(1); ok {
		t.Error("dim 1 reported present")
	}
}

func TestSummarizeBadDiameterIsJSONSafe(t *testing.T) {
	for _, d := range []float64{math.NaN(), inf, -1} {
		s := Summarize([]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, inf}}}}, d, Options{BettiScale: math.Inf(1)})
		if s.Diameter != 0 {
			t.Errorf("diameter %v summarised as %v, want 0", d, s.Diameter)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("diameter %v: summary does not encode: %v", d, err)
		}
	}
}

func TestDiameter(t *testing.T) {
	tests := []struct {
		m    sdk.Matrix
		want float64
	}{
		{sdk.Matrix{}, 0},
		{sdk.Matrix{Rows: 2, Cols: 2, Data: []float64{0, 3, 3, 0}}, 3},
		{sdk.Matrix{Rows: 3, Cols: 3, Data: []float64{0, 1, inf, 1, 0, 7.5, inf, 7.5, 0}}, 7.5},
		{sdk.Matrix{Rows: 2, Cols: 2, Data: []float64{0, math.NaN(), 2, 0}}, 2},
	}
	for i, tc := range tests {
		if got := Diameter(tc.m); got != tc.want {
			t.Errorf("case %d: Diameter = %v, want %v", i, got, tc.want)
		}
	}
}

func TestChooseBettiScale(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		ds  []sdk.Diagram
		t   float64
		why string
	}{
		{[]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 0.1}, {0, inf}}}, {Dim: 1, Pairs: [][2]float64{{0.2, 0.3}, {0.5, 1.5}}}}, 1, "the midpoint of the longest H1 bar"},
		{[]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 0.1}, {0, 3}, {0, inf}}}, {Dim: 1}}, 1.5, "half the last H0 merge"},
		{[]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, inf}}}}, 0, "no finite bar"},
	} {
		got, why := ChooseBettiScale(tc.ds)
		if got != tc.t || why != tc.why {
			t.Errorf("%v: %v (%s), want %v (%s)", tc.ds, got, why, tc.t, tc.why)
		}
	}
}
