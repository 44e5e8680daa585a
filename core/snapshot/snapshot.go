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
func Sample(ctx context.Context, env sdk.Environment, handle int, algo sdk.Algorithm, n int, seed int64) (sdk.Matrix, error) {
	obs, err := env.Reset(ctx, handle, seed)
	if err != nil {
		return sdk.Matrix{}, fmt.Errorf("snapshot: reset analysis env: %w", err)
	}
	if obs.Rows != 1 {
		return sdk.Matrix{}, fmt.Errorf("snapshot: analysis env must be a batch of 1, got %d", obs.Rows)
	}
	states := sdk.NewMatrix(n, obs.Cols)
	for i := 0; i < n; i++ {
		copy(states.Row(i), obs.Data)
		if i == n-1 {
			break
		}
		act, err := algo.Policy(ctx, obs, false)
		if err != nil {
			return sdk.Matrix{}, fmt.Errorf("snapshot: policy: %w", err)
		}
		res, err := env.Step(ctx, handle, act)
		if err != nil {
			return sdk.Matrix{}, fmt.Errorf("snapshot: step analysis env: %w", err)
		}
		obs = res.Obs
	}
	return states, nil
}

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
	ds, err := ph.Compute(ctx, sdk.HomologyRequest{Distances: &dr.Distances, MaxDim: maxDim, Params: opt.PHParams})
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
			Summary: summary.Summarize(ds, diam, opt.Summary),
			Seconds: time.Since(start).Seconds(),
		},
	}
	if opt.KeepClouds {
		cc := c
		r.Cloud = &cc
	}
	return r, nil
}
