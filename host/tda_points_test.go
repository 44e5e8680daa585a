package main

import (
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
