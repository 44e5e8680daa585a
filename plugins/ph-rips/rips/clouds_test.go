package rips

import (
	"path/filepath"
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
// (clouds/step_N/NAME.npz) whose name contains only and gives each the
// main job's metric: k=15 geodesic distances, a full finite matrix.
func mainJobClouds(tb testing.TB, dir, only string) []namedMatrix {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "clouds", "step_*", "*.npz"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []namedMatrix
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f)) + "/" + strings.TrimSuffix(filepath.Base(f), ".npz")
		if !strings.Contains(name, only) {
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
