package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/neuraltopology/neuraltopology/core/report"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/sweep"
	"github.com/neuraltopology/neuraltopology/core/sweepreport"
)

// cmdReport rebuilds report.html for one run, or one overlaying several
// runs (seeds, tasks) on the over-training plots; for a sweep directory,
// the sweep's statistics across seeds.
func cmdReport(_ context.Context, a *app, args []string) error {
	fs := newFlags(a, "report", "nthost report RUN_DIR... [--out report.html] | nthost report SWEEP_DIR")
	out := fs.String("out", "", "output HTML (default: RUN_DIR/report.html for one run, ./report.html for several)")
	if err := parse(fs, args, -1); err != nil {
		return err
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		return fmt.Errorf("report: give at least one run directory")
	}
	if len(dirs) == 1 && sweep.IsSweepDir(dirs[0]) && *out == "" {
		// A sweep gets its statistics across seeds.
		path, err := sweepreport.Build(dirs[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "report: %s\n", path)
		return nil
	}
	if *out == "" {
		*out = "report.html"
		if len(dirs) == 1 {
			*out = filepath.Join(dirs[0], runstore.ReportFile)
		}
	}
	if err := report.Build(dirs, *out); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "report: %s\n", *out)
	return nil
}
