package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/recording"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// tdaCloudArgs are the tda flags a recording cloud uses.
type tdaCloudArgs struct {
	path      string
	cloud     recording.Cloud
	ph        string
	maxDim    int
	threshold float64
	coeff     int
	format    string
	out       string
	plot      string
	params    map[string]string
	shuffles  int
	seed      uint64
}

// tdaCloud is tda on a cloud from `nthost recording import`: homology of
// its density-aware subsample and, with shuffles, of as many shuffled
// controls, with a p-value per bar (recording.ShuffleTest).
func tdaCloud(ctx context.Context, a *app, cl *sdk.Client, t tdaCloudArgs) error {
	h, err := cl.PH()
	if err != nil {
		return err
	}
	if err := sdk.CheckParams(cl.Info, t.params); err != nil {
		return err
	}
	if d, ok := sdk.MaxDim(cl.Info); ok && d < t.maxDim {
		return fmt.Errorf("--maxdim %d: ph plugin %q computes homology only up to dimension %d", t.maxDim, t.ph, d)
	}
	if !sdk.SupportsCoeff(cl.Info, t.coeff) {
		return fmt.Errorf("--coeff %d: ph plugin %q does not declare it", t.coeff, t.ph)
	}
	takesPoints := sdk.TakesInput(cl.Info, "points")
	ph := func(ctx context.Context, pts sdk.Matrix) ([]sdk.Diagram, error) {
		req := sdk.HomologyRequest{MaxDim: t.maxDim, Threshold: t.threshold, Coeff: t.coeff, Params: t.params}
		if takesPoints {
			req.Points = &pts
		} else {
			d, err := euclid.Matrix(pts)
			if err != nil {
				return nil, err
			}
			req.Distances = &d
		}
		return h.Compute(ctx, req)
	}
	test, err := recording.ShuffleTest(ctx, t.cloud, t.shuffles, t.cloud.Subsample, t.seed, ph)
	if err != nil {
		return fmt.Errorf("%s: %w", t.path, err)
	}
	var buf bytes.Buffer
	switch t.format {
	case "json":
		err = test.WriteJSON(&buf)
	case "ripser":
		err = diagram.WriteRipserText(&buf, test.Observed)
	case "npz":
		err = diagram.WriteNPZ(t.out, test.Observed)
	}
	if err != nil {
		return err
	}
	if t.format != "npz" {
		if t.out == "" {
			if _, err := a.stdout.Write(buf.Bytes()); err != nil {
				return err
			}
		} else if err := runstore.WriteFileAtomic(t.out, buf.Bytes()); err != nil {
			return err
		}
	}
	if t.plot != "" {
		if err := plots.Diagram(plots.CloudDiagrams{Cloud: filepath.Base(t.path), Diagrams: test.Observed}, t.plot); err != nil {
			return err
		}
	}
	n := t.cloud.Points.Rows
	if m := t.cloud.Subsample; m > 0 && m < n {
		n = m
	}
	var parts []string
	for _, d := range test.Observed {
		parts = append(parts, fmt.Sprintf("H%d: %d pairs", d.Dim, len(d.Pairs)))
	}
	line := fmt.Sprintf("%s: %d of %d points; %s", t.path, n, t.cloud.Points.Rows, strings.Join(parts, ", "))
	if t.shuffles > 0 {
		line += fmt.Sprintf("; significant Betti numbers against %d shuffles (p <= %g): %v", t.shuffles, recording.Alpha, test.SignificantBetti)
		if slices.ContainsFunc(test.BeyondGap, func(n int) bool { return n > 0 }) {
			line += fmt.Sprintf(" (and %v more, %g times shorter than those)", test.BeyondGap, recording.Gap)
		}
	}
	fmt.Fprintln(a.stderr, line)
	return nil
}
