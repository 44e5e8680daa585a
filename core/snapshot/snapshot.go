// Package snapshot takes the topology snapshots of a run: it samples states
// with the current policy, collects the point clouds of inputs and hidden
// layers, and turns each cloud into a distance matrix, persistence diagrams
// and summaries through the distance and homology plugins.
//
// Sampling and activations happen at the moment of the snapshot, so they
// see the policy of that update; the homology, which dominates the cost,
// can run later and beside training (see Pool) with identical results.
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Options choose what a snapshot computes.
type Options struct {
	Samples    int               // states per snapshot (the seed: 500)
	Metric     string            // distance plugin name, e.g. "geodesic" or "euclid"
	K          int               // neighbours for the geodesic metric, unless DistParams sets k
	DistParams map[string]string // the distance plugin's parameters
	PHParams   map[string]string // the homology plugin's parameters
	MaxDim     int               // highest homology dimension, capped at the cloud's d-1
	// Threshold, if positive, is the largest filtration value the
	// homology is computed to (HomologyRequest.Threshold): bars still
	// alive there are infinite. Enough for Betti numbers at a scale below
	// it, and far cheaper on large clouds.
	Threshold float64
	// Edges sends the homology plugin only the pairs within Threshold, as
	// a sparse matrix (for a plugin whose CapInput lists "edges").
	Edges      bool
	Summary    summary.Options
	KeepClouds bool // keep the point clouds in the result (to save them)
}

// Cloud is one point cloud of a snapshot.
type Cloud struct {
	Name   string // "input", "actor/1", ...
	Net    string // "input", "actor", "critic"
	Layer  int    // 0 for the input, else the hidden layer's index
	Points sdk.Matrix
}

// Sample runs the learner's current stochastic policy in the analysis
// environment (a batch of one, opened by the caller) for n steps, resetting
// it with seed first; episodes that end restart on their own. It returns
// the n observations the policy saw, one per row.
//
// When the learner is an sdk.Sampler linked to env (the direct mode), the
// algorithm plugin takes the states over its own link to the environment
// plugin, so this process makes two calls (Reset, Sample) rather than two
// per state; otherwise this process runs the same loop
// (sdk.SamplePolicy). The states are the same either way, bit for bit.
func Sample(ctx context.Context, env sdk.Environment, handle int, algo sdk.Algorithm, n int, seed int64) (sdk.Matrix, error) {
	obs, err := env.Reset(ctx, handle, seed)
	if err != nil {
		return sdk.Matrix{}, fmt.Errorf("snapshot: reset analysis env: %w", err)
	}
	if obs.Rows != 1 {
		return sdk.Matrix{}, fmt.Errorf("snapshot: analysis env must be a batch of 1, got %d", obs.Rows)
	}
	req := sdk.SampleRequest{Handle: handle, First: obs, N: n}
	if s := sampler(env, algo); s != nil {
		states, err := s.Sample(ctx, req)
		if err != nil {
			return sdk.Matrix{}, fmt.Errorf("snapshot: sample analysis env: %w", err)
		}
		return states, nil
	}
	states, err := sdk.SamplePolicy(ctx, env, algo, req)
	if se := (*sdk.EnvStepError)(nil); errors.As(err, &se) {
		return sdk.Matrix{}, fmt.Errorf("snapshot: step analysis env: %w", se.Err)
	}
	if err != nil {
		return sdk.Matrix{}, fmt.Errorf("snapshot: %w", err)
	}
	return states, nil
}

// sampler returns algo as the sdk.Sampler that takes env's states, or
// nil when this process must step env itself.
func sampler(env sdk.Environment, algo sdk.Algorithm) sdk.Sampler {
	if s, ok := algo.(sdk.Sampler); ok && s.Samples(env) {
		return s
	}
	return nil
}

// Sampling names who steps the analysis environment in Sample:
// sdk.TransportDirect when the algorithm plugin does over its link to
// the environment plugin, SamplingHost when this process does. Runs
// record it (transport.json), so a silent fall back to the host shows.
func Sampling(env sdk.Environment, algo sdk.Algorithm) string {
	if sampler(env, algo) != nil {
		return sdk.TransportDirect
	}
	return SamplingHost
}

// SamplingHost is Sampling's answer when this process steps the analysis
// environment: a Policy and a Step call per state.
const SamplingHost = "host"

// Clouds returns the input cloud followed by every hidden layer's
// activations for states. With normalized, the input cloud is the states as
// the networks see them (the learner's sdk.NormalizedInputLayer; layers must
// then name the hidden layers, as AlgoSpec.Layers does); else the raw states.
func Clouds(ctx context.Context, algo sdk.Algorithm, states sdk.Matrix, layers []string, normalized bool) ([]Cloud, error) {
	var names []string
	if normalized {
		names = append(append(names, layers...), sdk.NormalizedInputLayer)
	}
	got, err := algo.Activations(ctx, states, names)
	if err != nil {
		return nil, fmt.Errorf("snapshot: activations: %w", err)
	}
	out := []Cloud{{Name: "input", Net: "input", Points: states}}
	for _, l := range got {
		if l.Values.Rows != states.Rows {
			return nil, fmt.Errorf("snapshot: layer %s has %d rows for %d states", l.Name, l.Values.Rows, states.Rows)
		}
		if l.Name == sdk.NormalizedInputLayer {
			out[0].Points = l.Values
			continue
		}
		net, idx, _ := strings.Cut(l.Name, "/")
		layer, err := strconv.Atoi(idx)
		if err != nil {
			layer = len(out)
		}
		out = append(out, Cloud{Name: l.Name, Net: net, Layer: layer, Points: l.Values})
	}
	return out, nil
}

// within returns the pairs of d at distance at most t, as sparse edges.
func within(d sdk.Matrix, t float64) *sdk.Edges {
	e := &sdk.Edges{N: d.Rows}
	for i := 0; i < d.Rows; i++ {
		row := d.Row(i)
		for j := i + 1; j < d.Rows; j++ {
			if row[j] <= t {
				e.I = append(e.I, int32(i))
				e.J = append(e.J, int32(j))
				e.D = append(e.D, row[j])
			}
		}
	}
	return e
}

// Result is the topology of one cloud.
type Result struct {
	Record   summary.TopologyRecord
	Diagrams []sdk.Diagram
	Cloud    *Cloud // set when Options.KeepClouds
	// DistSeconds and PHSeconds split Record.Seconds into the distance
	// and the homology call (wall time), so a run can say which of the
	// two its snapshot time goes to.
	DistSeconds, PHSeconds float64
}

// Analyze computes the distance matrix, the persistence diagrams and the
// summaries of one cloud.
func Analyze(ctx context.Context, dist sdk.Distance, ph sdk.Homology, c Cloud, opt Options) (Result, error) {
	start := time.Now()
	params := map[string]string{}
	for k, v := range opt.DistParams {
		params[k] = v
	}
	if _, set := params["k"]; opt.Metric == "geodesic" && !set {
		params["k"] = strconv.Itoa(opt.K)
	}
	dr, err := dist.Compute(ctx, c.Points, params)
	if err != nil {
		return Result{}, fmt.Errorf("snapshot: %s distances of %s: %w", opt.Metric, c.Name, err)
	}
	distDone := time.Now()
	maxDim := min(opt.MaxDim, c.Points.Cols-1)
	req := sdk.HomologyRequest{Distances: &dr.Distances, MaxDim: maxDim, Threshold: opt.Threshold, Params: opt.PHParams}
	if opt.Edges && opt.Threshold > 0 {
		req.Distances, req.Edges = nil, within(dr.Distances, opt.Threshold)
	}
	res, err := sdk.ComputeHomology(ctx, ph, req)
	ds := res.Diagrams
	if err != nil {
		return Result{}, fmt.Errorf("snapshot: homology of %s: %w", c.Name, err)
	}
	phDone := time.Now()
	diam := summary.Diameter(dr.Distances)
	r := Result{
		Diagrams:    ds,
		DistSeconds: distDone.Sub(start).Seconds(),
		PHSeconds:   phDone.Sub(distDone).Seconds(),
		Record: summary.TopologyRecord{
			Cloud: c.Name, Net: c.Net, Layer: c.Layer,
			Points: c.Points.Rows, Dim: c.Points.Cols, Metric: opt.Metric,
			Summary:   summary.Summarize(ds, diam, opt.Summary),
			Seconds:   time.Since(start).Seconds(),
			PHScalars: res.Scalars,
		},
	}
	if opt.KeepClouds {
		cc := c
		r.Cloud = &cc
	}
	return r, nil
}
