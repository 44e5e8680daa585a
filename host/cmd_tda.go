package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// cmdTDA computes the persistent homology of a user's file: a neural
// population recording, an exported activation matrix, or a distance
// matrix from another tool.
func cmdTDA(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "tda", "nthost tda --points FILE | --distances FILE [--dist euclid|geodesic] [--k 15] [--maxdim 2] [--threshold T] [--coeff 2] [--format json|npz|ripser] [--out PATH] [--plot PNG] [--betti-at 2.5]")
	c.register(fs)
	points := fs.String("points", "", "point cloud, n x d, .csv or .npy")
	distances := fs.String("distances", "", "distance matrix, n x n symmetric with zero diagonal, .csv or .npy")
	dist := fs.String("dist", "euclid", "distance plugin for --points: euclid or geodesic")
	k := fs.Int("k", 15, "geodesic: neighbours of each point, not counting itself")
	ph := fs.String("ph", "rips", "homology plugin")
	maxDim := fs.Int("maxdim", 2, "compute homology in dimensions 0..maxdim")
	threshold := fs.Float64("threshold", 0, "largest filtration value (0: the enclosing radius, beyond which nothing changes)")
	coeff := fs.Int("coeff", 2, "prime p of the coefficient field Z/p")
	format := fs.String("format", "json", "output format: json, npz or ripser")
	out := fs.String("out", "", "output file (default: standard output; required for npz)")
	plotPath := fs.String("plot", "", "draw the persistence diagram to this PNG")
	bettiAt := fs.Float64("betti-at", 2.5, "report Betti numbers at this scale (birth <= t < death)")
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
	if err := a.setup(c); err != nil {
		return err
	}

	var dm sdk.Matrix
	input := *distances
	if *points != "" {
		input = *points
		pts, err := readPoints(*points)
		if err != nil {
			return err
		}
		res, err := computeDistances(ctx, a, *dist, pts, *k, "euclid")
		if err != nil {
			return err
		}
		dm = res.Distances
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
	cl, err := a.open(ctx, sdk.KindPH, *ph)
	if err != nil {
		return err
	}
	h, err := cl.PH()
	if err != nil {
		return err
	}
	ds, err := h.Compute(ctx, sdk.HomologyRequest{Distances: &dm, MaxDim: *maxDim, Threshold: *threshold, Coeff: *coeff})
	if err != nil {
		return fmt.Errorf("%s: %w", input, err)
	}
	ds = diagram.Sorted(ds)

	var buf bytes.Buffer
	switch *format {
	case "json":
		err = diagram.WriteJSON(&buf, ds)
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
	sum := summary.Summarize(ds, summary.Diameter(dm), summary.Options{BettiScale: *bettiAt})
	betti := make([]int, sum.MaxDim()+1)
	for k := range betti {
		betti[k] = sum.Betti(k)
	}
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
	fmt.Fprintf(a.stderr, "%s: %d points; %s; Betti numbers at %g: %v\n", input, dm.Rows, strings.Join(parts, ", "), *bettiAt, betti)
	return nil
}
