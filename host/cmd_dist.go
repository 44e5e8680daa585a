package main

import (
	"context"
	"fmt"
	"github.com/spf13/pflag"
	"strconv"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// cmdDist writes the distance matrix of a point cloud file, computed by a
// distance plugin, so users can take it to other tools.
func cmdDist(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "dist", "nthost dist --points FILE [--metric euclid|geodesic] [--k 15] [--weights euclid|unit] --out FILE")
	c.register(fs)
	points := fs.String("points", "", "point cloud, n x d, as .csv or .npy (required)")
	metric := fs.String("metric", "geodesic", "distance plugin: euclid or geodesic (any nt-dist-<name> found)")
	k := fs.Int("k", 15, "geodesic: neighbours of each point, not counting itself (the seed's graph is k=14)")
	weights := fs.String("weights", "euclid", "geodesic: edge weights, euclid, unit, or hops (hop counts over the distinct points)")
	out := fs.String("out", "", "output distance matrix, .csv or .npy (required)")
	params := paramFlag(fs, "dist-param", pluginParamUsage("distance"))
	// --param was this command's spelling before every command took
	// --dist-param; it is still read.
	fs.AddFlag(&pflag.Flag{Name: "param", Value: fs.Lookup("dist-param").Value, Hidden: true, Usage: "same as --dist-param"})
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *points == "" || *out == "" {
		return fmt.Errorf("dist: --points and --out are required")
	}
	if err := a.setup(c); err != nil {
		return err
	}
	pts, err := readPoints(*points)
	if err != nil {
		return err
	}
	res, err := computeDistances(ctx, a, *metric, pts, distArgs{k: *k, kSet: flagSet(fs, "k"), weights: *weights, params: params})
	if err != nil {
		return err
	}
	if err := matio.Write(*out, res.Distances); err != nil {
		return err
	}
	a.log.Info().Str("out", *out).Int("points", pts.Rows).Int("components", res.Components).Msg("distance matrix written")
	return nil
}

// readPoints reads a point cloud and refuses non-finite coordinates,
// naming the file.
func readPoints(path string) (sdk.Matrix, error) {
	m, err := matio.Read(path)
	if err != nil {
		return sdk.Matrix{}, err
	}
	if err := m.Validate(true); err != nil {
		return sdk.Matrix{}, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
}

// distArgs are the distance parameters of the dist and tda commands: --k
// and --weights are short forms for plugins that declare k and weights.
type distArgs struct {
	k       int
	kSet    bool
	weights string
	params  map[string]string
}

// computeDistances runs the named distance plugin with the parameters it
// declares, refusing others before computing.
func computeDistances(ctx context.Context, a *app, metric string, pts sdk.Matrix, da distArgs) (sdk.DistanceResult, error) {
	// The plugin's matrix, the gRPC message and the host's copy: refused
	// up front rather than by the OOM killer half-way through.
	if err := sdk.CheckSquare(metric, pts.Rows, 3); err != nil {
		return sdk.DistanceResult{}, err
	}
	cl, err := a.open(ctx, sdk.KindDist, metric)
	if err != nil {
		return sdk.DistanceResult{}, err
	}
	d, err := cl.Dist()
	if err != nil {
		return sdk.DistanceResult{}, err
	}
	params := map[string]string{}
	for n, v := range da.params {
		params[n] = v
	}
	if _, takesK := cl.Info.Param("k"); takesK {
		if _, set := params["k"]; !set {
			params["k"] = strconv.Itoa(da.k)
		}
	} else if da.kSet {
		return sdk.DistanceResult{}, fmt.Errorf("--k: dist plugin %q has no parameter k (%s)", metric, takes(cl.Info))
	}
	if _, takesW := cl.Info.Param("weights"); takesW && da.weights != "" {
		if _, set := params["weights"]; !set {
			params["weights"] = da.weights
		}
	}
	if err := sdk.CheckParams(cl.Info, params); err != nil {
		return sdk.DistanceResult{}, err
	}
	return d.Compute(ctx, pts, params)
}
