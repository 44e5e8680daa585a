package rips

import (
	"context"
	"math"
	"sort"
)

// engine holds the read-only description of the filtration shared by all
// workers: float32 distances (what Ripser stores, half the memory and
// cache footprint of float64), the neighbour graph below the threshold,
// and the binomial table of the combinatorial number system.
//
// Distances are held in one of two forms (see useSparse for the choice).
// Dense: the full n x n float32 matrix, one load per lookup. Sparse: no
// matrix at all; the neighbour lists carry the distances, and a pair
// absent from them is beyond the threshold. On thresholded inputs with
// many points the lists are a small fraction of n*n.
type engine struct {
	n      int
	maxDim int
	p      int32
	thr    float32
	// dist is the full n x n matrix in float32 (nil when sparse); rows
	// are contiguous so a scan over candidate vertices reads memory in
	// order.
	dist []float32
	// nb[nbOff[u]:nbOff[u+1]] are the neighbours v != u with
	// dist(u,v) <= thr, in decreasing vertex order.
	nbOff []int32
	nb    []int32
	// nbD holds the float32 distances of nb (sparse engines only), and
	// nbD64 the caller's float64 ones when there is no dense float64
	// matrix d64 to read them from.
	nbD   []float32
	nbD64 []float64
	// byD[nbOff[u]:nbOff[u+1]] are the same neighbours sorted by
	// increasing distance, with those distances in byDd (nil when lean);
	// used to find
	// every vertex within a given radius of u without a full scan.
	byD  []int32
	byDd []float32
	// lean (dense form only) drops byDd and reads those distances from
	// dist, searching the sampled ones (samp) first: a quarter less
	// memory on clouds at the enclosing radius (nearly all pairs listed;
	// 2000 points in R^3: 88-91 -> 74-75 MB) for ~5% more CPU
	// (measured with nthost tda --points under scripts/proc-cpu.py).
	lean bool
	// samp[sampOff[u]:sampOff[u+1]] (lean engines) are the distances of
	// every sampleStep-th entry of u's list in byD.
	sampOff []int32
	samp    []float32
	// binom[k][x] = C(x, k) for k <= maxDim+2, x <= n.
	binom [][]int64
	inv   []int32 // multiplicative inverses mod p
	d64   []float64
	// pts are the points (ptsDim coordinates each) whose Euclidean
	// distances the engine holds, when there is neither d64 nor nbD64:
	// the few float64 values reported are recomputed from them rather
	// than kept as an n x n matrix.
	pts    []float64
	ptsDim int
	// memLimit bounds the bytes of columns an assembly may keep.
	memLimit int64
}

func newEngine(d []float64, n, maxDim int, thr float32, p int) *engine {
	dist := make([]float32, n*n)
	for i, v := range d {
		dist[i] = float32(v)
	}
	e := newDenseEngine(dist, n, maxDim, thr, p, false)
	e.d64 = d
	return e
}

// newDenseEngine builds the dense form on the float32 matrix dist alone;
// the caller says where the float64 distances come from (d64 or pts).
func newDenseEngine(dist []float32, n, maxDim int, thr float32, p int, lean bool) *engine {
	e := &engine{n: n, maxDim: maxDim, p: int32(p), thr: thr, dist: dist, lean: lean}
	e.nbOff = make([]int32, n+1)
	cnt := 0
	for u := 0; u < n; u++ {
		row := e.dist[u*n : (u+1)*n]
		for v := n - 1; v >= 0; v-- {
			if v != u && row[v] <= thr {
				cnt++
			}
		}
		e.nbOff[u+1] = int32(cnt)
	}
	e.nb = make([]int32, cnt)
	for u := 0; u < n; u++ {
		row := e.dist[u*n : (u+1)*n]
		k := e.nbOff[u]
		for v := n - 1; v >= 0; v-- {
			if v != u && row[v] <= thr {
				e.nb[k] = int32(v)
				k++
			}
		}
	}
	e.sortByDistance(func(u int, k int32) float32 { return e.dist[u*n+int(e.nb[k])] })
	e.tables(p)
	return e
}

// newSparseEngine builds an engine on neighbour lists alone (adj), with
// d64 the caller's dense float64 matrix if there is one (else the lists'
// own float64 distances are used).
func newSparseEngine(adj *adjacency, d64 []float64, maxDim int, thr float32, p int) *engine {
	e := &engine{n: adj.n, maxDim: maxDim, p: int32(p), thr: thr, d64: d64,
		nbOff: adj.off, nb: adj.nb, nbD: adj.d, nbD64: adj.d64}
	if d64 != nil {
		e.nbD64 = nil
	}
	e.sortByDistance(func(_ int, k int32) float32 { return e.nbD[k] })
	e.tables(p)
	return e
}

// sortByDistance fills byD and byDd from nb, dk(u, k) being the distance
// of the neighbour nb[k] of u.
func (e *engine) sortByDistance(dk func(u int, k int32) float32) {
	cnt := len(e.nb)
	e.byD = make([]int32, cnt)
	if !e.lean {
		e.byDd = make([]float32, cnt)
	}
	var ks []int32
	for u := 0; u < e.n; u++ {
		a, b := e.nbOff[u], e.nbOff[u+1]
		ks = ks[:0]
		for k := a; k < b; k++ {
			ks = append(ks, k)
		}
		// Stable on the decreasing vertex order, so equal distances keep
		// one order whichever form the engine has.
		sort.SliceStable(ks, func(i, j int) bool { return dk(u, ks[i]) < dk(u, ks[j]) })
		for i, k := range ks {
			e.byD[int(a)+i] = e.nb[k]
			if e.byDd != nil {
				e.byDd[int(a)+i] = dk(u, k)
			}
		}
	}
	if e.lean {
		e.sampOff = make([]int32, e.n+1)
		for u := 0; u < e.n; u++ {
			l := int(e.nbOff[u+1] - e.nbOff[u])
			e.sampOff[u+1] = e.sampOff[u] + int32((l+sampleStep-1)/sampleStep)
		}
		e.samp = make([]float32, e.sampOff[e.n])
		for u := 0; u < e.n; u++ {
			a, b := int(e.nbOff[u]), int(e.nbOff[u+1])
			row := e.dist[u*e.n : (u+1)*e.n]
			for k, j := a, e.sampOff[u]; k < b; k, j = k+sampleStep, j+1 {
				e.samp[j] = row[e.byD[k]]
			}
		}
	}
}

// sampleStep is the spacing of the distances a lean engine keeps from
// each sorted neighbour list (samp): a search for a radius runs on them
// first, so that only log2(sampleStep) steps read the matrix through the
// neighbour index, for 1/sampleStep of byDd's memory.
const sampleStep = 8

// tables fills the binomial table and the inverses mod p.
func (e *engine) tables(p int) {
	n, maxDim := e.n, e.maxDim
	e.binom = make([][]int64, maxDim+3)
	for k := range e.binom {
		e.binom[k] = make([]int64, n+1)
		for x := 0; x <= n; x++ {
			switch {
			case k == 0:
				e.binom[k][x] = 1
			case x == 0:
				e.binom[k][x] = 0
			default:
				e.binom[k][x] = e.binom[k-1][x-1] + e.binom[k][x-1]
			}
		}
	}
	e.inv = make([]int32, p)
	for a := 1; a < p; a++ {
		e.inv[a] = int32(powMod(a, p-2, p)) // Fermat: a^(p-2) = 1/a mod p
	}
}

// find returns the position k of v in u's neighbour list, or -1.
func (e *engine) find(u, v int32) int32 {
	lo, hi := e.nbOff[u], e.nbOff[u+1]
	// The list decreases: find the first entry <= v.
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		if e.nb[m] > v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < e.nbOff[u+1] && e.nb[lo] == v {
		return lo
	}
	return -1
}

// d32 is the float32 distance of u and v; in a sparse engine pairs
// beyond the threshold (and u == v) read as +Inf, which every caller
// treats as "not within r".
func (e *engine) d32(u, v int32) float32 {
	if e.dist != nil {
		return e.dist[int(u)*e.n+int(v)]
	}
	return e.sparseD(u, v)
}

func (e *engine) sparseD(u, v int32) float32 {
	if k := e.find(u, v); k >= 0 {
		return e.nbD[k]
	}
	return float32(math.Inf(1))
}

// dist64 is the caller's float64 distance of u and v, for reporting
// births and deaths; u and v must be within the threshold.
func (e *engine) dist64(u, v int32) float64 {
	if e.d64 != nil {
		return e.d64[int(u)*e.n+int(v)]
	}
	if e.pts != nil {
		return pointDist(e.pts, e.ptsDim, int(u), int(v))
	}
	return e.nbD64[e.find(u, v)]
}

func powMod(a, k, p int) int {
	r := 1
	a %= p
	for ; k > 0; k >>= 1 {
		if k&1 == 1 {
			r = r * a % p
		}
		a = a * a % p
	}
	return r
}

// decode writes the dim+1 vertices of simplex idx into vs in increasing
// order, inverting idx = sum_i C(vs[i], i+1).
func (e *engine) decode(idx int64, dim int, vs []int32) {
	hi := e.n - 1
	for k := dim + 1; k >= 1; k-- {
		b := e.binom[k]
		// largest x in [k-1, hi] with C(x,k) <= idx
		lo, h := k-1, hi
		for lo < h {
			m := (lo + h + 1) / 2
			if b[m] <= idx {
				lo = m
			} else {
				h = m - 1
			}
		}
		vs[k-1] = int32(lo)
		idx -= b[lo]
		hi = lo - 1
	}
}

// index is the inverse of decode for vertices in increasing order.
func (e *engine) index(vs []int32) int64 {
	var s int64
	for i, v := range vs {
		s += e.binom[i+1][v]
	}
	return s
}

// diam is the largest pairwise float32 distance among vs.
func (e *engine) diam(vs []int32) float32 {
	var d float32
	n := e.n
	if e.dist == nil {
		for i := 1; i < len(vs); i++ {
			for j := 0; j < i; j++ {
				d = max(d, e.sparseD(vs[i], vs[j]))
			}
		}
		return d
	}
	for i := 1; i < len(vs); i++ {
		row := e.dist[int(vs[i])*n:]
		for j := 0; j < i; j++ {
			if x := row[vs[j]]; x > d {
				d = x
			}
		}
	}
	return d
}

// diam64 is diam on the caller's float64 distances, used only to report
// births and deaths exactly as given.
func (e *engine) diam64(vs []int32) float64 {
	var d float64
	for i := 1; i < len(vs); i++ {
		for j := 0; j < i; j++ {
			if x := e.dist64(vs[i], vs[j]); x > d {
				d = x
			}
		}
	}
	return d
}

// maxCoface returns the largest vertex v > lo, not in vs, with
// dist(u,v) <= r for every u in vs, or -1. With r = diam(vs) it finds the
// oldest coface of equal diameter: cofaces of the same diameter are
// ordered by index, and index grows with the added vertex.
func (e *engine) maxCoface(vs []int32, r float32, lo int32) int32 {
	n := e.n
	if e.dist == nil {
		return e.maxCofaceSparse(vs, r, lo)
	}
	best, bestCnt := e.fewestWithin(vs, r)
	if bestCnt == 0 {
		return -1
	}
	if bestCnt <= 48 || bestCnt*8 < int(int32(n)-1-lo) {
		bu := vs[best]
		a := int(e.nbOff[bu])
		found := int32(-1)
		for _, v := range e.byD[a : a+bestCnt] {
			if v <= lo || v <= found {
				continue
			}
			ok := true
			for _, u := range vs {
				if u == v || e.dist[int(u)*n+int(v)] > r {
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
	bu := vs[best]
	a, b := int(e.nbOff[bu]), int(e.nbOff[bu+1])
	for _, v := range e.nb[a:b] {
		if v <= lo {
			break
		}
		ok := true
		for _, u := range vs {
			if u == v || e.dist[int(u)*n+int(v)] > r {
				ok = false
				break
			}
		}
		if ok {
			return v
		}
	}
	return -1
}

// maxVerts is the most vertices a simplex handled by the engine may have
// (the cofaces of the top dimension included). It costs nothing to be
// generous: checkSize admits dimension k on n points only if C(n, k+2)
// (or C(n, n/2)) fits in 62 bits, and C(66, 33) > 2^62, so a coface
// never has more than 66 vertices.
const maxVerts = 66

// scratch is per-worker memory so the hot loops allocate nothing.
type scratch struct {
	vs, ws, fs [maxVerts]int32
	below      [maxVerts]int64
	above      [maxVerts]int64
	rows       [maxVerts][]float32
	cur, end   [maxVerts]int32 // list cursors of the sparse coboundary
}

// youngestFacet returns the facet of the simplex with vertices vs
// (increasing, diameter r) that is youngest among facets of the same
// diameter, i.e. the one with the smallest index; removed is the vertex
// it lacks. ok is false if no facet has diameter r. Facet indices fall
// as the removed vertex rises, so the first facet of diameter r found
// removing vertices from the top is the one.
func (e *engine) youngestFacet(vs []int32, r float32, fs []int32) (idx int64, removed int32, ok bool) {
	for skip := len(vs) - 1; skip >= 0; skip-- {
		f := fs[:0]
		for i, v := range vs {
			if i != skip {
				f = append(f, v)
			}
		}
		if e.diam(f) == r {
			return e.index(f), vs[skip], true
		}
	}
	return 0, 0, false
}

// apparentFacet reports whether the simplex vs (diameter r) is the
// younger half of a zero-persistence apparent pair (rho, tau=vs): rho is
// its youngest facet and tau is rho's oldest coface. Such pairs are never
// stored; they are recognised again whenever needed.
func (e *engine) apparentFacet(vs []int32, r float32, sc *scratch) (rho int64, removed int32, ok bool) {
	rho, removed, ok = e.youngestFacet(vs, r, sc.fs[:])
	if !ok {
		return 0, 0, false
	}
	f := sc.ws[:0]
	for _, v := range vs {
		if v != removed {
			f = append(f, v)
		}
	}
	// tau is rho's oldest coface iff no larger vertex also keeps diameter r.
	if e.maxCoface(f, r, removed) >= 0 {
		return 0, 0, false
	}
	return rho, removed, true
}

// apparentCofacet reports whether the simplex vs (diameter r) is the
// older half of a zero-persistence apparent pair, i.e. its column needs
// no reduction at all.
func (e *engine) apparentCofacet(vs []int32, r float32, sc *scratch) bool {
	v := e.maxCoface(vs, r, -1)
	if v < 0 {
		return false
	}
	t := sc.ws[:0]
	inserted := false
	for _, u := range vs {
		if !inserted && v < u {
			t = append(t, v)
			inserted = true
		}
		t = append(t, u)
	}
	if !inserted {
		t = append(t, v)
	}
	_, removed, ok := e.youngestFacet(t, r, sc.fs[:])
	return ok && removed == v
}

// cofaceSign is the coefficient of the coface vs+{v} in the coboundary
// of vs: (-1)^j where j counts vertices of vs below v.
func (e *engine) cofaceSign(vs []int32, v int32) int32 {
	j := 0
	for _, u := range vs {
		if u < v {
			j++
		}
	}
	if j&1 == 1 {
		return e.p - 1
	}
	return 1 % e.p
}

// pushCoboundary adds coef times the coboundary of the simplex vs
// (diameter r) to h, restricted to cofaces within the threshold.
func (e *engine) pushCoboundary(h *chainHeap, vs []int32, r float32, coef int32, sc *scratch) {
	if e.dist == nil {
		e.pushCoboundarySparse(h, vs, r, coef, sc)
		return
	}
	k := len(vs)
	n := e.n
	best := e.cofaceSetup(vs, sc)
	neg := (e.p - coef) % e.p
	j := k
	thr := e.thr
	old := h.len()
	// The rows of the other vertices, as full-length slices so that
	// indexing by any neighbour needs no further bounds arithmetic.
	rows := sc.rows[:0]
	for _, u := range vs {
		if u != best {
			rows = append(rows, e.dist[int(u)*n:int(u)*n+n])
		}
	}
	bestRow := e.dist[int(best)*n : int(best)*n+n]
	for _, v := range e.nb[e.nbOff[best]:e.nbOff[best+1]] {
		for j > 0 && vs[j-1] >= v {
			j--
		}
		if j < k && vs[j] == v {
			continue
		}
		d := max(r, bestRow[v]) // within thr: v is a neighbour of best
		ok := true
		for _, row := range rows {
			x := row[v]
			if x > thr {
				ok = false
				break
			}
			if x > d {
				d = x
			}
		}
		if !ok {
			continue
		}
		c := coef
		if j&1 == 1 {
			c = neg
		}
		h.append(entry{idx: sc.below[j] + e.binom[j+1][v] + sc.above[j], diam: d, coef: c})
	}
	h.fix(old)
}

// forEachSimplex calls fn for every dim-simplex with diameter within the
// threshold whose largest vertex is top, with vertices in increasing order.
// It enumerates cliques of the neighbour graph downwards from top, so
// every simplex is produced exactly once and nothing is stored.
func (e *engine) forEachSimplex(top int32, dim int, cand [][]int32, fn func(vs []int32, r float32)) {
	var vs [maxVerts]int32
	var rs [maxVerts]float32
	vs[dim] = top
	rs[dim] = 0
	if dim == 0 {
		fn(vs[:1], 0)
		return
	}
	// cand[l] are vertices below vs[l+1] adjacent to vs[l+1..dim].
	c := cand[dim-1][:0]
	for _, v := range e.nb[e.nbOff[top]:e.nbOff[top+1]] {
		if v < top {
			c = append(c, v)
		}
	}
	cand[dim-1] = c
	e.cliques(dim-1, dim, vs[:], rs[:], cand, fn)
}

func (e *engine) cliques(l, dim int, vs []int32, rs []float32, cand [][]int32, fn func(vs []int32, r float32)) {
	if e.dist == nil {
		e.cliquesSparse(l, dim, vs, rs, cand, fn)
		return
	}
	n := e.n
	for _, v := range cand[l] {
		vs[l] = v
		r := rs[l+1]
		for i := l + 1; i <= dim; i++ {
			if x := e.dist[int(vs[i])*n+int(v)]; x > r {
				r = x
			}
		}
		rs[l] = r
		if l == 0 {
			fn(vs[:dim+1], r)
			continue
		}
		next := cand[l-1][:0]
		row := e.dist[int(v)*n:]
		for _, w := range cand[l] {
			if w < v && row[w] <= e.thr {
				next = append(next, w)
			}
		}
		cand[l-1] = next
		e.cliques(l-1, dim, vs, rs, cand, fn)
	}
}

// column is a simplex whose coboundary has to be reduced.
type column struct {
	idx  int64
	diam float32
}

// vterm is one term of a stored reduction chain.
type vterm struct {
	idx  int64
	coef int32
}

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// fewestWithin finds the vertex of vs with the fewest neighbours within
// r (its position in vs and that count): any coface within r must be a
// neighbour of every vertex, so the shortest list bounds the search.
func (e *engine) fewestWithin(vs []int32, r float32) (best, cnt int) {
	best, cnt = 0, math.MaxInt
	if e.lean {
		return e.fewestWithinDense(vs, r)
	}
	for i, u := range vs {
		if c := countAtMost(e.byDd[e.nbOff[u]:e.nbOff[u+1]], r); c < cnt {
			best, cnt = i, c
		}
	}
	return best, cnt
}

// countAtMost is the number of entries of the ascending list s that are
// <= r.
func countAtMost(s []float32, r float32) int {
	c, hi := 0, len(s)
	for c < hi {
		m := int(uint(c+hi) >> 1)
		if s[m] <= r {
			c = m + 1
		} else {
			hi = m
		}
	}
	return c
}

// fewestWithinDense is fewestWithin for a lean engine, reading the
// distances of the sorted lists from the matrix.
func (e *engine) fewestWithinDense(vs []int32, r float32) (best, cnt int) {
	best, cnt = 0, math.MaxInt
	for i, u := range vs {
		a, l := int(e.nbOff[u]), int(e.nbOff[u+1]-e.nbOff[u])
		// j = number of samples <= r: entry (j-1)*sampleStep is within
		// r, entry j*sampleStep (if any) is not.
		j := countAtMost(e.samp[e.sampOff[u]:e.sampOff[u+1]], r)
		c := 0
		if j > 0 {
			lst := e.byD[a : a+l]
			row := e.dist[int(u)*e.n : (int(u)+1)*e.n]
			c = (j-1)*sampleStep + 1
			hi := min(j*sampleStep, l)
			for c < hi {
				m := int(uint(c+hi) >> 1)
				if row[lst[m]] <= r {
					c = m + 1
				} else {
					hi = m
				}
			}
		}
		if c < cnt {
			best, cnt = i, c
		}
	}
	return best, cnt
}

// cofaceSetup prepares a coboundary walk over vs: sc.below[j] and
// sc.above[j] hold the index parts of the vertices below and above
// position j, so idx(vs+{v}) = below[j] + C(v, j+1) + above[j] costs one
// lookup per coface; it returns the vertex with the fewest neighbours,
// whose list bounds the walk.
func (e *engine) cofaceSetup(vs []int32, sc *scratch) int32 {
	k := len(vs)
	var acc int64
	for j := 0; j <= k; j++ {
		sc.below[j] = acc
		if j < k {
			acc += e.binom[j+1][vs[j]]
		}
	}
	acc = 0
	for j := k; j >= 0; j-- {
		sc.above[j] = acc
		if j > 0 {
			acc += e.binom[j+1][vs[j-1]]
		}
	}
	best, bestCnt := vs[0], int32(math.MaxInt32)
	for _, u := range vs {
		if c := e.nbOff[u+1] - e.nbOff[u]; c < bestCnt {
			best, bestCnt = u, c
		}
	}
	return best
}
