package rips

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Version is the plugin's own semantic version.
const Version = "0.1.0"

// Plugin is the sdk.Homology implementation served by nt-ph-rips.
type Plugin struct {
	// Workers is passed to Options.Workers; 0 means all cores.
	Workers int
}

var (
	_ sdk.Homology         = Plugin{}
	_ sdk.HomologyReporter = Plugin{}
)

// Describe reports the plugin's name, kind and capabilities.
func (Plugin) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:        "rips",
		Kind:        sdk.KindPH,
		Version:     Version,
		Protocol:    sdk.ProtocolVersion,
		Description: "Vietoris-Rips persistent homology (Ripser's method: cohomology, clearing, apparent pairs), multi-core",
		Capabilities: map[string]string{
			// No fixed bound: a request is refused only when its memory
			// estimate exceeds the budget.
			"max_dim": "any",
			"coeff":   "any<65536",
			"input":   "distances,points,edges",
		},
		Params: []sdk.ParamSpec{
			{Name: ParamSubsample, Type: sdk.ParamInt, Default: "0", Doc: "homology of this many points chosen by greedy furthest-point sampling (0: all); reports covering_radius r and bottleneck_bound 2r", Min: "0"},
			{Name: ParamSubsampleSeed, Type: sdk.ParamInt, Default: "0", Doc: "seed picking the first point of the greedy sampling (subsample, sparse)"},
			{Name: ParamSparse, Type: sdk.ParamFloat, Default: "0", Doc: "sparse Rips filtration with this epsilon, 0 < eps < 1 (0: exact); reports approximation_factor 1/(1-eps)", Min: "0", Max: "1", MaxExclusive: true},
			{Name: ParamThreads, Type: sdk.ParamInt, Default: "0", Doc: "worker goroutines (0: all cores)", Min: "0"},
			{Name: "cocycles", Type: sdk.ParamBool, Default: "false", Doc: "also return a representative cocycle of each H1 bar (Z/coeff; clouds up to 3000 points)"},
		},
	}, nil
}

// The parameters the plugin declares.
const (
	ParamSubsample     = "subsample"
	ParamSubsampleSeed = "subsample_seed"
	ParamSparse        = "sparse"
	ParamThreads       = "threads"
)

// Compute answers a HomologyRequest: distances if given, else points,
// else edges.
func (pl Plugin) Compute(ctx context.Context, req sdk.HomologyRequest) ([]sdk.Diagram, error) {
	r, err := pl.ComputeResult(ctx, req)
	return r.Diagrams, err
}

// ComputeResult is Compute with the scalars of an approximation
// (parameters subsample or sparse): its covering radius and bottleneck
// bound, or its approximation factor.
func (pl Plugin) ComputeResult(ctx context.Context, req sdk.HomologyRequest) (sdk.HomologyResult, error) {
	opt := Options{MaxDim: req.MaxDim, Threshold: req.Threshold, Coeff: req.Coeff, Workers: pl.Workers}
	var sub, seed, threads int64
	var eps float64
	for name, dst := range map[string]*int64{ParamSubsample: &sub, ParamSubsampleSeed: &seed, ParamThreads: &threads} {
		if v, ok := req.Params[name]; ok {
			x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || x < 0 && name != ParamSubsampleSeed {
				return sdk.HomologyResult{}, fmt.Errorf("rips: parameter %s=%q: want an integer >= 0", name, v)
			}
			*dst = x
		}
	}
	if v, ok := req.Params[ParamSparse]; ok {
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || x < 0 || x >= 1 {
			return sdk.HomologyResult{}, fmt.Errorf("rips: parameter %s=%q: want 0 (exact) or 0 < eps < 1", ParamSparse, v)
		}
		eps = x
	}
	if threads > 0 {
		opt.Workers = int(threads)
	}
	if v, ok := req.Params["cocycles"]; ok {
		want, err := strconv.ParseBool(v)
		if err != nil {
			return sdk.HomologyResult{}, fmt.Errorf("rips: cocycles=%q: want true or false", v)
		}
		if want && req.MaxDim >= 1 {
			if sub > 0 || eps > 0 {
				return sdk.HomologyResult{}, fmt.Errorf("rips: cocycles need the exact filtration, not %s or %s", ParamSubsample, ParamSparse)
			}
			ds, err := withCocycles(ctx, req, opt)
			return sdk.HomologyResult{Diagrams: ds}, err
		}
	}
	if sub > 0 || eps > 0 {
		if sub > 0 && eps > 0 {
			return sdk.HomologyResult{}, fmt.Errorf("rips: parameters %s and %s: give one of them", ParamSubsample, ParamSparse)
		}
		if req.Distances == nil && req.Points == nil {
			return sdk.HomologyResult{}, fmt.Errorf("rips: %s and %s need a distance matrix or points, not edges", ParamSubsample, ParamSparse)
		}
		if sub > 0 {
			return Subsample(ctx, req.Distances, req.Points, int(sub), seed, opt)
		}
		return Sparse(ctx, req.Distances, req.Points, eps, seed, opt)
	}
	ds, err := pl.exact(ctx, req, opt)
	return sdk.HomologyResult{Diagrams: ds}, err
}

func (pl Plugin) exact(ctx context.Context, req sdk.HomologyRequest, opt Options) ([]sdk.Diagram, error) {
	switch {
	case req.Edges != nil && req.Distances == nil && req.Points == nil:
		return ComputeEdges(ctx, req.Edges, opt)
	case req.Distances != nil:
		return Compute(ctx, req.Distances, opt)
	case req.Points != nil:
		return ComputePoints(ctx, req.Points, opt)
	}
	return nil, fmt.Errorf("rips: request has neither distances nor points")
}

// ComputeEdges is Compute on a sparse distance matrix: the listed pairs,
// every other pair absent at all scales (ripser's sparse input). The
// pairs within the threshold go straight into the sparse form's
// neighbour lists, so no n x n matrix is built; only when they are
// many (useSparse says the dense form is cheaper, as for points) does
// the dense form get the matrix with the absent pairs beyond the
// threshold, as sdk.Edges.Dense lays it out.
func ComputeEdges(ctx context.Context, e *sdk.Edges, opt Options) ([]sdk.Diagram, error) {
	if e == nil {
		return nil, fmt.Errorf("rips: no edges given")
	}
	cfg, err := validate(opt)
	if err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	n := e.N
	if n < 1 || len(e.I) != len(e.D) || len(e.J) != len(e.D) {
		return nil, fmt.Errorf("rips: edges: %d points with %d, %d and %d values in i, j and d", n, len(e.I), len(e.J), len(e.D))
	}
	t32 := float32(cfg.t)
	var within []halfEdge
	for k, d := range e.D {
		i, j := e.I[k], e.J[k]
		switch {
		case i < 0 || j < 0 || int(i) >= n || int(j) >= n:
			return nil, fmt.Errorf("rips: edges: pair %d (%d, %d) is outside 0..%d", k, i, j, n-1)
		case i == j:
			return nil, fmt.Errorf("rips: edges: pair %d joins vertex %d to itself", k, i)
		case math.IsNaN(d) || math.IsInf(d, 0) || d < 0:
			return nil, fmt.Errorf("rips: edges: pair %d (%d, %d) has distance %v, want finite and >= 0", k, i, j, d)
		}
		if float32(d) <= t32 {
			within = append(within, halfEdge{min(i, j), max(i, j), d})
		}
	}
	if m, sub := touched(e); m < n {
		// Vertices in no pair are points alone at every scale: one
		// essential H0 class each, nothing else. The rest is computed on
		// the m vertices that have a pair, so memory follows the pairs
		// given, not the largest vertex id (an id of 10^6 among three
		// pairs once sized the filtration for 10^6 points).
		if err := sdk.CheckMemory(fmt.Sprintf("rips: edges: %d points, %d of them in no pair (vertex ids up to %d for %d pairs)", n, n-m, n-1, len(e.D)), 16*float64(n-m)); err != nil {
			return nil, err
		}
		within = nil
		var ds []sdk.Diagram
		if m == 0 {
			ds = singlePoint(opt.MaxDim)
			ds[0].Pairs = nil
		} else if ds, err = ComputeEdges(ctx, sub, opt); err != nil {
			return nil, err
		}
		for k := 0; k < n-m; k++ {
			ds[0].Pairs = append(ds[0].Pairs, [2]float64{0, math.Inf(1)})
		}
		sortPairs(ds[0].Pairs)
		return ds, nil
	}
	if n > 1 && 2*len(e.D) < n*(n-1) && useSparse(n, 2*int64(len(within))) {
		adj := newAdjacency(n, within)
		within = nil
		if err := adj.checkOnce(); err != nil {
			return nil, err
		}
		return computeSparse(ctx, adj, cfg, opt.MaxDim)
	}
	within = nil
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("rips: %w", err)
	}
	d, thr := e.Dense(opt.Threshold)
	opt.Threshold = thr
	return compute(ctx, d.Data, n, opt)
}

// touched counts the vertices of e that are in some pair and, when that
// is fewer than e.N, returns e with those vertices numbered 0..m-1 in
// their order. The pairs are already checked to lie in 0..N-1. Its
// memory follows the number of pairs: a table of N entries only when N
// is within a few times the pairs, a map otherwise.
func touched(e *sdk.Edges) (int, *sdk.Edges) {
	var seen func(v int32) bool // marks v, reporting whether it was new
	var ids func() []int32      // the marked vertices, sorted
	if int64(e.N) <= 4*int64(len(e.I))+1<<16 {
		mark := make([]bool, e.N)
		seen = func(v int32) bool { n := !mark[v]; mark[v] = true; return n }
		ids = func() []int32 {
			var out []int32
			for v, ok := range mark {
				if ok {
					out = append(out, int32(v))
				}
			}
			return out
		}
	} else {
		mark := map[int32]bool{}
		seen = func(v int32) bool { n := !mark[v]; mark[v] = true; return n }
		ids = func() []int32 {
			out := make([]int32, 0, len(mark))
			for v := range mark {
				out = append(out, v)
			}
			slices.Sort(out)
			return out
		}
	}
	m := 0
	for k := range e.I {
		if seen(e.I[k]) {
			m++
		}
		if seen(e.J[k]) {
			m++
		}
	}
	if m >= e.N {
		return m, nil
	}
	id := make(map[int32]int32, m)
	for k, v := range ids() {
		id[v] = int32(k)
	}
	sub := &sdk.Edges{N: m, I: make([]int32, len(e.I)), J: make([]int32, len(e.J)), D: e.D}
	for k := range e.I {
		sub.I[k], sub.J[k] = id[e.I[k]], id[e.J[k]]
	}
	return m, sub
}

// withCocycles answers a request for cocycles: the engine computes the
// diagrams, and the cocycle path (cocycle.go) the H1 diagram again with
// a cocycle for each bar, which replaces the engine's (the same pairs:
// both order the float32 distances).
func withCocycles(ctx context.Context, req sdk.HomologyRequest, opt Options) ([]sdk.Diagram, error) {
	var d sdk.Matrix
	switch {
	case req.Distances != nil:
		if err := req.Distances.ValidateDistances(); err != nil {
			return nil, fmt.Errorf("rips: %w", err)
		}
		d = *req.Distances
	case req.Points != nil:
		if req.Points.Rows > MaxCocyclePoints {
			return nil, fmt.Errorf("rips: cocycles of %d points: the cocycle path takes at most %d (use landmarks)", req.Points.Rows, MaxCocyclePoints)
		}
		m, err := euclid.Matrix(*req.Points)
		if err != nil {
			return nil, fmt.Errorf("rips: point cloud: %w", err)
		}
		d = m
	default:
		return nil, fmt.Errorf("rips: cocycles need distances or points, not edges")
	}
	if d.Rows > MaxCocyclePoints {
		return nil, fmt.Errorf("rips: cocycles of %d points: the cocycle path takes at most %d (use landmarks)", d.Rows, MaxCocyclePoints)
	}
	ds, err := Compute(ctx, &d, opt)
	if err != nil {
		return nil, err
	}
	h1, err := Cocycles1(ctx, d.Data, d.Rows, opt.Threshold, opt.Coeff)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].Dim == 1 {
			ds[i] = h1
		}
	}
	return ds, nil
}
