package rips

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
)

// Assembly of the columns of dimension >= 2, organised by diameter edge.
//
// Every simplex of dimension >= 1 has a diameter edge ab (its youngest
// edge: longest, and among equally long ones the smallest index) and its
// diameter r = d(a,b). All its other vertices lie in
//
//	S(ab) = { v not in {a,b} : d(a,v) <= r and d(b,v) <= r },
//
// the apexes of the triangles of diameter r on ab. Listing S(ab) costs
// one pass over two contiguous rows of the distance matrix, and then
// every question the apparent-pair tests ask about cofaces of the same
// diameter becomes a scan of that short list instead of a search over
// all n vertices: the oldest coface of equal diameter of a simplex
// containing ab is ab + (the largest vertex of S(ab) close enough to the
// others). This is where Rips complexes spend their time, since almost
// all simplices are in zero-persistence apparent pairs.

// edgeWork is one edge to expand.
type edgeWork struct {
	a, b int32
}

// assembleByEdge returns the columns of dimension dim >= 2 (see
// assemble), split across workers by diameter edge.
func (e *engine) assembleByEdge(ctx context.Context, dim, workers int, prev *pivotTable) ([]column, error) {
	n := e.n
	var edges []edgeWork
	for a := 1; a < n; a++ {
		for _, b := range e.nb[e.nbOff[a]:e.nbOff[a+1]] {
			if b < int32(a) {
				edges = append(edges, edgeWork{int32(a), b})
			}
		}
	}
	// Mark the diameter edges of the cleared simplices, so the map is
	// consulted only for simplices on those few edges.
	prevEdge := newBitset(e.binom[2][n])
	var pv [maxVerts]int32
	prev.each(func(idx int64) {
		vs := pv[:dim+1]
		e.decode(idx, dim, vs)
		prevEdge.set(diameterEdge(e, vs))
	})
	const chunk = 64
	var next atomic.Int64
	var stop, over atomic.Bool
	budget := &columnBudget{limit: e.memLimit}
	parts := make([][]column, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			x := &edgeExpander{e: e, dim: dim, prev: prev, prevEdge: prevEdge, s: make([]int32, 0, n), own: make([]bool, 0, n)}
			for !stop.Load() {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(edges) {
					break
				}
				if ctxErr(ctx) != nil {
					stop.Store(true)
					break
				}
				before := len(x.out)
				for _, ed := range edges[lo:min(lo+chunk, len(edges))] {
					x.expand(ed.a, ed.b)
				}
				if !budget.take(len(x.out) - before) {
					over.Store(true)
					stop.Store(true)
				}
			}
			parts[w] = x.out
		}(w)
	}
	wg.Wait()
	return gatherColumns(ctx, parts, over.Load(), budget, dim, workers)
}

// edgeExpander is one worker's state.
type edgeExpander struct {
	e    *engine
	dim  int
	prev *pivotTable
	// prevEdge[ab] is set if some simplex in prev has diameter edge ab.
	prevEdge  bitset
	checkPrev bool
	a, b      int32
	r         float32
	eab       int64   // index of edge ab
	s         []int32 // S(ab), decreasing
	own       []bool  // own[i]: ab can be the diameter edge of ab + s[i]
	c         [maxVerts]int32
	vs        [maxVerts]int32
	sc        scratch
	out       []column
	// Sparse form only: the distances from a, b and the chosen extra
	// vertices c[:filled], scattered into n-long rows (+Inf elsewhere)
	// while they are in use, so the many lookups among the vertices of
	// one edge's simplices are loads, not searches (40% of the sparse
	// form's time on o3_1024 went to those searches).
	rowA, rowB []float32
	rowC       [maxVerts][]float32
	filled     int
}

// scatter writes u's neighbour distances into row (val true) or resets
// them to +Inf.
func (x *edgeExpander) scatter(row []float32, u int32, val bool) {
	e := x.e
	inf := float32(math.Inf(1))
	for k := e.nbOff[u]; k < e.nbOff[u+1]; k++ {
		if val {
			row[e.nb[k]] = e.nbD[k]
		} else {
			row[e.nb[k]] = inf
		}
	}
}

func infRow(n int) []float32 {
	r := make([]float32, n)
	for i := range r {
		r[i] = float32(math.Inf(1))
	}
	return r
}

// d is the distance of u and v (+Inf beyond the threshold in the
// sparse form), read from a scattered row when one end has one.
func (x *edgeExpander) d(u, v int32) float32 {
	e := x.e
	if e.dist != nil {
		return e.dist[int(u)*e.n+int(v)]
	}
	for range 2 {
		switch u {
		case x.a:
			return x.rowA[v]
		case x.b:
			return x.rowB[v]
		}
		for j, c := range x.c[:x.filled] {
			if c == u {
				return x.rowC[j][v]
			}
		}
		u, v = v, u
	}
	return e.sparseD(u, v)
}

// diameterEdge is the index of the youngest edge of the simplex vs: the
// longest, and among equally long ones the one with the smallest index.
func diameterEdge(e *engine, vs []int32) int64 {
	best := int64(-1)
	var r float32
	for i := 1; i < len(vs); i++ {
		for j := 0; j < i; j++ {
			d := e.d32(vs[i], vs[j])
			idx := e.binom[2][vs[i]] + int64(vs[j]) // vs increasing
			if best < 0 || d > r || (d == r && idx < best) {
				best, r = idx, d
			}
		}
	}
	return best
}

func (x *edgeExpander) edgeIdx(u, v int32) int64 {
	if u < v {
		u, v = v, u
	}
	return x.e.binom[2][u] + int64(v)
}

// tieOwned reports whether ab stays the diameter edge when v, at
// distance exactly r from a or b, joins it: the other edge of length r
// must not have a smaller index.
func (x *edgeExpander) tieOwned(v int32) bool {
	if x.d(x.a, v) == x.r && x.edgeIdx(v, x.a) < x.eab {
		return false
	}
	return !(x.d(x.b, v) == x.r && x.edgeIdx(v, x.b) < x.eab)
}

func (x *edgeExpander) expand(a, b int32) {
	e := x.e
	n := e.n
	x.a, x.b = a, b
	x.r = e.d32(a, b)
	x.eab = e.binom[2][a] + int64(b)
	x.checkPrev = x.prevEdge.has(x.eab)
	r := x.r
	s := x.s[:0]
	own := x.own[:0]
	if e.dist == nil {
		if x.rowA == nil {
			x.rowA, x.rowB = infRow(n), infRow(n)
			for j := range x.dim {
				x.rowC[j] = infRow(n)
			}
		}
		x.scatter(x.rowA, a, true)
		x.scatter(x.rowB, b, true)
		defer x.scatter(x.rowB, b, false)
		defer x.scatter(x.rowA, a, false)
		// S(ab) is in both lists: merge them (both decrease by vertex).
		p, pe := e.nbOff[a], e.nbOff[a+1]
		q, qe := e.nbOff[b], e.nbOff[b+1]
		for p < pe && q < qe {
			u, w := e.nb[p], e.nb[q]
			switch {
			case u > w:
				p++
			case w > u:
				q++
			default:
				if da, db := e.nbD[p], e.nbD[q]; da <= r && db <= r {
					s = append(s, u)
					own = append(own, (da != r && db != r) || x.tieOwned(u))
				}
				p++
				q++
			}
		}
	} else {
		ra, rb := e.dist[int(a)*n:(int(a)+1)*n], e.dist[int(b)*n:(int(b)+1)*n]
		for v := n - 1; v >= 0; v-- {
			if ra[v] <= r && rb[v] <= r && int32(v) != a && int32(v) != b {
				s = append(s, int32(v))
				// Ties with ab are rare; settle them here, once per apex.
				own = append(own, (ra[v] != r && rb[v] != r) || x.tieOwned(int32(v)))
			}
		}
	}
	x.s, x.own = s, own
	if len(s) < x.dim-1 {
		return
	}
	x.extend(0, 0)
}

// extend chooses the k-th extra vertex among S(ab)[from:], keeping the
// extra vertices decreasing, pairwise within r, and ab the diameter edge
// of the result (no edge of length r with a smaller index).
func (x *edgeExpander) extend(k, from int) {
	e := x.e
	need := x.dim - 1
	for i := from; i < len(x.s); i++ {
		if !x.own[i] {
			continue
		}
		v := x.s[i]
		ok := true
		for _, c := range x.c[:k] {
			var d float32
			if e.dist != nil {
				d = e.dist[int(v)*e.n+int(c)]
			} else {
				d = x.d(c, v)
			}
			if d > x.r || (d == x.r && x.edgeIdx(v, c) < x.eab) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		x.c[k] = v
		if k+1 == need {
			x.visit()
		} else if e.dist == nil {
			x.scatter(x.rowC[k], v, true)
			x.filled = k + 1
			x.extend(k+1, i+1)
			x.filled = k
			x.scatter(x.rowC[k], v, false)
		} else {
			x.extend(k+1, i+1)
		}
	}
}

// visit tests the simplex ab + c and keeps it as a column unless it is
// cleared or in a zero-persistence apparent pair.
func (x *edgeExpander) visit() {
	e := x.e
	cs := x.c[:x.dim-1]
	// vertices in increasing order
	vs := x.vs[:x.dim+1]
	copy(vs, cs)
	vs[len(cs)] = x.a
	vs[len(cs)+1] = x.b
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && vs[j-1] > vs[j]; j-- {
			vs[j-1], vs[j] = vs[j], vs[j-1]
		}
	}
	idx := e.index(vs)
	if x.apparentDeath(vs, cs) || x.apparentBirth(vs, cs) {
		return
	}
	if x.checkPrev {
		if x.prev.has(idx) {
			return
		}
	}
	x.out = append(x.out, column{idx: idx, diam: x.r})
}

// closeTo reports whether v is within r of every vertex in cs other than
// skip (skip < 0: none) and is not one of them.
func (x *edgeExpander) closeTo(v int32, cs []int32, skip int32) bool {
	if x.e.dist == nil {
		for _, c := range cs {
			if c != skip && x.d(c, v) > x.r { // +Inf if c == v
				return false
			}
		}
		return true
	}
	row := x.e.dist[int(v)*x.e.n:]
	for _, c := range cs {
		if c == skip {
			continue
		}
		if c == v || row[c] > x.r {
			return false
		}
	}
	return true
}

// apparentDeath: the simplex is the oldest coface of its youngest facet
// (rho, missing w), so rho's column already died here.
func (x *edgeExpander) apparentDeath(vs, cs []int32) bool {
	e := x.e
	w := x.youngestRemoved(vs)
	if w == x.a || w == x.b {
		// rho lacks part of ab: rare (ties only); ask the general search.
		f := x.sc.ws[:0]
		for _, v := range vs {
			if v != w {
				f = append(f, v)
			}
		}
		return e.maxCoface(f, x.r, w) < 0
	}
	// rho contains ab, so its equal-diameter cofaces are rho + v, v in S(ab).
	for _, v := range x.s {
		if v <= w {
			break
		}
		if x.closeTo(v, cs, w) {
			return false
		}
	}
	return true
}

// apparentBirth: the simplex's oldest coface of equal diameter (tau) has
// it as youngest facet.
func (x *edgeExpander) apparentBirth(vs, cs []int32) bool {
	for _, v := range x.s {
		if !x.closeTo(v, cs, -1) {
			continue
		}
		// tau = vs + v. Its youngest facet of diameter r drops the
		// largest vertex that can go without losing every edge of
		// length r; that must be v itself.
		for i := len(vs) - 1; i >= 0 && vs[i] > v; i-- {
			u := vs[i]
			if u != x.a && u != x.b {
				return false
			}
			if x.rEdgeAvoiding(vs, u, v) {
				return false
			}
		}
		return true
	}
	return false
}

// youngestRemoved returns the vertex whose removal from the simplex vs
// (diameter r, containing ab) gives its youngest facet of diameter r.
// Facet indices fall as the removed vertex rises, so it is the largest
// vertex whose removal keeps an edge of length r: any vertex but a or b,
// or a or b themselves when another edge of length r remains (a tie).
func (x *edgeExpander) youngestRemoved(vs []int32) int32 {
	for i := len(vs) - 1; i >= 0; i-- {
		w := vs[i]
		if w != x.a && w != x.b || x.rEdgeAvoiding(vs, w, -1) {
			return w
		}
	}
	return -1
}

// rEdgeAvoiding reports whether vs plus extra (if >= 0), without w, has
// an edge of length exactly r.
func (x *edgeExpander) rEdgeAvoiding(vs []int32, w, extra int32) bool {
	for i, u := range vs {
		if u == w {
			continue
		}
		if extra >= 0 && x.d(u, extra) == x.r {
			return true
		}
		for _, v := range vs[:i] {
			if v != w && x.d(u, v) == x.r {
				return true
			}
		}
	}
	return false
}

// gatherColumns joins the workers' column lists, freeing each part as it
// goes, and sorts the result into filtration order; it reports the
// context's end or an exceeded memory budget first.
func gatherColumns(ctx context.Context, parts [][]column, over bool, budget *columnBudget, dim, workers int) ([]column, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if over {
		return nil, budget.err(dim)
	}
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	cols := make([]column, 0, total)
	for i, p := range parts {
		cols = append(cols, p...)
		parts[i] = nil
	}
	parallelSort(cols, workers)
	return cols, nil
}
