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
				edges = append(edges, column{idx: e.binom[2][u] + int64(v), diam: e.dist[u*n+int(v)]})
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
			pairs = append(pairs, e.d64[int(vs[1])*n+int(vs[0])])
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
	var stop atomic.Bool
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
			}
			parts[w] = out
		}(w)
	}
	wg.Wait()
	if err := ctxErr(ctx); err != nil {
		return nil, err
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

// reducer is the state of the sequential column reduction of one
// dimension.
type reducer struct {
	e     *engine
	dim   int
	pivot map[int64]pivotRec
	store []vterm
	h     chainHeap
	v     []vterm
	sc    scratch
	pairs []rawPair
}

// add adds f times the coboundary of simplex idx to the working column
// and records the term in the working reduction chain.
func (r *reducer) add(idx int64, f int32) {
	e := r.e
	vs := r.sc.vs[:r.dim+1]
	e.decode(idx, r.dim, vs)
	e.pushCoboundary(&r.h, vs, e.diam(vs), f, &r.sc)
	r.v = append(r.v, vterm{idx: idx, coef: f})
}

func (r *reducer) mul(a, b int32) int32 { return int32(int64(a) * int64(b) % int64(r.e.p)) }

// reduceColumn reduces the coboundary of one column against the pivots
// found so far and records the resulting pair or essential class.
func (r *reducer) reduceColumn(c column) {
	e := r.e
	p := e.p
	dim := r.dim
	vs := r.sc.vs[:dim+1]
	e.decode(c.idx, dim, vs)

	// Emergent pair: the oldest coface has the same diameter and no
	// younger column has claimed it, so it is the pivot of the unreduced
	// column and the pair is found without building the column.
	if v := e.maxCoface(vs, c.diam, -1); v >= 0 {
		t := r.sc.fs[:0]
		ins := false
		for _, u := range vs {
			if !ins && v < u {
				t = append(t, v)
				ins = true
			}
			t = append(t, u)
		}
		if !ins {
			t = append(t, v)
		}
		var tv [8]int32
		copy(tv[:], t)
		tvs := tv[:dim+2]
		tidx := e.index(tvs)
		if _, in := r.pivot[tidx]; !in {
			if _, _, app := e.apparentFacet(tvs, c.diam, &r.sc); !app {
				r.pivot[tidx] = pivotRec{sigma: c.idx, coef: e.cofaceSign(vs, v)}
				return
			}
		}
	}

	r.h = r.h[:0]
	r.v = r.v[:0]
	e.pushCoboundary(&r.h, vs, c.diam, 1, &r.sc)
	var tv [8]int32
	for {
		piv, ok := r.h.pivot(p)
		if !ok {
			r.pairs = append(r.pairs, rawPair{birth: c.idx, death: -1})
			return
		}
		if rec, in := r.pivot[piv.idx]; in {
			f := r.mul(p-piv.coef, e.inv[rec.coef])
			r.add(rec.sigma, f)
			for _, t := range r.store[rec.off : rec.off+int64(rec.n)] {
				r.add(t.idx, r.mul(f, t.coef))
			}
			continue
		}
		tvs := tv[:dim+2]
		e.decode(piv.idx, dim+1, tvs)
		if rho, removed, app := e.apparentFacet(tvs, piv.diam, &r.sc); app {
			rvs := r.sc.ws[:0]
			for _, u := range tvs {
				if u != removed {
					rvs = append(rvs, u)
				}
			}
			sign := e.cofaceSign(rvs, removed)
			r.add(rho, r.mul(p-piv.coef, e.inv[sign]))
			continue
		}
		// A new pivot: store the consolidated reduction chain.
		rec := pivotRec{sigma: c.idx, coef: piv.coef, off: int64(len(r.store))}
		if len(r.v) > 0 {
			slices.SortFunc(r.v, func(a, b vterm) int {
				switch {
				case a.idx < b.idx:
					return -1
				case a.idx > b.idx:
					return 1
				}
				return 0
			})
			cur := r.v[0]
			for _, t := range r.v[1:] {
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
		return
	}
}

// reduce reduces the columns of one dimension in order.
func (e *engine) reduce(ctx context.Context, dim int, cols []column) (*reducer, error) {
	r := &reducer{e: e, dim: dim, pivot: make(map[int64]pivotRec)}
	for i, c := range cols {
		if i&0x3ff == 0 {
			if err := ctxErr(ctx); err != nil {
				return nil, err
			}
		}
		r.reduceColumn(c)
	}
	return r, nil
}

func defaultWorkers(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}
