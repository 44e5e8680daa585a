package geodesic

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestHopsRemovesDuplicates: with weights=hops a cloud with repeated
// points gives, for each point, the hop distances its first copy has in
// the cloud without repeats, and 0 to its copies; k counts distinct
// points, so repeats no longer fill each other's neighbour lists (with
// unit weights the same cloud's graph differs).
func TestHopsRemovesDuplicates(t *testing.T) {
	base := sdk.Matrix{Rows: 6, Cols: 2, Data: []float64{0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0}}
	// Every point three times, interleaved.
	rep := sdk.NewMatrix(18, 2)
	of := make([]int, 18)
	for i := 0; i < 18; i++ {
		src := i % 6
		copy(rep.Row(i), base.Row(src))
		of[i] = src
	}
	want, _, err := Distances(base, 1, Options{Weights: WeightUnit})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Plugin{}.Compute(context.Background(), rep, map[string]string{"k": "1", "weights": "hops"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 18; i++ {
		for j := 0; j < 18; j++ {
			if got, w := res.Distances.At(i, j), want.At(of[i], of[j]); got != w {
				t.Fatalf("(%d,%d) = %v, want %v (the distinct cloud's (%d,%d))", i, j, got, w, of[i], of[j])
			}
		}
	}
	if res.Components != 1 {
		t.Errorf("%d components, want 1", res.Components)
	}
	// k must leave room among the distinct points: 6 distinct, k = 6 is
	// too many even though there are 18 rows.
	if _, err := (Plugin{}).Compute(context.Background(), rep, map[string]string{"k": "6", "weights": "hops"}); err == nil {
		t.Errorf("k = 6 with 6 distinct points: want an error")
	}
}

func TestDedupe(t *testing.T) {
	m := sdk.Matrix{Rows: 4, Cols: 1, Data: []float64{2, 0, 2, 3}}
	m.Data[1] = -m.Data[1] // -0 is the same point as 0
	m2 := sdk.Matrix{Rows: 5, Cols: 1, Data: append(append([]float64(nil), m.Data...), 0)}
	u, of := Dedupe(m2)
	if u.Rows != 3 || of[2] != 0 || of[4] != 1 || of[3] != 2 {
		t.Fatalf("dedupe: %v rows, map %v", u.Data, of)
	}
}

// TestBFSEqualsDijkstra: hop counts found breadth-first equal Dijkstra's
// shortest paths over the same graph with every edge of length 1, on
// random clouds whose k-NN graphs have one or several components.
func TestBFSEqualsDijkstra(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	for trial, c := range []struct{ n, d, k int }{{300, 3, 4}, {500, 2, 2}, {200, 15, 10}} {
		pts := sdk.NewMatrix(c.n, c.d)
		for i := range pts.Data {
			pts.Data[i] = rng.NormFloat64()
		}
		e, err := euclid.Matrix(pts)
		if err != nil {
			t.Fatal(err)
		}
		g := buildGraph(e, c.k, WeightUnit)
		if !g.unit {
			t.Fatal("a unit-weight graph is not marked unit")
		}
		q := newQueue(c.n)
		a, b := make([]float64, c.n), make([]float64, c.n)
		unreachable := 0
		for s := 0; s < c.n; s++ {
			bfs(g, s, a, q.heap)
			dijkstra(g, s, b, q)
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("cloud %d, from %d to %d: breadth-first %v, Dijkstra %v", trial, s, j, a[j], b[j])
				}
				if math.IsInf(a[j], 1) {
					unreachable++
				}
			}
		}
		t.Logf("cloud %d: %d unreachable pairs", trial, unreachable)
	}
}
