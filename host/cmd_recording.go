package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/recording"
)

const recordingUsage = `usage:
  nthost recording import FILE.nwb --out CLOUD.npz [--bin 100ms] [--smooth SIGMA] [--interval A:B] [--units ID,ID,...] [--pca 6] [--series PATH] [--subsample 300]
`

// cmdRecording turns neural recordings into point clouds for tda,
// circular and compare (docs/recordings.md).
func cmdRecording(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(a.stdout, recordingUsage)
		return nil
	}
	switch args[0] {
	case "import":
		return recordingImport(ctx, a, args[1:])
	}
	return fmt.Errorf("recording: unknown subcommand %q (import)", args[0])
}

func recordingImport(_ context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "recording import", strings.TrimSpace(strings.TrimPrefix(recordingUsage, "usage:\n")))
	c.register(fs)
	out := fs.String("out", "", "the cloud to write (.npz: points, times, rates and how points were made)")
	bin := fs.String("bin", "100ms", "bin width: seconds (0.1) or a duration (100ms)")
	smooth := fs.String("smooth", "", "Gaussian smoothing along time, sigma as seconds or a duration; 0: none (default: twice the bin)")
	interval := fs.String("interval", "", "START:END in seconds (default: the whole recording)")
	units := fs.String("units", "", "comma-separated ids of /units to keep (default: all)")
	pca := fs.Int("pca", recording.DefaultPCA, "principal components kept (0: all, no projection)")
	series := fs.String("series", "", "a TimeSeries (e.g. imaging traces, data: time x cells) to use instead of /units")
	subsample := fs.Int("subsample", recording.DefaultSubsample, "points nthost tda takes from the cloud (density-aware; 0: all)")
	file, rest := leadingArg(args)
	if err := parse(fs, rest, 1); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("recording import: unexpected argument %q", fs.Arg(0))
	}
	if file == "" {
		return fmt.Errorf("recording import: give the NWB file")
	}
	if *out == "" {
		return fmt.Errorf("recording import: --out CLOUD.npz is required")
	}
	if !hasExt(*out, ".npz") {
		return fmt.Errorf("recording import: --out %s: want a .npz file", *out)
	}
	if *subsample < 0 {
		return fmt.Errorf("recording import: --subsample %d: want >= 0", *subsample)
	}
	if err := a.setup(c); err != nil {
		return err
	}
	cfg := recording.ImportConfig{Smooth: -1, Series: *series, PCA: *pca}
	if *pca == 0 {
		cfg.PCA = -1
	}
	var err error
	if cfg.Bin, err = recording.ParseSeconds(*bin); err != nil {
		return fmt.Errorf("recording import: --bin %v", err)
	}
	if *smooth != "" {
		if cfg.Smooth, err = recording.ParseSeconds(*smooth); err != nil || cfg.Smooth < 0 {
			return fmt.Errorf("recording import: --smooth %s: want a sigma >= 0", *smooth)
		}
	}
	if *interval != "" {
		if cfg.From, cfg.To, err = recording.ParseInterval(*interval); err != nil {
			return fmt.Errorf("recording import: %v", err)
		}
	}
	if *units != "" {
		if cfg.Units, err = recording.ParseUnits(*units); err != nil {
			return fmt.Errorf("recording import: %v", err)
		}
	}
	cl, err := recording.Import(file, cfg)
	if err != nil {
		return err
	}
	cl.Subsample = *subsample
	if err := cl.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "%s: %d bins of %gs x %d %s -> %d x %d points in %s\n", file, cl.Rates.Rows, cl.Bin, cl.Rates.Cols,
		map[bool]string{true: "channels", false: "units"}[*series != ""], cl.Points.Rows, cl.Points.Cols, *out)
	return nil
}
