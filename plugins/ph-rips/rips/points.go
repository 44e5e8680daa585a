package rips

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// ComputePoints is Compute on the Euclidean distances of the rows of pts.
// It never needs the n x n float64 matrix. With a threshold below the
// enclosing radius the pairs within it are found by brute force over all
// pairs, keeping only those, and the engine runs in its sparse form
// (what Ripser does with a threshold, minus its dense triangle). Without
// a threshold it takes Ripser's for a full matrix, the enclosing radius,
// found from the points in one pass with O(n) memory; the pairs within
// it are then usually most pairs, and the dense form gets only its
// float32 matrix, the few float64 values it reports being recomputed
// from the points. The distances are computed exactly as dist-euclid
// computes them, so the barcode is the one Compute gives on euclid's
// matrix.
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
	if n == 1 {
		return singlePoint(opt.MaxDim), nil
	}
	if math.IsInf(cfg.t, 1) {
		// A threshold of -1 keeps no pair: this pass only finds the
		// enclosing radius, which Compute would take as the threshold.
		_, enc, _, err := pointPairs(ctx, *pts, -1, -1, cfg.workers)
		if err != nil {
			return nil, err
		}
		cfg.t = enc
	}
	if forceForm != "dense" {
		t32 := float32(cfg.t)
		// Stop collecting once the pairs are too many for the sparse form
		// to pay (useSparse, which counts both directions); the dense
		// path then takes over.
		limit := int64(-1)
		if forceForm == "" {
			limit = int64(n) * int64(n) / 32
		}
		edges, enc, ok, err := pointPairs(ctx, *pts, t32, limit, cfg.workers)
		if err != nil {
			return nil, err
		}
		if ok && cfg.t <= enc {
			adj := newAdjacency(n, edges)
			edges = nil
			return computeSparse(ctx, adj, cfg, opt.MaxDim)
		}
	}
	if e, err := densePointsEngine(ctx, *pts, cfg, opt.MaxDim); e != nil || err != nil {
		if err != nil {
			return nil, err
		}
		return e.run(ctx, newTracer(), opt.MaxDim, cfg.workers)
	}
	// The collapse (dimension 2 and up) and a forced sparse form work on
	// the float64 matrix.
	d, err := euclid.Matrix(*pts)
	if err != nil {
		return nil, fmt.Errorf("rips: point cloud: %w", err)
	}
	return compute(ctx, d.Data, d.Rows, opt)
}

// densePointsEngine builds the dense form on the float32 distances of
// pts at the threshold min(cfg.t, enclosing radius), as compute does on
// euclid's float64 matrix (float32 rounding is monotone, so the float32
// enclosing radius is the rounding of the float64 one). It returns nil
// when compute would choose otherwise (the collapse, the sparse form),
// which need the float64 matrix.
func densePointsEngine(ctx context.Context, pts sdk.Matrix, cfg settings, maxDim int) (*engine, error) {
	n := pts.Rows
	top := min(maxDim, n-1)
	// The matrix and (at most) its 8 bytes a pair of lists, refused
	// before they are allocated, as the host refuses an n x n matrix.
	if need := 12 * float64(n) * float64(n); need > float64(cfg.limit) {
		return nil, fmt.Errorf("rips: %d x %d distances need ~%.1f GB, over the %.1f GB memory limit; give a threshold", n, n, need/1e9, float64(cfg.limit)/1e9)
	}
	dist, err := pointsMatrix32(ctx, pts, cfg.workers)
	if err != nil {
		return nil, err
	}
	enc := float32(math.Inf(1))
	for i := range n {
		enc = min(enc, slices.Max(dist[i*n:(i+1)*n]))
	}
	thr := min(float32(cfg.t), enc)
	deg := make([]int, n)
	var edges int64
	for v := range n {
		for _, x := range dist[v*n : v*n+v] {
			if x <= thr {
				deg[v]++
			}
		}
		edges += int64(deg[v])
	}
	if shouldCollapse(n, edges, top) || useSparse(n, 2*edges) {
		return nil, nil
	}
	if err := checkSize(deg, n, top, float64(thr), cfg.limit); err != nil {
		return nil, err
	}
	tr := newTracer()
	// Lean: this path is taken for its memory (ripser's peak is the
	// bar), and it still costs less CPU than the matrix sent
	// through the host did.
	e := newDenseEngine(dist, n, top, thr, cfg.p, true)
	e.pts, e.ptsDim = pts.Data, pts.Cols
	e.memLimit = cfg.limit
	tr.mark(fmt.Sprintf("setup (dense from points, %d edges)", edges))
	return e, nil
}

// pointDist is the Euclidean distance of rows i and j of the points
// data (dim coordinates each), summed in dist-euclid's order so that it
// is the value euclid.Matrix holds ((a-b)^2 = (b-a)^2 exactly, so the
// order of i and j does not matter).
func pointDist(data []float64, dim, i, j int) float64 {
	xi, xj := data[i*dim:(i+1)*dim], data[j*dim:(j+1)*dim]
	var s float64
	for k, v := range xi {
		x := v - xj[k]
		s += x * x
	}
	return math.Sqrt(s)
}

// pointsMatrix32 is the n x n matrix of the float32-rounded Euclidean
// distances of the rows of pts: the dense engine's matrix, built without
// the float64 one (a third of the memory).
func pointsMatrix32(ctx context.Context, pts sdk.Matrix, threads int) ([]float32, error) {
	n, dim := pts.Rows, pts.Cols
	out := make([]float32, n*n)
	workers := 1
	if n*n*dim/2 >= 1<<16 {
		workers = threads
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if ctx.Err() != nil {
					return
				}
				for j := i + 1; j < n; j++ {
					r := float32(pointDist(pts.Data, dim, i, j))
					out[i*n+j], out[j*n+i] = r, r
				}
			}
		}()
	}
	wg.Wait()
	return out, ctx.Err()
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
func pointPairs(ctx context.Context, pts sdk.Matrix, t32 float32, limit int64, threads int) (edges []halfEdge, enc float64, ok bool, err error) {
	n, dim := pts.Rows, pts.Cols
	workers := 1
	if n*n*dim/2 >= 1<<16 {
		workers = threads
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
