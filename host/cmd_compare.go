package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/neuraltopology/neuraltopology/core/diagdist"
	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/recording"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// cmdCompare prints bottleneck and Wasserstein (p = 1, 2) distances
// between two sets of persistence diagrams, dimension by dimension: e.g. a
// network layer's topology against a neural recording run through
// `nthost tda --format npz`.
func cmdCompare(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "compare", "nthost compare A.npz B.npz (or .json from nthost tda) | --layers CLOUDS --recordings CLOUDS [--dim 1] [--points 200] [--repeats 10] [--plot PNG] [--plot-cka PNG] [--csv FILE]")
	c.register(fs)
	layers := fs.String("layers", "", "point clouds of a network's layers: .npz files, comma-separated, or a folder of them (e.g. RUN_DIR/clouds/step_N from --save-clouds)")
	recs := fs.String("recordings", "", "recording clouds (nthost recording import), comma-separated, or a folder of them")
	dim := fs.Int("dim", 1, "compare the diagrams of this homology dimension")
	points := fs.Int("points", 200, "equal-size subsamples of this many points (density-aware)")
	repeats := fs.Int("repeats", 10, "independent subsamples of each cloud: the null is the distance between two of the same cloud")
	ph := fs.String("ph", "rips", "homology plugin")
	plotPath := fs.String("plot", "", "draw the layer x recording matrix of diagram distances to this PNG")
	ckaPlot := fs.String("plot-cka", "", "draw the layer x recording matrix of linear CKA (clouds matched in time) to this PNG")
	csvPath := fs.String("csv", "", "write the comparisons as CSV")
	seed := fs.Uint64("seed", 1, "seed of the subsamples")
	if err := parse(fs, args, 2); err != nil {
		return err
	}
	if *layers != "" || *recs != "" {
		if fs.NArg() > 0 {
			return fmt.Errorf("compare: give diagram files or --layers and --recordings, not both")
		}
		if err := a.setup(c); err != nil {
			return err
		}
		return compareClouds(ctx, a, compareArgs{layers: *layers, recs: *recs, ph: *ph, plot: *plotPath, ckaPlot: *ckaPlot, csv: *csvPath,
			cfg: recording.CompareConfig{Points: *points, Repeats: *repeats, Dim: *dim, MaxDim: *dim, Seed: *seed}})
	}
	if err := a.setup(c); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("compare: want two diagram files, got %d", fs.NArg())
	}
	A, err := readDiagrams(fs.Arg(0))
	if err != nil {
		return err
	}
	B, err := readDiagrams(fs.Arg(1))
	if err != nil {
		return err
	}
	byDim := func(ds []sdk.Diagram) map[int][][2]float64 {
		m := map[int][][2]float64{}
		for _, d := range ds {
			m[d.Dim] = append(m[d.Dim], d.Pairs...)
		}
		return m
	}
	// A NaN value makes every distance NaN: refuse it, naming the file.
	for i, ds := range [][]sdk.Diagram{A, B} {
		for _, d := range ds {
			for _, p := range d.Pairs {
				if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || p[1] < p[0] {
					return fmt.Errorf("compare: %s: dimension %d has the pair (%v, %v): want a finite birth and a death >= it", fs.Arg(i), d.Dim, p[0], p[1])
				}
			}
		}
	}
	a1, b1 := byDim(A), byDim(B)
	maxDim := 0
	for d := range a1 {
		maxDim = max(maxDim, d)
	}
	for d := range b1 {
		maxDim = max(maxDim, d)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dim\tpairs A\tpairs B\tbottleneck\twasserstein-1\twasserstein-2\t")
	for d := 0; d <= maxDim; d++ {
		x, y := a1[d], b1[d]
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t\n", d, len(x), len(y),
			num(diagdist.Bottleneck(x, y)), num(diagdist.Wasserstein(x, y, 1)), num(diagdist.Wasserstein(x, y, 2)))
	}
	return tw.Flush()
}

func num(x float64) string {
	if math.IsInf(x, 1) {
		return "inf"
	}
	return fmt.Sprintf("%.6g", x)
}

// readDiagrams reads diagrams from .npz (dgm0, dgm1, ...) or the JSON of
// `nthost tda`.
func readDiagrams(path string) ([]sdk.Diagram, error) {
	switch {
	case hasExt(path, ".npz"):
		return diagram.ReadNPZ(path)
	case hasExt(path, ".json"):
		f, err := runstore.OpenRegular(path, maxDiagramFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		ds, err := diagram.ReadJSON(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		return ds, nil
	}
	return nil, fmt.Errorf("%s: want a .npz or .json diagram file", path)
}

// maxDiagramFile bounds a diagram JSON file (millions of pairs fit).
const maxDiagramFile = 1 << 30

func hasExt(path, ext string) bool { return strings.HasSuffix(strings.ToLower(path), ext) }
