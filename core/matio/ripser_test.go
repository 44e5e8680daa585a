package matio

import (
	"bytes"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestRipserFormatsAgree writes one distance matrix in every distance
// format, by hand where the layout matters, and reads the same matrix back.
func TestRipserFormatsAgree(t *testing.T) {
	// d(i,j) = 10*max + min + 1: every entry tells where it belongs.
	n := 5
	want := sdk.NewMatrix(n, n)
	for i := range n {
		for j := range n {
			if i != j {
				want.Data[i*n+j] = float64(10*max(i, j) + min(i, j) + 1)
			}
		}
	}
	files := map[string]string{
		// lower triangle with mixed separators and arbitrary line breaks
		RipserLower: "11,\n21, 22\n31 32,33 41\n42,43,44\n",
		// upper triangle row by row: d(0,1..4), d(1,2..4), ...
		RipserUpper:    "11 21 31 41\n22 32 42\n33 43\n44\n",
		RipserDistance: "0,11,21,31,41\n11,0,22,32,42\n21,22,0,33,43\n31,32,33,0,44\n41,42,43,44,0\n",
		RipserSparse:   "0 1 11\n0 2 21\n0 3 31\n0 4 41\n1 2 22\n1 3 32\n1 4 42\n2 3 33\n2 4 43\n3 4 44\n2 2 0\n",
	}
	for format, text := range files {
		in, err := ReadRipser(strings.NewReader(text), format)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !same(in.Matrix, want) || in.Threshold != 0 || in.Points {
			t.Fatalf("%s: read %v (threshold %v), want %v", format, in.Matrix.Data, in.Threshold, want.Data)
		}
		var b bytes.Buffer
		if err := WriteRipser(&b, format, want, 0); err != nil {
			t.Fatal(err)
		}
		back, err := ReadRipser(&b, format)
		if err != nil || !same(back.Matrix, want) {
			t.Fatalf("%s: our own file reads back as %v, %v", format, back.Matrix.Data, err)
		}
	}
	pts, err := ReadRipser(strings.NewReader("1 2\n\n3,4\n-5 6e-1\n"), RipserPoints)
	if err != nil || !pts.Points || pts.Matrix.Rows != 3 || pts.Matrix.Cols != 2 || pts.Matrix.At(2, 1) != 0.6 {
		t.Fatalf("point cloud: %+v, %v", pts, err)
	}
}

// TestRipserSparseMissing checks the stand-in for missing pairs: above
// every given distance, with the threshold between.
func TestRipserSparseMissing(t *testing.T) {
	in, err := ReadRipser(strings.NewReader("0 1 0.5\n2 3 2\n1 2 1.5\n"), RipserSparse)
	if err != nil {
		t.Fatal(err)
	}
	m := in.Matrix
	if m.Rows != 4 || m.At(0, 1) != 0.5 || m.At(3, 2) != 2 || m.At(2, 1) != 1.5 {
		t.Fatalf("matrix %v", m.Data)
	}
	if in.Threshold < 2 || in.Absent <= in.Threshold || m.At(0, 3) != in.Absent || m.At(3, 0) != in.Absent {
		t.Fatalf("threshold %v, absent %v, d(0,3) %v", in.Threshold, in.Absent, m.At(0, 3))
	}
	if err := m.ValidateDistances(); err != nil {
		t.Fatal(err)
	}
}

func TestRipserErrors(t *testing.T) {
	cases := []struct{ format, text, want string }{
		{RipserLower, "1,2\n", "2 values are not a triangle: 2 points need 1, 3 points 3"},
		{RipserLower, "", "no distances"},
		{RipserLower, "1\n2 x\n", `line 2: "x" is not a number`},
		{RipserLower, "1\n2 -3 4\n", "line 2: negative distance -3"},
		{RipserUpper, "1 inf 2", `line 1: "inf" is not a finite number`},
		{RipserDistance, "0 1\n1 0 2\n", "line 2: row has 3 values, line 1 has 2"},
		{RipserDistance, "0 1 2\n1 0 2\n", "2 rows of 3 values: a distance matrix is square"},
		{RipserDistance, "0 1\n2 0\n", "not symmetric"},
		{RipserSparse, "0 1\n", `line 1: 2 fields, want "i j distance"`},
		{RipserSparse, "0 -1 2\n", `line 1: vertex "-1" is not a non-negative integer`},
		{RipserSparse, "0 1.5 2\n", `line 1: vertex "1.5" is not a non-negative integer`},
		{RipserSparse, "0 1 2\n1 0 3\n", "edge 1 0 given twice, as 2 and 3"},
		{RipserSparse, "0 40000 1\n", "line 1: vertex 40000 is beyond the 32768 points"},
		{RipserSparse, "0 1 nan\n", `line 1: "nan" is not a finite number`},
		{RipserSparse, "", "no edges"},
		{RipserPoints, "1 2\n3\n", "line 2: point has 1 values, line 1 has 2"},
		{RipserPoints, "\n\n", "no points"},
		{"dipha", "1", `unknown ripser format "dipha"`},
	}
	for _, c := range cases {
		_, err := ReadRipser(strings.NewReader(c.text), c.format)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %q: error %v, want one line containing %q", c.format, c.text, err, c.want)
		}
	}
	if _, err := ReadRipserFile("no/such/file.txt", RipserLower); err == nil || !strings.Contains(err.Error(), "no/such/file.txt") {
		t.Errorf("missing file: %v", err)
	}
}
