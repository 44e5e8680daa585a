package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/recording"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/sdk"
)

type compareArgs struct {
	layers, recs       string
	ph                 string
	plot, ckaPlot, csv string
	cfg                recording.CompareConfig
}

// cloudList reads the clouds named by a comma-separated list of files
// or a folder of .npz files, named by file name.
func cloudList(spec, what string) ([]recording.Named, error) {
	if spec == "" {
		return nil, fmt.Errorf("compare: --%s is required", what)
	}
	var files []string
	for _, f := range strings.Split(spec, ",") {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			g, _ := filepath.Glob(filepath.Join(f, "*.npz"))
			slices.Sort(g)
			if len(g) == 0 {
				return nil, fmt.Errorf("compare: --%s %s: no .npz clouds in the folder", what, f)
			}
			files = append(files, g...)
		} else if f != "" {
			files = append(files, f)
		}
	}
	var out []recording.Named
	for _, f := range files {
		c, err := recording.LoadCloud(f)
		if err != nil {
			return nil, err
		}
		out = append(out, recording.Named{Name: strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), Points: c.Points})
	}
	return out, nil
}

// compareClouds is compare --layers --recordings: every layer cloud
// against every recording cloud (recording.Compare).
func compareClouds(ctx context.Context, a *app, ca compareArgs) error {
	layers, err := cloudList(ca.layers, "layers")
	if err != nil {
		return err
	}
	recs, err := cloudList(ca.recs, "recordings")
	if err != nil {
		return err
	}
	cl, err := a.open(ctx, sdk.KindPH, ca.ph)
	if err != nil {
		return err
	}
	h, err := cl.PH()
	if err != nil {
		return err
	}
	ph := func(ctx context.Context, pts sdk.Matrix) ([]sdk.Diagram, error) {
		return h.Compute(ctx, sdk.HomologyRequest{Points: &pts, MaxDim: ca.cfg.MaxDim})
	}
	res, err := recording.Compare(ctx, layers, recs, ca.cfg, ph)
	if err != nil {
		return err
	}
	var csv bytes.Buffer
	fmt.Fprintln(&csv, "layer,recording,dim,distance,null,p,cka")
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "layer\trecording\tH%d distance\tnull (same cloud)\tp\tlinear CKA\n", ca.cfg.Dim)
	dist := make([][]float64, len(layers))
	cka := make([][]float64, len(layers))
	for i := range layers {
		dist[i] = make([]float64, len(recs))
		cka[i] = make([]float64, len(recs))
	}
	for k, r := range res {
		i, j := k/len(recs), k%len(recs)
		dist[i][j], cka[i][j] = r.Distance, r.CKA
		ck := "-"
		if r.CKA == r.CKA {
			ck = fmt.Sprintf("%.3f", r.CKA)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4g\t%.4g\t%.3g\t%s\n", r.Layer, r.Recording, r.Distance, r.Null, r.P, ck)
		fmt.Fprintf(&csv, "%s,%s,%d,%g,%g,%g,%g\n", r.Layer, r.Recording, ca.cfg.Dim, r.Distance, r.Null, r.P, r.CKA)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ca.csv != "" {
		if err := runstore.WriteFileAtomic(ca.csv, csv.Bytes()); err != nil {
			return err
		}
	}
	names := func(cs []recording.Named) []string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Name)
		}
		return s
	}
	if ca.plot != "" {
		title := fmt.Sprintf("H%d bottleneck distance (unit-radius clouds, %d points)", ca.cfg.Dim, ca.cfg.Points)
		if err := plots.Matrix(title, "layer", "recording", names(layers), names(recs), dist, ca.plot); err != nil {
			return err
		}
	}
	if ca.ckaPlot != "" {
		if err := plots.Matrix("linear CKA (clouds matched in time)", "layer", "recording", names(layers), names(recs), cka, ca.ckaPlot); err != nil {
			return err
		}
	}
	return nil
}
