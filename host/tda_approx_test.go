package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestTDASubsampleAndSparse: --subsample and --sparse go to ph-rips as
// its parameters and come back as top-level JSON keys; the subsample of
// the points and of their distance matrix is the same computation; bad
// combinations are refused with one line.
func TestTDASubsampleAndSparse(t *testing.T) {
	dir := t.TempDir()
	pts := plugintest.RandomCloud(300, 3, 7)
	if err := matio.Write(filepath.Join(dir, "cloud.csv"), pts); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := nthost(t, dir, "dist", "--points", "cloud.csv", "--metric", "euclid", "--out", "d.npy"); code != 0 {
		t.Fatalf("dist: %s", errs)
	}
	type doc struct {
		Diagrams []struct {
			Dim   int           `json:"dim"`
			Pairs [][2]*float64 `json:"pairs"`
		} `json:"diagrams"`
		CoveringRadius *float64 `json:"covering_radius"`
		Bound          *float64 `json:"bottleneck_bound"`
		Factor         *float64 `json:"approximation_factor"`
	}
	run := func(args ...string) (doc, string) {
		t.Helper()
		out, errs, code := nthost(t, dir, append([]string{"tda", "--maxdim", "1"}, args...)...)
		if code != 0 {
			t.Fatalf("tda %v: %s", args, errs)
		}
		var d doc
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("tda %v: %v\n%s", args, err, out)
		}
		return d, errs
	}
	p, perrs := run("--points", "cloud.csv", "--subsample", "60", "--subsample-seed", "3", "--threads", "1")
	m, _ := run("--distances", "d.npy", "--subsample", "60", "--subsample-seed", "3")
	if p.CoveringRadius == nil || p.Bound == nil || *p.CoveringRadius <= 0 || *p.Bound != 2**p.CoveringRadius {
		t.Fatalf("subsample scalars: radius %v bound %v", p.CoveringRadius, p.Bound)
	}
	if !strings.Contains(perrs, "covering radius") {
		t.Fatalf("no covering radius line: %s", perrs)
	}
	pj, _ := json.Marshal(p)
	mj, _ := json.Marshal(m)
	if string(pj) != string(mj) {
		t.Fatalf("points and matrix subsamples differ:\n%s\n%s", pj, mj)
	}
	if n := len(p.Diagrams[0].Pairs); n != 60 {
		t.Fatalf("H0 of a 60-point subsample has %d pairs", n)
	}
	s, _ := run("--points", "cloud.csv", "--sparse", "0.5")
	if s.Factor == nil || *s.Factor != 2 || s.CoveringRadius != nil {
		t.Fatalf("sparse scalars: factor %v radius %v", s.Factor, s.CoveringRadius)
	}
	if n := len(s.Diagrams[0].Pairs); n != 300 {
		t.Fatalf("H0 of sparse Rips on 300 points has %d pairs", n)
	}
	exact, _ := run("--points", "cloud.csv")
	if exact.Factor != nil || exact.CoveringRadius != nil {
		t.Fatalf("exact run reports scalars")
	}
	for _, bad := range [][]string{
		{"--subsample", "50", "--threshold", "1"},
		{"--sparse", "1.5"},
		{"--sparse", "0.5", "--subsample", "50"},
		{"--ph", "ripser", "--subsample", "50"},
	} {
		_, errs, code := nthost(t, dir, append([]string{"tda", "--points", "cloud.csv"}, bad...)...)
		if code == 0 || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Fatalf("tda %v: exit %d, want one error line: %q", bad, code, errs)
		}
	}
}
