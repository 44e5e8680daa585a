package rips

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// MaxCocyclePoints bounds the clouds whose H1 cocycles are computed: the
// cocycle path keeps an n x n table of edge ranks and reduces without
// the engine's collapses and parallelism, which suits landmark clouds
// of a few hundred points.
const MaxCocyclePoints = 3000

// Cocycles1 computes the H1 pairs of the Rips filtration of the n x n
// distance matrix d up to threshold t (0 or +Inf: the enclosing
// radius) over Z/p, each with a representative cocycle: Cocycles[k]
// belongs to Pairs[k], and on the complex at any scale s in
// [birth, death) its restriction to the edges of length <= s is a
// cocycle whose class is the bar's.
//
// It is a plain persistent cohomology reduction, separate from the
// engine (whose edge collapses would leave cocycles on a different
// complex): the edge columns are reduced from the youngest to the
// oldest, each column's pivot its oldest cofacet triangle, the columns
// of the spanning-forest edges cleared (they are H0's deaths). Each
// reduced column keeps its combination of edges V; for a pair (e, t)
// that combination is the cocycle. The filtration orders float32
// distances, as the engine does, so the pairs are the engine's.
func Cocycles1(ctx context.Context, d []float64, n int, t float64, p int) (sdk.Diagram, error) {
	out := sdk.Diagram{Dim: 1}
	if p == 0 {
		p = 2
	}
	if !sdk.IsPrime(p) || p >= 1<<16 {
		return out, fmt.Errorf("rips: coefficient modulus %d is not a prime below 65536", p)
	}
	if n > MaxCocyclePoints {
		return out, fmt.Errorf("rips: cocycles of %d points: the cocycle path takes at most %d (use landmarks)", n, MaxCocyclePoints)
	}
	if n < 3 {
		return out, nil
	}
	if t == 0 || math.IsInf(t, 1) || math.IsNaN(t) {
		t = math.Inf(1)
	}
	t = min(t, enclosingRadius(d, n))
	t32 := float32(t)

	// Edges within the threshold, ordered by (float32 length, i, j).
	var edges []coEdge
	for i := range n {
		for j := i + 1; j < n; j++ {
			if v := float32(d[i*n+j]); v <= t32 {
				edges = append(edges, coEdge{v, int32(i), int32(j)})
			}
		}
	}
	slices.SortFunc(edges, func(a, b coEdge) int {
		switch {
		case a.d != b.d:
			if a.d < b.d {
				return -1
			}
			return 1
		case a.i != b.i:
			return int(a.i - b.i)
		}
		return int(a.j - b.j)
	})
	rank := make([]int32, n*n) // rank+1 of edge (i, j); 0: absent
	for r, e := range edges {
		rank[int(e.i)*n+int(e.j)] = int32(r + 1)
		rank[int(e.j)*n+int(e.i)] = int32(r + 1)
	}

	// Clearing: the edges that join two components are H0's deaths;
	// their columns reduce to zero and give no H1 class.
	parent := make([]int32, n)
	for i := range parent {
		parent[i] = int32(i)
	}
	var find func(x int32) int32
	find = func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	cleared := make([]bool, len(edges))
	for r, e := range edges {
		a, b := find(e.i), find(e.j)
		if a != b {
			parent[max(a, b)] = min(a, b)
			cleared[r] = true
		}
	}

	// A triangle is keyed by its longest edge's rank and the vertex
	// opposite: the order of keys is a filtration order of triangles.
	// cofacets calls fn(key, sign) for each triangle on edge r, sign the
	// edge's coefficient in the triangle's boundary (-1 when the third
	// vertex lies between the edge's ends).
	cofacets := func(r int32, fn func(key uint64, sign int)) {
		e := edges[r]
		i, j := int(e.i), int(e.j)
		for k := range n {
			if k == i || k == j {
				continue
			}
			ri, rj := rank[i*n+k], rank[j*n+k]
			if ri == 0 || rj == 0 {
				continue
			}
			top, opp := r, int32(k)
			if ri-1 > top {
				top, opp = ri-1, int32(j)
			}
			if rj-1 > top {
				top, opp = rj-1, int32(i)
			}
			sign := 1
			if i < k && k < j {
				sign = -1
			}
			fn(uint64(top)<<32|uint64(opp), sign)
		}
	}
	triDiam := func(key uint64) float64 {
		e := edges[key>>32]
		return d[int(e.i)*n+int(e.j)]
	}
	mod := func(x int) int { return ((x % p) + p) % p }
	inv := func(a int) int { // a^(p-2) mod p
		r, b, k := 1, mod(a), p-2
		for k > 0 {
			if k&1 == 1 {
				r = r * b % p
			}
			b = b * b % p
			k >>= 1
		}
		return r
	}

	type column struct {
		v     []edgeCoeff // the combination of edges whose coboundary is the reduced column
		pivot int         // the reduced column's coefficient at its pivot
	}
	pivotOf := map[uint64]int32{} // pivot triangle -> its column (edge rank)
	cols := map[int32]*column{}
	var h coHeap
	for r := int32(len(edges)) - 1; r >= 0; r-- {
		if r%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		if cleared[r] {
			continue
		}
		// Fast path: a single edge's coboundary has distinct triangles,
		// so its pivot is its oldest cofacet; when no column holds that
		// pivot the column is reduced as it is.
		first, firstSign := uint64(math.MaxUint64), 0
		cofacets(r, func(key uint64, sign int) {
			if key < first {
				first, firstSign = key, sign
			}
		})
		if first != math.MaxUint64 {
			if _, taken := pivotOf[first]; !taken {
				pivotOf[first] = r
				cols[r] = &column{v: []edgeCoeff{{r, 1}}, pivot: mod(firstSign)}
				if float32(triDiam(first)) > edges[r].d {
					out.Pairs = append(out.Pairs, [2]float64{d[int(edges[r].i)*n+int(edges[r].j)], triDiam(first)})
					out.Cocycles = append(out.Cocycles, cocycleOf([]edgeCoeff{{r, 1}}, edges, p))
				}
				continue
			}
		}
		// Full reduction with a heap of (triangle, coefficient) terms.
		h = h[:0]
		v := map[int32]int{r: 1}
		push := func(r int32, c int) {
			cofacets(r, func(key uint64, sign int) { h.push(key, mod(sign*c)) })
		}
		push(r, 1)
		for {
			key, c, ok := h.pivot(p)
			if !ok {
				// Zero column: an H1 class alive to the threshold.
				out.Pairs = append(out.Pairs, [2]float64{d[int(edges[r].i)*n+int(edges[r].j)], math.Inf(1)})
				out.Cocycles = append(out.Cocycles, cocycleOf(fromMap(v, p), edges, p))
				break
			}
			o, taken := pivotOf[key]
			if !taken {
				pivotOf[key] = r
				vs := fromMap(v, p)
				cols[r] = &column{v: vs, pivot: c}
				if float32(triDiam(key)) > edges[r].d {
					out.Pairs = append(out.Pairs, [2]float64{d[int(edges[r].i)*n+int(edges[r].j)], triDiam(key)})
					out.Cocycles = append(out.Cocycles, cocycleOf(vs, edges, p))
				}
				break
			}
			oc := cols[o]
			f := mod(-c * inv(oc.pivot))
			for _, ec := range oc.v {
				k := ec.c * f % p
				v[ec.r] = (v[ec.r] + k) % p
				push(ec.r, k)
			}
		}
	}
	return out, nil
}

// edgeCoeff is a term c * e of a cochain, e an edge rank.
type edgeCoeff struct {
	r int32
	c int
}

// coEdge is an edge of the cocycle path: its float32 length and ends.
type coEdge struct {
	d    float32
	i, j int32
}

func fromMap(v map[int32]int, p int) []edgeCoeff {
	out := make([]edgeCoeff, 0, len(v))
	for r, c := range v {
		if c%p != 0 {
			out = append(out, edgeCoeff{r, c % p})
		}
	}
	slices.SortFunc(out, func(a, b edgeCoeff) int { return int(a.r - b.r) })
	return out
}

// cocycleOf lays a combination of edges out as an sdk.Cocycle: edge
// (I[k], J[k]), I[k] < J[k], has value V[k] in 1..p-1.
func cocycleOf(v []edgeCoeff, edges []coEdge, p int) sdk.Cocycle {
	var c sdk.Cocycle
	for _, ec := range v {
		i, j := edges[ec.r].i, edges[ec.r].j
		c.I = append(c.I, i)
		c.J = append(c.J, j)
		c.V = append(c.V, int32(((ec.c%p)+p)%p))
	}
	return c
}

// coHeap is a binary min-heap of (triangle key, coefficient) terms; equal
// keys are summed when they reach the top.
type coHeap []coTerm

type coTerm struct {
	key uint64
	c   int
}

func (h *coHeap) push(key uint64, c int) {
	if c == 0 {
		return
	}
	*h = append(*h, coTerm{key, c})
	s := *h
	i := len(s) - 1
	for i > 0 {
		up := (i - 1) / 2
		if s[up].key <= s[i].key {
			break
		}
		s[up], s[i] = s[i], s[up]
		i = up
	}
}

func (h *coHeap) pop() coTerm {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l, m := 2*i+1, i
		if l < len(s) && s[l].key < s[m].key {
			m = l
		}
		if l+1 < len(s) && s[l+1].key < s[m].key {
			m = l + 1
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// pivot returns the oldest triangle whose summed coefficient is not
// zero mod p, leaving it (summed) on the heap.
func (h *coHeap) pivot(p int) (uint64, int, bool) {
	for len(*h) > 0 {
		t := h.pop()
		c := t.c
		for len(*h) > 0 && (*h)[0].key == t.key {
			c += h.pop().c
		}
		if c %= p; c != 0 {
			h.push(t.key, c)
			return t.key, c, true
		}
	}
	return 0, 0, false
}
