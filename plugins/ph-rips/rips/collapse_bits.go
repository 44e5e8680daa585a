package rips

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// The dense form's search of an edge's time with vertex sets.
//
// On the main job's clouds (500 points, a full k-NN geodesic matrix,
// every pair within the threshold) the pass visits 90-125K edges, most
// of them long ones with 120-200 common neighbours, and removes 85% of
// them. sweep.delay spends O(row) per edge building the list of common
// neighbours with their times and O(list) per dominator candidate;
// together 70% of the computation's CPU on those clouds.
//
// The sequential pass visits the edges from the latest to the earliest,
// so while it searches e_i (time t_i) every edge not yet visited is in
// H(t_i); of the visited ones, those kept at their own time t_i (ties)
// are too, and all others are removed or later. With one bit per vertex
// pair for "live" (not removed) and "now" (in H(t_i)), the common
// neighbours present at t_i are now[u] & now[v], word by word, and only
// the few reached through later edges, (live[u] & live[v]) minus those,
// need their times read. At t_i, w dominates when the present common
// neighbours but w are all in now[w], a word test, and a candidate
// ruled out by a neighbour x leaves as candidates only x and now[x],
// one AND over the words for all of them. At the later times a search
// reaches (tau > t_i) an edge of now[] is still there and a live one
// may be: the test reads the times of the neighbours outside now[w],
// and live[x] + x bounds the candidates left.
//
// The answer (s_i and its float64 value) is the one sweep.delay gives:
// the time is the first at which no vertex dominates, whichever
// dominator each round finds, and the float64 value, where several
// neighbours arrive at the same float32 time, is taken from the one
// sweep.delay would pick: where neighbours arriving at the time taken
// could give other values, the search is handed to sweep.delay.

// graphBits are the dense form's vertex sets, words uint64 per vertex.
type graphBits struct {
	words int
	// live[u] holds x when the edge ux is in the graph (not removed).
	live []uint64
	// now[u] holds x when ux is in the graph at the time of the edges
	// being visited: not yet visited, or kept at its own time equal to
	// theirs (held in ties until the pass moves on to earlier edges).
	now  []uint64
	at   float32
	ties []cEdge
}

// newGraphBits returns the sets of c's graph before the pass.
func newGraphBits(c *collapser) *graphBits {
	w := (c.n + 63) / 64
	g := &graphBits{words: w, live: make([]uint64, c.n*w), at: float32(math.Inf(1))}
	for u := 0; u < c.n; u++ {
		row := g.row(g.live, int32(u))
		for _, x := range c.nb[c.off[u]:c.end[u]] {
			row[x>>6] |= 1 << (x & 63)
		}
	}
	g.now = append([]uint64(nil), g.live...)
	return g
}

// row is u's row of the set family s.
func (g *graphBits) row(s []uint64, u int32) []uint64 {
	return s[int(u)*g.words : int(u+1)*g.words]
}

// clear takes the edge uv out of the set family s.
func (g *graphBits) clear(s []uint64, u, v int32) {
	s[int(u)*g.words+int(v>>6)] &^= 1 << (v & 63)
	s[int(v)*g.words+int(u>>6)] &^= 1 << (u & 63)
}

// moveTo is called before the edges of time t are searched: the edges
// kept at a later time leave now.
func (g *graphBits) moveTo(t float32) {
	if t >= g.at {
		return
	}
	for _, e := range g.ties {
		g.clear(g.now, e.u, e.v)
	}
	g.ties, g.at = g.ties[:0], t
}

// commit records that the edge ed was visited and given the time s.
func (g *graphBits) commit(ed cEdge, s float32) {
	switch {
	case math.IsInf(float64(s), 1):
		g.clear(g.live, ed.u, ed.v)
		g.clear(g.now, ed.u, ed.v)
	case s == ed.t:
		g.ties = append(g.ties, ed)
	default:
		g.clear(g.now, ed.u, ed.v)
	}
}

// futureNb is a common neighbour reached through a later edge: the
// vertex, the time from which it is common, and the end (u or v) whose
// edge to it is the later.
type futureNb struct {
	x, w int32
	a    float32
}

// delayBits is sweep.delay for the dense form in the sequential pass.
// (The parallel pass searches against a graph in which edges of its
// batch not yet committed may be later than the one searched, which now
// does not tell, so it keeps sweep.delay.)
func (sw *sweep) delayBits(ed cEdge) (float32, float64) {
	c, g := sw.c, sw.c.sets
	g.moveTo(ed.t)
	n, nw := c.n, g.words
	u, v := ed.u, ed.v
	lu, lv, nu, nv := g.row(g.live, u), g.row(g.live, v), g.row(g.now, u), g.row(g.now, v)
	pres, fut := sw.pres[:nw], sw.fut[:nw]
	lv, nu, nv = lv[:len(lu)], nu[:len(lu)], nv[:len(lu)]
	var anyCommon, anyFut uint64
	for k := range lu {
		com, p := lu[k]&lv[k], nu[k]&nv[k]
		pres[k], fut[k] = p, com&^p
		anyCommon |= com
		anyFut |= com &^ p
	}
	if anyCommon == 0 {
		return ed.t, 0 // no common neighbour, nothing can dominate
	}
	ru, rv := c.full[int(u)*n:int(u)*n+n], c.full[int(v)*n:int(v)*n+n]
	fs := sw.fs[:0]
	if anyFut != 0 {
		fs = sw.futures(sw.fs[:0], ed, ru, rv)
		sw.fs = fs
	}
	inf := float32(math.Inf(1))
	tau := ed.t
	var by futureNb // the neighbour whose arrival tau is
	p := 0          // fs[:p] are present at tau (and in pres)
	for {
		// sweep.delay's partition, on the future neighbours only.
		for q := p; q < len(fs); q++ {
			if fs[q].a <= tau {
				fs[p], fs[q] = fs[q], fs[p]
				x := fs[p].x
				pres[x>>6] |= 1 << (x & 63)
				p++
			}
		}
		w := sw.dominatorBits(pres, tau, tau == ed.t)
		if w < 0 {
			if tau == ed.t {
				return tau, 0 // kept: the caller keeps its own value
			}
			// The float64 value is read only for the time taken. If
			// neighbours arriving at tau with other values could have
			// given it, which one sweep.delay takes depends on its
			// dominators and its order: ask it.
			s64 := c.tm64[c.find(by.w, by.x)]
			if sw.valuesDiffer(fs, by, s64) {
				inDelayFallbacks.Add(1)
				return sw.delay(ed)
			}
			return tau, s64
		}
		// w dominates until a common neighbour appears before its edge
		// to w does; the first such is the next time to look at.
		rw := c.full[int(w)*n : int(w)*n+n]
		next := -1
		for q := p; q < len(fs); q++ {
			if (next < 0 || fs[q].a < fs[next].a) && rw[fs[q].x] > fs[q].a {
				next = q
			}
		}
		if next < 0 {
			return inf, 0
		}
		f := fs[next]
		tau, by = f.a, f
	}
}

// futures reads the times of the common neighbours in sw.fut (those
// reached through a later edge; ru and rv are the ends' rows of times)
// into fs, in vertex order.
func (sw *sweep) futures(fs []futureNb, ed cEdge, ru, rv []float32) []futureNb {
	for k, word := range sw.fut {
		for word != 0 {
			x := k<<6 | bits.TrailingZeros64(word)
			word &= word - 1
			// On a tie the later edge is taken at ed.u (sweep.delay).
			f := futureNb{x: int32(x), w: ed.u, a: ru[x]}
			if rv[x] > f.a {
				f.w, f.a = ed.v, rv[x]
			}
			fs = append(fs, f)
		}
	}
	return fs
}

// valuesDiffer says whether a neighbour of fs other than by arrives at
// by's time with a float64 value other than s64. The time an edge takes
// is the first at which no vertex dominates it, whatever dominators the
// search meets, but its float64 value is that of the neighbour whose
// arrival the search looked at last, and where several arrive at that
// float32 time with different values, which one that is depends on the
// dominators found and the order of the search. Mostly the values are
// the same (edges delayed to one time took one value).
func (sw *sweep) valuesDiffer(fs []futureNb, by futureNb, s64 float64) bool {
	c := sw.c
	for _, f := range fs {
		if f.a == by.a && f.x != by.x && c.tm64[c.find(f.w, f.x)] != s64 {
			return true
		}
	}
	return false
}

// inDelayFallbacks counts the searches delayBits handed to sweep.delay,
// so tests can tell they reached that path.
var inDelayFallbacks atomic.Int64

// dominatorBits returns a vertex of the set s (the common neighbours
// present at tau) joined at tau to all the others, or -1. The
// candidates are tried in vertex order; a candidate w ruled out by a
// member x leaves as candidates only x and the vertices joined to x, a
// word operation on all of them at once (now[x] at the searched edge's
// own time, atT, where it is the graph; live[x], an upper bound, later).
func (sw *sweep) dominatorBits(s []uint64, tau float32, atT bool) int32 {
	g := sw.c.sets
	nbs := g.live
	if atT {
		nbs = g.now
	}
	cand := sw.cand[:len(s)]
	copy(cand, s)
	w, k := int32(-1), 0
	for {
		if w < 0 {
			for k < len(cand) && cand[k] == 0 {
				k++
			}
			if k == len(cand) {
				return -1
			}
			w = int32(k<<6 | bits.TrailingZeros64(cand[k]))
		}
		cand[w>>6] &^= 1 << (w & 63)
		x := sw.rulesOut(s, tau, w)
		if x < 0 {
			return w
		}
		keep := cand[x>>6] & (1 << (x & 63))
		for j, y := range g.row(nbs, int32(x))[:len(cand)] {
			cand[j] &= y
		}
		cand[x>>6] |= keep
		w = -1
	}
}

// rulesOut returns a member of s other than w not joined to w at tau,
// or -1 if w dominates s.
func (sw *sweep) rulesOut(s []uint64, tau float32, w int32) int {
	c, g := sw.c, sw.c.sets
	nw := g.row(g.now, w)[:len(s)]
	tw := c.full[int(w)*c.n : int(w+1)*c.n]
	for j, sj := range s {
		// Members not joined to w by an edge of now: joined by a later
		// one of time <= tau, or not at all.
		miss := sj &^ nw[j]
		if j == int(w>>6) {
			miss &^= 1 << (w & 63)
		}
		for miss != 0 {
			x := j<<6 | bits.TrailingZeros64(miss)
			miss &= miss - 1
			if tw[x] > tau {
				return x
			}
		}
	}
	return -1
}
