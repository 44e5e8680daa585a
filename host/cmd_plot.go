package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/plots"
)

// cmdPlot draws a saved persistence diagram (a run's diagrams/step_N/*.npz,
// an .npz a ripser.py user saved, `nthost tda` JSON, or Ripser's text
// output) as a PNG: the diagram, or with --barcode its barcode.
func cmdPlot(_ context.Context, a *app, args []string) error {
	fs := newFlags(a, "plot", "nthost plot DIAGRAM(.npz|.json|ripser text) --out F.png [--barcode] [--title T]")
	out := fs.String("out", "", "PNG to write (required)")
	barcode := fs.Bool("barcode", false, "draw the barcode instead of the diagram")
	title := fs.String("title", "", "panel title (default: the file's name)")
	// The file may come before the flags (nthost plot D.npz --out F.png).
	if err := fs.Parse(args); err != nil {
		return err
	}
	var files []string
	for fs.NArg() > 0 {
		files = append(files, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if len(files) != 1 {
		return fmt.Errorf("plot: want one diagram file, got %d", len(files))
	}
	if *out == "" {
		return fmt.Errorf("plot: --out F.png is required")
	}
	if !strings.HasSuffix(strings.ToLower(*out), ".png") {
		return fmt.Errorf("plot: --out %s: want a .png file", *out)
	}
	in := files[0]
	ds, err := diagram.ReadFile(in)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	name := *title
	if name == "" {
		name = filepath.Base(in)
	}
	c := plots.CloudDiagrams{Cloud: name, Diagrams: ds}
	if *barcode {
		err = plots.Barcodes([]plots.CloudDiagrams{c}, "", *out)
	} else {
		err = plots.Diagram(c, *out)
	}
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	fmt.Fprintf(a.stdout, "plot: %s\n", *out)
	return nil
}
