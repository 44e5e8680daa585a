package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/report"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/sweep"
	"github.com/neuraltopology/neuraltopology/core/sweepreport"
)

// cmdReport rebuilds report.html for one run, or one overlaying several
// runs (seeds, tasks) on the over-training plots; for a sweep directory,
// the sweep's statistics across seeds.
func cmdReport(_ context.Context, a *app, args []string) error {
	fs := newFlags(a, "report", "nthost report RUN_DIR... [--out report.html] [--steps S1,S2 | --updates U1,U2] | nthost report SWEEP_DIR [--markdown]")
	out := fs.String("out", "", "output HTML (default: RUN_DIR/report.html for one run, ./report.html for several)")
	md := fs.Bool("markdown", false, "for a sweep: also print its results (returns, the seed's claims with their tests, provenance) as Markdown, as the README quotes them")
	stepsFlag := fs.String("steps", "", "environment steps whose persistence diagrams and barcodes to show, each at the nearest snapshot (default: the first and the last)")
	updatesFlag := fs.String("updates", "", "the same by update number, e.g. 10,480")
	if err := parse(fs, args, -1); err != nil {
		return err
	}
	var opt report.Options
	var err error
	if opt.Steps, err = intList("--steps", *stepsFlag); err != nil {
		return err
	}
	if opt.Updates, err = intList("--updates", *updatesFlag); err != nil {
		return err
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		return fmt.Errorf("report: give at least one run directory")
	}
	if *md && (len(dirs) != 1 || !sweep.IsSweepDir(dirs[0])) {
		return fmt.Errorf("report: --markdown takes one sweep directory")
	}
	if len(dirs) == 1 && sweep.IsSweepDir(dirs[0]) && *out == "" {
		// A sweep gets its statistics across seeds.
		res, err := sweepreport.Report(dirs[0])
		if err != nil {
			return err
		}
		for _, w := range res.Warnings {
			a.log.Warn().Str("sweep", dirs[0]).Msg(w)
		}
		if *md {
			fmt.Fprint(a.stdout, res.Markdown)
			return nil
		}
		fmt.Fprintf(a.stdout, "report: %s\n", res.HTML)
		return nil
	}
	if *out == "" {
		*out = "report.html"
		if len(dirs) == 1 {
			*out = filepath.Join(dirs[0], runstore.ReportFile)
		}
	}
	if err := report.BuildWith(dirs, *out, opt); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "report: %s\n", *out)
	return nil
}

// intList parses "10,480" into non-negative integers.
func intList(flag, s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("report: %s %q: want comma-separated whole numbers >= 0, e.g. 20480,532480", flag, s)
		}
		out = append(out, v)
	}
	return out, nil
}
