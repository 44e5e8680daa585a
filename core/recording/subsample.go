package recording

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Density-aware subsampling: how many neighbours measure a point's
// density, what share of the sparsest points is dropped, and the most
// candidates the density is measured on.
const (
	densityK     = 15
	keepDensest  = 0.8
	maxCandidate = 4000
)

// Subsample picks m rows of pts that cover the dense part of the cloud
// evenly: it takes at most maxCandidate rows at random (uniformly in
// time, so the density is kept), drops the 20% whose 15th-nearest
// neighbour is furthest (isolated bins: noise that would bridge a hole),
// then takes m of the rest by furthest-point sampling from a random
// start. The indices are returned in increasing order; all rows when
// the cloud has at most m.
func Subsample(pts sdk.Matrix, m int, seed uint64) []int {
	n := pts.Rows
	if m <= 0 || n <= m {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed5a3b1e))
	cand := r.Perm(n)
	if len(cand) > maxCandidate {
		cand = cand[:maxCandidate]
	}
	slices.Sort(cand)
	c := len(cand)
	if k := min(densityK, c-1); k >= 1 && int(float64(c)*keepDensest) >= m {
		radius := make([]float64, c)
		nearest := make([]float64, k) // the k smallest squared distances, ascending
		for a, i := range cand {
			for q := range nearest {
				nearest[q] = math.Inf(1)
			}
			xi := pts.Row(i)
			for b, j := range cand {
				if a == b {
					continue
				}
				d := sqDist(xi, pts.Row(j))
				if d >= nearest[k-1] {
					continue
				}
				q := k - 1
				for q > 0 && nearest[q-1] > d {
					nearest[q] = nearest[q-1]
					q--
				}
				nearest[q] = d
			}
			radius[a] = nearest[k-1]
		}
		order := make([]int, c)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case radius[a] < radius[b]:
				return -1
			case radius[a] > radius[b]:
				return 1
			}
			return 0
		})
		keep := make([]int, 0, int(float64(c)*keepDensest))
		for _, o := range order[:int(float64(c)*keepDensest)] {
			keep = append(keep, cand[o])
		}
		slices.Sort(keep)
		cand = keep
	}
	idx := FurthestPoints(pts, cand, m, r.IntN(len(cand)))
	slices.Sort(idx)
	return idx
}

// FurthestPoints picks m of the rows cand of pts greedily, each the one
// furthest from those already picked, starting with cand[start]. It
// returns the rows picked, in the order picked.
func FurthestPoints(pts sdk.Matrix, cand []int, m, start int) []int {
	m = min(m, len(cand))
	if m <= 0 {
		return nil
	}
	far := make([]float64, len(cand))
	for i := range far {
		far[i] = math.Inf(1)
	}
	out := make([]int, 0, m)
	cur := start
	for len(out) < m {
		out = append(out, cand[cur])
		x := pts.Row(cand[cur])
		next, best := -1, -1.0
		for i, j := range cand {
			if d := sqDist(x, pts.Row(j)); d < far[i] {
				far[i] = d
			}
			if far[i] > best {
				next, best = i, far[i]
			}
		}
		cur = next
	}
	return out
}

func sqDist(a, b []float64) float64 {
	var s float64
	for k, v := range a {
		d := v - b[k]
		s += d * d
	}
	return s
}

// Rows returns the rows idx of pts as a new matrix.
func Rows(pts sdk.Matrix, idx []int) sdk.Matrix {
	out := sdk.NewMatrix(len(idx), pts.Cols)
	for k, i := range idx {
		copy(out.Row(k), pts.Row(i))
	}
	return out
}
