package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/neuraltopology/neuraltopology/core/phbench"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/plugins/dist-geodesic/geodesic"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// cmdBench groups benchmarks; today `ph`, homology backends side by side.
func cmdBench(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "ph" {
		return fmt.Errorf("bench: want `nthost bench ph ...`")
	}
	return cmdBenchPH(ctx, a, args[1:])
}

// cmdBenchPH runs several homology plugins on the same inputs and reports
// their time, peak memory and agreement with the first one.
func cmdBenchPH(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "bench ph", "nthost bench ph --ph rips,ripser,gudhi [--workload W1|W2|W3|all|suite|suite-quick] [--only SUBSTRING] [--mem-limit 6GiB] [--points F] [--distances F] [--from-run RUN_DIR [--dist geodesic --dist-param k=15]] [--repeat 3] [--timeout 10m] [--dense] [--maxdim 2] [--threads N] [--csv F] [--json F] [--png F]")
	c.register(fs)
	backends := fs.String("ph", "rips,ripser", "homology plugins, comma separated; the first is the reference")
	workload := fs.String("workload", "", "built-in workload: W1, W2, W3, all, or the standard datasets suite / suite-quick, each at its own dimension and threshold (see docs/benchmarks.md)")
	only := fs.String("only", "", "keep only the inputs whose name contains this")
	memLimit := fs.Float64("mem-limit", 0, "address-space cap of each plugin process in GiB (0: half the physical memory)")
	seed := fs.Int64("seed", 1, "seed of the built-in workloads")
	points := fs.String("points", "", "point cloud file (.csv/.npy): its Euclidean distances")
	distances := fs.String("distances", "", "distance matrix file (.csv/.npy)")
	fromRun := fs.String("from-run", "", "a run directory whose saved clouds (save_clouds) are the inputs")
	fromDist := fs.String("dist", "", "distance plugin for the --from-run clouds, e.g. geodesic as the main job uses (default: Euclidean distances); its time per cloud is logged")
	fromDistParams := paramFlag(fs, "dist-param", pluginParamUsage("--dist")+", e.g. k=15")
	phParams := paramFlag(fs, "ph-param", pluginParamUsage("homology")+"; each backend gets the ones it declares")
	repeat := fs.Int("repeat", 3, "timed runs per backend and input")
	timeout := fs.Duration("timeout", 0, "bound on one computation (e.g. 10m); 0: none")
	maxDim := fs.Int("maxdim", 2, "homology dimensions 0..maxdim")
	threshold := fs.Float64("threshold", 0, "filtration threshold (0: the enclosing radius)")
	coeff := fs.Int("coeff", 2, "prime field Z/p")
	threads := fs.Int("threads", 0, "worker threads of each backend that declares a threads parameter (ph-rips; 0: all cores)")
	dense := fs.Bool("dense", false, "send every backend the n x n matrix, even where a thresholded input would go as an edge list to the backends that take one")
	csvPath := fs.String("csv", "", "write the rows as CSV")
	jsonPath := fs.String("json", "", "write the result as JSON")
	pngPath := fs.String("png", "", "draw median times as a bar chart")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	switch {
	case *repeat < 1:
		return fmt.Errorf("bench ph: --repeat %d: want at least 1 timed run", *repeat)
	case *timeout < 0:
		return fmt.Errorf("bench ph: --timeout %v: want a duration >= 0 (0: none)", *timeout)
	case !(*memLimit >= 0) || math.IsInf(*memLimit, 0):
		return fmt.Errorf("bench ph: --mem-limit %v: want GiB >= 0 (0: half the physical memory)", *memLimit)
	}
	if err := a.setup(c); err != nil {
		return err
	}
	var inputs []phbench.Input
	if *workload != "" {
		names := []string{*workload}
		if strings.EqualFold(*workload, "all") {
			names = []string{"W1", "W2", "W3"}
		}
		for _, w := range names {
			if w = strings.ToUpper(w); strings.HasPrefix(w, "SUITE") {
				w = strings.ToLower(w)
			}
			in, err := phbench.WorkloadInputs(w, *seed, geodesicK)
			if err != nil {
				return err
			}
			inputs = append(inputs, in...)
		}
	}
	if *points != "" {
		in, err := phbench.PointsInput(*points)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	if *distances != "" {
		in, err := phbench.DistancesInput(*distances)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	if *fromRun != "" && *fromDist != "" {
		in, err := runDistances(ctx, a, *fromRun, *only, *fromDist, fromDistParams)
		if err != nil {
			return err
		}
		inputs = append(inputs, in...)
	} else if *fromRun != "" {
		in, err := phbench.RunDirInputs(*fromRun)
		if err != nil {
			return err
		}
		inputs = append(inputs, in...)
	} else if *fromDist != "" {
		return fmt.Errorf("bench ph: --dist %s applies to --from-run clouds; give --from-run RUN_DIR", *fromDist)
	}
	if *only != "" {
		inputs = slices.DeleteFunc(inputs, func(in phbench.Input) bool { return !strings.Contains(in.Name, *only) })
	}
	if len(inputs) == 0 {
		return fmt.Errorf("bench ph: no inputs; give --workload, --points, --distances or --from-run")
	}
	var paths []string
	for _, name := range strings.Split(*backends, ",") {
		p, err := findPlugin(a.dirs, sdk.KindPH, strings.TrimSpace(name))
		if err != nil {
			return err
		}
		paths = append(paths, p)
	}
	res, err := phbench.Run(ctx, phbench.Config{
		Params:   phParams,
		Backends: paths, Inputs: inputs, Repeat: *repeat, Timeout: *timeout,
		MaxDim: *maxDim, Threshold: *threshold, Coeff: *coeff, Dense: *dense, Threads: *threads, Logger: pluginLogger(a.log),
		MemoryLimit: int64(*memLimit * (1 << 30)),
		Progress: func(r phbench.Row) {
			ev := a.log.Info().Str("backend", r.Backend).Str("input", r.Input).Float64("median_s", r.Median).Float64("cpu_s", r.CPU).Int("threads", r.Threads)
			if r.Error != "" {
				ev = a.log.Warn().Str("backend", r.Backend).Str("input", r.Input).Str("error", r.Error)
			}
			ev.Msg("bench row done")
		},
	})
	if err != nil {
		return err
	}
	if err := res.WriteTable(a.stdout); err != nil {
		return err
	}
	for path, write := range map[string]func(io.Writer) error{*csvPath: res.WriteCSV, *jsonPath: res.WriteJSON} {
		if path != "" {
			if err := runstore.WriteAtomic(path, write); err != nil {
				return err
			}
		}
	}
	if *pngPath != "" {
		if err := res.WritePNG(*pngPath); err != nil {
			return err
		}
	}
	a.log.Debug().Str("took", time.Since(res.Started).Round(time.Second).String()).Msg("bench done")
	return nil
}

// runDistances computes the distance matrices of a run's saved clouds
// (those whose name contains only) with the named distance plugin, as
// the main job does, and logs each call's time: the distance side of a
// snapshot's cost, beside the homology times the bench measures.
func runDistances(ctx context.Context, a *app, runDir, only, name string, params map[string]string) ([]phbench.Input, error) {
	clouds, err := phbench.RunDirClouds(runDir)
	if err != nil {
		return nil, err
	}
	cl, err := a.open(ctx, sdk.KindDist, name)
	if err != nil {
		return nil, err
	}
	dist, err := cl.Dist()
	if err != nil {
		return nil, err
	}
	var out []phbench.Input
	for _, c := range clouds {
		if !strings.Contains(c.Name, only) {
			continue
		}
		start := time.Now()
		r, err := dist.Compute(ctx, c.Points, params)
		if err != nil {
			return nil, fmt.Errorf("bench ph: %s distances of %s: %w", name, c.Name, err)
		}
		a.log.Info().Str("input", c.Name).Int("points", c.Points.Rows).Int("dim", c.Points.Cols).
			Float64("dist_s", time.Since(start).Seconds()).Msg("distances done")
		out = append(out, phbench.Input{Name: c.Name, Distances: r.Distances})
	}
	return out, nil
}

// geodesicK is the geodesic distance plugin's metric (k nearest
// neighbours, Euclidean edge weights) for the built-in workloads.
func geodesicK(points sdk.Matrix, k int) (sdk.Matrix, error) {
	d, _, err := geodesic.Distances(points, k, geodesic.Options{})
	return d, err
}
