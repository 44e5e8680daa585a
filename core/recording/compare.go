package recording

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/neuraltopology/neuraltopology/core/diagdist"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Named is a point cloud with the name it is reported by.
type Named struct {
	Name   string
	Points sdk.Matrix
}

// CompareConfig says how clouds are compared.
type CompareConfig struct {
	Points  int    // equal-size subsamples of this many points
	Repeats int    // independent subsamples of each cloud (>= 2)
	Dim     int    // the homology dimension whose diagrams are compared
	MaxDim  int    // dimensions computed (>= Dim)
	Seed    uint64 // seeds the subsamples
}

// Comparison is one layer cloud against one recording cloud.
type Comparison struct {
	Layer, Recording string
	// Distance is the median over repeats of the bottleneck distance
	// between the Dim diagrams of a subsample of each cloud.
	Distance float64
	// Null is the median bottleneck distance between two subsamples of
	// the same cloud (both clouds pooled): what sampling alone gives.
	Null float64
	// P is (1 + null distances >= Distance) / (null distances + 1): small
	// when the two shapes differ by more than resampling explains.
	P float64
	// CKA is linear centred kernel alignment of the two clouds when
	// they are matched in time (same number of rows), else NaN.
	CKA float64
}

// Compare computes the diagram distance with its resampling null, and
// linear CKA where the clouds are matched in time, for every layer and
// recording. Each cloud is centred and scaled to a root mean square
// radius of 1 first, so distances compare shapes, not sizes.
func Compare(ctx context.Context, layers, recs []Named, c CompareConfig, ph Homology) ([]Comparison, error) {
	if c.Repeats < 2 {
		return nil, fmt.Errorf("compare: %d repeats: want at least 2 (the null compares subsamples with each other)", c.Repeats)
	}
	m := c.Points
	for _, cl := range append(slices.Clone(layers), recs...) {
		if cl.Points.Rows < 4 {
			return nil, fmt.Errorf("compare: %s has %d points", cl.Name, cl.Points.Rows)
		}
		m = min(m, cl.Points.Rows)
	}
	dgms := map[string][][][2]float64{}
	norm := map[string]sdk.Matrix{}
	for _, cl := range append(slices.Clone(layers), recs...) {
		if _, ok := dgms[cl.Name]; ok {
			return nil, fmt.Errorf("compare: two clouds are named %s", cl.Name)
		}
		x := sdk.NewMatrix(cl.Points.Rows, cl.Points.Cols)
		copy(x.Data, cl.Points.Data)
		x = unitRMS(x)
		norm[cl.Name] = x
		for r := range c.Repeats {
			ds, err := ph(ctx, Rows(x, Subsample(x, m, c.Seed+uint64(r)*7919)))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cl.Name, err)
			}
			var pairs [][2]float64
			for _, d := range ds {
				if d.Dim == c.Dim {
					pairs = append(pairs, d.Pairs...)
				}
			}
			dgms[cl.Name] = append(dgms[cl.Name], finitePairs(pairs))
		}
	}
	within := func(name string) []float64 {
		ds := dgms[name]
		out := make([]float64, len(ds))
		for r := range ds {
			out[r] = diagdist.Bottleneck(ds[r], ds[(r+1)%len(ds)])
		}
		return out
	}
	var out []Comparison
	for _, a := range layers {
		for _, b := range recs {
			between := make([]float64, c.Repeats)
			for r := range between {
				between[r] = diagdist.Bottleneck(dgms[a.Name][r], dgms[b.Name][r])
			}
			null := append(within(a.Name), within(b.Name)...)
			cmp := Comparison{Layer: a.Name, Recording: b.Name, Distance: median(between), Null: median(null), CKA: math.NaN()}
			ge := 0
			for _, v := range null {
				if v >= cmp.Distance {
					ge++
				}
			}
			cmp.P = float64(1+ge) / float64(len(null)+1)
			if a.Points.Rows == b.Points.Rows {
				cmp.CKA = LinearCKA(norm[a.Name], norm[b.Name])
			}
			out = append(out, cmp)
		}
	}
	return out, nil
}

// finitePairs drops essential bars (the one infinite H0 bar every cloud
// has would make every bottleneck distance infinite or meaningless).
func finitePairs(p [][2]float64) [][2]float64 {
	out := p[:0:0]
	for _, q := range p {
		if !math.IsInf(q[1], 1) {
			out = append(out, q)
		}
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// LinearCKA is linear centred kernel alignment (Kornblith et al. 2019)
// of two clouds whose rows correspond (the same time bins or states):
// ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F) with column-centred Xc,
// Yc. It is 1 when one is a rotation and scaling of the other, and does
// not depend on either's dimension.
func LinearCKA(x, y sdk.Matrix) float64 {
	n := x.Rows
	xc, yc := centred(x), centred(y)
	cross := func(a sdk.Matrix, b sdk.Matrix) float64 {
		// ||a^T b||_F^2
		var s float64
		for i := range a.Cols {
			for j := range b.Cols {
				var v float64
				for t := range n {
					v += a.Data[t*a.Cols+i] * b.Data[t*b.Cols+j]
				}
				s += v * v
			}
		}
		return s
	}
	den := math.Sqrt(cross(xc, xc) * cross(yc, yc))
	if den == 0 {
		return math.NaN()
	}
	return cross(yc, xc) / den
}

func centred(m sdk.Matrix) sdk.Matrix {
	out := sdk.NewMatrix(m.Rows, m.Cols)
	copy(out.Data, m.Data)
	for j := range m.Cols {
		var mu float64
		for t := range m.Rows {
			mu += m.Data[t*m.Cols+j]
		}
		mu /= float64(m.Rows)
		for t := range m.Rows {
			out.Data[t*m.Cols+j] -= mu
		}
	}
	return out
}
