package rips

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/plugins/dist-geodesic/geodesic"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// namedMatrix is a distance matrix with the cloud it came from.
type namedMatrix struct {
	name string
	d    sdk.Matrix
}

// mainJobClouds reads a run directory's saved clouds
// (clouds/step_N/NAME.npz) whose name contains one of the
// comma-separated only and gives each the main job's metric: k=15
// geodesic distances, a full finite matrix.
func mainJobClouds(tb testing.TB, dir, only string) []namedMatrix {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "clouds", "step_*", "*.npz"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []namedMatrix
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f)) + "/" + strings.TrimSuffix(filepath.Base(f), ".npz")
		if !slices.ContainsFunc(strings.Split(only, ","), func(s string) bool { return strings.Contains(name, s) }) {
			continue
		}
		arrays, err := matio.ReadNPZ(f)
		if err != nil {
			tb.Fatal(err)
		}
		g, _, err := geodesic.Distances(arrays[0].Matrix, 15, geodesic.Options{})
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out = append(out, namedMatrix{name, g})
	}
	if len(out) == 0 {
		tb.Fatalf("%s has no clouds/step_N/*.npz matching %q", dir, only)
	}
	return out
}

// mainJobLike returns a cloud shaped like the main job's hidden-layer
// activations (n points: a dim-dimensional latent sample through a
// random linear map to width units and tanh, plus noise) with the main
// job's metric, k=15 geodesic distances: a full finite matrix.
func mainJobLike(tb testing.TB, rng *rand.Rand, n, dim, width int) sdk.Matrix {
	tb.Helper()
	w := make([]float64, dim*width)
	for i := range w {
		w[i] = 2 * rng.NormFloat64()
	}
	pts := sdk.Matrix{Rows: n, Cols: width, Data: make([]float64, n*width)}
	z := make([]float64, dim)
	for i := range n {
		for k := range z {
			z[k] = 2*rng.Float64() - 1
		}
		for j := range width {
			s := 0.0
			for k, x := range z {
				s += x * w[k*width+j]
			}
			pts.Data[i*width+j] = math.Tanh(s) + 0.05*rng.NormFloat64()
		}
	}
	g, _, err := geodesic.Distances(pts, 15, geodesic.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// TestMainJobLikeAgainstRipser checks the engine against ripser on
// clouds like the main job's (500 points, full k=15 geodesic matrix,
// dimensions 0..2 at the enclosing radius), where the dense collapse
// with vertex sets (delayBits) does most of the work, with one worker
// and with all; RIPS_CLOUDS adds a run's saved clouds (those whose name
// contains one of RIPS_CLOUDS_ONLY's comma-separated parts).
func TestMainJobLikeAgainstRipser(t *testing.T) {
	if testing.Short() {
		t.Skip("ripser on 500-point clouds takes seconds")
	}
	rng := rand.New(rand.NewPCG(14, 6))
	inputs := []namedMatrix{
		{"input-like 11 units", mainJobLike(t, rng, 500, 4, 11)},
		{"hidden-like 64 units", mainJobLike(t, rng, 500, 3, 64)},
	}
	if dir := os.Getenv("RIPS_CLOUDS"); dir != "" {
		inputs = append(inputs, mainJobClouds(t, dir, os.Getenv("RIPS_CLOUDS_ONLY"))...)
	}
	for _, in := range inputs {
		d := in.d
		n := d.Rows
		thr := float32(enclosingRadius(d.Data, n))
		col, err := collapseAdjacency(context.Background(), adjacencyFromMatrix(d.Data, n, thr), d.Data, true, 1)
		if err != nil || col == nil {
			t.Fatalf("%s: the collapse gave up (%v): delayBits is not tested", in.name, err)
		}
		want := runRipser(t, d, 2, 0, 2)
		for _, workers := range []int{1, 0} {
			got, err := Compute(context.Background(), &d, Options{MaxDim: 2, Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if msg := diffDiagrams(got, want); msg != "" {
				t.Fatalf("%s, workers %d: %s", in.name, workers, msg)
			}
			if len(got[1].Pairs) == 0 || len(got[2].Pairs) == 0 {
				t.Fatalf("%s: %d H1 and %d H2 pairs; the comparison needs both", in.name, len(got[1].Pairs), len(got[2].Pairs))
			}
		}
	}
}
