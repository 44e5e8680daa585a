package workloads

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	for _, name := range Names {
		a, err := Generate(name, 7, geodesicK)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Generate(name, 7, geodesicK)
		c, _ := Generate(name, 8, geodesicK)
		for i, in := range a {
			d := in.Distances
			n := d.Rows
			if d.Cols != n || len(d.Data) != n*n || n < 500 {
				t.Fatalf("%s: shape %dx%d", in.Name, d.Rows, d.Cols)
			}
			for x := range n {
				if d.At(x, x) != 0 {
					t.Fatalf("%s: diagonal %d is %v", in.Name, x, d.At(x, x))
				}
				for y := range x {
					v := d.At(x, y)
					if v != d.At(y, x) || !(v > 0) || math.IsInf(v, 0) {
						t.Fatalf("%s: bad distance (%d,%d)=%v/%v", in.Name, x, y, v, d.At(y, x))
					}
				}
			}
			if !slices.Equal(d.Data, b[i].Distances.Data) {
				t.Fatalf("%s: same seed, different matrices", in.Name)
			}
			if slices.Equal(d.Data, c[i].Distances.Data) {
				t.Fatalf("%s: different seeds, same matrix", in.Name)
			}
		}
	}
	if _, err := Generate("W9", 1, geodesicK); err == nil || !strings.Contains(err.Error(), "W9") {
		t.Fatalf("unknown workload: %v", err)
	}
}

// TestGeodesic: W1 uses the same clouds as W2; a geodesic distance is
// never below the Euclidean one, equals it on k-NN edges, and exceeds it
// somewhere.
func TestGeodesic(t *testing.T) {
	w1, _ := Generate("W1", 3, geodesicK)
	w2, _ := Generate("W2", 3, geodesicK)
	for i := range w1 {
		g, e := w1[i].Distances, w2[i].Distances
		n := g.Rows
		longer := 0
		for x := range n {
			nearest := math.Inf(1)
			ny := -1
			for y := range n {
				gv, ev := g.At(x, y), e.At(x, y)
				if gv < ev*(1-1e-12) {
					t.Fatalf("%s: geodesic (%d,%d)=%v below euclidean %v", w1[i].Name, x, y, gv, ev)
				}
				if gv > ev*(1+1e-9) {
					longer++
				}
				if y != x && ev < nearest {
					nearest, ny = ev, y
				}
			}
			if math.Abs(g.At(x, ny)-nearest) > 1e-12*nearest {
				t.Fatalf("%s: nearest neighbour edge (%d,%d) geodesic %v != euclidean %v", w1[i].Name, x, ny, g.At(x, ny), nearest)
			}
		}
		if longer == 0 {
			t.Fatalf("%s: geodesic equals euclidean everywhere", w1[i].Name)
		}
	}
}
