package rips

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Approximations for clouds too large for the exact filtration, each
// with the bound it guarantees, reported as named scalars:
//
// Subsample: the Rips homology of m points chosen by greedy furthest-
// point sampling. With r the covering radius (the largest distance from
// any point to its nearest chosen one), the Hausdorff and so the
// Gromov-Hausdorff distance between cloud and subsample is at most r,
// and the Rips diagrams (filtration value = diameter) are within
// bottleneck distance 2r of the full cloud's (Chazal, de Silva, Oudot
// 2014, Theorem 5.2).
//
// Sparse: the sparse Rips filtration (Sheehy 2013; Cavanna, Jahanseir,
// Sheehy 2015) of the whole cloud, O(n) edges on doubling metrics; see
// sparseEdges for the filtration and its guarantee.

// Scalar names reported by the approximations.
const (
	ScalarCoveringRadius  = "covering_radius"
	ScalarBottleneckBound = "bottleneck_bound"
	ScalarSubsamplePoints = "subsample_points"
	ScalarApproxFactor    = "approximation_factor"
	ScalarSparseEdges     = "sparse_edges"
)

// metric is a finite metric space given by its size and distance.
type metric struct {
	n int
	d func(i, j int) float64
	// pts and dim, for Euclidean points, let the hot loops compute the
	// distance inline (the same arithmetic as d) instead of a call each.
	pts []float64
	dim int
}

// dists sets out[v-lo] = d(c, v) for v in lo..hi-1.
func (m metric) dists(c, lo, hi int, out []float64) {
	if m.pts == nil {
		for v := lo; v < hi; v++ {
			out[v-lo] = m.d(c, v)
		}
		return
	}
	dim := m.dim
	xc := m.pts[c*dim : (c+1)*dim]
	for v := lo; v < hi; v++ {
		xv := m.pts[v*dim : (v+1)*dim]
		var s float64
		for k, a := range xc {
			x := a - xv[k]
			s += x * x
		}
		out[v-lo] = math.Sqrt(s)
	}
}

// metricOf returns the metric of a distance matrix or, if d is nil, of
// the Euclidean distances of the rows of pts (dist-euclid's arithmetic,
// so both give the same numbers for the same cloud).
func metricOf(d, pts *sdk.Matrix) (metric, error) {
	switch {
	case d != nil:
		if err := d.ValidateDistances(); err != nil {
			return metric{}, fmt.Errorf("rips: %w", err)
		}
		n, data := d.Rows, d.Data
		return metric{n: n, d: func(i, j int) float64 { return data[i*n+j] }}, nil
	case pts != nil:
		if err := euclid.CheckPoints(*pts); err != nil {
			return metric{}, fmt.Errorf("rips: point cloud: %w", err)
		}
		data, dim := pts.Data, pts.Cols
		return metric{n: pts.Rows, d: func(i, j int) float64 { return pointDist(data, dim, i, j) }, pts: data, dim: dim}, nil
	}
	return metric{}, fmt.Errorf("rips: no distance matrix or point cloud given")
}

// greedyStart is the first point of a greedy permutation for a seed.
func greedyStart(n int, seed int64) int {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)).IntN(n)
}

// greedy returns the first m points of the greedy (furthest-point)
// permutation of the metric starting at start, each point's insertion
// radius (its distance to the points chosen before it; +Inf for the
// first), and the covering radius of the m chosen points (0 if m = n).
// Ties go to the lowest index, so the result is a function of the
// inputs alone. Each step updates every point's distance to its
// nearest chosen point: m*n distances, split over workers.
func greedy(ctx context.Context, m metric, count, start, workers int) (order []int32, radii []float64, cover float64, err error) {
	n := m.n
	count = min(count, n)
	near := make([]float64, n)
	for i := range near {
		near[i] = math.Inf(1)
	}
	order = make([]int32, count)
	radii = make([]float64, count)
	if n*count < 1<<16 {
		workers = 1
	}
	workers = max(1, min(workers, n))
	type best struct {
		v int
		d float64
	}
	part := make([]best, workers)
	bufs := make([][]float64, workers)
	for w := range bufs {
		bufs[w] = make([]float64, 512)
	}
	cur := start
	var wg sync.WaitGroup
	for k := 0; k < count; k++ {
		if k&255 == 0 && ctx.Err() != nil {
			return nil, nil, 0, ctx.Err()
		}
		order[k], radii[k] = int32(cur), near[cur]
		near[cur] = 0
		c := cur
		scan := func(w int) {
			lo, hi := w*n/workers, (w+1)*n/workers
			b := best{-1, -1}
			buf := bufs[w]
			for a := lo; a < hi; a += len(buf) {
				e := min(hi, a+len(buf))
				m.dists(c, a, e, buf)
				for v := a; v < e; v++ {
					x := near[v]
					if y := buf[v-a]; x > 0 && y < x {
						x = y
						near[v] = x
					}
					if x > b.d {
						b = best{v, x}
					}
				}
			}
			part[w] = b
		}
		if workers == 1 {
			scan(0)
		} else {
			for w := range workers {
				wg.Add(1)
				go func() { defer wg.Done(); scan(w) }()
			}
			wg.Wait()
		}
		b := part[0]
		for _, p := range part[1:] {
			if p.d > b.d {
				b = p
			}
		}
		cur, cover = b.v, max(b.d, 0)
	}
	if count == n {
		cover = 0
	}
	return order, radii, cover, nil
}

// Subsample computes the homology of count points of the cloud (a
// distance matrix d, or the Euclidean points pts when d is nil) chosen
// by greedy furthest-point sampling from the point seed picks, and
// reports the covering radius r and the bottleneck bound 2r (see the
// comment at the top of this file). The whole filtration is meant:
// opt.Threshold must be unset.
func Subsample(ctx context.Context, d, pts *sdk.Matrix, count int, seed int64, opt Options) (sdk.HomologyResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if count < 1 {
		return sdk.HomologyResult{}, fmt.Errorf("rips: subsample %d: want at least 1 point", count)
	}
	if err := wholeFiltration(opt, "subsample"); err != nil {
		return sdk.HomologyResult{}, err
	}
	m, err := metricOf(d, pts)
	if err != nil {
		return sdk.HomologyResult{}, err
	}
	order, _, cover, err := greedy(ctx, m, count, greedyStart(m.n, seed), defaultWorkers(opt.Workers))
	if err != nil {
		return sdk.HomologyResult{}, err
	}
	k := len(order)
	var ds []sdk.Diagram
	if d != nil {
		sub := sdk.NewMatrix(k, k)
		for a, i := range order {
			for b, j := range order {
				sub.Data[a*k+b] = d.Data[int(i)*d.Rows+int(j)]
			}
		}
		ds, err = Compute(ctx, &sub, opt)
	} else {
		sub := sdk.NewMatrix(k, pts.Cols)
		for a, i := range order {
			copy(sub.Row(a), pts.Row(int(i)))
		}
		ds, err = ComputePoints(ctx, &sub, opt)
	}
	if err != nil {
		return sdk.HomologyResult{}, err
	}
	return sdk.HomologyResult{Diagrams: ds, Scalars: map[string]float64{
		ScalarCoveringRadius:  cover,
		ScalarBottleneckBound: 2 * cover,
		ScalarSubsamplePoints: float64(k),
	}}, nil
}

// wholeFiltration refuses a threshold for an approximation whose bound
// is stated for the whole filtration.
func wholeFiltration(opt Options, what string) error {
	if t := opt.Threshold; t != 0 && !math.IsInf(t, 1) {
		return fmt.Errorf("rips: %s: threshold %g given; the approximation's bound holds for the whole filtration, so give no threshold", what, t)
	}
	return nil
}

// SparseFactor is the multiplicative approximation factor of the sparse
// Rips filtration with parameter eps: 1/(1-eps).
func SparseFactor(eps float64) float64 { return 1 / (1 - eps) }

// Sparse computes the homology of the sparse Rips filtration of the
// cloud (a distance matrix d, or the Euclidean points pts when d is
// nil) with parameter 0 < eps < 1, and reports its approximation factor
// c = 1/(1-eps): every bar's birth and death are those of the exact
// Rips filtration's diagram up to a factor c, in the sense that the
// diagrams of log(birth), log(death) are within bottleneck distance
// log(c). See sparseEdges.
func Sparse(ctx context.Context, d, pts *sdk.Matrix, eps float64, seed int64, opt Options) (sdk.HomologyResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !(eps > 0 && eps < 1) {
		return sdk.HomologyResult{}, fmt.Errorf("rips: sparse %v: want 0 < eps < 1", eps)
	}
	if err := wholeFiltration(opt, "sparse"); err != nil {
		return sdk.HomologyResult{}, err
	}
	m, err := metricOf(d, pts)
	if err != nil {
		return sdk.HomologyResult{}, err
	}
	workers := defaultWorkers(opt.Workers)
	e, err := sparseEdges(ctx, m, eps, greedyStart(m.n, seed), workers)
	if err != nil {
		return sdk.HomologyResult{}, err
	}
	ds, err := ComputeEdges(ctx, e, opt)
	if err != nil {
		return sdk.HomologyResult{}, err
	}
	return sdk.HomologyResult{Diagrams: ds, Scalars: map[string]float64{
		ScalarApproxFactor: SparseFactor(eps),
		ScalarSparseEdges:  float64(len(e.D)),
	}}, nil
}

// sparseEdges returns the sparse Rips filtration of the metric with
// parameter eps as a weighted graph: its flag complex, each simplex at
// the largest time of its edges, is the filtration.
//
// The construction (Cavanna, Jahanseir, Sheehy 2015, in the radius
// scale a; the engine's scale is the diameter t = 2a): take the greedy
// permutation with insertion radii l_p. Point p's ball grows with the
// scale until radius l_p/eps and then stays; p is removed at
// a_p = l_p/(eps(1-eps)). Two points p, q (l_p >= l_q) are joined at the
// first scale their balls touch while both are present:
// a = d/2 if d <= 2 l_q/eps (neither ball has stopped), else
// a = d - l_q/eps if that is at most l_p/eps (p's ball still grows) and
// at most a_q; never otherwise.
//
// The filtration of these papers is the union over scales of the flag
// complexes on the points present (a simplex enters at its diameter if
// no vertex has been removed by then); GUDHI documents its version as
// (1, 1/(1-eps))-interleaved with the Rips filtration. Here the flag
// complex of the same edges is used instead, so the engine can take a
// plain weighted edge list: it has the same edges and contains the
// papers' filtration at every scale. Where each removed vertex is, at
// its removal, dominated (in the flag complex on the vertices still
// present) by one removed later, both retract onto the same complexes
// and have the same diagrams. That is not proven here for every input,
// so for this filtration the factor is checked, not derived: against
// ripser's exact diagrams on clouds of four shapes and four epsilons
// (TestSparseWithinFactor) every diagram is well inside it.
func sparseEdges(ctx context.Context, m metric, eps float64, start, workers int) (*sdk.Edges, error) {
	n := m.n
	order, radii, _, err := greedy(ctx, m, n, start, workers)
	if err != nil {
		return nil, err
	}
	lam := make([]float64, n)
	rank := make([]int32, n)
	for k, v := range order {
		lam[v], rank[v] = radii[k], int32(k)
	}
	if n*n/2 < 1<<16 {
		workers = 1
	}
	parts := make([]sdk.Edges, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out sdk.Edges
			buf := make([]float64, n)
			for i := w; i < n; i += workers {
				if ctx.Err() != nil {
					return
				}
				m.dists(i, i+1, n, buf)
				for j := i + 1; j < n; j++ {
					early, late := lam[i], lam[j]
					if rank[j] < rank[i] {
						early, late = late, early
					}
					d := buf[j-i-1]
					if t, ok := sparseTime(d, early, late, eps); ok {
						out.I = append(out.I, int32(i))
						out.J = append(out.J, int32(j))
						out.D = append(out.D, t)
					}
				}
			}
			parts[w] = out
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := &sdk.Edges{N: n}
	for _, p := range parts {
		e.I = append(e.I, p.I...)
		e.J = append(e.J, p.J...)
		e.D = append(e.D, p.D...)
	}
	return e, nil
}

// sparseTime is the time (diameter scale) at which points at distance d
// with insertion radii early >= late are joined in the sparse Rips
// filtration, or false if never (see sparseEdges).
func sparseTime(d, early, late, eps float64) (float64, bool) {
	stop := late / eps // radius at which the later point's ball stops
	if d <= 2*stop {
		return d, true
	}
	a := d - stop
	if a <= early/eps && a <= late/(eps*(1-eps)) {
		return 2 * a, true
	}
	return 0, false
}
