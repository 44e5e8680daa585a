// Package rips computes Vietoris-Rips persistent homology of a finite
// metric space, with the same barcodes as Ripser 1.2.1.
//
// The method is Ripser's (Bauer 2021): persistent cohomology, reduced
// column by column from the youngest simplex to the oldest, with clearing
// of the columns already known to be deaths one dimension lower, implicit
// coboundaries through the combinatorial number system (simplices are
// integers, nothing is stored but a few pivots and reduction chains),
// emergent and zero-persistence apparent pairs recognised without any
// reduction (and never stored), and float32 distances. Two further
// techniques: the simplices of dimension >= 2 are enumerated by diameter
// edge ab, so every apparent-pair question becomes a scan of the short
// list of common neighbours of a and b within d(a,b) (assemble.go); and
// the work runs on all cores - the assembly split by edge, the reduction
// lock-free (Morozov and Nigmetov): columns reduced concurrently against
// a shared pivot table, a column taking a pivot over from a later one,
// which gives exactly the sequential pairs (reduce.go).
//
// Set RIPS_TRACE=1 in the environment to get phase timings on stderr.
//
// Births and deaths are reported as the caller's float64 distances;
// the filtration order itself is that of the float32-rounded distances,
// as in Ripser, so a pair whose ends round to the same float32 is
// omitted like any other zero-length pair.
package rips

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Options configure a computation.
type Options struct {
	// MaxDim is the highest homology dimension computed (0..MaxDim).
	// Use DefaultMaxDim for the usual 2; zero means dimension 0 only.
	// Any dimension is accepted; checkSize refuses, with its estimate,
	// what the memory limit cannot hold.
	MaxDim int
	// Threshold is the largest filtration value. Zero or +Inf means
	// none: the enclosing radius is used, beyond which nothing changes.
	Threshold float64
	// Coeff is the prime p of the coefficient field Z/p; 0 means 2.
	Coeff int
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
	// MemoryLimit in bytes bounds the estimated size of the computation;
	// 0 means the machine's physical memory.
	MemoryLimit int64
}

// DefaultMaxDim is the dimension Ripser computes up to when not told.
const DefaultMaxDim = 2

// Compute returns the persistence diagrams of the Vietoris-Rips
// filtration of the distance matrix d, one per dimension 0..opt.MaxDim.
// d must be square, symmetric, with a zero diagonal and finite
// non-negative entries. A one-point space has one essential H0 bar.
func Compute(ctx context.Context, d *sdk.Matrix, opt Options) ([]sdk.Diagram, error) {
	if d == nil {
		return nil, fmt.Errorf("rips: no distance matrix given")
	}
	if err := d.ValidateDistances(); err != nil {
		return nil, fmt.Errorf("rips: %w", err)
	}
	return compute(ctx, d.Data, d.Rows, opt)
}

// MustEuclidean returns the n x n Euclidean distance matrix of the rows of
// pts (dist-euclid's computation) for tests and benchmarks that build
// their own clouds. Like regexp.MustCompile it panics on bad input (NaN,
// an empty or ragged cloud); use euclid.Matrix for input from users.
func MustEuclidean(pts sdk.Matrix) sdk.Matrix {
	d, err := euclid.Matrix(pts)
	if err != nil {
		panic("rips: MustEuclidean: " + err.Error())
	}
	return d
}

// enclosingRadius is min over points of the largest distance to the
// others: at that scale the complex is a cone, so all homology above
// dimension 0 has died and one component is left.
func enclosingRadius(d []float64, n int) float64 {
	r := math.Inf(1)
	for i := 0; i < n; i++ {
		m := 0.0
		for _, x := range d[i*n : (i+1)*n] {
			m = max(m, x)
		}
		r = min(r, m)
	}
	return r
}

// settings are the validated options common to every input form.
type settings struct {
	p       int
	t       float64 // +Inf when none given
	limit   int64
	workers int
}

func validate(opt Options) (settings, error) {
	if opt.MaxDim < 0 {
		return settings{}, fmt.Errorf("rips: max dimension %d is negative", opt.MaxDim)
	}
	p := opt.Coeff
	if p == 0 {
		p = 2
	}
	if !sdk.IsPrime(p) || p >= 1<<16 {
		return settings{}, fmt.Errorf("rips: coefficient modulus %d is not a prime below 65536", opt.Coeff)
	}
	t := opt.Threshold
	if math.IsNaN(t) || t < 0 {
		return settings{}, fmt.Errorf("rips: threshold %v is not a non-negative number", t)
	}
	if t == 0 || math.IsInf(t, 1) {
		t = math.Inf(1)
	}
	limit := opt.MemoryLimit
	if limit <= 0 {
		// What the machine has free, not MemTotal: a limit above what can
		// be had let the OOM killer end computations instead of this check.
		limit = sdk.MemoryBudget()
	}
	return settings{p: p, t: t, limit: limit, workers: defaultWorkers(opt.Workers)}, nil
}

// forceForm overrides useSparse in tests: "dense", "sparse" or "".
var forceForm = ""

// useSparse chooses the engine's form by memory. The dense form holds
// the n x n float32 matrix (4n^2 bytes) beside the neighbour lists
// (12 bytes per directed edge); the sparse form holds only the lists
// with their distances (16, or 24 with the float64 values when there
// is no caller's matrix to read them from). The matrix buys one load per
// distance where the lists need a binary search or a merge, which pays
// while the matrix is not much bigger than the lists; once it is more
// than 4x their size (edges counted both ways: fewer than 1 pair in 16
// within the threshold, as on the thresholded clouds of thousands of
// points: clifford-torus 1 in 27, o3_4096 1 in 36, cyclo-octane-like 1
// in 208) it is the memory peak, and faulting it in alone cost seconds
// of system time (cyclo-octane-like, docs/benchmarks.md), so the lists
// win. edges counts directed edges.
func useSparse(n int, edges int64) bool {
	switch forceForm {
	case "dense":
		return false
	case "sparse":
		return true
	}
	return 16*edges < int64(n)*int64(n)
}

func compute(ctx context.Context, d []float64, n int, opt Options) ([]sdk.Diagram, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := validate(opt)
	if err != nil {
		return nil, err
	}
	if n == 1 {
		return singlePoint(opt.MaxDim), nil
	}
	t := min(cfg.t, enclosingRadius(d, n))
	// n points span no simplex above dimension n-1: the diagrams beyond
	// are empty and cost nothing.
	top := min(opt.MaxDim, n-1)
	deg := lowerDegrees(d, n, float32(t))
	if err := checkSize(deg, n, top, t, cfg.limit); err != nil {
		return nil, err
	}
	var edges int64
	for _, g := range deg {
		edges += int64(g)
	}
	tr := newTracer()
	var e *engine
	if shouldCollapse(n, edges, top) {
		if e, err = collapsedEngine(ctx, adjacencyFromMatrix(d, n, float32(t)), d, !useSparse(n, 2*edges), top, float32(t), cfg.p, cfg.workers); err != nil {
			return nil, err
		}
		tr.collapse(e, edges)
	}
	switch {
	case e != nil:
	case useSparse(n, 2*edges):
		e = newSparseEngine(adjacencyFromMatrix(d, n, float32(t)), d, top, float32(t), cfg.p)
		tr.mark(fmt.Sprintf("setup (sparse, %d edges)", edges))
	default:
		e = newEngine(d, n, top, float32(t), cfg.p)
		tr.mark(fmt.Sprintf("setup (dense, %d edges)", edges))
	}
	e.memLimit = cfg.limit
	return e.run(ctx, tr, opt.MaxDim, cfg.workers)
}

// lowerDegrees counts, for each vertex, its neighbours of smaller index
// within t (in float32, as the engine compares).
func lowerDegrees(d []float64, n int, t32 float32) []int {
	deg := make([]int, n)
	for v := 0; v < n; v++ {
		for u := 0; u < v; u++ {
			if float32(d[v*n+u]) <= t32 {
				deg[v]++
			}
		}
	}
	return deg
}

// run computes the diagrams 0..maxDim on a built engine.
func (e *engine) run(ctx context.Context, tr *tracer, maxDim, workers int) ([]sdk.Diagram, error) {
	top := e.maxDim
	out := make([]sdk.Diagram, maxDim+1)
	deaths0, ess0, deathEdge, err := e.dim0(ctx)
	if err != nil {
		return nil, err
	}
	dg := sdk.Diagram{Dim: 0}
	for _, x := range deaths0 {
		dg.Pairs = append(dg.Pairs, [2]float64{0, x})
	}
	for i := 0; i < ess0; i++ {
		dg.Pairs = append(dg.Pairs, [2]float64{0, math.Inf(1)})
	}
	out[0] = dg
	tr.mark("dim 0")

	for dim := top + 1; dim <= maxDim; dim++ {
		out[dim] = sdk.Diagram{Dim: dim, Pairs: [][2]float64{}}
	}
	var prev *pivotTable
	for dim := 1; dim <= top; dim++ {
		var cols []column
		if dim == 1 {
			de := deathEdge
			cols, err = e.assemble(ctx, 1, workers, func(idx int64, _ []int32, _ float32, _ *scratch) bool { return de.has(idx) })
		} else {
			cols, err = e.assembleByEdge(ctx, dim, workers, prev)
		}
		if err != nil {
			return nil, err
		}
		tr.mark(fmt.Sprintf("dim %d assemble (%d columns)", dim, len(cols)))
		deathEdge = nil
		prev = nil
		red, err := e.reduce(ctx, dim, cols, workers)
		if err != nil {
			return nil, err
		}
		out[dim] = e.diagram(dim, red.pairs)
		tr.mark(fmt.Sprintf("dim %d reduce (%d pivots, %d chain terms, %d taken over)", dim, red.tab.count, red.chainTerms, red.steals))
		prev = red.pivots()
	}
	for i := range out {
		sortPairs(out[i].Pairs)
	}
	return out, nil
}

// GCPercent is the garbage collector setting the processes that run
// the engine (the plugin, ripsbench's child) use: the engine allocates
// a few large, long-lived arrays and little garbage, so collecting at
// 25% heap growth instead of Go's default 100% costs almost no time
// and keeps the peak resident memory near the live data (o3_1024: 41
// MB -> 33 MB, ripser 46 MB; docs/benchmarks.md).
const GCPercent = 25

// tracer prints phase timings to stderr when RIPS_TRACE is set; it is
// how the numbers in docs/benchmarks.md were broken down.
type tracer struct {
	on   bool
	last time.Time
}

func newTracer() *tracer { return &tracer{on: os.Getenv("RIPS_TRACE") != "", last: time.Now()} }

func (t *tracer) mark(what string) {
	if !t.on {
		return
	}
	now := time.Now()
	fmt.Fprintf(os.Stderr, "rips: %-50s %8.3fs\n", what, now.Sub(t.last).Seconds())
	t.last = now
}

func (e *engine) diagram(dim int, pairs []rawPair) sdk.Diagram {
	dg := sdk.Diagram{Dim: dim, Pairs: make([][2]float64, 0, len(pairs))}
	var b, t [maxVerts]int32
	for _, pr := range pairs {
		e.decode(pr.birth, dim, b[:dim+1])
		death := math.Inf(1)
		if pr.death >= 0 {
			e.decode(pr.death, dim+1, t[:dim+2])
			death = e.diam64(t[:dim+2])
		}
		dg.Pairs = append(dg.Pairs, [2]float64{e.diam64(b[:dim+1]), death})
	}
	return dg
}

func singlePoint(maxDim int) []sdk.Diagram {
	out := make([]sdk.Diagram, maxDim+1)
	for i := range out {
		out[i] = sdk.Diagram{Dim: i, Pairs: [][2]float64{}}
	}
	out[0].Pairs = [][2]float64{{0, math.Inf(1)}}
	return out
}

func sortPairs(ps [][2]float64) {
	slices.SortFunc(ps, func(a, b [2]float64) int {
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		if a[1] != b[1] {
			if a[1] < b[1] {
				return -1
			}
			return 1
		}
		return 0
	})
}

// checkSize (deg[v]: v's neighbours of smaller index) refuses computations that cannot fit before starting them:
// the simplex indices must fit in 63 bits, and an upper bound on the
// number of simplices of the most numerous dimension (sum over vertices
// of C(lower degree, k)) must fit in memory even if only one in
// survivingFraction of them becomes a column (on Rips complexes almost
// all are in apparent pairs and never stored). The assembly enforces the
// limit on the columns actually kept (see columnBudget).
func checkSize(deg []int, n, maxDim int, t float64, limit int64) error {
	// The largest binomial in the table is C(n, k) for the k nearest n/2.
	k := min(maxDim+2, n/2)
	if c := binomF(n, k); c > 1<<62 || maxDim+2 > maxVerts {
		return fmt.Errorf("rips: %d points at max dimension %d need simplex indices beyond 63 bits (C(%d,%d)=%.3g)", n, maxDim, n, k, c)
	}
	// The largest dimension is not always the most numerous (16 points
	// have one 15-simplex but 12870 7-simplices): take the worst.
	est, worst := 0.0, maxDim
	for k := 1; k <= maxDim; k++ {
		s := 0.0
		for _, g := range deg {
			s += binomF(g, k)
		}
		if s > est {
			est, worst = s, k
		}
	}
	if need := est * bytesPerColumn / float64(survivingFraction); need > float64(limit) {
		return fmt.Errorf("rips: dimension %d (of 0..%d) at threshold %g has up to %.3g simplices (~%.1f GB of columns if 1 in %d survives the apparent pairs), over the %.1f GB limit; lower the dimension or the threshold", worst, maxDim, t, est, need/1e9, survivingFraction, float64(limit)/1e9)
	}
	return nil
}

// bytesPerColumn is the size of a column: simplex index and float32
// diameter, padded.
const bytesPerColumn = 16

// survivingFraction is how many simplices per column the up-front
// estimate assumes (real Rips complexes keep far fewer); a variable so
// tests can switch the estimate off and reach the assembly's budget.
var survivingFraction = 16

// columnBudget counts the columns kept by all workers of an assembly and
// fails once they exceed the memory limit, so a computation too big for
// the machine ends with an error instead of being killed.
type columnBudget struct {
	limit int64 // bytes
	used  atomic.Int64
}

func (b *columnBudget) take(cols int) bool {
	return b.used.Add(int64(cols)*bytesPerColumn) <= b.limit
}

func (b *columnBudget) err(dim int) error {
	return fmt.Errorf("rips: dimension %d needs more than %d columns (%.1f GB), over the %.1f GB memory limit; lower the dimension or the threshold", dim, b.limit/bytesPerColumn, float64(b.limit)/1e9, float64(b.limit)/1e9)
}

func binomF(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	r := 1.0
	for i := 0; i < k; i++ {
		r = r * float64(n-i) / float64(i+1)
	}
	return r
}

// Betti returns, for each diagram in order, the number of pairs alive at
// scale t: birth <= t < death.
func Betti(diagrams []sdk.Diagram, t float64) []int {
	out := make([]int, len(diagrams))
	for i, dg := range diagrams {
		for _, p := range dg.Pairs {
			if p[0] <= t && t < p[1] {
				out[i]++
			}
		}
	}
	return out
}
