package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestTDARipserFormats gives `nthost tda --input-format F` and Debian's
// `ripser --format F` the same text file in each of ripser's formats and
// expects the same barcodes. The sparse file leaves out the pairs above
// the median distance, so those edges must stay out of the complex.
func TestTDARipserFormats(t *testing.T) {
	if _, err := exec.LookPath("ripser"); err != nil {
		t.Fatal("ripser missing: apt-get install ripser")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 11))
	const n = 36
	pts := sdk.NewMatrix(n, 3)
	// A noisy circle on three rounded layers: ties, and an H1 bar.
	round := func(x float64) float64 { return math.Round(x*1000) / 1000 }
	for i := range n {
		a := 2 * math.Pi * float64(i) / n
		pts.Data[i*3] = round(math.Cos(a) + 0.05*rng.NormFloat64())
		pts.Data[i*3+1] = round(math.Sin(a) + 0.05*rng.NormFloat64())
		pts.Data[i*3+2] = round(float64(i%3) / 3)
	}
	d := sdk.NewMatrix(n, n)
	var all []float64
	for i := range n {
		for j := range n {
			var s float64
			for k := range 3 {
				x := pts.At(i, k) - pts.At(j, k)
				s += x * x
			}
			d.Data[i*n+j] = math.Sqrt(s)
			if j < i {
				all = append(all, d.Data[i*n+j])
			}
		}
	}
	slices.Sort(all)
	median := all[len(all)/2]
	for _, format := range matio.RipserFormats {
		m, thr := d, 0.0
		if format == matio.RipserPoints {
			m = pts
		}
		if format == matio.RipserSparse {
			thr = median
		}
		var b bytes.Buffer
		if err := matio.WriteRipser(&b, format, m, thr); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, format+".txt")
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		want, err := exec.Command("ripser", "--format", format, "--dim", "2", file).Output()
		if err != nil {
			t.Fatalf("ripser --format %s: %v", format, err)
		}
		flag := "--distances"
		if format == matio.RipserPoints {
			flag = "--points"
		}
		out, errs, code := nthost(t, dir, "tda", "--input-format", format, flag, file, "--format", "ripser", "--maxdim", "2")
		if code != 0 {
			t.Fatalf("tda --input-format %s: %s", format, errs)
		}
		got, ref := parseText(t, out), parseText(t, string(want))
		if len(ref) < 2 || len(ref[1].Pairs) == 0 {
			t.Fatalf("%s: ripser found no H1; the test cloud is too plain", format)
		}
		sameDiagrams(t, got, ref)
	}
	// A wrong pairing of format and flag, and a bad file, are refused in
	// one line naming the culprit.
	if _, errs, code := nthost(t, dir, "tda", "--input-format", "point-cloud", "--distances", "lower-distance.txt"); code == 0 || !bytes.Contains([]byte(errs), []byte("--input-format point-cloud goes with --points")) {
		t.Errorf("format/flag mismatch: code %d, %s", code, errs)
	}
	os.WriteFile(filepath.Join(dir, "bad.txt"), []byte("1,2\n"), 0o644)
	if _, errs, code := nthost(t, dir, "tda", "--input-format", "lower-distance", "--distances", "bad.txt"); code == 0 || !bytes.Contains([]byte(errs), []byte("bad.txt: lower-distance: 2 values are not a triangle")) {
		t.Errorf("bad triangle: code %d, %s", code, errs)
	}
}

// TestTDASparseInputs: a sparse file, and a lower-distance or full file
// with a threshold that keeps few pairs, reach the plugin as edges (no
// n x n matrix), and the barcodes are ripser's on the same file; with a
// threshold above the enclosing radius the plugin gets the matrix and
// still ripser's barcodes. Both the rips and the ripser plugin.
func TestTDASparseInputs(t *testing.T) {
	if _, err := exec.LookPath("ripser"); err != nil {
		t.Fatal("ripser missing: apt-get install ripser")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 2))
	const n = 260
	d := sdk.NewMatrix(n, n)
	pts := make([][3]float64, n)
	for i := range pts {
		for k := range 3 {
			pts[i][k] = math.Round(rng.NormFloat64()*1000) / 1000
		}
	}
	var all []float64
	for i := range n {
		for j := range i {
			var s float64
			for k := range 3 {
				x := pts[i][k] - pts[j][k]
				s += x * x
			}
			d.Data[i*n+j], d.Data[j*n+i] = math.Sqrt(s), math.Sqrt(s)
			all = append(all, math.Sqrt(s))
		}
	}
	slices.Sort(all)
	few := strconv.FormatFloat(all[len(all)/40], 'g', 6, 64) // 1 pair in 40
	big := strconv.FormatFloat(all[len(all)-1], 'g', 6, 64)  // above the enclosing radius
	for _, c := range []struct {
		format, thr, given string
	}{
		{matio.RipserSparse, "", "edges"},
		{matio.RipserLower, few, "edges"},
		{matio.RipserDistance, few, "edges"},
		{matio.RipserUpper, few, "edges"},
		{matio.RipserLower, big, "matrix"},
	} {
		var b bytes.Buffer
		wthr := 0.0
		if c.format == matio.RipserSparse {
			wthr = all[len(all)/40]
		}
		if err := matio.WriteRipser(&b, c.format, d, wthr); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, c.format+".txt")
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		rargs := []string{"--format", c.format, "--dim", "2"}
		targs := []string{"tda", "--input-format", c.format, "--distances", file, "--format", "ripser", "--maxdim", "2", "--log-level", "debug"}
		if c.thr != "" {
			rargs = append(rargs, "--threshold", c.thr)
			targs = append(targs, "--threshold", c.thr)
		}
		want, err := exec.Command("ripser", append(rargs, file)...).Output()
		if err != nil {
			t.Fatalf("ripser %v: %v", rargs, err)
		}
		ref := parseText(t, string(want))
		if len(ref) < 2 || len(ref[1].Pairs) == 0 {
			t.Fatalf("%s: ripser found no H1; the test cloud is too plain", c.format)
		}
		for _, ph := range []string{"rips", "ripser"} {
			out, errs, code := nthost(t, dir, append(targs, "--ph", ph)...)
			if code != 0 {
				t.Fatalf("%s %s: %s", c.format, ph, errs)
			}
			if !strings.Contains(errs, "given="+c.given) {
				t.Errorf("%s threshold %q, %s: the plugin was not given %s:\n%s", c.format, c.thr, ph, c.given, errs)
			}
			sameDiagrams(t, parseText(t, out), ref)
		}
	}
}
