package rips

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// rawPair is a persistence pair in simplex form; deaths < 0 are essential.
type rawPair struct {
	birth, death int64
}

// dim0 runs Kruskal's algorithm with union-find on the edges in
// filtration order. The edges that merge two components are the deaths
// of H0 classes; they are exactly the columns cleared in dimension 1.
func (e *engine) dim0(ctx context.Context) (pairs []float64, essential int, deathEdge bitset, err error) {
	if e.dist != nil {
		return e.dim0Prim(ctx)
	}
	n := e.n
	edges := make([]column, 0, len(e.nb)/2)
	for u := 1; u < n; u++ {
		for _, v := range e.nb[e.nbOff[u]:e.nbOff[u+1]] {
			if v < int32(u) {
				edges = append(edges, column{idx: e.binom[2][u] + int64(v), diam: e.d32(int32(u), v)})
			}
		}
	}
	slices.SortFunc(edges, func(a, b column) int {
		if older(a.diam, a.idx, b.diam, b.idx) {
			return -1
		}
		if a.idx == b.idx {
			return 0
		}
		return 1
	})
	parent := make([]int32, n)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	deathEdge = newBitset(e.binom[2][n])
	essential = n
	var vs [2]int32
	for i, c := range edges {
		if i&0xffff == 0 {
			if err := ctxErr(ctx); err != nil {
				return nil, 0, nil, err
			}
		}
		e.decode(c.idx, 1, vs[:])
		a, b := find(vs[0]), find(vs[1])
		if a == b {
			continue
		}
		// Every vertex is born at 0, so which root survives does not
		// change the barcode.
		if a < b {
			a, b = b, a
		}
		parent[a] = b
		deathEdge.set(c.idx)
		essential--
		if c.diam > 0 {
			pairs = append(pairs, e.dist64(vs[1], vs[0]))
		}
	}
	return pairs, essential, deathEdge, nil
}

// dim0Prim is dim0 for the dense form, by Prim's algorithm on the
// matrix: O(n^2) time and O(n) memory, where Kruskal's sorted list of
// every edge within the threshold (16 bytes each) was the dense form's
// memory peak on point clouds at the enclosing radius (nearly all
// pairs). Edges are compared in the filtration order (older: diameter,
// then index), a strict total order, so the minimum spanning forest is
// unique and is the one Kruskal's algorithm finds: the same death edges
// and deaths.
func (e *engine) dim0Prim(ctx context.Context) (pairs []float64, essential int, deathEdge bitset, err error) {
	n := e.n
	deathEdge = newBitset(e.binom[2][n])
	done := make([]bool, n)
	// key[v], keyIdx[v]: the oldest edge from v to the tree, to vertex
	// keyTo[v] (-1: none within the threshold yet).
	key := make([]float32, n)
	keyIdx := make([]int64, n)
	keyTo := make([]int32, n)
	for v := range keyTo {
		keyTo[v] = -1
	}
	next := 0 // lowest vertex that may not be done, for new components
	for added := 0; added < n; added++ {
		if added&0xff == 0 {
			if err := ctxErr(ctx); err != nil {
				return nil, 0, nil, err
			}
		}
		pick := -1
		for v := range n {
			if done[v] || keyTo[v] < 0 {
				continue
			}
			if pick < 0 || older(key[v], keyIdx[v], key[pick], keyIdx[pick]) {
				pick = v
			}
		}
		if pick < 0 {
			// Nothing within the threshold reaches the tree: a new
			// component, whose class never dies.
			for done[next] {
				next++
			}
			pick = next
			essential++
		} else {
			deathEdge.set(keyIdx[pick])
			if key[pick] > 0 {
				u := keyTo[pick]
				pairs = append(pairs, e.dist64(max(int32(pick), u), min(int32(pick), u)))
			}
		}
		done[pick] = true
		row := e.dist[pick*n : (pick+1)*n]
		for v, d := range row {
			if done[v] || d > e.thr {
				continue
			}
			idx := e.binom[2][max(v, pick)] + int64(min(v, pick))
			if keyTo[v] < 0 || older(d, idx, key[v], keyIdx[v]) {
				key[v], keyIdx[v], keyTo[v] = d, idx, int32(pick)
			}
		}
	}
	return pairs, essential, deathEdge, nil
}

// assemble lists the dim-simplices whose coboundary columns must be
// reduced: all simplices within the threshold except those cleared
// (deaths of dimension dim-1) and those in a zero-persistence apparent
// pair, sorted youngest first. The enumeration is split by top vertex
// across workers.
func (e *engine) assemble(ctx context.Context, dim int, workers int, cleared func(idx int64, vs []int32, r float32, sc *scratch) bool) ([]column, error) {
	var next atomic.Int32
	next.Store(int32(e.n))
	parts := make([][]column, workers)
	var wg sync.WaitGroup
	var stop, over atomic.Bool
	budget := &columnBudget{limit: e.memLimit}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var sc scratch
			cand := make([][]int32, dim+1)
			for i := range cand {
				cand[i] = make([]int32, 0, 64)
			}
			var out []column
			for !stop.Load() {
				top := next.Add(-1)
				if top < 0 {
					break
				}
				if ctxErr(ctx) != nil {
					stop.Store(true)
					break
				}
				before := len(out)
				e.forEachSimplex(top, dim, cand, func(vs []int32, r float32) {
					idx := e.index(vs)
					if cleared(idx, vs, r, &sc) {
						return
					}
					if e.apparentCofacet(vs, r, &sc) {
						return
					}
					out = append(out, column{idx: idx, diam: r})
				})
				if !budget.take(len(out) - before) {
					over.Store(true)
					stop.Store(true)
				}
			}
			parts[w] = out
		}(w)
	}
	wg.Wait()
	return gatherColumns(ctx, parts, over.Load(), budget, dim, workers)
}

// youngestFirst orders columns for cohomology: reverse filtration order.
func youngestFirst(a, b column) int {
	if older(b.diam, b.idx, a.diam, a.idx) {
		return -1
	}
	if a.idx == b.idx {
		return 0
	}
	return 1
}

// parallelSort sorts chunks concurrently and merges them pairwise.
func parallelSort(cols []column, workers int) {
	if workers < 2 || len(cols) < 1<<16 {
		slices.SortFunc(cols, youngestFirst)
		return
	}
	mid := len(cols) / 2
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); parallelSort(cols[:mid], workers/2) }()
	parallelSort(cols[mid:], workers-workers/2)
	wg.Wait()
	left := slices.Clone(cols[:mid])
	i, j, k := 0, mid, 0
	for i < len(left) && j < len(cols) {
		if youngestFirst(cols[j], left[i]) < 0 {
			cols[k] = cols[j]
			j++
		} else {
			cols[k] = left[i]
			i++
		}
		k++
	}
	for i < len(left) {
		cols[k] = left[i]
		i++
		k++
	}
}

// The column reduction of one dimension is lock-free, after Morozov and
// Nigmetov ("Towards lockfree persistent homology", SPAA 2020): workers
// take columns in order from a shared counter and reduce each against
// whatever the pivot table holds at that moment. The table maps a pivot
// to the column that owns it; a column may add only columns before it
// in the order (younger simplices), so on reaching a pivot owned by an
// earlier column it adds that column and goes on, and on reaching one
// owned by a later column it takes the pivot over with a compare-and-
// swap and goes on to reduce the column it displaced. Whatever the
// interleaving, the result is a reduction with left-to-right additions
// only, whose pivot pairs are unique (the pairing lemma), so the barcode
// is exactly the sequential one. The chunked scheme this replaces
// settled each chunk on one core and waited at every chunk for its
// slowest column; on seed-like clouds, whose dimension 1 has ~140 huge
// columns, that left the second core idle most of the time.
//
// Our columns are implicit: a column is its simplex plus a reduction
// chain V (R = coboundary of the simplex and the chain), so the table's
// value is an immutable snapshot - owner, pivot with its coefficient,
// consolidated chain - published by one atomic pointer store. A reader
// therefore always gets a pivot and a chain that belong together, and
// a displaced snapshot stays valid (it is still a left-to-right
// combination) for whoever read it before the takeover. Go's garbage
// collector does the memory reclamation the paper needs epochs for.

// colState is the published state of a column that owns a pivot.
type colState struct {
	pos   int32 // the column's position in the reduction order
	piv   entry // its pivot, with the pivot's coefficient
	chain []vterm
}

// pivotTable is a lock-free open-addressing hash map from pivot index to
// the state of its owning column. It never needs to grow: every key
// inserted is owned from then on (ownership moves, it is never dropped)
// and no two keys have the same owner, so a table with twice as many
// slots as columns is at most half full.
type pivotTable struct {
	keys  []atomic.Int64 // pivot index + 1; 0 marks an empty slot
	vals  []atomic.Pointer[colState]
	mask  uint64
	shift uint
	count int
}

func newPivotTable(cols int) *pivotTable {
	bits := uint(4)
	for 1<<bits < 2*cols {
		bits++
	}
	return &pivotTable{
		keys:  make([]atomic.Int64, 1<<bits),
		vals:  make([]atomic.Pointer[colState], 1<<bits),
		mask:  1<<bits - 1,
		shift: 64 - bits,
	}
}

// home is the first slot probed for key k (Fibonacci hashing: simplex
// indices are far from uniform in their low bits).
func (t *pivotTable) home(k int64) uint64 { return (uint64(k) * 0x9E3779B97F4A7C15) >> t.shift }

// lookup returns the slot of pivot idx (-1 if absent) and its owner.
func (t *pivotTable) lookup(idx int64) (int, *colState) {
	k := idx + 1
	for i := t.home(k); ; i = (i + 1) & t.mask {
		switch t.keys[i].Load() {
		case k:
			return int(i), t.vals[i].Load()
		case 0:
			return -1, nil
		}
	}
}

// insert returns the slot of pivot idx, taking an empty one if absent.
func (t *pivotTable) insert(idx int64) int {
	k := idx + 1
	for i := t.home(k); ; i = (i + 1) & t.mask {
		cur := t.keys[i].Load()
		if cur == 0 && t.keys[i].CompareAndSwap(0, k) {
			return int(i)
		}
		if cur == 0 {
			cur = t.keys[i].Load()
		}
		if cur == k {
			return int(i)
		}
	}
}

// has reports whether idx is a pivot; nil holds nothing.
func (t *pivotTable) has(idx int64) bool {
	if t == nil {
		return false
	}
	k := idx + 1
	for i := t.home(k); ; i = (i + 1) & t.mask {
		switch t.keys[i].Load() {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// each calls fn on every pivot.
func (t *pivotTable) each(fn func(idx int64)) {
	if t == nil {
		return
	}
	for i := range t.keys {
		if k := t.keys[i].Load(); k != 0 {
			fn(k - 1)
		}
	}
}

// reducer is the state of the column reduction of one dimension.
type reducer struct {
	e     *engine
	dim   int
	cols  []column
	tab   *pivotTable
	pairs []rawPair
	ws    []*rworker
	// chainTerms and steals are totals for tracing.
	chainTerms, steals int
}

// rworker is one goroutine's working column and its allocation slabs.
type rworker struct {
	e   *engine
	dim int
	h   chainHeap
	v   []vterm
	sc  scratch
	// States and chains are carved from slabs, so publishing a column
	// costs no allocation of its own and the collector sees few objects.
	states []colState
	terms  []vterm
	zeros  []int32 // positions of the columns that reduced to zero
	steals int
	// nterms counts the chain terms published, for tracing.
	nterms int
}

const stateSlab, termSlab = 1024, 1 << 14

func (w *rworker) mul(a, b int32) int32 { return int32(int64(a) * int64(b) % int64(w.e.p)) }

// add adds f times the coboundary of simplex idx to the working column
// and records the term in the working reduction chain.
func (w *rworker) add(idx int64, f int32) {
	e := w.e
	vs := w.sc.vs[:w.dim+1]
	e.decode(idx, w.dim, vs)
	e.pushCoboundary(&w.h, vs, e.diam(vs), f, &w.sc)
	w.v = append(w.v, vterm{idx: idx, coef: f})
}

// emergent reports the oldest coface of c when it has the same diameter
// and is not the younger half of an apparent pair: it is then the pivot
// of the unreduced column, found without building it.
func (w *rworker) emergent(c column) (entry, bool) {
	e := w.e
	vs := w.sc.vs[:w.dim+1]
	e.decode(c.idx, w.dim, vs)
	v := e.maxCoface(vs, c.diam, -1)
	if v < 0 {
		return entry{}, false
	}
	var tv [maxVerts]int32
	k := 0
	ins := false
	for _, u := range vs {
		if !ins && v < u {
			tv[k] = v
			k++
			ins = true
		}
		tv[k] = u
		k++
	}
	if !ins {
		tv[k] = v
	}
	tvs := tv[:w.dim+2]
	coef := e.cofaceSign(vs, v)
	if _, _, app := e.apparentFacet(tvs, c.diam, &w.sc); app {
		return entry{}, false
	}
	return entry{idx: e.index(tvs), diam: c.diam, coef: coef}, true
}

// start loads the coboundary of c as the working column.
func (w *rworker) start(c column) {
	vs := w.sc.vs[:w.dim+1]
	w.e.decode(c.idx, w.dim, vs)
	w.h.reset()
	w.v = w.v[:0]
	w.e.pushCoboundary(&w.h, vs, c.diam, 1, &w.sc)
}

// publish makes the snapshot of column pos with pivot piv and the
// working chain w.v, summed by simplex.
func (w *rworker) publish(pos int32, piv entry, withChain bool) *colState {
	if len(w.states) == 0 {
		w.states = make([]colState, stateSlab)
	}
	st := &w.states[0]
	w.states = w.states[1:]
	st.pos, st.piv = pos, piv
	if !withChain || len(w.v) == 0 {
		return st
	}
	p := w.e.p
	slices.SortFunc(w.v, func(a, b vterm) int {
		switch {
		case a.idx < b.idx:
			return -1
		case a.idx > b.idx:
			return 1
		}
		return 0
	})
	if len(w.terms) < len(w.v) {
		w.terms = make([]vterm, max(termSlab, len(w.v)))
	}
	out := w.terms[:0:len(w.v)]
	cur := w.v[0]
	for _, t := range w.v[1:] {
		if t.idx == cur.idx {
			cur.coef = (cur.coef + t.coef) % p
			continue
		}
		if cur.coef != 0 {
			out = append(out, cur)
		}
		cur = t
	}
	if cur.coef != 0 {
		out = append(out, cur)
	}
	w.terms = w.terms[len(out):]
	st.chain = out
	w.nterms += len(out)
	return st
}

// claim tries to make st the owner of its pivot in slot (-1: not yet in
// the table), replacing cur. It returns whether it did.
func (r *reducer) claim(slot int, cur, st *colState) bool {
	if slot < 0 {
		slot = r.tab.insert(st.piv.idx)
	}
	return r.tab.vals[slot].CompareAndSwap(cur, st)
}

// column reduces the column at pos, starting over from its displaced
// state old if it had one, until it owns a pivot or is zero. It returns
// the state of a later column it displaced, which the caller reduces
// next, or nil.
func (w *rworker) column(r *reducer, pos int32, old *colState) *colState {
	e := w.e
	p := e.p
	c := r.cols[pos]
	if old == nil {
		if piv, ok := w.emergent(c); ok {
			for {
				slot, cur := r.tab.lookup(piv.idx)
				if cur != nil && cur.pos < pos {
					break
				}
				st := w.publish(pos, piv, false)
				if r.claim(slot, cur, st) {
					return cur
				}
			}
		}
		w.start(c)
	} else {
		w.start(c)
		for _, t := range old.chain {
			w.add(t.idx, t.coef)
		}
	}
	var tv [maxVerts]int32
	for {
		piv, ok := w.h.pivot(p)
		if !ok {
			w.zeros = append(w.zeros, pos)
			return nil
		}
		slot, cur := r.tab.lookup(piv.idx)
		if cur != nil && cur.pos < pos {
			f := w.mul(p-piv.coef, e.inv[cur.piv.coef])
			w.add(r.cols[cur.pos].idx, f)
			for _, t := range cur.chain {
				w.add(t.idx, w.mul(f, t.coef))
			}
			continue
		}
		if cur == nil {
			// Never owned, so perhaps the younger half of an apparent
			// pair (those are never claimed: whoever reaches one adds
			// its older half instead).
			tvs := tv[:w.dim+2]
			e.decode(piv.idx, w.dim+1, tvs)
			if rho, removed, app := e.apparentFacet(tvs, piv.diam, &w.sc); app {
				rvs := w.sc.ws[:0]
				for _, u := range tvs {
					if u != removed {
						rvs = append(rvs, u)
					}
				}
				sign := e.cofaceSign(rvs, removed)
				w.add(rho, w.mul(p-piv.coef, e.inv[sign]))
				continue
			}
		}
		if r.claim(slot, cur, w.publish(pos, piv, true)) {
			return cur
		}
		// Another worker changed the owner meanwhile: look again.
	}
}

// reorder, set by tests, gives the order in which workers take the
// columns (a permutation of 0..n-1) in place of 0..n-1, to force
// takeovers even on one worker.
var reorder func(n int) []int32

// reduce reduces the columns of one dimension.
func (e *engine) reduce(ctx context.Context, dim int, cols []column, workers int) (*reducer, error) {
	if len(cols) >= 1<<31-1 {
		return nil, fmt.Errorf("rips: dimension %d has %d columns, more than the reduction can number", dim, len(cols))
	}
	r := &reducer{e: e, dim: dim, cols: cols, tab: newPivotTable(len(cols))}
	pool := &blockPool{}
	defer func() {
		for _, w := range r.ws {
			w.h = chainHeap{}
		}
		pool.release()
	}()
	workers = max(1, min(workers, len(cols)))
	for range workers {
		r.ws = append(r.ws, &rworker{e: e, dim: dim, h: chainHeap{pool: pool, packed: e.packable(dim)}})
	}
	var order []int32
	if reorder != nil {
		order = reorder(len(cols))
	}
	var next atomic.Int64
	var stop atomic.Bool
	work := func(w *rworker) {
		for !stop.Load() {
			k := next.Add(1) - 1
			if k >= int64(len(cols)) {
				return
			}
			if k&0x3ff == 0 && ctxErr(ctx) != nil {
				stop.Store(true)
				return
			}
			pos := int32(k)
			if order != nil {
				pos = order[k]
			}
			for st := w.column(r, pos, nil); st != nil; {
				w.steals++
				st = w.column(r, st.pos, st)
			}
		}
	}
	if workers == 1 {
		work(r.ws[0])
	} else {
		var wg sync.WaitGroup
		for _, w := range r.ws {
			wg.Add(1)
			go func() { defer wg.Done(); work(w) }()
		}
		wg.Wait()
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	for i := range r.tab.vals {
		st := r.tab.vals[i].Load()
		if st == nil {
			continue
		}
		r.tab.count++
		if c := cols[st.pos]; st.piv.diam > c.diam {
			r.pairs = append(r.pairs, rawPair{birth: c.idx, death: st.piv.idx})
		}
	}
	zeros := 0
	for _, w := range r.ws {
		for _, pos := range w.zeros {
			r.pairs = append(r.pairs, rawPair{birth: cols[pos].idx, death: -1})
		}
		zeros += len(w.zeros)
		r.chainTerms += w.nterms
		r.steals += w.steals
	}
	if r.tab.count+zeros != len(cols) {
		// Every column ends owning a pivot or zero; anything else is a
		// bug in the takeover logic, better loud than a wrong barcode.
		return nil, fmt.Errorf("rips: internal error: dimension %d: %d columns own a pivot and %d are zero, of %d", dim, r.tab.count, zeros, len(cols))
	}
	return r, nil
}

// pivots returns the pivot set of the finished reduction, for clearing
// in the next dimension, and lets the chains go: the keys alone say
// which simplices are pivots, so the next dimension does not hold what
// this one needed.
func (r *reducer) pivots() *pivotTable {
	t := r.tab
	t.vals = nil
	r.tab = nil
	r.ws = nil
	return t
}

func defaultWorkers(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}
