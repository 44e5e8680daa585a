package rips

import (
	"fmt"
	"slices"
)

// The sparse form of the engine: distances only through the neighbour
// lists. Each function here is the counterpart of a dense one in
// engine.go or assemble.go and must answer exactly as it does; they
// differ in how a distance is found: a row load there, here a merge of
// two lists sorted by vertex (when one side is walked in order) or a
// binary search in a list (a single pair).

// adjacency is the neighbour graph below the threshold in compressed
// sparse row form: off[u]:off[u+1] indexes u's neighbours nb, in
// decreasing vertex order, with their float32 and float64 distances.
type adjacency struct {
	n   int
	off []int32
	nb  []int32
	d   []float32
	d64 []float64
}

// halfEdge is one pair (u, v) within the threshold, before it is filed
// under both of its ends.
type halfEdge struct {
	u, v int32
	d    float64
}

// newAdjacency files the pairs under both ends, in decreasing vertex
// order per row. Every pair must appear once.
func newAdjacency(n int, edges []halfEdge) *adjacency {
	a := &adjacency{n: n, off: make([]int32, n+1)}
	for _, ed := range edges {
		a.off[ed.u+1]++
		a.off[ed.v+1]++
	}
	for u := 0; u < n; u++ {
		a.off[u+1] += a.off[u]
	}
	m := int(a.off[n])
	a.nb = make([]int32, m)
	a.d64 = make([]float64, m)
	pos := slices.Clone(a.off[:n])
	for _, ed := range edges {
		a.nb[pos[ed.u]], a.d64[pos[ed.u]] = ed.v, ed.d
		pos[ed.u]++
		a.nb[pos[ed.v]], a.d64[pos[ed.v]] = ed.u, ed.d
		pos[ed.v]++
	}
	type nd struct {
		v int32
		d float64
	}
	var row []nd
	for u := 0; u < n; u++ {
		lo, hi := a.off[u], a.off[u+1]
		row = row[:0]
		for k := lo; k < hi; k++ {
			row = append(row, nd{a.nb[k], a.d64[k]})
		}
		slices.SortFunc(row, func(x, y nd) int { return int(y.v) - int(x.v) })
		for i, x := range row {
			a.nb[int(lo)+i], a.d64[int(lo)+i] = x.v, x.d
		}
	}
	a.d = make([]float32, m)
	for k, x := range a.d64 {
		a.d[k] = float32(x)
	}
	return a
}

// checkOnce reports a pair filed twice (a caller's edge list that
// repeats a pair): each row is sorted by vertex, so repeats are
// neighbours.
func (a *adjacency) checkOnce() error {
	for u := 0; u < a.n; u++ {
		for k := a.off[u] + 1; k < a.off[u+1]; k++ {
			if a.nb[k] == a.nb[k-1] {
				return fmt.Errorf("rips: edges: pair (%d, %d) is given twice", min(int32(u), a.nb[k]), max(int32(u), a.nb[k]))
			}
		}
	}
	return nil
}

// adjacencyFromMatrix lists the pairs of the dense matrix d within thr
// (compared in float32, as the dense engine does); the float64 values
// stay in d, so none are copied.
func adjacencyFromMatrix(d []float64, n int, thr float32) *adjacency {
	a := &adjacency{n: n, off: make([]int32, n+1)}
	cnt := 0
	for u := 0; u < n; u++ {
		row := d[u*n : (u+1)*n]
		for v, x := range row {
			if v != u && float32(x) <= thr {
				cnt++
			}
		}
		a.off[u+1] = int32(cnt)
	}
	a.nb = make([]int32, cnt)
	a.d = make([]float32, cnt)
	k := 0
	for u := 0; u < n; u++ {
		row := d[u*n : (u+1)*n]
		for v := n - 1; v >= 0; v-- {
			if x := float32(row[v]); v != u && x <= thr {
				a.nb[k], a.d[k] = int32(v), x
				k++
			}
		}
	}
	return a
}

// maxCofaceSparse is maxCoface without the matrix.
func (e *engine) maxCofaceSparse(vs []int32, r float32, lo int32) int32 {
	best, bestCnt := e.fewestWithin(vs, r)
	if bestCnt == 0 {
		return -1
	}
	bu := vs[best]
	a := int(e.nbOff[bu])
	found := int32(-1)
	for _, v := range e.byD[a : a+bestCnt] {
		if v <= lo || v <= found {
			continue
		}
		ok := true
		for _, u := range vs {
			if u != bu && e.sparseD(u, v) > r {
				ok = false
				break
			}
		}
		if ok {
			found = v
		}
	}
	return found
}

// pushCoboundarySparse is pushCoboundary without the matrix: the cofaces
// are the common neighbours of vs, found by walking the shortest list and
// advancing a cursor in each other list (all decrease by vertex).
func (e *engine) pushCoboundarySparse(h *chainHeap, vs []int32, r float32, coef int32, sc *scratch) {
	k := len(vs)
	best := e.cofaceSetup(vs, sc)
	// cursors and ends of the other vertices' lists
	cur, end := sc.cur[:0], sc.end[:0]
	for _, u := range vs {
		if u != best {
			cur = append(cur, e.nbOff[u])
			end = append(end, e.nbOff[u+1])
		}
	}
	neg := (e.p - coef) % e.p
	j := k
	old := h.len()
	nb, nbD := e.nb, e.nbD
	lo, hi := e.nbOff[best], e.nbOff[best+1]
outer:
	for q := lo; q < hi; q++ {
		v := nb[q]
		for j > 0 && vs[j-1] >= v {
			j--
		}
		if j < k && vs[j] == v {
			continue
		}
		d := max(r, nbD[q])
		for i := range cur {
			c := cur[i]
			for c < end[i] && nb[c] > v {
				c++
			}
			cur[i] = c
			if c == end[i] {
				break outer // that list has nothing at or below v
			}
			if nb[c] != v {
				continue outer
			}
			d = max(d, nbD[c])
		}
		c := coef
		if j&1 == 1 {
			c = neg
		}
		h.append(entry{idx: sc.below[j] + e.binom[j+1][v] + sc.above[j], diam: d, coef: c})
	}
	h.fix(old)
}

// cliquesSparse is cliques without the matrix: the candidates of the
// next level are the merge of this level's (decreasing) with v's list.
func (e *engine) cliquesSparse(l, dim int, vs []int32, rs []float32, cand [][]int32, fn func(vs []int32, r float32)) {
	nb := e.nb
	for ci, v := range cand[l] {
		vs[l] = v
		r := rs[l+1]
		for i := l + 1; i <= dim; i++ {
			r = max(r, e.sparseD(vs[i], v))
		}
		rs[l] = r
		if l == 0 {
			fn(vs[:dim+1], r)
			continue
		}
		next := cand[l-1][:0]
		q, qe := e.nbOff[v], e.nbOff[v+1]
		for _, w := range cand[l][ci+1:] { // all below v
			for q < qe && nb[q] > w {
				q++
			}
			if q == qe {
				break
			}
			if nb[q] == w {
				next = append(next, w)
			}
		}
		cand[l-1] = next
		e.cliquesSparse(l-1, dim, vs, rs, cand, fn)
	}
}
