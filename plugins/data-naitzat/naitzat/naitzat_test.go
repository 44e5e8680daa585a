package naitzat

import (
	"math"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestGeometry: every point lies in its class's region (D-I: a disk of
// class a inside its hole, class b outside every hole inside the outer
// disk; D-II: inside its solid torus; D-III: on its sphere or in its
// ball), half the points are each class's, and splits default to the
// paper's sizes.
func TestGeometry(t *testing.T) {
	for _, id := range IDs() {
		ds, err := Generate(id, 3, sdk.SplitHomology, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Points.Rows != Sizes[id].Homology {
			t.Errorf("%s: %d points, want %d", id, ds.Points.Rows, Sizes[id].Homology)
		}
		na := 0
		for i, l := range ds.Labels {
			if l == 0 {
				na++
			}
			p := ds.Points.Row(i)
			if !inRegion(id, l, p) {
				t.Fatalf("%s: point %d %v of class %s is outside its region", id, i, p, Classes[l])
			}
		}
		if na != ds.Points.Rows/2 {
			t.Errorf("%s: %d class-a points of %d", id, na, ds.Points.Rows)
		}
	}
}

func near(c [2]float64, p []float64) (float64, float64) { return p[0] - c[0], p[1] - c[1] }

func inRegion(id string, label int, p []float64) bool {
	const eps = 1e-9
	switch id {
	case "D-I":
		if label == 0 {
			for _, c := range grid3(1) {
				if dx, dy := near(c, p); math.Hypot(dx, dy) <= diskR+eps {
					return true
				}
			}
			return false
		}
		return math.Hypot(p[0], p[1]) <= outerR+eps && !inHoleDI(p[0], p[1])
	case "D-II":
		for _, c := range grid3(spacing) {
			x, y, z := p[0]-c[0], p[1]-c[1], p[2]
			if label == 1 {
				x, y, z = x-1, z, y // back into the first torus's frame
			}
			if d := math.Hypot(x, y) - 1; d*d+z*z <= torusR*torusR+eps {
				return true
			}
		}
		return false
	case "D-III":
		for _, c := range grid3(spacing) {
			r := math.Sqrt((p[0]-c[0])*(p[0]-c[0]) + (p[1]-c[1])*(p[1]-c[1]) + p[2]*p[2])
			if label == 0 && math.Abs(r-sphereA) < 1e-9 {
				return true
			}
			if label == 1 && (math.Abs(r-sphereB) < 1e-9 || r <= ballR+eps) {
				return true
			}
		}
		return false
	}
	return false
}

// TestSeedsAndSplits: a seed's splits differ, seeds differ, and the same
// request repeats bit for bit.
func TestSeedsAndSplits(t *testing.T) {
	a, _ := Generate("D-I", 1, sdk.SplitTrain, 500)
	b, _ := Generate("D-I", 1, sdk.SplitTrain, 500)
	c, _ := Generate("D-I", 2, sdk.SplitTrain, 500)
	d, _ := Generate("D-I", 1, sdk.SplitHomology, 500)
	for i := range a.Points.Data {
		if a.Points.Data[i] != b.Points.Data[i] {
			t.Fatal("the same request gave other points")
		}
	}
	same := func(x, y sdk.DataSet) bool {
		for i := range x.Points.Data {
			if x.Points.Data[i] != y.Points.Data[i] {
				return false
			}
		}
		return true
	}
	if same(a, c) || same(a, d) {
		t.Fatal("another seed or split gave the same points")
	}
	if _, err := Generate("D-IV", 1, sdk.SplitTrain, 0); err == nil {
		t.Error("unknown data set: want an error")
	}
	if _, err := Generate("D-I", 1, "test", 0); err == nil {
		t.Error("unknown split: want an error")
	}
}
