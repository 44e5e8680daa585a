package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/neuraltopology/neuraltopology/core/circular"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/recording"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// cmdCircular decodes the circular variable of a cloud's ring: circular
// coordinates from a persistent cohomology class (core/circular).
func cmdCircular(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "circular", "nthost circular --points CLOUD.npz --out ANGLES.npz [--bar 1] [--landmarks 300] [--coeff 47] [--even-speed=true] [--plot PNG] [--nwb FILE.nwb --behaviour PATH]")
	c.register(fs)
	points := fs.String("points", "", "the cloud: .npz from nthost recording import (points, times), or any .csv/.npy/.npz of points")
	out := fs.String("out", "", "write angle (radians, one per row of points) and times here (.npz)")
	bar := fs.Int("bar", 1, "decode this H1 bar of the landmarks: 1 the longest, 2 the next, ...")
	landmarks := fs.Int("landmarks", 300, "landmarks the cocycle is computed on (density-aware furthest-point sampling)")
	coeff := fs.Int("coeff", 47, "prime p of Z/p for the cocycle (an odd prime well above 2 lifts to integers cleanly)")
	ph := fs.String("ph", "rips", "homology plugin (must declare the parameter cocycles)")
	plotPath := fs.String("plot", "", "draw the decoded angle against time (and against --behaviour) to this PNG")
	nwb := fs.String("nwb", "", "the NWB file --behaviour is read from")
	behaviour := fs.String("behaviour", "", "a TimeSeries in --nwb (e.g. /processing/behavior/CompassDirection/heading/data, radians) to compare the angle with")
	seed := fs.Uint64("seed", 1, "seed of the landmark choice")
	even := fs.Bool("even-speed", true, "reparametrise the angle so it moves equally fast, on average, at every angle (a cloud with times); false: the raw circular coordinates")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *points == "" || *out == "" {
		return fmt.Errorf("circular: --points and --out are required")
	}
	if !hasExt(*out, ".npz") {
		return fmt.Errorf("circular: --out %s: want a .npz file", *out)
	}
	if (*behaviour == "") != (*nwb == "") {
		return fmt.Errorf("circular: --behaviour and --nwb go together")
	}
	if *coeff < 3 || !sdk.IsPrime(*coeff) {
		return fmt.Errorf("circular: --coeff %d: want an odd prime (47 is usual)", *coeff)
	}
	if err := a.setup(c); err != nil {
		return err
	}
	cloud, err := recording.LoadCloud(*points)
	if err != nil {
		return err
	}
	var beh []float64
	if *behaviour != "" {
		s, err := recording.ReadSeries(*nwb, *behaviour)
		if err != nil {
			return err
		}
		if beh, err = recording.SampleAt(s, cloud.Times, 0); err != nil {
			return fmt.Errorf("%s: %s: %v", *nwb, *behaviour, err)
		}
	}
	cl, err := a.open(ctx, sdk.KindPH, *ph)
	if err != nil {
		return err
	}
	params := map[string]string{"cocycles": "true"}
	if err := sdk.CheckParams(cl.Info, params); err != nil {
		return fmt.Errorf("circular: ph plugin %q does not return cocycles: %v", *ph, err)
	}
	h, err := cl.PH()
	if err != nil {
		return err
	}
	co := func(ctx context.Context, lm sdk.Matrix, p int) (sdk.Diagram, error) {
		ds, err := h.Compute(ctx, sdk.HomologyRequest{Points: &lm, MaxDim: 1, Coeff: p, Params: params})
		if err != nil {
			return sdk.Diagram{}, err
		}
		for _, d := range ds {
			if d.Dim == 1 {
				return d, nil
			}
		}
		return sdk.Diagram{}, fmt.Errorf("ph plugin %q returned no H1 diagram", *ph)
	}
	res, _, err := circular.Decode(ctx, cloud.Points, *landmarks, *bar, *coeff, *seed, co)
	if err != nil {
		return fmt.Errorf("%s: %w", *points, err)
	}
	arrs := []matio.NamedArray{
		{Name: "angle", Matrix: sdk.Matrix{Rows: len(res.Angle), Cols: 1, Data: res.Angle}},
		{Name: "times", Matrix: sdk.Matrix{Rows: len(cloud.Times), Cols: 1, Data: cloud.Times}},
	}
	raw := res.Angle
	if *even && cloud.Timed {
		res.Angle = circular.EvenSpeed(raw, cloud.Times)
	}
	line := fmt.Sprintf("%s: bar [%.4g, %.4g) at scale %.4g, %d of %d points outside every landmark ball", *points, res.Bar[0], res.Bar[1], res.Scale, res.Uncovered, len(res.Angle))
	if *even && !cloud.Timed {
		line += " (no times in the cloud: raw circular coordinates, not evened)"
	}
	if res.Defects > 0 {
		line += fmt.Sprintf(", the integer lift fails the cocycle condition on %d triangles (try another --coeff)", res.Defects)
	}
	var aligned []float64
	if beh != nil {
		rho := circular.Correlation(res.Angle, beh)
		aligned = circular.Align(res.Angle, beh)
		arrs = append(arrs, matio.NamedArray{Name: "behaviour", Matrix: sdk.Matrix{Rows: len(beh), Cols: 1, Data: beh}})
		line += fmt.Sprintf("; circular correlation with %s: %.3f", *behaviour, rho)
		if *even && cloud.Timed {
			line += fmt.Sprintf(" (raw circular coordinates: %.3f)", circular.Correlation(raw, beh))
		}
	}
	if err := matio.WriteNPZ(*out, arrs); err != nil {
		return err
	}
	if *plotPath != "" {
		if err := plots.DecodedAngle(filepath.Base(*points), cloud.Times, res.Angle, aligned, *plotPath); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stderr, line)
	return nil
}
