package rips

import (
	"context"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestDegenerate compares with ripser where ties and thresholds are
// extreme: all distances equal (every simplex born at once), duplicate
// points (zero distances), and a threshold below every distance.
func TestDegenerate(t *testing.T) {
	const n = 20
	equal := sdk.NewMatrix(n, n)
	dup := sdk.NewMatrix(n, n)
	for i := range n {
		for j := range n {
			if i != j {
				equal.Data[i*n+j] = 1
				// points 0..9 and 10..19 are the same two locations pairwise
				if i%10 != j%10 {
					dup.Data[i*n+j] = 1 + float64((i%10+j%10)%3)
				}
			}
		}
	}
	cases := []struct {
		name string
		d    sdk.Matrix
		thr  float64
	}{
		{"equal", equal, 0},
		{"duplicates", dup, 0},
		{"low threshold", dup, 0.5},
	}
	for _, c := range cases {
		want := runRipser(t, c.d, 3, c.thr, 2)
		got, err := Compute(context.Background(), &c.d, Options{MaxDim: 3, Threshold: c.thr})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if msg := diffDiagrams(got, want); msg != "" {
			t.Fatalf("%s: %s", c.name, msg)
		}
	}
}
