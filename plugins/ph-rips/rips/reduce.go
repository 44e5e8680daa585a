package rips

import (
	"context"
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
func (e *engine) dim0(ctx context.Context) (pairs []float64, essential int, deathEdge []bool, err error) {
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
	deathEdge = make([]bool, e.binom[2][n])
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
		deathEdge[c.idx] = true
		essential--
		if c.diam > 0 {
			pairs = append(pairs, e.dist64(vs[1], vs[0]))
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

// reducer is the state of the column reduction of one dimension.
//
// Columns are reduced in chunks of consecutive columns. In phase A the
// workers reduce the columns of a chunk concurrently, each against the
// pivots of the chunks before (a map only read meanwhile), until its
// pivot is new to that map. In phase B one goroutine walks the chunk in
// order: a column whose pivot is still free is final; one whose pivot an
// earlier column of the same chunk took is rebuilt from the reduction
// chain of phase A and reduced further. Rebuilds are rare on Rips
// complexes, so the expensive part - summing coboundaries - runs on all
// cores while the result is exactly the sequential one.
type reducer struct {
	e     *engine
	dim   int
	pivot map[int64]pivotRec
	store []vterm
	pairs []rawPair
	ws    []*rworker
	res   []colResult
	// rebuilds counts phase-B re-reductions, for tracing.
	rebuilds int
}

// rworker is one goroutine's working column.
type rworker struct {
	e     *engine
	dim   int
	h     chainHeap
	v     []vterm
	sc    scratch
	arena []vterm // phase-A reduction chains of the current chunk
}

// Outcomes of phase A.
const (
	resEmergent = iota // the unreduced pivot is free: piv
	resZero            // the column reduced to zero
	resPivot           // reduced to pivot piv with chain arena[off:off+n]
)

type colResult struct {
	kind   uint8
	worker uint8
	n      int32
	off    int64
	piv    entry
}

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
// and neither a pivot in pivots nor an apparent pair claims it: it is
// then the pivot of the unreduced column, found without building it.
func (w *rworker) emergent(c column, pivots map[int64]pivotRec) (entry, bool) {
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
	tidx := e.index(tvs)
	if _, in := pivots[tidx]; in {
		return entry{}, false
	}
	coef := e.cofaceSign(vs, v)
	if _, _, app := e.apparentFacet(tvs, c.diam, &w.sc); app {
		return entry{}, false
	}
	return entry{idx: tidx, diam: c.diam, coef: coef}, true
}

// start loads the coboundary of c as the working column.
func (w *rworker) start(c column) {
	vs := w.sc.vs[:w.dim+1]
	w.e.decode(c.idx, w.dim, vs)
	w.h.reset()
	w.v = w.v[:0]
	w.e.pushCoboundary(&w.h, vs, c.diam, 1, &w.sc)
}

// run reduces the working column until its pivot is claimed neither by
// pivots nor by an apparent pair; ok is false if it reduces to zero.
func (w *rworker) run(pivots map[int64]pivotRec, store []vterm) (entry, bool) {
	e := w.e
	p := e.p
	var tv [maxVerts]int32
	for {
		piv, ok := w.h.pivot(p)
		if !ok {
			return entry{}, false
		}
		if rec, in := pivots[piv.idx]; in {
			f := w.mul(p-piv.coef, e.inv[rec.coef])
			w.add(rec.sigma, f)
			for _, t := range store[rec.off : rec.off+int64(rec.n)] {
				w.add(t.idx, w.mul(f, t.coef))
			}
			continue
		}
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
		return piv, true
	}
}

// phaseA reduces column c against the frozen pivots.
func (w *rworker) phaseA(c column, pivots map[int64]pivotRec, store []vterm) colResult {
	if piv, ok := w.emergent(c, pivots); ok {
		return colResult{kind: resEmergent, piv: piv}
	}
	w.start(c)
	piv, ok := w.run(pivots, store)
	if !ok {
		return colResult{kind: resZero}
	}
	off := int64(len(w.arena))
	w.arena = append(w.arena, w.v...)
	return colResult{kind: resPivot, piv: piv, off: off, n: int32(len(w.v))}
}

// finish records the outcome of column c whose working column in w has
// pivot piv (ok) or is zero, storing the consolidated chain w.v.
func (r *reducer) finish(c column, w *rworker, piv entry, ok bool) {
	if !ok {
		r.pairs = append(r.pairs, rawPair{birth: c.idx, death: -1})
		return
	}
	p := r.e.p
	rec := pivotRec{sigma: c.idx, coef: piv.coef, off: int64(len(r.store))}
	if len(w.v) > 0 {
		slices.SortFunc(w.v, func(a, b vterm) int {
			switch {
			case a.idx < b.idx:
				return -1
			case a.idx > b.idx:
				return 1
			}
			return 0
		})
		cur := w.v[0]
		for _, t := range w.v[1:] {
			if t.idx == cur.idx {
				cur.coef = (cur.coef + t.coef) % p
				continue
			}
			if cur.coef != 0 {
				r.store = append(r.store, cur)
			}
			cur = t
		}
		if cur.coef != 0 {
			r.store = append(r.store, cur)
		}
	}
	rec.n = int32(int64(len(r.store)) - rec.off)
	r.pivot[piv.idx] = rec
	if piv.diam > c.diam {
		r.pairs = append(r.pairs, rawPair{birth: c.idx, death: piv.idx})
	}
}

// phaseB settles the columns of one chunk in order.
func (r *reducer) phaseB(chunk []column) {
	w0 := r.ws[0]
	for i, c := range chunk {
		res := r.res[i]
		switch res.kind {
		case resZero:
			r.pairs = append(r.pairs, rawPair{birth: c.idx, death: -1})
			continue
		case resEmergent:
			if _, in := r.pivot[res.piv.idx]; !in {
				r.pivot[res.piv.idx] = pivotRec{sigma: c.idx, coef: res.piv.coef}
				continue
			}
			r.rebuilds++
			w0.start(c)
		case resPivot:
			w := r.ws[res.worker]
			chain := w.arena[res.off : res.off+int64(res.n)]
			if _, in := r.pivot[res.piv.idx]; !in {
				w0.v = append(w0.v[:0], chain...)
				r.finish(c, w0, res.piv, true)
				continue
			}
			// Rebuild the phase-A column and go on reducing.
			r.rebuilds++
			// (chain lives in an arena, which start and add leave alone)
			w0.start(c)
			for _, t := range chain {
				w0.add(t.idx, t.coef)
			}
		}
		piv, ok := w0.run(r.pivot, r.store)
		r.finish(c, w0, piv, ok)
	}
}

// reduceChunk is the largest number of columns reduced concurrently in
// phase A. The chunk size adapts between minChunk and reduceChunk: a
// chunk whose columns often reached the same pivot (each such column is
// rebuilt and reduced again sequentially in phase B) halves it, a chunk
// with few rebuilds doubles it. Early columns of a dimension, reduced
// against few known pivots, tend to collide; later ones rarely do. Tests
// shrink reduceChunk to force rebuilds.
var reduceChunk = 512

const minChunk, firstChunk = 8, 32

// reduce reduces the columns of one dimension in order.
func (e *engine) reduce(ctx context.Context, dim int, cols []column, workers int) (*reducer, error) {
	r := &reducer{e: e, dim: dim, pivot: make(map[int64]pivotRec)}
	pool := &blockPool{}
	for range workers {
		r.ws = append(r.ws, &rworker{e: e, dim: dim, h: chainHeap{pool: pool}})
	}
	if workers == 1 {
		w := r.ws[0]
		for i, c := range cols {
			if i&0x3ff == 0 {
				if err := ctxErr(ctx); err != nil {
					return nil, err
				}
			}
			if piv, ok := w.emergent(c, r.pivot); ok {
				r.pivot[piv.idx] = pivotRec{sigma: c.idx, coef: piv.coef}
				continue
			}
			w.start(c)
			piv, ok := w.run(r.pivot, r.store)
			r.finish(c, w, piv, ok)
		}
		return r, nil
	}
	maxSize := reduceChunk
	lowSize := min(minChunk, maxSize)
	size := min(firstChunk, maxSize)
	r.res = make([]colResult, maxSize)
	var wg sync.WaitGroup
	for lo := 0; lo < len(cols); {
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		chunk := cols[lo:min(lo+size, len(cols))]
		lo += len(chunk)
		var next atomic.Int32
		store := r.store
		for wi, w := range r.ws {
			w.arena = w.arena[:0]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(chunk) {
						return
					}
					res := w.phaseA(chunk[i], r.pivot, store)
					res.worker = uint8(wi)
					r.res[i] = res
				}
			}()
		}
		wg.Wait()
		before := r.rebuilds
		r.phaseB(chunk)
		switch rb := r.rebuilds - before; {
		case rb*8 > len(chunk):
			size = max(size/2, lowSize)
		case rb*32 < len(chunk) && len(chunk) == size:
			size = min(size*2, maxSize)
		}
	}
	return r, nil
}

func defaultWorkers(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}
