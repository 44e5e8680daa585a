package matio

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestRipserEdgesAgreeWithDense writes a random metric in each distance
// format and reads it back as edges below a threshold: the pairs must
// be exactly the dense reading's pairs within it, and the enclosing
// radius the dense matrix's where the format gives it.
func TestRipserEdgesAgreeWithDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	n := 23
	m := sdk.NewMatrix(n, n)
	for i := range n {
		for j := range i {
			v := math.Round(rng.Float64()*1000) / 100
			m.Data[i*n+j], m.Data[j*n+i] = v, v
		}
	}
	enc := math.Inf(1)
	for i := range n {
		far := 0.0
		for _, v := range m.Row(i) {
			far = max(far, v)
		}
		enc = min(enc, far)
	}
	const thr = 2.5
	for _, format := range []string{RipserDistance, RipserLower, RipserUpper, RipserSparse} {
		var b bytes.Buffer
		if err := WriteRipser(&b, format, m, 0); err != nil {
			t.Fatal(err)
		}
		got, err := ReadRipserEdges(&b, format, thr)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if err := got.Edges.Validate(); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		want := map[[2]int]float64{}
		for i := range n {
			for j := range i {
				if m.At(i, j) <= thr {
					want[[2]int{j, i}] = m.At(i, j)
				}
			}
		}
		e := got.Edges
		if e.N != n || len(e.D) != len(want) {
			t.Fatalf("%s: %d points and %d pairs, want %d and %d", format, e.N, len(e.D), n, len(want))
		}
		for k, d := range e.D {
			key := [2]int{int(min(e.I[k], e.J[k])), int(max(e.I[k], e.J[k]))}
			if w, ok := want[key]; !ok || w != d {
				t.Fatalf("%s: pair %v = %v, want %v (listed %v)", format, key, d, w, ok)
			}
		}
		wantEnc := enc
		if format == RipserUpper {
			wantEnc = math.Inf(1)
		}
		if format == RipserSparse {
			wantEnc = math.Inf(1) // the pairs above the threshold are absent
		}
		if got.Enclosing != wantEnc {
			t.Errorf("%s: enclosing radius %v, want %v", format, got.Enclosing, wantEnc)
		}
	}
	// A complete sparse file without a threshold knows its enclosing radius.
	var b bytes.Buffer
	if err := WriteRipser(&b, RipserSparse, m, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadRipserEdges(&b, RipserSparse, 0); err != nil || got.Enclosing != enc || len(got.Edges.D) != n*(n-1)/2 {
		t.Errorf("complete sparse file: %v pairs, enclosing %v (want %v), %v", len(got.Edges.D), got.Enclosing, enc, err)
	}
}

func TestRipserEdgesErrors(t *testing.T) {
	for _, c := range []struct{ format, text, want string }{
		{RipserSparse, "0 1 1\n1 0 2\n", "edge 0 1 given twice, as 1 and 2"},
		{RipserSparse, "0 1\n", "line 1: 2 fields"},
		{RipserSparse, "0 1 -1\n", "negative distance"},
		{RipserLower, "1\n2\n", "2 values are not a triangle"},
		{RipserDistance, "0 1\n2 0\n", "(0,1) and (1,0) are 1 and 2"},
		{RipserDistance, "0 1\n9 0\n", "(0,1) is within the threshold and (1,0) is not"},
		{RipserDistance, "1 1\n1 0\n", "diagonal (0,0) is 1"},
		{RipserDistance, "0 1\n1 0\n1 1\n", "more rows"},
		{RipserPoints, "0 1\n", "cannot be read as edges"},
	} {
		_, err := ReadRipserEdges(strings.NewReader(c.text), c.format, 5)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %q: got %v, want one line containing %q", c.format, c.text, err, c.want)
		}
	}
	if _, err := ReadRipserEdges(strings.NewReader("1\n"), RipserLower, 0); err == nil || !strings.Contains(err.Error(), "only below a threshold") {
		t.Errorf("lower-distance without a threshold: %v", err)
	}
	// A duplicate with the same value is one pair, as ripser reads it.
	got, err := ReadRipserEdges(strings.NewReader("0 1 1\n1 0 1\n2 2 0\n"), RipserSparse, 0)
	if err != nil || len(got.Edges.D) != 1 || got.Edges.N != 3 {
		t.Errorf("repeated pair: %+v, %v", got.Edges, err)
	}
}
