package phbench

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestInputsOwnSettings: an input with Own set is computed at its own
// dimension (and threshold), by every backend, whatever the Config
// says, and the backends still agree.
func TestInputsOwnSettings(t *testing.T) {
	dir := plugins(t)
	own := input(t, "own", 30, 5, 4)
	own.Own, own.MaxDim, own.Threshold = true, 4, 1.5
	cfg := Config{
		Backends: []string{filepath.Join(dir, "nt-ph-rips"), filepath.Join(dir, "nt-ph-ripser")},
		Inputs:   []Input{input(t, "plain", 30, 5, 4), own},
		Repeat:   1, MaxDim: 1, Timeout: time.Minute,
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range res.Rows {
		want := 2
		if row.Input == "own" {
			want = 5
		}
		if row.Error != "" || len(row.Pairs) != want {
			t.Fatalf("%s on %s: pairs %v (want %d dims), error %q", row.Backend, row.Input, row.Pairs, want, row.Error)
		}
		if row.Reference != "" && row.MaxBottleneck() > 1e-6 {
			t.Fatalf("%s on %s disagrees: %v", row.Backend, row.Input, row.Bottleneck)
		}
	}
}

// TestSuiteInputs: the suite's inputs carry their settings into phbench.
func TestSuiteInputs(t *testing.T) {
	ins, err := WorkloadInputs("suite-quick", 1, geodesicK)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, in := range ins {
		if !in.Own {
			t.Fatalf("%s: not marked Own", in.Name)
		}
		seen[in.Name] = true
		if in.Name == "random16-resampled (50 pts R^16) dim7" && in.MaxDim != 7 {
			t.Fatalf("random16 at dim %d", in.MaxDim)
		}
		if in.Name == "o3_1024 thr1.8 dim3" && in.Threshold != 1.8 {
			t.Fatalf("o3_1024 at threshold %v", in.Threshold)
		}
	}
	for _, name := range []string{"random16-resampled (50 pts R^16) dim7", "o3_1024 thr1.8 dim3", "sphere_3_192 dim2"} {
		if !seen[name] {
			t.Fatalf("suite-quick lacks %q: %v", name, seen)
		}
	}
	w, err := WorkloadInputs("W3", 1, geodesicK)
	if err != nil || len(w) != 1 || w[0].Own {
		t.Fatalf("W3 inputs must follow the Config: %+v %v", w, err)
	}
}
