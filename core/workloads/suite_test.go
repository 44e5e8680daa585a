package workloads

import (
	"math"
	"testing"
)

// TestSuiteGenerators checks the defining property of each generator.
func TestSuiteGenerators(t *testing.T) {
	s := Sphere(50, 3, 1)
	for i := range 50 {
		var n float64
		for _, x := range s.Row(i) {
			n += x * x
		}
		if s.Cols != 4 || math.Abs(n-1) > 1e-12 {
			t.Fatalf("sphere point %d has norm^2 %v in R^%d", i, n, s.Cols)
		}
	}
	o := O3(200, 1)
	dets := map[bool]int{}
	for i := range 200 {
		q := o.Row(i) // row-major 3x3
		for a := range 3 {
			for b := range 3 {
				var dot float64
				for r := range 3 {
					dot += q[r*3+a] * q[r*3+b]
				}
				if want := map[bool]float64{true: 1, false: 0}[a == b]; math.Abs(dot-want) > 1e-12 {
					t.Fatalf("O3 matrix %d: columns %d,%d dot %v", i, a, b, dot)
				}
			}
		}
		det := q[0]*(q[4]*q[8]-q[5]*q[7]) - q[1]*(q[3]*q[8]-q[5]*q[6]) + q[2]*(q[3]*q[7]-q[4]*q[6])
		dets[det > 0]++
	}
	if dets[true] < 60 || dets[false] < 60 {
		t.Fatalf("O3 determinants +1/-1: %d/%d; both components should be sampled alike", dets[true], dets[false])
	}
	f := Fractal(1)
	for i := 0; i < 512; i += 7 {
		for j := 0; j < 512; j += 5 {
			for k := 0; k < 512; k += 11 {
				if f.At(i, k) > f.At(i, j)+f.At(j, k)+1e-12 {
					t.Fatalf("fractal: triangle inequality fails at %d,%d,%d", i, j, k)
				}
			}
		}
	}
	// Points of one leaf cluster are closer than points of two top ones.
	if !(f.At(0, 1) < f.At(0, 64)) {
		t.Fatalf("fractal: not self-similar: d(0,1)=%v d(0,64)=%v", f.At(0, 1), f.At(0, 64))
	}
	c := CliffordTorus(100, 1)
	for i := range 100 {
		r := c.Row(i)
		if math.Abs(r[0]*r[0]+r[1]*r[1]-0.5) > 1e-12 || math.Abs(r[2]*r[2]+r[3]*r[3]-0.5) > 1e-12 {
			t.Fatalf("clifford point %d off the torus: %v", i, r)
		}
	}
	k := SphereKlein(100, 1)
	if k.Rows != 100 || k.Cols != 24 {
		t.Fatalf("sphere-klein shape %dx%d", k.Rows, k.Cols)
	}
	// The frame is orthonormal, so a sphere point keeps its radius 2.
	var n float64
	for _, x := range k.Row(1) {
		n += x * x
	}
	if math.Abs(n-4) > 1e-9 {
		t.Fatalf("sphere-klein: sphere point at radius^2 %v, want 4", n)
	}
	d := euclidean(KnotTube(300, 1))
	if r := neighbourRadius(d, 10); !(r > 0 && r < 1) {
		t.Fatalf("knot tube: 10-neighbour radius %v", r)
	}
}

// The published files are read whole after their checksums: 192 points
// of S^3 (a distance matrix whose entries are chord lengths, at most 2)
// and 1,024 orthogonal matrices in R^9.
func TestPublished(t *testing.T) {
	s, err := Published("sphere_3_192")
	if err != nil {
		t.Fatal(err)
	}
	if s.Points || s.Matrix.Rows != 192 || s.Matrix.Cols != 192 {
		t.Fatalf("sphere_3_192: %dx%d, points %v", s.Matrix.Rows, s.Matrix.Cols, s.Points)
	}
	for i, d := range s.Matrix.Data {
		if d < 0 || d > 2+1e-9 || d != s.Matrix.Data[(i%192)*192+i/192] {
			t.Fatalf("sphere_3_192: entry %d = %v is not a symmetric chord length", i, d)
		}
	}
	o, err := Published("o3_1024")
	if err != nil {
		t.Fatal(err)
	}
	if !o.Points || o.Matrix.Rows != 1024 || o.Matrix.Cols != 9 {
		t.Fatalf("o3_1024: %dx%d, points %v", o.Matrix.Rows, o.Matrix.Cols, o.Points)
	}
	for i := range 1024 {
		q := o.Matrix.Row(i)
		var n float64
		for _, x := range q[:3] {
			n += x * x
		}
		if math.Abs(n-1) > 1e-9 {
			t.Fatalf("o3_1024 matrix %d: first row has norm^2 %v, not orthogonal", i, n)
		}
	}
	if _, err := Published("random16"); err == nil {
		t.Fatal("an unknown dataset read without error")
	}
}
