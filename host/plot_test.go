package main

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestPlotCommand draws a saved diagram, with the file before the flags
// as the usage shows, as a diagram and as a barcode; a file that is no
// diagram is one line naming it.
func TestPlotCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "actor_1.npz")
	ds := []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 0.3}, {0, 0.9}, {0, math.Inf(1)}}}, {Dim: 1, Pairs: [][2]float64{{0.4, 1.2}}}}
	if err := diagram.WriteNPZ(in, ds); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--barcode"}} {
		out := filepath.Join(dir, "d.png")
		os.Remove(out)
		args := append([]string{"plot", in, "--out", out}, extra...)
		stdout, stderr, code := nthost(t, dir, args...)
		if code != 0 || !strings.Contains(stdout, out) {
			t.Fatalf("%v: exit %d: %s %s", args, code, stdout, stderr)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 400 {
			t.Errorf("%v: %v, %v", args, err, img)
		}
	}
	bad := filepath.Join(dir, "notes.txt")
	os.WriteFile(bad, []byte("no diagram here\n"), 0o644)
	_, stderr, code := nthost(t, dir, "plot", bad, "--out", filepath.Join(dir, "x.png"))
	if code == 0 || !strings.Contains(stderr, "notes.txt") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("bad file: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.png")); err == nil {
		t.Error("a PNG was written for a bad file")
	}
}
