// Package diagdist computes distances between persistence diagrams of one
// dimension: the bottleneck distance and the p-Wasserstein distance, both
// exact and both with the L-infinity ground metric on the plane, as GUDHI's
// bottleneck_distance and wasserstein_distance (default internal_p=inf)
// define them.
//
// A diagram is a list of (birth, death) points. Each point may be matched
// to a point of the other diagram, at cost max(|b1-b2|, |d1-d2|), or to the
// diagonal, at cost |d-b|/2. Points on the diagonal (b = d) cost nothing
// either way and are dropped.
//
// Points with an infinite coordinate (essential classes, e.g. (b, +Inf))
// are matched separately, as GUDHI does: they fall into kinds by which
// coordinates are infinite and with which sign - (b, +Inf), (-Inf, d),
// (-Inf, +Inf), (b, -Inf), (+Inf, d) - and each kind of one diagram must
// be matched to the same kind of the other, optimally by sorting the
// finite coordinates. If any kind has different counts in the two diagrams
// the distance is +Inf. Points whose coordinates are both +Inf or both -Inf
// lie on the diagonal and are dropped. Any NaN coordinate makes the result
// NaN.
//
// The bottleneck distance is the largest matched cost, minimised: it is
// found exactly by binary search over the finitely many candidate costs
// with a Hopcroft-Karp perfect-matching test. The p-Wasserstein distance
// is (sum of matched costs^p)^(1/p), minimised, found exactly by the
// Hungarian algorithm on the square cost matrix of the diagrams augmented
// with each other's diagonal projections. Both are cubic or so in the
// number of points: fine for the hundreds of points a snapshot produces.
package diagdist

import (
	"math"
	"sort"
)

// split separates a diagram into finite off-diagonal points and the finite
// coordinates of its essential points by kind. It reports whether any
// coordinate is NaN.
func split(d [][2]float64) (fin [][2]float64, ess map[[2]int8][]float64, nan bool) {
	ess = map[[2]int8][]float64{}
	for _, p := range d {
		b, e := p[0], p[1]
		if math.IsNaN(b) || math.IsNaN(e) {
			return nil, nil, true
		}
		kb, ke := infKind(b), infKind(e)
		switch {
		case kb == 0 && ke == 0:
			if b != e {
				fin = append(fin, p)
			}
		case kb == ke:
			// (+Inf, +Inf) or (-Inf, -Inf): on the diagonal.
		case kb == 0:
			ess[[2]int8{0, ke}] = append(ess[[2]int8{0, ke}], b)
		case ke == 0:
			ess[[2]int8{kb, 0}] = append(ess[[2]int8{kb, 0}], e)
		default:
			ess[[2]int8{kb, ke}] = append(ess[[2]int8{kb, ke}], 0)
		}
	}
	return fin, ess, false
}

func infKind(v float64) int8 {
	switch {
	case math.IsInf(v, 1):
		return 1
	case math.IsInf(v, -1):
		return -1
	}
	return 0
}

// essential matches the essential parts of two diagrams kind by kind. It
// returns the largest single cost, the sum of costs^p, and false if some
// kind has different counts (the distance is then +Inf).
func essential(ea, eb map[[2]int8][]float64, p float64) (worst, sum float64, ok bool) {
	for k, xs := range ea {
		if len(eb[k]) != len(xs) {
			return 0, 0, false
		}
	}
	for k, ys := range eb {
		xs := ea[k]
		if len(xs) != len(ys) {
			return 0, 0, false
		}
		// On a line, matching in sorted order minimises both the largest
		// cost and every convex sum of costs.
		xs, ys = sorted(xs), sorted(ys)
		for i := range xs {
			c := math.Abs(xs[i] - ys[i])
			worst = max(worst, c)
			sum += pow(c, p)
		}
	}
	return worst, sum, true
}

func sorted(v []float64) []float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s
}

// pow is math.Pow with the common orders done exactly and fast.
func pow(x, p float64) float64 {
	switch p {
	case 1:
		return x
	case 2:
		return x * x
	}
	return math.Pow(x, p)
}

// linf is the L-infinity distance between two points of the plane.
func linf(a, b [2]float64) float64 { return max(math.Abs(a[0]-b[0]), math.Abs(a[1]-b[1])) }

// diag is the L-infinity distance from a point to the diagonal.
func diag(a [2]float64) float64 { return math.Abs(a[1]-a[0]) / 2 }

// Bottleneck returns the bottleneck distance between diagrams a and b (see
// the package documentation for infinite points and NaN).
func Bottleneck(a, b [][2]float64) float64 {
	fa, ea, nanA := split(a)
	fb, eb, nanB := split(b)
	if nanA || nanB {
		return math.NaN()
	}
	worst, _, ok := essential(ea, eb, 1)
	if !ok {
		return math.Inf(1)
	}
	return max(worst, bottleneckFinite(fa, fb))
}

// bottleneckFinite is the bottleneck distance between finite diagrams.
func bottleneckFinite(a, b [][2]float64) float64 {
	n, m := len(a), len(b)
	// Sending everything to the diagonal is always a matching, so the
	// answer is at most the largest diagonal cost: larger candidates can
	// be dropped.
	var hi float64
	cand := make([]float64, 0, n+m)
	for _, p := range a {
		cand = append(cand, diag(p))
		hi = max(hi, diag(p))
	}
	for _, p := range b {
		cand = append(cand, diag(p))
		hi = max(hi, diag(p))
	}
	if n == 0 || m == 0 {
		return hi
	}
	g := newMatcher(a, b)
	for _, c := range g.cost {
		if c < hi {
			cand = append(cand, c)
		}
	}
	sort.Float64s(cand)
	u := cand[:0]
	for i, c := range cand {
		if i == 0 || c != cand[i-1] {
			u = append(u, c)
		}
	}
	// The smallest feasible candidate; the last one (hi) is feasible.
	lo, top := 0, len(u)-1
	for lo < top {
		mid := (lo + top) / 2
		if g.perfect(u[mid]) {
			top = mid
		} else {
			lo = mid + 1
		}
	}
	return u[lo]
}

// matcher decides with Hopcroft-Karp whether the augmented bipartite
// graph at threshold r has a perfect matching. Left vertices are a's n
// points then the m diagonal projections of b's points; right vertices are
// b's m points then the n projections of a's points. Edges, for cost <= r:
// a_i - b_j; a_i - proj(a_i); proj(b_j) - b_j; and proj(b_j) - proj(a_i)
// always (diagonal to diagonal is free). The edges are enumerated from the
// cost tables, not stored, so each threshold costs no allocation.
type matcher struct {
	n, m   int
	cost   []float64 // n x m, cost[i*m+j] = linf(a_i, b_j)
	da, db []float64 // diagonal costs
	r      float64
	matchL []int // right vertex matched to each left one, or -1
	matchR []int
	layer  []int
	next   []int // per left vertex: the next neighbour slot to try
	queue  []int
}

func newMatcher(a, b [][2]float64) *matcher {
	n, m := len(a), len(b)
	g := &matcher{n: n, m: m, cost: make([]float64, n*m), da: make([]float64, n), db: make([]float64, m)}
	for i, p := range a {
		g.da[i] = diag(p)
		for j, q := range b {
			g.cost[i*m+j] = linf(p, q)
		}
	}
	for j, q := range b {
		g.db[j] = diag(q)
	}
	v := n + m
	g.matchL, g.matchR, g.layer, g.next = make([]int, v), make([]int, v), make([]int, v), make([]int, v)
	g.queue = make([]int, 0, v)
	return g
}

// degree is the number of neighbour slots of left vertex u; neighbour
// returns the right vertex in slot k, or -1 if that edge is absent at the
// current threshold.
func (g *matcher) degree(u int) int {
	if u < g.n {
		return g.m + 1
	}
	return g.n + 1
}

func (g *matcher) neighbour(u, k int) int {
	if u < g.n {
		if k < g.m {
			if g.cost[u*g.m+k] <= g.r {
				return k
			}
			return -1
		}
		if g.da[u] <= g.r {
			return g.m + u
		}
		return -1
	}
	j := u - g.n
	if k == 0 {
		if g.db[j] <= g.r {
			return j
		}
		return -1
	}
	return g.m + k - 1
}

func (g *matcher) perfect(r float64) bool {
	g.r = r
	v := g.n + g.m
	for i := 0; i < v; i++ {
		g.matchL[i], g.matchR[i] = -1, -1
	}
	size := 0
	for g.bfs() {
		for u := 0; u < v; u++ {
			g.next[u] = 0
		}
		for u := 0; u < v; u++ {
			if g.matchL[u] < 0 && g.dfs(u) {
				size++
			}
		}
	}
	return size == v
}

// bfs layers the left vertices by alternating-path distance from the free
// ones and reports whether some free right vertex is reachable.
func (g *matcher) bfs() bool {
	const unseen = -1
	g.queue = g.queue[:0]
	for u := range g.layer {
		if g.matchL[u] < 0 {
			g.layer[u] = 0
			g.queue = append(g.queue, u)
		} else {
			g.layer[u] = unseen
		}
	}
	found := false
	for h := 0; h < len(g.queue); h++ {
		u := g.queue[h]
		for k, d := 0, g.degree(u); k < d; k++ {
			w := g.neighbour(u, k)
			if w < 0 {
				continue
			}
			x := g.matchR[w]
			if x < 0 {
				found = true
			} else if g.layer[x] == unseen {
				g.layer[x] = g.layer[u] + 1
				g.queue = append(g.queue, x)
			}
		}
	}
	return found
}

// dfs looks for an augmenting path from left vertex u along the layers.
func (g *matcher) dfs(u int) bool {
	for d := g.degree(u); g.next[u] < d; g.next[u]++ {
		w := g.neighbour(u, g.next[u])
		if w < 0 {
			continue
		}
		x := g.matchR[w]
		if x < 0 || (g.layer[x] == g.layer[u]+1 && g.dfs(x)) {
			g.matchL[u], g.matchR[w] = w, u
			g.next[u]++
			return true
		}
	}
	g.layer[u] = -1 // dead end: no need to come back this phase
	return false
}

// Wasserstein returns the p-Wasserstein distance between diagrams a and b
// for 1 <= p < +Inf (p = +Inf gives the bottleneck distance; p < 1 or NaN
// gives NaN). See the package documentation for infinite points and NaN.
func Wasserstein(a, b [][2]float64, p float64) float64 {
	if math.IsInf(p, 1) {
		return Bottleneck(a, b)
	}
	if !(p >= 1) {
		return math.NaN()
	}
	fa, ea, nanA := split(a)
	fb, eb, nanB := split(b)
	if nanA || nanB {
		return math.NaN()
	}
	_, sum, ok := essential(ea, eb, p)
	if !ok {
		return math.Inf(1)
	}
	total := sum + wassersteinFinite(fa, fb, p)
	switch p {
	case 1:
		return total
	case 2:
		return math.Sqrt(total)
	}
	return math.Pow(total, 1/p)
}

// wassersteinFinite returns the minimal sum of costs^p between finite
// diagrams. The cost matrix is square, n+m: a's points and b's diagonal
// slots against b's points and a's diagonal slots. Any diagonal slot will
// do for a point (they are all the diagonal), so a row of a's point costs
// its diagonal cost in every one of a's slots, and slot-to-slot is free.
func wassersteinFinite(a, b [][2]float64, p float64) float64 {
	if len(a)+len(b) == 0 {
		return 0
	}
	c, N := costMatrix(a, b, p)
	return hungarian(c, N)
}

// costMatrix lays out the augmented (n+m) x (n+m) cost matrix.
func costMatrix(a, b [][2]float64, p float64) ([]float64, int) {
	n, m := len(a), len(b)
	N := n + m
	c := make([]float64, N*N)
	for i := 0; i < N; i++ {
		for j := 0; j < N; j++ {
			var v float64
			switch {
			case i < n && j < m:
				v = pow(linf(a[i], b[j]), p)
			case i < n:
				v = pow(diag(a[i]), p)
			case j < m:
				v = pow(diag(b[j]), p)
			}
			c[i*N+j] = v
		}
	}
	return c, N
}

// hungarian returns the minimum total cost of a perfect assignment of the
// rows to the columns of the N x N cost matrix c (row-major), by shortest
// augmenting paths (the Hungarian method in Jonker and Volgenant's form).
//
// Invariant: with column potentials v, every reduced cost c[r][k] - v[k]
// minus the row's own reduced cost at its assigned column is >= 0, and 0
// on the assignment. Each free row then finds, by Dijkstra over the
// columns, the cheapest alternating path to a free column; the columns
// scanned before it get v[k] += dist[k] - dist[free] so the invariant
// holds for the enlarged assignment. Unscanned columns are kept in a list
// so each Dijkstra step touches only them.
func hungarian(c []float64, N int) float64 {
	v := make([]float64, N)
	owner := make([]int, N) // row assigned to each column, -1 if free
	col := make([]int, N)   // column assigned to each row
	dist := make([]float64, N)
	prev := make([]int, N) // row from which each column was reached
	todo := make([]int, N) // todo[:nt] unscanned, todo[nt:] scanned, newest first
	for k := range owner {
		owner[k] = -1
	}
	for r := range col {
		col[r] = -1
	}
	// Column reduction: v[k] is column k's minimum, which makes every
	// reduced cost >= 0, and a column takes a still free row attaining
	// it. The augmented diagram matrices are full of ties (every diagonal
	// slot costs the same), so most rows are assigned here and the
	// augmenting paths below stay short.
	for k := 0; k < N; k++ {
		lo := math.Inf(1)
		for r := 0; r < N; r++ {
			lo = min(lo, c[r*N+k])
		}
		v[k] = lo
		for r := 0; r < N; r++ {
			if col[r] < 0 && c[r*N+k] == lo {
				owner[k], col[r] = r, k
				break
			}
		}
	}
	for i := 0; i < N; i++ {
		if col[i] >= 0 {
			continue
		}
		row := c[i*N : (i+1)*N]
		for k := 0; k < N; k++ {
			dist[k] = row[k] - v[k]
			prev[k] = i
			todo[k] = k
		}
		nt := N
		free := -1
		for free < 0 {
			// The nearest unscanned column.
			best, bi := math.Inf(1), 0
			for t := 0; t < nt; t++ {
				if d := dist[todo[t]]; d < best {
					best, bi = d, t
				}
			}
			j := todo[bi]
			nt--
			todo[bi], todo[nt] = todo[nt], j
			r := owner[j]
			if r < 0 {
				free = j
				break
			}
			// Extend through row r, which holds j tightly.
			rr := c[r*N : (r+1)*N]
			base := best - (rr[j] - v[j])
			for t := 0; t < nt; t++ {
				k := todo[t]
				if nd := base + rr[k] - v[k]; nd < dist[k] {
					dist[k], prev[k] = nd, r
				}
			}
		}
		// todo[nt] is the free column itself; todo[nt+1:] were scanned.
		for _, k := range todo[nt+1:] {
			v[k] += dist[k] - dist[free]
		}
		for j := free; ; {
			r := prev[j]
			old := col[r]
			owner[j], col[r] = r, j
			if r == i {
				break
			}
			j = old
		}
	}
	// Sum the costs of the assignment itself rather than trusting the
	// potentials, which carry rounding from every update.
	var total float64
	for r := 0; r < N; r++ {
		total += c[r*N+col[r]]
	}
	return total
}
