package recording

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/neuraltopology/neuraltopology/core/stats"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Density-aware subsampling: how many neighbours measure a point's
// density, what share of the points is kept (the rest, the most
// isolated relative to their neighbours, dropped), and the most
// candidates the density is measured on.
const (
	densityK     = 15
	keepDensest  = 0.8
	maxCandidate = 4000
	grossFactor  = 3
)

// Subsample picks m rows of pts that cover the cloud evenly without its
// isolated points: it takes at most maxCandidate rows at random
// (uniformly in time, so the density is kept), drops the 20% that are
// sparsest relative to their own neighbourhood, then takes m of the
// rest by furthest-point sampling from a random start. The indices are
// returned in increasing order; all rows when the cloud has at most m.
//
// A point's relative sparsity is the distance to its 15th-nearest
// neighbour divided by the median of that distance over those 15
// neighbours; a point whose distance is over 3 times the median of all
// points' goes first whatever its neighbours. Isolated bins (noise off the manifold, which furthest-point
// sampling would otherwise seek out and which bridge or open holes) stand
// out against their neighbours; a stretch of the manifold that is merely
// visited less often does not, since its neighbours are as sparse. Cutting
// on the absolute distance instead removes the least visited stretches
// whole, and a torus sampled unevenly then shows holes as extra loops.
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
		sparsity := relativeSparsity(pts, cand, k)
		order := stats.Argsort(sparsity)
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

// relativeSparsity returns, for each of the rows cand of pts, the
// distance to its k-th nearest neighbour among cand divided by the
// median of that distance over its k nearest neighbours; above every
// such ratio for a point whose distance exceeds grossFactor times the
// median over all points (noise bins that lie among each other, far
// from the rest, are as sparse as their neighbours).
func relativeSparsity(pts sdk.Matrix, cand []int, k int) []float64 {
	c := len(cand)
	radius := make([]float64, c)
	nbr := make([]int32, c*k)
	nearest := make([]float64, k) // the k smallest squared distances, ascending
	for a, i := range cand {
		for q := range nearest {
			nearest[q] = math.Inf(1)
		}
		near := nbr[a*k : (a+1)*k] // their rows in cand, in the same order
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
				nearest[q], near[q] = nearest[q-1], near[q-1]
				q--
			}
			nearest[q], near[q] = d, int32(b)
		}
		radius[a] = math.Sqrt(nearest[k-1])
	}
	all := slices.Clone(radius)
	slices.Sort(all)
	gross := grossFactor * all[c/2]
	out := make([]float64, c)
	theirs := make([]float64, k)
	for a := range c {
		if radius[a] > gross {
			// Far from everything, whatever its neighbours: first out,
			// the most isolated first.
			out[a] = math.Inf(1)
			if all[c/2] > 0 {
				out[a] = 1e6 + radius[a]/all[c/2]
			}
			continue
		}
		for q, b := range nbr[a*k : (a+1)*k] {
			theirs[q] = radius[b]
		}
		slices.Sort(theirs)
		if med := theirs[k/2]; med > 0 {
			out[a] = radius[a] / med
		} else if radius[a] > 0 {
			out[a] = math.Inf(1)
		}
	}
	return out
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
