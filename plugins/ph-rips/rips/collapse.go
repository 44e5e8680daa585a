package rips

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// Edge collapse of the flag filtration before expansion (Boissonnat and
// Pritam, SoCG 2020; the backward pass of Glisse and Pritam, SoCG 2022).
//
// An edge uv of a graph G is dominated by a vertex w (adjacent to u and
// v) when w is adjacent to every other common neighbour of u and v. The
// link of uv in the flag complex of G is then a cone with apex w, so the
// flag complex of G strongly collapses onto that of G - uv: removing uv
// changes no homology in any dimension.
//
// On a filtration the edges e_1..e_m (times t_1 <= ... <= t_m) are
// visited from the last to the first. When e_i is visited, the later
// edges already carry their final times s_j >= t_j (+Inf: removed), and
// at any time tau >= t_i the graph without e_i is
//
//	H(tau) = {e_1..e_{i-1}} + {e_j : j > i, s_j <= tau}.
//
// e_i gets the first time s_i >= t_i at which it is not dominated in
// H(tau) + e_i. Over [t_i, s_i) each flag complex without e_i is a
// strong deformation retract of the one with it, and the inclusions
// commute with those of the filtration, so delaying e_i to s_i gives a
// filtration whose persistence module is isomorphic in every dimension
// (H0 included) to the one before. By induction over i the collapsed
// filtration has exactly the barcode of the original one. The times s_i
// are times of other edges, so the barcode's values are unchanged too.
//
// The engine's filtration is the float32 one, so collapse works on the
// float32 times (rounding only adds ties, which collapse more); each edge
// carries the caller's float64 value of the edge whose time it took, for
// reporting births and deaths.

// collapser holds the graph being collapsed: CSR rows in increasing
// vertex order, each entry with its edge's current time in float32 and
// the float64 value reported for it. A removed edge is cut out of both
// rows at once (a short memmove), so the rows hold live edges only and
// the search for an edge's time reads nothing but the graph: that lets
// several workers search at once while the graph stands still.
type collapser struct {
	n   int
	off []int32
	// end[u] ends u's live entries.
	end  []int32
	nb   []int32
	tm   []float32
	tm64 []float64
	// full is the n x n matrix of current times (+Inf: no edge) when
	// the engine would have held a dense matrix anyway (one load per
	// lookup); nil on sparse inputs, where lookups are binary searches
	// in a row.
	full []float32
	// sets are the dense form's vertex sets, for sweep.delayBits; nil
	// in the sparse form.
	sets *graphBits
}

// sweep is one worker's scratch for the search of an edge's time.
type sweep struct {
	c *collapser
	// mark[x] is the time of the edge vx while the sparse form looks
	// the rows of an edge uv up in each other, +Inf otherwise.
	mark []float32
	// wmark[x] is the time of the edge wx for the candidate dominator
	// w = marked (sparse form; -1: none), +Inf otherwise.
	wmark  []float32
	marked int32
	// The common neighbours of the edge: vertex, time from which it is
	// one, and which end (u or v) has the later edge to it: the float64
	// value is looked up only for the one time an edge takes.
	cx []int32
	ca []float32
	cw []int32
	// The dense form's scratch for delayBits: the present common
	// neighbours, those through kept edges, the dominator candidates
	// (a word per 64 vertices each), and the future neighbours.
	pres, fut, cand []uint64
	fs              []futureNb
}

// newSweep returns a worker's scratch; its mark arrays start all +Inf
// and every search leaves them so.
func (c *collapser) newSweep() *sweep {
	s := &sweep{c: c, marked: -1}
	if c.full == nil {
		s.mark = make([]float32, 2*c.n)
		for i := range s.mark {
			s.mark[i] = float32(math.Inf(1))
		}
		s.mark, s.wmark = s.mark[:c.n], s.mark[c.n:]
	}
	if c.sets != nil {
		w := c.sets.words
		s.pres, s.fut, s.cand = make([]uint64, w), make([]uint64, w), make([]uint64, w)
	}
	return s
}

// cEdge is one edge to visit.
type cEdge struct {
	u, v int32
	t    float32
}

// collapseAdjacency returns the collapsed graph of adj (rows in
// decreasing vertex order, as the engine keeps them) as a new adjacency
// holding only the surviving edges, each with its possibly delayed time,
// or nil if the pass gave up early because too few edges went (then adj
// itself is the graph to expand).
// dense asks for the n x n time matrix; d64, if not nil, is the caller's
// dense float64 matrix from which adj's float64 values are read.
// workers > 1 search the times of several edges at once (see
// pass.parallel); the result is the same graph.
func collapseAdjacency(ctx context.Context, adj *adjacency, d64 []float64, dense bool, workers int) (*adjacency, error) {
	n := adj.n
	c := &collapser{n: n, off: adj.off}
	m := len(adj.nb)
	c.nb = make([]int32, m)
	c.tm = make([]float32, m)
	c.tm64 = make([]float64, m)
	// Reverse each row into increasing order.
	for u := 0; u < n; u++ {
		lo, hi := int(adj.off[u]), int(adj.off[u+1])
		for k := lo; k < hi; k++ {
			q := hi - 1 - (k - lo)
			v := adj.nb[k]
			c.nb[q], c.tm[q] = v, adj.d[k]
			if d64 != nil {
				c.tm64[q] = d64[u*n+int(v)]
			} else {
				c.tm64[q] = adj.d64[k]
			}
		}
	}
	c.end = slices.Clone(c.off[1:])
	parallel := workers > 1 && m/2 >= 4*collapseBatch
	if dense {
		inf := float32(math.Inf(1))
		c.full = make([]float32, n*n)
		for i := range c.full {
			c.full[i] = inf
		}
		for u := 0; u < n; u++ {
			for k := c.off[u]; k < c.off[u+1]; k++ {
				c.full[u*n+int(c.nb[k])] = c.tm[k]
			}
		}
		// The vertex sets serve the sequential pass (see delayBits).
		if !parallel && useSets {
			c.sets = newGraphBits(c)
		}
	}
	edges := make([]cEdge, 0, m/2)
	for u := 0; u < n; u++ {
		for k := c.off[u]; k < c.off[u+1]; k++ {
			v := c.nb[k]
			if v <= int32(u) {
				continue
			}
			edges = append(edges, cEdge{u: int32(u), v: v, t: c.tm[k]})
		}
	}
	// Any order compatible with the times is a valid e_1..e_m; visit
	// the latest first.
	slices.SortFunc(edges, func(a, b cEdge) int {
		switch {
		case a.t > b.t:
			return -1
		case a.t < b.t:
			return 1
		}
		return 0
	})
	p := &pass{c: c, edges: edges, t0: time.Now()}
	var err error
	if parallel {
		err = p.parallel(ctx, workers)
	} else {
		err = p.sequential(ctx)
	}
	collapseRecomputed.Add(int64(p.recomputed))
	if err != nil || p.gaveUp {
		return nil, err
	}
	out := make([]halfEdge, 0, p.kept)
	inf := float32(math.Inf(1))
	for u := 0; u < n; u++ {
		for k := c.off[u]; k < c.end[u]; k++ {
			// With the vertex sets the rows keep removed edges (see
			// pass.commit); the time matrix tells them.
			if v := c.nb[k]; v > int32(u) && (c.sets == nil || c.full[u*n+int(v)] != inf) {
				out = append(out, halfEdge{u: int32(u), v: v, d: c.tm64[k]})
			}
		}
	}
	c.full, c.sets = nil, nil
	return newAdjacency(n, out), nil
}

// pass is the state of one backward pass over the edges.
type pass struct {
	c     *collapser
	edges []cEdge
	// done edges are visited and committed; kept of them survive.
	done, kept int
	gaveUp     bool
	t0         time.Time
	// recomputed counts the edges the parallel pass searched again
	// because an earlier edge of their batch changed their graph.
	recomputed, batches, seqEdges int
}

// sequential visits the edges one by one.
func (p *pass) sequential(ctx context.Context) error {
	sw := p.c.newSweep()
	delay := sw.delay
	if p.c.sets != nil {
		delay = sw.delayBits
	}
	for p.done < len(p.edges) && !p.gaveUp {
		if p.done&0xfff == 0 {
			if err := ctxErr(ctx); err != nil {
				return err
			}
		}
		ed := p.edges[p.done]
		s, s64 := delay(ed)
		p.commit(ed, s, s64)
	}
	return nil
}

// commit gives the next edge (ed) its time s, removing it if s is +Inf,
// and checks the early stop.
func (p *pass) commit(ed cEdge, s float32, s64 float64) {
	c := p.c
	if c.sets != nil {
		p.commitSets(ed, s, s64)
	} else {
		p.commitRows(ed, s, s64)
	}
	p.done++
	i := p.done
	// The latest edges lie in the most simplices, so removing them
	// is what pays; where few of them go, as on fractal-like (12%
	// of the latest twentieth) and sphere_3_192 (6-12%) against
	// 93-100% on the rows collapse speeds up, the rest of the pass
	// would cost more than it saves. Stopping here is sound: the
	// edges not visited keep their own times, which is the
	// filtration of the induction step reached so far.
	if i == probeEdges(len(p.edges)) && i < len(p.edges) && 2*(i-p.kept) < i && forceCollapse != "on" {
		p.gaveUp = true
	}
	if traceCollapse && i%(len(p.edges)/20+1) == 0 {
		fmt.Fprintf(os.Stderr, "collapse: %5.1f%% visited, %5.1f%% of them removed, %v (%d batches, %d edges searched again, %d sequential)\n",
			100*float64(i)/float64(len(p.edges)), 100*float64(i-p.kept)/float64(i), time.Since(p.t0), p.batches, p.recomputed, p.seqEdges)
	}
}

// commitRows records ed's time s in the rows (and the time matrix),
// cutting a removed edge out of its rows.
func (p *pass) commitRows(ed cEdge, s float32, s64 float64) {
	c := p.c
	pu, pv := c.find(ed.u, ed.v), c.find(ed.v, ed.u)
	if math.IsInf(float64(s), 1) {
		c.cut(ed.u, pu)
		c.cut(ed.v, pv)
	} else {
		c.tm[pu], c.tm[pv] = s, s
		if s != ed.t {
			c.tm64[pu], c.tm64[pv] = s64, s64
		}
		p.kept++
	}
	if c.full != nil {
		c.full[int(ed.u)*c.n+int(ed.v)], c.full[int(ed.v)*c.n+int(ed.u)] = s, s
	}
}

// commitSets records ed's time s where delayBits reads the graph: the
// time matrix and the vertex sets. A removed edge stays in the rows
// (the memmoves of cutting it out were 5% of the pass on the main
// job's clouds; its entries read +Inf), and a kept edge's entries
// change only if it was delayed.
func (p *pass) commitSets(ed cEdge, s float32, s64 float64) {
	c := p.c
	c.full[int(ed.u)*c.n+int(ed.v)], c.full[int(ed.v)*c.n+int(ed.u)] = s, s
	c.sets.commit(ed, s)
	if s == ed.t {
		p.kept++
		return
	}
	// A removed edge reads +Inf in the rows too, for the searches
	// handed to sweep.delay.
	pu, pv := c.find(ed.u, ed.v), c.find(ed.v, ed.u)
	c.tm[pu], c.tm[pv] = s, s
	if !math.IsInf(float64(s), 1) {
		c.tm64[pu], c.tm64[pv] = s64, s64
		p.kept++
	}
}

// cut removes the entry at position k from u's row.
func (c *collapser) cut(u, k int32) {
	e := c.end[u]
	copy(c.nb[k:e-1], c.nb[k+1:e])
	copy(c.tm[k:e-1], c.tm[k+1:e])
	copy(c.tm64[k:e-1], c.tm64[k+1:e])
	c.end[u] = e - 1
}

// useSets lets tests run the sequential dense pass on the rows
// (sweep.delay) instead of the vertex sets (delayBits), to compare them.
var useSets = true

// collapseRecomputed counts the edges the parallel pass searched again,
// so tests can tell that they reached that path.
var collapseRecomputed atomic.Int64

// find returns the position of v in u's (increasing) row; v must be there.
func (c *collapser) find(u, v int32) int32 {
	lo, hi := c.off[u], c.end[u]
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		if c.nb[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// time is the current time of the edge wx, +Inf if there is none.
func (c *collapser) time(w, x int32) float32 {
	if c.full != nil {
		return c.full[int(w)*c.n+int(x)]
	}
	// A binary search whose step is a conditional move, not a branch:
	// the probes are unpredictable, and this search ran a fifth of the
	// pass on clifford-torus.
	lo, n := c.off[w], c.end[w]-c.off[w]
	if n == 0 {
		return float32(math.Inf(1))
	}
	nb := c.nb
	for n > 1 {
		half := n >> 1
		if nb[lo+half] <= x {
			lo += half
		}
		n -= half
	}
	if nb[lo] == x {
		return c.tm[lo]
	}
	return float32(math.Inf(1))
}

// markRow marks w's row into sw.wmark.
func (sw *sweep) markRow(w int32) {
	c := sw.c
	wm := sw.wmark
	for q := c.off[w]; q < c.end[w]; q++ {
		wm[c.nb[q]] = c.tm[q]
	}
	sw.marked = w
}

// unmark clears sw.wmark.
func (sw *sweep) unmark() {
	c := sw.c
	for _, x := range c.nb[c.off[sw.marked]:c.end[sw.marked]] {
		sw.wmark[x] = float32(math.Inf(1))
	}
	sw.marked = -1
}

// scratch returns the per-edge lists with room for m entries.
func (s *sweep) scratch(m int) ([]int32, []float32, []int32) {
	if cap(s.cx) < m {
		s.cx, s.ca, s.cw = make([]int32, 2*m), make([]float32, 2*m), make([]int32, 2*m)
	}
	return s.cx[:m], s.ca[:m], s.cw[:m]
}

// b2i is 1 for true, 0 for false; the compiler makes it a flag move,
// not a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// delay returns the time s (and its float64 value) from which the edge
// ed stops being dominated in the current graph, +Inf if it never does.
// It only reads the graph. After it, sw.cx holds the common neighbours
// of ed's ends: every vertex whose edges the answer depends on.
func (sw *sweep) delay(ed cEdge) (float32, float64) {
	c := sw.c
	inf := float32(math.Inf(1))
	// The common neighbours x of u and v, each present from
	// a_x = max(time(ux), time(vx)): each entry of the shorter row is
	// looked up by vertex in the other end's times, its row of the
	// dense matrix, or (sparse form) its row marked into sw.mark.
	u, v := ed.u, ed.v
	if c.end[u]-c.off[u] > c.end[v]-c.off[v] {
		u, v = v, u
	}
	var look []float32
	if c.full != nil {
		look = c.full[int(v)*c.n : int(v)*c.n+c.n]
	} else {
		look = sw.mark
		for q := c.off[v]; q < c.end[v]; q++ {
			look[c.nb[q]] = c.tm[q]
		}
	}
	i, ie := c.off[u], c.end[u]
	cx, ca, cw := sw.scratch(int(ie - i))
	m := 0
	// Written whether or not x is a common neighbour, and kept (m
	// advanced) only if it is: whether it is cannot be predicted, and
	// the branch cost more than the stores. look[v] is +Inf (no
	// loops), so x == v is not kept, nor is an edge removed but left
	// in the rows by pass.commitSets (+Inf). On a tie the later edge is taken
	// at ed.u whichever row is scanned, so the float64 value an edge
	// takes does not depend on the rows' lengths (which the parallel
	// pass sees at another moment than the sequential one).
	if u == ed.u {
		for q, x := range c.nb[i:ie] {
			a, b := c.tm[int(i)+q], look[x]
			cx[m], ca[m], cw[m] = x, max(a, b), u
			if b > a {
				cw[m] = v
			}
			m += b2i(max(a, b) != inf)
		}
	} else {
		for q, x := range c.nb[i:ie] {
			a, b := c.tm[int(i)+q], look[x]
			cx[m], ca[m], cw[m] = x, max(a, b), v
			if a > b {
				cw[m] = u
			}
			m += b2i(max(a, b) != inf)
		}
	}
	if c.full == nil {
		for _, x := range c.nb[c.off[v]:c.end[v]] {
			look[x] = inf
		}
	}
	cx, ca, cw = cx[:m], ca[:m], cw[:m]
	sw.cx, sw.ca, sw.cw = cx, ca, cw
	if len(cx) == 0 {
		return ed.t, 0 // no common neighbour, nothing can dominate
	}
	tau, tau64 := ed.t, 0.0
	p := 0 // cx[:p] are present at tau
	for {
		// Bring the neighbours present at tau to the front; no sort,
		// since each round only needs the present set and the earliest
		// future failure (sorting was most of the time).
		for q := p; q < len(cx); q++ {
			if ca[q] <= tau {
				cx[p], cx[q] = cx[q], cx[p]
				ca[p], ca[q] = ca[q], ca[p]
				cw[p], cw[q] = cw[q], cw[p]
				p++
			}
		}
		w := sw.dominator(cx[:p], ca[:p], tau)
		if w < 0 {
			if tau == ed.t {
				return tau, 0 // kept: the caller keeps its own value
			}
			return tau, tau64
		}
		// w dominates until a common neighbour appears before its edge
		// to w does; the first such is the next time to look at.
		next := -1
		if sw.marked == w {
			for q := p; q < len(cx); q++ {
				if (next < 0 || ca[q] < ca[next]) && sw.wmark[cx[q]] > ca[q] {
					next = q
				}
			}
			sw.unmark()
		} else {
			for q := p; q < len(cx); q++ {
				if (next < 0 || ca[q] < ca[next]) && c.time(w, cx[q]) > ca[q] {
					next = q
				}
			}
		}
		if next < 0 {
			return inf, 0
		}
		tau, tau64 = ca[next], c.tm64[c.find(cw[next], cx[next])]
	}
}

// dominator returns a vertex of cs adjacent at time tau to all the
// others, or -1; ca holds the times at which cs's vertices became
// common neighbours.
//
// Which dominator is returned does not change the edge's time (the
// first time no vertex dominates), so the candidates go in the order
// that finds one soonest: first the common neighbour that came first,
// the one closest to both ends, which on point clouds is the dominator
// most of the time (clifford-torus: 2.9 candidates tried per search ->
// 1.3); then the rest. The vertex that ruled out the last candidate is
// checked first against the next one, since it often rules that out
// too. In the sparse form the first candidate's row is marked by vertex
// (sw.wmark) rather than searched once per common neighbour, and stays
// marked for the search of the next time if it dominates.
func (sw *sweep) dominator(cs []int32, ca []float32, tau float32) int32 {
	c := sw.c
	if len(cs) == 0 {
		return -1
	}
	first := 0
	for k, a := range ca {
		if a < ca[first] {
			first = k
		}
	}
	killer := -1
	// try says whether cs[k] is adjacent at tau to all the others.
	try := func(k int) bool {
		w := cs[k]
		if c.full != nil {
			row := c.full[int(w)*c.n : int(w)*c.n+c.n]
			if killer >= 0 && killer != k && row[cs[killer]] > tau {
				return false
			}
			for q, x := range cs {
				if q != k && row[x] > tau {
					killer = q
					return false
				}
			}
			return true
		}
		if killer >= 0 && killer != k && c.time(w, cs[killer]) > tau {
			return false
		}
		for q, x := range cs {
			if q != k && c.time(w, x) > tau {
				killer = q
				return false
			}
		}
		return true
	}
	if c.full == nil {
		w := cs[first]
		sw.markRow(w)
		wm := sw.wmark
		ok := true
		for q, x := range cs {
			if q != first && wm[x] > tau {
				killer, ok = q, false
				break
			}
		}
		if ok {
			return w
		}
		sw.unmark()
	} else if try(first) {
		return cs[first]
	}
	for k := range cs {
		if k != first && try(k) {
			return cs[k]
		}
	}
	return -1
}

// forceCollapse overrides shouldCollapse: "on", "off" or "" (decide).
// RIPS_COLLAPSE=on|off in the environment sets it, so a benchmark can
// run the same binary both ways (ripsbench -collapse-ab).
var forceCollapse = os.Getenv("RIPS_COLLAPSE")

// shouldCollapse decides whether collapsing the edges before the
// expansion pays; edges counts undirected edges within the threshold.
func shouldCollapse(n int, edges int64, maxDim int) bool {
	switch forceCollapse {
	case "on":
		return true
	case "off":
		return false
	}
	return maxDim >= 2
}

// collapsedEngine collapses the graph adj (see collapseAdjacency) and
// builds the engine on what is left, in the form useSparse picks for
// the remaining edges; nil if collapse gave up (see collapseAdjacency).
// dense says whether the uncollapsed engine would have been dense, i.e.
// whether an n x n time matrix is affordable; workers search edges'
// times at once.
func collapsedEngine(ctx context.Context, adj *adjacency, d64 []float64, dense bool, maxDim int, thr float32, p, workers int) (*engine, error) {
	n := adj.n
	w := 1
	if collapseWorkers > 1 {
		w = min(collapseWorkers, workers)
	}
	col, err := collapseAdjacency(ctx, adj, d64, dense, w)
	if col == nil || err != nil {
		return nil, err
	}
	if !dense || useSparse(n, int64(len(col.nb))) {
		return newSparseEngine(col, nil, maxDim, thr, p), nil
	}
	// The dense form on the collapsed times: removed pairs read +Inf,
	// beyond any threshold.
	m := make([]float64, n*n)
	for i := range m {
		m[i] = math.Inf(1)
	}
	for u := 0; u < n; u++ {
		m[u*n+u] = 0
		for k := col.off[u]; k < col.off[u+1]; k++ {
			m[u*n+int(col.nb[k])] = col.d64[k]
		}
	}
	return newEngine(m, n, maxDim, thr, p), nil
}

// collapseWorkers (RIPS_COLLAPSE_WORKERS=N) lets the pass search edges
// on up to N of the engine's workers (pass.parallel). Off by default: on
// the shared 2-core machine, where the process got under one core, two
// workers took 1.4-1.6x the wall time and CPU of one (clifford-torus,
// o3_4096); not yet measured on a quiet machine.
var collapseWorkers, _ = strconv.Atoi(os.Getenv("RIPS_COLLAPSE_WORKERS"))

// traceCollapse (RIPS_TRACE_COLLAPSE=1) prints how many of the edges
// visited so far were removed, at every 5% of the pass; how the early
// stop's numbers were chosen.
var traceCollapse = os.Getenv("RIPS_TRACE_COLLAPSE") != ""

// probeEdges is how many of the latest edges are visited before the
// pass decides whether to go on: a twentieth (the longest edges, with
// the most common neighbours, are the dearest to visit: on fractal-like
// the first tenth cost 17% of the pass), but at least probeMin.
func probeEdges(m int) int { return min(m, max(probeMin, m/20)) }

// probeMin is a variable so tests can reach the early stop on small
// inputs.
var probeMin = 1000

// collapse marks the collapse phase: its edges before and after, or
// that it gave up (e nil).
func (t *tracer) collapse(e *engine, edges int64) {
	if e == nil {
		t.mark(fmt.Sprintf("collapse gave up (%d edges)", edges))
		return
	}
	t.mark(fmt.Sprintf("collapse (%d edges, %d left)", edges, len(e.nb)/2))
}
