package main

import (
	"context"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestConformance runs the sdk's conformance kit on the built binary,
// exactly as a plugin author would.
func TestConformance(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-dist-manhattan")
	plugintest.Run(t, bin)
}

func TestManhattan(t *testing.T) {
	pts := sdk.Matrix{Rows: 3, Cols: 2, Data: []float64{0, 0, 3, -4, 1, 1}}
	r, err := manhattan{}.Compute(context.Background(), pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	// |3|+|-4| = 7, |1|+|1| = 2, |3-1|+|-4-1| = 7.
	if r.Distances.At(0, 1) != 7 || r.Distances.At(0, 2) != 2 || r.Distances.At(2, 1) != 7 {
		t.Errorf("distances %v", r.Distances.Data)
	}
	if _, err := (manhattan{}).Compute(context.Background(), pts, map[string]string{"k": "3"}); err == nil {
		t.Errorf("an unknown parameter must be an error")
	}
}
