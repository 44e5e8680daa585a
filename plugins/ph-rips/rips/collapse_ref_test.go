package rips

import (
	"context"
	"math"
	"slices"
)

// The earlier, simpler collapse pass, kept as the reference the faster pass must reproduce edge for edge: same
// surviving edges, same float32 times, same float64 values.

// refNoStop turns the reference's early stop off, as RIPS_COLLAPSE=on
// does for the pass under test.
var refNoStop = true

// refCollapser holds the graph being collapsed: CSR rows in increasing
// vertex order, each entry with its edge's current time (+Inf once the
// edge is removed) in float32 and the float64 value reported for it.
type refCollapser struct {
	n   int
	off []int32
	// end[u] ends u's live entries: removed edges are dropped from a row
	// (keeping its order) when the row is scanned, since on the inputs
	// collapse pays on most edges go and full rows cost most of the pass.
	end  []int32
	nb   []int32
	tm   []float32
	tm64 []float64
	// full is the n x n matrix of current times when the engine would
	// have held a dense matrix anyway (one load per lookup); nil on
	// sparse inputs, where lookups are binary searches in a row.
	full []float32
	// per-edge scratch of the sweep
	cx []int32
	ca []float32
	// cw[i] is the end of the edge whose time ca[i] is (u or v): the
	// float64 value is looked up only for the one time an edge takes.
	cw []int32
}

// refEdge is one edge to visit.
type refEdge struct {
	u, v int32
	t    float32
}

// refCollapseAdjacency returns the collapsed graph of adj (rows in
// decreasing vertex order, as the engine keeps them) as a new adjacency
// holding only the surviving edges, each with its possibly delayed time,
// or nil if the pass gave up early because too few edges went (then adj
// itself is the graph to expand).
// dense asks for the n x n time matrix; d64, if not nil, is the caller's
// dense float64 matrix from which adj's float64 values are read.
func refCollapseAdjacency(ctx context.Context, adj *adjacency, d64 []float64, dense bool) (*adjacency, error) {
	n := adj.n
	c := &refCollapser{n: n, off: adj.off}
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
	}
	edges := make([]refEdge, 0, m/2)
	for u := 0; u < n; u++ {
		for k := c.off[u]; k < c.off[u+1]; k++ {
			v := c.nb[k]
			if v <= int32(u) {
				continue
			}
			edges = append(edges, refEdge{u: int32(u), v: v, t: c.tm[k]})
		}
	}
	// Any order compatible with the times is a valid e_1..e_m; visit
	// the latest first.
	slices.SortFunc(edges, func(a, b refEdge) int {
		switch {
		case a.t > b.t:
			return -1
		case a.t < b.t:
			return 1
		}
		return 0
	})
	kept := 0
	for i, ed := range edges {
		if i&0xfff == 0 {
			if err := ctxErr(ctx); err != nil {
				return nil, err
			}
		}
		s, s64 := c.delay(ed)
		pu, pv := c.find(ed.u, ed.v), c.find(ed.v, ed.u)
		c.tm[pu], c.tm[pv] = s, s
		if s != ed.t {
			c.tm64[pu], c.tm64[pv] = s64, s64
		}
		if c.full != nil {
			c.full[int(ed.u)*n+int(ed.v)], c.full[int(ed.v)*n+int(ed.u)] = s, s
		}
		if !math.IsInf(float64(s), 1) {
			kept++
		}
		// The latest edges lie in the most simplices, so removing them
		// is what pays; where few of them go, as on fractal-like (12%
		// of the latest twentieth) and sphere_3_192 (6-12%) against
		// 93-100% on the rows collapse speeds up, the rest of the pass
		// would cost more than it saves. Stopping here is sound: the
		// edges not visited keep their own times, which is the
		// filtration of the induction step reached so far.
		if i+1 == probeEdges(len(edges)) && i+1 < len(edges) && 2*(i+1-kept) < i+1 && !refNoStop {
			return nil, nil
		}
	}
	c.full = nil
	out := make([]halfEdge, 0, kept)
	for u := 0; u < n; u++ {
		for k := c.off[u]; k < c.end[u]; k++ {
			if v := c.nb[k]; v > int32(u) && !math.IsInf(float64(c.tm[k]), 1) {
				out = append(out, halfEdge{u: int32(u), v: v, d: c.tm64[k]})
			}
		}
	}
	return newAdjacency(n, out), nil
}

// find returns the position of v in u's (increasing) row; v must be there.
func (c *refCollapser) find(u, v int32) int32 {
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
func (c *refCollapser) time(w, x int32) float32 {
	if c.full != nil {
		return c.full[int(w)*c.n+int(x)]
	}
	lo, hi := c.off[w], c.end[w]
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		if c.nb[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < c.end[w] && c.nb[lo] == x {
		return c.tm[lo]
	}
	return float32(math.Inf(1))
}

// delay returns the time s (and its float64 value) from which the edge
// ed stops being dominated in the current graph, +Inf if it never does.
func (c *refCollapser) delay(ed refEdge) (float32, float64) {
	// The common neighbours x of u and v, each present from
	// a_x = max(time(ux), time(vx)): merge the two increasing rows.
	cx, ca, cw := c.cx[:0], c.ca[:0], c.cw[:0]
	i, ie := c.off[ed.u], c.end[ed.u]
	j, je := c.off[ed.v], c.end[ed.v]
	inf := float32(math.Inf(1))
	if c.full != nil {
		// One load per neighbour of the end with the shorter row
		// instead of a branchy merge of both rows.
		u, v := ed.u, ed.v
		if ie-i > je-j {
			u, v, i, ie = v, u, j, je
		}
		row := c.full[int(v)*c.n : int(v)*c.n+c.n]
		k := i
		for ; i < ie; i++ {
			x, a := c.nb[i], c.tm[i]
			if a == inf {
				continue // removed: drop it from u's row
			}
			c.nb[k], c.tm[k], c.tm64[k] = x, a, c.tm64[i]
			k++
			b := row[x]
			if b == inf || x == v {
				continue
			}
			cx = append(cx, x)
			if a >= b {
				ca, cw = append(ca, a), append(cw, u)
			} else {
				ca, cw = append(ca, b), append(cw, v)
			}
		}
		c.end[u] = k
		i = ie // skip the merge
	}
	for i < ie && j < je {
		x, y := c.nb[i], c.nb[j]
		switch {
		case x < y:
			i++
		case x > y:
			j++
		default:
			a, b := c.tm[i], c.tm[j]
			if a != inf && b != inf {
				cx = append(cx, x)
				if a >= b {
					ca, cw = append(ca, a), append(cw, ed.u)
				} else {
					ca, cw = append(ca, b), append(cw, ed.v)
				}
			}
			i++
			j++
		}
	}
	c.cx, c.ca, c.cw = cx, ca, cw
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
		w := c.dominator(cx[:p], tau)
		if w < 0 {
			if tau == ed.t {
				return tau, 0 // kept: the caller keeps its own value
			}
			return tau, tau64
		}
		// w dominates until a common neighbour appears before its edge
		// to w does; the first such is the next time to look at.
		next := -1
		for q := p; q < len(cx); q++ {
			if (next < 0 || ca[q] < ca[next]) && c.time(w, cx[q]) > ca[q] {
				next = q
			}
		}
		if next < 0 {
			return inf, 0
		}
		tau, tau64 = ca[next], c.tm64[c.find(cw[next], cx[next])]
	}
}

// dominator returns a vertex of cs adjacent at time tau to all the
// others, or -1.
func (c *refCollapser) dominator(cs []int32, tau float32) int32 {
	if c.full != nil {
		n := c.n
	outerDense:
		for k, w := range cs {
			row := c.full[int(w)*n : int(w)*n+n]
			for q, x := range cs {
				if q != k && row[x] > tau {
					continue outerDense
				}
			}
			return w
		}
		return -1
	}
outer:
	for k, w := range cs {
		for q, x := range cs {
			if q != k && c.time(w, x) > tau {
				continue outer
			}
		}
		return w
	}
	return -1
}
