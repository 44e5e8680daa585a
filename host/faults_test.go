package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestBadInputsGetOneLine feeds the real binary inputs a hostile or
// careless user would, each of which once ended in a 500-line goroutine
// dump, a NaN printed as a result, or a file written where it should not
// be. Each must now exit non-zero with exactly one line naming the
// culprit, and write nothing.
func TestBadInputsGetOneLine(t *testing.T) {
	dir := t.TempDir()
	// 60,000 points: their distance matrix alone is 28.8 GB.
	big := sdk.NewMatrix(60000, 3)
	for i := range big.Data {
		big.Data[i] = float64(i % 97)
	}
	bigPath := filepath.Join(dir, "big.npy")
	if err := matio.Write(bigPath, big); err != nil {
		t.Fatal(err)
	}
	small := sdk.NewMatrix(300, 8)
	for i := range small.Data {
		small.Data[i] = math.Sin(float64(i) * 1.7)
	}
	smallPath := filepath.Join(dir, "small.npy")
	if err := matio.Write(smallPath, small); err != nil {
		t.Fatal(err)
	}
	nanPath := filepath.Join(dir, "nan.npz")
	if err := diagram.WriteNPZ(nanPath, []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, math.NaN()}}}}); err != nil {
		t.Fatal(err)
	}
	goodPath := filepath.Join(dir, "good.npz")
	if err := diagram.WriteNPZ(goodPath, []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 1}}}}); err != nil {
		t.Fatal(err)
	}
	// A .csv with no line break: 17 MiB of one line.
	flat := filepath.Join(dir, "flat.csv")
	if err := os.WriteFile(flat, []byte(strings.Repeat("1,", 17<<19)), 0o644); err != nil {
		t.Fatal(err)
	}
	notRun := filepath.Join(dir, "not-a-run")
	if err := os.Mkdir(notRun, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.npy")
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"num-steps 1e9", nil, []string{"run", "--num-steps", "1e9", "--run-dir", filepath.Join(dir, "r1")}, "memory budget"},
		{"hidden 1e6x1e6", nil, []string{"run", "--hidden-size", "1000000,1000000", "--run-dir", filepath.Join(dir, "r2")}, "memory budget"},
		{"dist 60k", nil, []string{"dist", "--metric", "euclid", "--points", bigPath, "--out", out}, "60000 x 60000"},
		{"geodesic 60k", nil, []string{"dist", "--metric", "geodesic", "--points", bigPath, "--out", out}, "60000 x 60000"},
		{"tda 60k", nil, []string{"tda", "--points", bigPath, "--out", out + ".json"}, "60000 x 60000"},
		{"rips over budget", []string{"NT_MEMORY_BUDGET=32M"}, []string{"tda", "--points", smallPath, "--maxdim", "3", "--out", out + ".json"}, "limit"},
		{"ripser over budget", []string{"NT_MEMORY_BUDGET=32M"}, []string{"tda", "--ph", "ripser", "--points", smallPath, "--maxdim", "3", "--out", out + ".json"}, "memory budget"},
		{"env-id escapes runs/", nil, []string{"run", "--env-id", "../../x"}, "env_id"},
		{"coeff 0", nil, []string{"tda", "--points", smallPath, "--coeff", "0"}, "--coeff 0"},
		{"betti-at NaN", nil, []string{"tda", "--points", smallPath, "--betti-at", "NaN"}, "--betti-at"},
		{"compare NaN", nil, []string{"compare", nanPath, goodPath}, "nan.npz"},
		{"report not a run", nil, []string{"report", notRun}, "not a run directory"},
		{"csv without newlines", nil, []string{"dist", "--points", flat, "--out", out}, "no line breaks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs, code := nthostEnv(t, dir, c.env, c.args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if code == 0 || len(lines) != 1 || !strings.Contains(errs, c.want) {
				t.Fatalf("want exit != 0 and one line containing %q; exit %d, stderr:\n%s", c.want, code, errs)
			}
			t.Logf("%s", lines[0])
		})
	}
	for _, p := range []string{out, out + ".json", filepath.Join(notRun, "report.html"), filepath.Join(dir, "r1"), filepath.Join(dir, "r2"), filepath.Join(dir, "runs"), filepath.Join(filepath.Dir(dir), "x")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written by a refused command", p)
		}
	}
}

// TestDiscoveryRefusesPlantedPlugins: a binary planted in ./bin of the
// folder nthost is started in, or in a world-writable $NT_PLUGIN_DIR, is
// never started; $NT_PLUGIN_DIR cannot replace nthost's own plugins.
func TestDiscoveryRefusesPlantedPlugins(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	plant := func(folder, name string) {
		if err := os.MkdirAll(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		body := "#!/bin/sh\ntouch " + marker + "\n"
		if err := os.WriteFile(filepath.Join(folder, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	plant(filepath.Join(dir, "bin"), "nt-ph-planted")
	open := filepath.Join(dir, "open")
	plant(open, "nt-ph-opendir")
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	shadow := filepath.Join(dir, "shadow")
	plant(shadow, "nt-ph-rips") // would replace nthost's own rips
	out, errs, code := nthostEnv(t, dir, []string{"NT_PLUGIN_DIR=" + open + string(os.PathListSeparator) + shadow}, "plugins")
	if code != 0 {
		t.Fatalf("nthost plugins: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("a planted plugin was executed; output:\n%s", out)
	}
	for _, bad := range []string{"planted", "opendir", shadow} {
		if strings.Contains(out, bad) {
			t.Errorf("`nthost plugins` lists %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "rips") {
		t.Errorf("nthost's own rips is missing:\n%s", out)
	}
}
