package sdk

import (
	"math"
	"strings"
	"testing"
)

func TestValidateDistances(t *testing.T) {
	ok := Matrix{Rows: 3, Cols: 3, Data: []float64{0, 1, 2, 1, 0, 1.5, 2, 1.5, 0}}
	if err := ok.ValidateDistances(); err != nil {
		t.Fatalf("a valid matrix was refused: %v", err)
	}
	bad := func(i int, v float64) Matrix {
		m := Matrix{Rows: 3, Cols: 3, Data: append([]float64(nil), ok.Data...)}
		m.Data[i] = v
		return m
	}
	for _, c := range []struct {
		m    Matrix
		want string
	}{
		{Matrix{Rows: 2, Cols: 3, Data: make([]float64, 6)}, "not square"},
		{Matrix{}, "empty"},
		{Matrix{Rows: 2, Cols: 2, Data: []float64{0, 1}}, "needs 4 values"},
		{bad(4, 0.5), "diagonal (1,1)"},
		{bad(3, -1), "negative"},
		{bad(5, 1.7), "not symmetric: (2,1)"},
		{bad(7, math.NaN()), "(2,1) is NaN"},
		{bad(2, math.Inf(1)), "+Inf"},
	} {
		err := c.m.ValidateDistances()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
}

func TestEdgesValidate(t *testing.T) {
	ok := Edges{N: 4, I: []int32{0, 2, 3}, J: []int32{1, 1, 0}, D: []float64{1, 0, 2.5}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid edges were refused: %v", err)
	}
	for _, c := range []struct {
		e    Edges
		want string
	}{
		{Edges{}, "0 points"},
		{Edges{N: 2, I: []int32{0}, J: []int32{1}}, "1, 1 and 0 values"},
		{Edges{N: 2, I: []int32{0}, J: []int32{2}, D: []float64{1}}, "(0, 2) is outside 0..1"},
		{Edges{N: 2, I: []int32{-1}, J: []int32{1}, D: []float64{1}}, "outside"},
		{Edges{N: 2, I: []int32{1}, J: []int32{1}, D: []float64{1}}, "vertex 1 to itself"},
		{Edges{N: 2, I: []int32{0}, J: []int32{1}, D: []float64{math.NaN()}}, "distance NaN"},
		{Edges{N: 2, I: []int32{0}, J: []int32{1}, D: []float64{-1}}, "distance -1"},
		{Edges{N: 3, I: []int32{0, 2, 1}, J: []int32{1, 1, 0}, D: []float64{1, 1, 1}}, "(0, 1) is given twice"},
	} {
		err := c.e.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error containing %q", c.e, err, c.want)
		}
	}
}

// TestEdgesDense checks the matrix a distances-only backend gets: given
// pairs as given, absent pairs above the threshold and the threshold
// above every given pair; a complete set needs neither.
func TestEdgesDense(t *testing.T) {
	e := Edges{N: 3, I: []int32{0, 2}, J: []int32{1, 1}, D: []float64{1, 0.5}}
	m, thr := e.Dense(0)
	if err := m.ValidateDistances(); err != nil {
		t.Fatal(err)
	}
	if m.At(0, 1) != 1 || m.At(1, 2) != 0.5 || m.At(2, 1) != 0.5 {
		t.Errorf("given pairs changed: %v", m.Data)
	}
	if !(thr >= 1 && m.At(0, 2) > thr && float32(m.At(0, 2)) > float32(thr) && float32(thr) >= 1) {
		t.Errorf("absent pair %v and threshold %v: want 1 <= threshold < absent, in float32 too", m.At(0, 2), thr)
	}
	if _, thr := e.Dense(0.75); thr != 0.75 {
		t.Errorf("a threshold below the pairs became %v, want it kept", thr)
	}
	full := Edges{N: 3, I: []int32{0, 2, 0}, J: []int32{1, 1, 2}, D: []float64{1, 0.5, 1.2}}
	if m, thr := full.Dense(0); thr != 0 || m.At(0, 2) != 1.2 {
		t.Errorf("complete edges: threshold %v, (0,2) = %v; want 0 and 1.2", thr, m.At(0, 2))
	}
}
