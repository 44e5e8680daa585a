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
