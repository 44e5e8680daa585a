package main

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/phbench"
	"github.com/neuraltopology/neuraltopology/plugins/dist-geodesic/geodesic"
	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/rips"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestBenchFromRunUsesTheRunsMetric checks that `bench ph --from-run
// --dist geodesic` benchmarks the homology of the clouds' geodesic
// distances, as the main job computes them, not their Euclidean ones:
// the pairs it reports are those of the geodesic matrix, which differ
// from the Euclidean matrix's for this cloud (a spiral, whose turns are
// near in space and far along the curve).
func TestBenchFromRunUsesTheRunsMetric(t *testing.T) {
	run := t.TempDir()
	rnd := rand.New(rand.NewPCG(7, 8))
	pts := sdk.NewMatrix(120, 3)
	for i := 0; i < pts.Rows; i++ {
		a := 6 * math.Pi * float64(i) / float64(pts.Rows)
		r := 1 + 0.3*a
		pts.Data[i*3], pts.Data[i*3+1], pts.Data[i*3+2] = r*math.Cos(a), r*math.Sin(a), 0.05*rnd.NormFloat64()
	}
	path := filepath.Join(run, "clouds", "step_2048", "actor_1.npz")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := matio.WriteNPZ(path, []matio.NamedArray{{Name: "points", Matrix: pts}}); err != nil {
		t.Fatal(err)
	}
	pairs := func(d sdk.Matrix) []int {
		ds, err := rips.Compute(context.Background(), &d, rips.Options{MaxDim: 1})
		if err != nil {
			t.Fatal(err)
		}
		n := make([]int, len(ds))
		for i, dg := range ds {
			n[i] = len(dg.Pairs)
		}
		return n
	}
	geo, err := geodesic.Plugin{}.Compute(context.Background(), pts, map[string]string{"k": "5"})
	if err != nil {
		t.Fatal(err)
	}
	euc, err := phbench.Euclidean(pts)
	if err != nil {
		t.Fatal(err)
	}
	want, other := pairs(geo.Distances), pairs(euc)
	if reflect.DeepEqual(want, other) {
		t.Fatalf("test cloud does not tell the metrics apart: %v pairs either way", want)
	}

	out := filepath.Join(t.TempDir(), "bench.json")
	_, errs, code := nthost(t, t.TempDir(), "bench", "ph", "--plugin-dir", bins(t), "--plugin-lock", "none", "--ph", "rips",
		"--from-run", run, "--dist", "geodesic", "--dist-param", "k=5", "--maxdim", "1", "--repeat", "1", "--json", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Rows []phbench.Row }
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0].Input != "step_2048/actor_1" || !reflect.DeepEqual(res.Rows[0].Pairs, want) {
		t.Fatalf("rows %+v, want one for step_2048/actor_1 with the geodesic matrix's pairs %v (Euclidean: %v)", res.Rows, want, other)
	}

	if _, errs, code := nthost(t, t.TempDir(), "bench", "ph", "--plugin-dir", bins(t), "--ph", "rips", "--dist", "geodesic"); code == 0 {
		t.Fatalf("--dist without --from-run was accepted: %s", errs)
	}
}
