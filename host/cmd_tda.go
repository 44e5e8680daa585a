package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/recording"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// cmdTDA computes the persistent homology of a user's file: a neural
// population recording, an exported activation matrix, or a distance
// matrix from another tool.
func cmdTDA(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "tda", "nthost tda --points FILE | --distances FILE [--input-format distance|lower-distance|upper-distance|sparse|point-cloud] [--dist euclid|geodesic] [--k 15] [--maxdim 2] [--threshold T] [--coeff 2] [--format json|npz|ripser] [--out PATH] [--plot PNG] [--betti-at T] [--subsample N [--subsample-seed S] | --sparse EPS] [--threads N] [--shuffles N] [--seed S]")
	c.register(fs)
	points := fs.String("points", "", "point cloud, n x d, .csv or .npy")
	distances := fs.String("distances", "", "distance matrix, n x n symmetric with zero diagonal, .csv or .npy")
	inputFormat := fs.String("input-format", "", "read the file in this ripser text format: distance, lower-distance, upper-distance or sparse (--distances), point-cloud (--points); default: by extension")
	dist := fs.String("dist", "euclid", "distance plugin for --points: euclid or geodesic")
	k := fs.Int("k", 15, "geodesic: neighbours of each point, not counting itself")
	ph := fs.String("ph", "rips", "homology plugin")
	maxDim := fs.Int("maxdim", 2, "compute homology in dimensions 0..maxdim")
	threshold := fs.Float64("threshold", 0, "largest filtration value (0: the enclosing radius, beyond which nothing changes)")
	coeff := fs.Int("coeff", 2, "prime p of the coefficient field Z/p")
	format := fs.String("format", "json", "output format: json, npz or ripser")
	out := fs.String("out", "", "output file (default: standard output; required for npz)")
	plotPath := fs.String("plot", "", "draw the persistence diagram to this PNG")
	bettiAt := fs.Float64("betti-at", 0, "report Betti numbers at this scale (birth <= t < death); default: the midpoint of the longest bar of dimension >= 1, stated in the summary")
	distParams := paramFlag(fs, "dist-param", pluginParamUsage("distance"))
	phParams := paramFlag(fs, "ph-param", pluginParamUsage("homology"))
	subsample := fs.Int("subsample", 0, "homology of N points chosen by greedy furthest-point sampling; the JSON gains covering_radius r and bottleneck_bound 2r")
	subsampleSeed := fs.Int64("subsample-seed", 0, "seed picking the first point of the greedy sampling (--subsample, --sparse)")
	sparse := fs.Float64("sparse", 0, "sparse Rips filtration with this epsilon (0 < eps < 1); the JSON gains approximation_factor 1/(1-eps)")
	threads := fs.Int("threads", 0, "worker threads of the homology plugin (0: all cores)")
	shuffles := fs.Int("shuffles", 0, "a cloud from nthost recording import: also this many shuffled controls, a p-value per bar and significant_betti (>= 19)")
	seed := fs.Uint64("seed", 1, "seed of the shuffles and the subsampling of a recording cloud")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if (*points == "") == (*distances == "") {
		return fmt.Errorf("tda: give exactly one of --points and --distances")
	}
	if *format != "json" && *format != "npz" && *format != "ripser" {
		return fmt.Errorf("tda: --format %q: want json, npz or ripser", *format)
	}
	if *format == "npz" && *out == "" {
		return fmt.Errorf("tda: --format npz needs --out FILE.npz")
	}
	if *threshold < 0 || math.IsNaN(*threshold) {
		return fmt.Errorf("tda: --threshold must be >= 0")
	}
	// 0 would silently mean 2 (the wire's default); say what is wanted.
	if *coeff < 2 {
		return fmt.Errorf("tda: --coeff %d: want a prime >= 2 (the field Z/p)", *coeff)
	}
	if math.IsNaN(*bettiAt) || math.IsInf(*bettiAt, 0) || *bettiAt < 0 {
		return fmt.Errorf("tda: --betti-at %v: want a finite scale >= 0", *bettiAt)
	}
	if f := *inputFormat; f != "" {
		if !slices.Contains(matio.RipserFormats, f) {
			return fmt.Errorf("tda: --input-format %q: want one of %s", f, strings.Join(matio.RipserFormats, ", "))
		}
		if (f == matio.RipserPoints) != (*points != "") {
			return fmt.Errorf("tda: --input-format %s goes with --%s", f, map[bool]string{true: "points", false: "distances"}[f == matio.RipserPoints])
		}
	}
	if *subsample < 0 || *threads < 0 {
		return fmt.Errorf("tda: --subsample and --threads must be >= 0")
	}
	if *sparse != 0 && !(*sparse > 0 && *sparse < 1) {
		return fmt.Errorf("tda: --sparse %v: want 0 < eps < 1", *sparse)
	}
	if *subsample > 0 && *sparse > 0 {
		return fmt.Errorf("tda: give one of --subsample and --sparse")
	}
	if (*subsample > 0 || *sparse > 0) && *threshold > 0 {
		return fmt.Errorf("tda: --subsample and --sparse approximate the whole filtration; give no --threshold")
	}
	if err := a.setup(c); err != nil {
		return err
	}

	cl, err := a.open(ctx, sdk.KindPH, *ph)
	if err != nil {
		return err
	}
	if *points != "" && *inputFormat == "" && hasExt(*points, ".npz") {
		rc, err := recording.LoadCloud(*points)
		if err != nil {
			return err
		}
		if rc.HasRates() || rc.Subsample > 0 || *shuffles > 0 {
			return tdaCloud(ctx, a, cl, tdaCloudArgs{path: *points, cloud: rc, ph: *ph, maxDim: *maxDim, threshold: *threshold,
				coeff: *coeff, format: *format, out: *out, plot: *plotPath, params: phParams, shuffles: *shuffles, seed: *seed})
		}
	}
	if *shuffles > 0 {
		return fmt.Errorf("tda: --shuffles needs a cloud from nthost recording import (.npz with rates)")
	}
	var dm sdk.Matrix
	// direct: the points go to the ph plugin as they are (see below).
	var direct *sdk.Matrix
	// edges: a sparse distance matrix for a plugin that takes one.
	var edges *sdk.Edges
	diameter := math.NaN()
	npts := 0
	input := *distances
	if *points != "" {
		input = *points
		var pts sdk.Matrix
		var err error
		if *inputFormat != "" {
			var in matio.RipserInput
			in, err = matio.ReadRipserFile(*points, *inputFormat)
			pts = in.Matrix
		} else {
			pts, err = readPoints(*points)
		}
		if err != nil {
			return err
		}
		// A ph plugin that takes points computes Euclidean distances
		// itself, where the euclid plugin would send the whole n x n
		// matrix through the host (and the host would hold it, twice
		// while sending). With a threshold it needs only the pairs within
		// it (rips: neighbour lists, no n x n matrix anywhere); without
		// one it finds the enclosing radius from the points (rips: only
		// its float32 matrix).
		if *dist == "euclid" && len(distParams) == 0 && !flagSet(fs, "k") && sdk.TakesInput(cl.Info, "points") {
			if err := euclid.CheckPoints(pts); err != nil {
				return fmt.Errorf("%s: %v", input, err)
			}
			direct = &pts
			diameter = pointsDiameter(pts)
		} else {
			res, err := computeDistances(ctx, a, *dist, pts, distArgs{k: *k, kSet: flagSet(fs, "k"), params: distParams})
			if err != nil {
				return err
			}
			dm = res.Distances
		}
	} else if *inputFormat == matio.RipserSparse || *inputFormat != "" && *threshold > 0 {
		// Read as pairs, never as an n x n matrix: a sparse file as it
		// is, a full or triangular one keeping the pairs within the
		// threshold. They go to the plugin as they are when it takes
		// edges and they are few (as bench ph decides, and as ph-rips
		// leaves its dense form); otherwise the plugin gets the matrix,
		// the absent pairs beyond the threshold.
		in, err := matio.ReadRipserEdgesFile(*distances, *inputFormat, *threshold)
		if err != nil {
			return err
		}
		e := in.Edges
		n := int64(e.N)
		few := *inputFormat == matio.RipserSparse || float32(*threshold) < float32(in.Enclosing) && 32*int64(len(e.D)) < n*n
		if few && sdk.TakesInput(cl.Info, "edges") {
			edges = &e
		} else {
			dm, *threshold = e.Dense(*threshold)
			npts = e.N
		}
		diameter = 0
		for _, d := range e.D {
			diameter = max(diameter, d)
		}
	} else if *inputFormat != "" {
		in, err := matio.ReadRipserFile(*distances, *inputFormat)
		if err != nil {
			return err
		}
		dm = in.Matrix
	} else {
		m, err := matio.Read(*distances)
		if err != nil {
			return err
		}
		if err := m.Validate(true); err != nil {
			return fmt.Errorf("%s: %v", *distances, err)
		}
		dm = m
	}
	h, err := cl.PH()
	if err != nil {
		return err
	}
	if err := approxParams(cl.Info, phParams, *subsample, *subsampleSeed, fs.Changed("subsample-seed"), *sparse, *threads); err != nil {
		return err
	}
	if err := sdk.CheckParams(cl.Info, phParams); err != nil {
		return err
	}
	if d, ok := sdk.MaxDim(cl.Info); ok && d < *maxDim {
		return fmt.Errorf("--maxdim %d: ph plugin %q computes homology only up to dimension %d (capability %s)", *maxDim, *ph, d, sdk.CapMaxDim)
	}
	if !sdk.SupportsCoeff(cl.Info, *coeff) {
		return fmt.Errorf("--coeff %d: ph plugin %q does not declare it (capability %s=%q)", *coeff, *ph, sdk.CapCoeff, cl.Info.Capabilities[sdk.CapCoeff])
	}
	req := sdk.HomologyRequest{Distances: &dm, MaxDim: *maxDim, Threshold: *threshold, Coeff: *coeff, Params: phParams}
	switch {
	case direct != nil:
		req.Distances, req.Points = nil, direct
	case edges != nil:
		req.Distances, req.Edges = nil, edges
		npts = edges.N
	case math.IsNaN(diameter):
		diameter = summary.Diameter(dm)
	}
	if edges != nil {
		a.log.Debug().Str("given", "edges").Int("points", edges.N).Int("pairs", len(edges.D)).Float64("threshold", req.Threshold).Msg("homology input")
	} else if direct != nil {
		a.log.Debug().Str("given", "points").Int("points", direct.Rows).Float64("threshold", req.Threshold).Msg("homology input")
	} else {
		a.log.Debug().Str("given", "matrix").Int("points", dm.Rows).Float64("threshold", req.Threshold).Msg("homology input")
	}
	res, err := sdk.ComputeHomology(ctx, h, req)
	if err != nil {
		return fmt.Errorf("%s: %w", input, err)
	}
	ds := diagram.Sorted(res.Diagrams)
	if direct != nil {
		npts = direct.Rows
	} else if npts == 0 {
		npts = dm.Rows
	}
	ts := summarizeTDA(ds, npts, diameter, *bettiAt, fs.Changed("betti-at"))

	var buf bytes.Buffer
	switch *format {
	case "json":
		err = diagram.WriteJSONWith(&buf, ds, ts)
		if err == nil && len(res.Scalars) > 0 {
			var b []byte
			if b, err = diagram.WithScalars(buf.Bytes(), res.Scalars); err == nil {
				buf.Reset()
				buf.Write(b)
			}
		}
	case "ripser":
		err = diagram.WriteRipserText(&buf, ds)
	case "npz":
		err = diagram.WriteNPZ(*out, ds)
	}
	if err != nil {
		return err
	}
	if *format != "npz" {
		if *out == "" {
			if _, err := a.stdout.Write(buf.Bytes()); err != nil {
				return err
			}
		} else if err := runstore.WriteFileAtomic(*out, buf.Bytes()); err != nil {
			return err
		}
	}
	if *plotPath != "" {
		if err := plots.Diagram(plots.CloudDiagrams{Cloud: filepath.Base(input), Diagrams: ds}, *plotPath); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stderr, "%s: %s\n", input, ts.line(ds))
	if r, ok := res.Scalars["covering_radius"]; ok {
		fmt.Fprintf(a.stderr, "%s: subsample of %g points, covering radius %g: diagrams within bottleneck distance %g of the whole cloud's\n", input, res.Scalars["subsample_points"], r, res.Scalars["bottleneck_bound"])
	}
	if f, ok := res.Scalars["approximation_factor"]; ok {
		fmt.Fprintf(a.stderr, "%s: sparse Rips, %g edges: births and deaths within a factor %g of the exact ones\n", input, res.Scalars["sparse_edges"], f)
	}
	return nil
}

// approxParams turns --subsample, --subsample-seed, --sparse and
// --threads into the homology plugin's declared parameters (ph-rips:
// subsample, subsample_seed, sparse, threads). An approximation the
// plugin does not declare is refused; --threads is passed only to a
// plugin that declares it (a single-threaded backend has nothing to
// set).
func approxParams(info sdk.Info, params map[string]string, subsample int, seed int64, seedSet bool, sparse float64, threads int) error {
	set := func(flag, name, value string) error {
		if _, ok := info.Param(name); !ok {
			return fmt.Errorf("tda: %s: ph plugin %q does not declare parameter %q", flag, info.Name, name)
		}
		params[name] = value
		return nil
	}
	if subsample > 0 {
		if err := set("--subsample", "subsample", strconv.Itoa(subsample)); err != nil {
			return err
		}
	}
	if sparse > 0 {
		if err := set("--sparse", "sparse", strconv.FormatFloat(sparse, 'g', -1, 64)); err != nil {
			return err
		}
	}
	if seedSet {
		if err := set("--subsample-seed", "subsample_seed", strconv.FormatInt(seed, 10)); err != nil {
			return err
		}
	}
	if _, ok := info.Param("threads"); ok && threads > 0 {
		params["threads"] = strconv.Itoa(threads)
	}
	return nil
}

// tdaSummary is what `nthost tda` says about the diagrams, on standard
// error and under "summary" in its JSON.
type tdaSummary struct {
	Points int `json:"points"`
	// Diameter is the largest distance; nil when not known (a
	// thresholded sparse input).
	Diameter *float64 `json:"diameter,omitempty"`
	// Persistent counts, per dimension, the bars longer than
	// PersistentFraction x Diameter: a count that does not depend on the
	// units of the distances.
	PersistentFraction float64 `json:"persistent_fraction,omitempty"`
	Persistent         []int   `json:"persistent,omitempty"`
	// Betti holds the Betti numbers at BettiScale, per dimension;
	// BettiScaleFrom says where the scale came from.
	BettiScale     float64 `json:"betti_scale"`
	BettiScaleFrom string  `json:"betti_scale_from"`
	Betti          []int   `json:"betti"`
}

// summarizeTDA counts persistent bars (scale-free) and Betti numbers at
// bettiAt if given, else at a scale chosen from the diagrams.
func summarizeTDA(ds []sdk.Diagram, npts int, diameter, bettiAt float64, given bool) tdaSummary {
	ts := tdaSummary{Points: npts, BettiScale: bettiAt, BettiScaleFrom: "--betti-at"}
	if !given {
		ts.BettiScale, ts.BettiScaleFrom = summary.ChooseBettiScale(ds)
	}
	maxDim := -1
	for _, d := range ds {
		maxDim = max(maxDim, d.Dim)
	}
	ts.Betti = make([]int, maxDim+1)
	for _, d := range ds {
		for _, p := range d.Pairs {
			if p[0] <= ts.BettiScale && ts.BettiScale < p[1] {
				ts.Betti[d.Dim]++
			}
		}
	}
	if !math.IsNaN(diameter) && !math.IsInf(diameter, 0) && diameter > 0 {
		dia := diameter
		ts.Diameter = &dia
		sum := summary.Summarize(ds, diameter, summary.Options{})
		ts.PersistentFraction = sum.Fraction
		ts.Persistent = make([]int, maxDim+1)
		for k := range ts.Persistent {
			ts.Persistent[k] = sum.Persistent(k)
		}
	}
	return ts
}

// line is the summary as one line for the terminal.
func (ts tdaSummary) line(ds []sdk.Diagram) string {
	var parts []string
	for _, d := range ds {
		inf := 0
		for _, p := range d.Pairs {
			if math.IsInf(p[1], 1) {
				inf++
			}
		}
		parts = append(parts, fmt.Sprintf("H%d: %d pairs (%d infinite)", d.Dim, len(d.Pairs), inf))
	}
	s := fmt.Sprintf("%d points", ts.Points)
	if ts.Diameter != nil {
		s += fmt.Sprintf(", diameter %.4g", *ts.Diameter)
	}
	s += "; " + strings.Join(parts, ", ")
	if ts.Persistent != nil {
		s += fmt.Sprintf("; bars longer than %g x diameter: %v", ts.PersistentFraction, ts.Persistent)
	}
	return s + fmt.Sprintf("; Betti numbers at %.4g (%s): %v", ts.BettiScale, ts.BettiScaleFrom, ts.Betti)
}

// pointsDiameter is the largest Euclidean distance between rows of pts,
// found without storing the distances.
func pointsDiameter(pts sdk.Matrix) float64 {
	m := 0.0
	for i := range pts.Rows {
		xi := pts.Row(i)
		for j := i + 1; j < pts.Rows; j++ {
			var s float64
			for k, v := range pts.Row(j) {
				t := xi[k] - v
				s += t * t
			}
			m = max(m, s)
		}
	}
	return math.Sqrt(m)
}
