package rips

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// ComputePoints is Compute on the Euclidean distances of the rows of pts.
// With a threshold below the enclosing radius it never builds the n x n
// matrix: the pairs within the threshold are found by brute force over
// all pairs, keeping only those, and the engine runs in its sparse form
// (what Ripser does with a threshold, minus its dense triangle). The
// distances are computed exactly as dist-euclid computes them, so the
// barcode is the one Compute gives on euclid's matrix.
func ComputePoints(ctx context.Context, pts *sdk.Matrix, opt Options) ([]sdk.Diagram, error) {
	if pts == nil {
		return nil, fmt.Errorf("rips: no point cloud given")
	}
	if err := euclid.CheckPoints(*pts); err != nil {
		return nil, fmt.Errorf("rips: point cloud: %w", err)
	}
	cfg, err := validate(opt)
	if err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	n := pts.Rows
	if n > 1 && !math.IsInf(cfg.t, 1) && forceForm != "dense" {
		t32 := float32(cfg.t)
		// Stop collecting once the pairs are too many for the sparse form
		// to pay (useSparse, which counts both directions); the dense
		// path then takes over.
		limit := int64(-1)
		if forceForm == "" {
			limit = int64(n) * int64(n) / 32
		}
		edges, enc, ok, err := pointPairs(ctx, *pts, t32, limit)
		if err != nil {
			return nil, err
		}
		if ok && cfg.t < enc {
			adj := newAdjacency(n, edges)
			edges = nil
			return computeSparse(ctx, adj, cfg, opt.MaxDim)
		}
	}
	d, err := euclid.Matrix(*pts)
	if err != nil {
		return nil, fmt.Errorf("rips: point cloud: %w", err)
	}
	return compute(ctx, d.Data, d.Rows, opt)
}

// computeSparse runs the sparse engine on neighbour lists that already
// respect the threshold cfg.t.
func computeSparse(ctx context.Context, adj *adjacency, cfg settings, maxDim int) ([]sdk.Diagram, error) {
	n := adj.n
	if n == 1 {
		return singlePoint(maxDim), nil
	}
	top := min(maxDim, n-1)
	deg := make([]int, n)
	for v := 0; v < n; v++ {
		for k := adj.off[v]; k < adj.off[v+1]; k++ {
			if adj.nb[k] < int32(v) {
				deg[v]++
			}
		}
	}
	if err := checkSize(deg, n, top, cfg.t, cfg.limit); err != nil {
		return nil, err
	}
	tr := newTracer()
	var e *engine
	if edges := int64(len(adj.nb) / 2); shouldCollapse(n, edges, top) {
		var err error
		if e, err = collapsedEngine(ctx, adj, nil, false, top, float32(cfg.t), cfg.p, cfg.workers); err != nil {
			return nil, err
		}
		tr.collapse(e, edges)
	}
	if e == nil {
		e = newSparseEngine(adj, nil, top, float32(cfg.t), cfg.p)
		tr.mark(fmt.Sprintf("setup (sparse, %d edges)", len(adj.nb)/2))
	}
	e.memLimit = cfg.limit
	return e.run(ctx, tr, maxDim, cfg.workers)
}

// pointPairs returns the pairs of rows of pts within t32 (compared in
// float32) and the enclosing radius, in one pass over all pairs that
// stores nothing else. ok is false if more than limit pairs (limit >= 0)
// are within t32.
func pointPairs(ctx context.Context, pts sdk.Matrix, t32 float32, limit int64) (edges []halfEdge, enc float64, ok bool, err error) {
	n, dim := pts.Rows, pts.Cols
	workers := 1
	if n*n*dim/2 >= 1<<16 {
		workers = runtime.GOMAXPROCS(0)
	}
	var count atomic.Int64
	var over atomic.Bool
	parts := make([][]halfEdge, workers)
	far := make([][]float64, workers) // each worker's largest distance per point
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := make([]float64, n)
			var out []halfEdge
			// Rows round-robin: row i costs n-1-i pairs.
			for i := w; i < n && !over.Load(); i += workers {
				if ctx.Err() != nil {
					break
				}
				xi := pts.Data[i*dim : (i+1)*dim]
				found := 0
				for j := i + 1; j < n; j++ {
					xj := pts.Data[j*dim : (j+1)*dim]
					var s float64
					for k, v := range xi {
						x := v - xj[k]
						s += x * x
					}
					r := math.Sqrt(s)
					m[i] = max(m[i], r)
					m[j] = max(m[j], r)
					if float32(r) <= t32 {
						out = append(out, halfEdge{int32(i), int32(j), r})
						found++
					}
				}
				if limit >= 0 && count.Add(int64(found)) > limit {
					over.Store(true)
				}
			}
			parts[w], far[w] = out, m
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, false, err
	}
	if over.Load() {
		return nil, 0, false, nil
	}
	enc = math.Inf(1)
	for i := range n {
		m := 0.0
		for _, f := range far {
			m = max(m, f[i])
		}
		enc = min(enc, m)
	}
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	edges = make([]halfEdge, 0, total)
	for i, p := range parts {
		edges = append(edges, p...)
		parts[i] = nil
	}
	return edges, enc, true, nil
}
