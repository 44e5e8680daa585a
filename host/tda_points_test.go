package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestTDAPointsThreshold: with --points and --threshold, tda hands the
// points to the ph plugin (which finds the pairs within the threshold
// without a distance matrix); the diagrams and the summary line must be
// those of the matrix path on euclid's distances at the same threshold.
func TestTDAPointsThreshold(t *testing.T) {
	dir := t.TempDir()
	pts := plugintest.RandomCloud(80, 3, 5)
	if err := matio.Write(filepath.Join(dir, "cloud.csv"), pts); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := nthost(t, dir, "dist", "--points", "cloud.csv", "--metric", "euclid", "--out", "d.npy"); code != 0 {
		t.Fatalf("dist: %s", errs)
	}
	for _, thr := range []string{"0.3", "0.8"} {
		direct, derrs, code := nthost(t, dir, "tda", "--points", "cloud.csv", "--threshold", thr, "--format", "ripser", "--maxdim", "2")
		if code != 0 {
			t.Fatalf("tda --points --threshold %s: %s", thr, derrs)
		}
		viaMatrix, merrs, code := nthost(t, dir, "tda", "--distances", "d.npy", "--threshold", thr, "--format", "ripser", "--maxdim", "2")
		if code != 0 {
			t.Fatalf("tda --distances --threshold %s: %s", thr, merrs)
		}
		if direct != viaMatrix {
			t.Fatalf("threshold %s: points path\n%s\nmatrix path\n%s", thr, direct, viaMatrix)
		}
		if !strings.Contains(direct, "dim 1") || strings.Count(direct, "\n") < 10 {
			t.Fatalf("threshold %s: too little output to compare:\n%s", thr, direct)
		}
		// The summary names the input file, so compare from the count on.
		_, ds, _ := strings.Cut(derrs, ": ")
		_, ms, _ := strings.Cut(merrs, ": ")
		if ds != ms {
			t.Fatalf("threshold %s: summaries differ:\n%s\n%s", thr, derrs, merrs)
		}
	}
}

// TestTDAPointsNoThreshold: without --threshold too, tda hands the points
// to a ph plugin that takes them (the debug line says given=points: no
// n x n matrix in the host), which takes ripser's threshold, the
// enclosing radius. The diagrams must be the real ripser's on euclid's
// matrix and the matrix path's, and the summary the matrix path's.
func TestTDAPointsNoThreshold(t *testing.T) {
	dir := t.TempDir()
	pts := plugintest.RandomCloud(70, 3, 9)
	if err := matio.Write(filepath.Join(dir, "cloud.csv"), pts); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := nthost(t, dir, "dist", "--points", "cloud.csv", "--metric", "euclid", "--out", "d.npy"); code != 0 {
		t.Fatalf("dist: %s", errs)
	}
	d, err := matio.Read(filepath.Join(dir, "d.npy"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := matio.WriteRipser(&b, matio.RipserLower, d, 0); err != nil {
		t.Fatal(err)
	}
	lower := filepath.Join(dir, "lower.txt")
	if err := os.WriteFile(lower, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command("ripser", "--format", matio.RipserLower, "--dim", "2", lower).Output()
	if err != nil {
		t.Fatalf("ripser: %v", err)
	}
	ref := parseText(t, string(want))
	if len(ref) < 2 || len(ref[1].Pairs) == 0 {
		t.Fatal("ripser found no H1; the test cloud is too plain")
	}
	viaMatrix, merrs, code := nthost(t, dir, "tda", "--distances", "d.npy", "--format", "ripser", "--maxdim", "2")
	if code != 0 {
		t.Fatalf("tda --distances: %s", merrs)
	}
	for _, ph := range []string{"rips", "ripser"} {
		direct, derrs, code := nthost(t, dir, "tda", "--points", "cloud.csv", "--format", "ripser", "--maxdim", "2", "--ph", ph, "--log-level", "debug")
		if code != 0 {
			t.Fatalf("tda --points, %s: %s", ph, derrs)
		}
		if !strings.Contains(derrs, "given=points") {
			t.Fatalf("%s: the plugin was not given the points:\n%s", ph, derrs)
		}
		sameDiagrams(t, parseText(t, direct), ref)
		if direct != viaMatrix {
			t.Fatalf("%s: points path\n%s\nmatrix path\n%s", ph, direct, viaMatrix)
		}
	}
	_, ds, _ := strings.Cut(lastLine(t, mustRun(t, dir, "tda", "--points", "cloud.csv", "--maxdim", "2")), ": ")
	_, ms, _ := strings.Cut(lastLine(t, mustRun(t, dir, "tda", "--distances", "d.npy", "--maxdim", "2")), ": ")
	if ds != ms {
		t.Fatalf("summaries differ:\n%s\n%s", ds, ms)
	}
}

// mustRun runs nthost and returns its standard error.
func mustRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	_, errs, code := nthost(t, dir, args...)
	if code != 0 {
		t.Fatalf("nthost %v: %s", args, errs)
	}
	return errs
}

// lastLine is the last non-empty line of s.
func lastLine(t *testing.T, s string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
