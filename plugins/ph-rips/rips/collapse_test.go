package rips

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/workloads"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// RIPS_TEST_COLLAPSE=on (or off) runs every test of the package with
// edge collapse forced, whatever shouldCollapse would choose.
func init() {
	if f := os.Getenv("RIPS_TEST_COLLAPSE"); f != "" {
		forceCollapse = f
	}
}

// withCollapse runs fn with collapse forced on or off.
func withCollapse(mode string, fn func()) { withSetting(&forceCollapse, mode, fn) }

// TestCollapseAgainstRipser compares with ripser, collapse forced on and
// off, in both forms of the engine: tie-heavy graph metrics (where the
// delayed times land on other edges' equal times), clouds with rounded
// distances, thresholds, dims 1-3, Z/2 and Z/3.
func TestCollapseAgainstRipser(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 5))
	type tc struct {
		d      sdk.Matrix
		maxDim int
		p      int
		thr    float64
		name   string
	}
	var cases []tc
	for i := range 18 {
		n := 10 + rng.IntN(45)
		maxDim := 1 + i%3
		if maxDim == 3 {
			n = 8 + rng.IntN(22)
		}
		thr := 0.0
		if i%4 == 1 {
			thr = float64(2 + i%3)
		}
		cases = append(cases, tc{graphMetric(rng, n), maxDim, []int{2, 3}[i%2], thr, fmt.Sprintf("graph%d-n%d", i, n)})
	}
	for i := range 15 {
		n := 20 + rng.IntN(80)
		maxDim := 1 + i%3
		if maxDim == 3 {
			n = 15 + rng.IntN(25)
		}
		d := randomCloud(rng, n, 2+rng.IntN(5), rng.IntN(3))
		thr := 0.0
		if i%3 == 0 {
			thr = float64(int(d.Data[1]*100*(0.4+0.6*rng.Float64()))) / 100
		}
		cases = append(cases, tc{d, maxDim, []int{3, 2}[i%2], thr, fmt.Sprintf("cloud%d-n%d", i, n)})
	}
	// Points on S^3 and S^5 resist collapse (sphere_3_192 loses 6% of
	// its latest edges): these are where the early stop gives up.
	for i, k := range []int{3, 5, 3} {
		n := 40 + 15*i
		cases = append(cases, tc{MustEuclidean(workloads.Sphere(n, k, int64(i))), 2, 2 + i%2, 0, fmt.Sprintf("sphere%d-n%d", k, n)})
	}
	bars, gaveUp, went := 0, 0, 0
	for _, c := range cases {
		want := runRipser(t, c.d, c.maxDim, c.thr, c.p)
		thr := enclosingRadius(c.d.Data, c.d.Rows)
		if c.thr > 0 {
			thr = min(thr, c.thr)
		}
		var col *adjacency
		var err error
		probeMin = 20
		withCollapse("", func() { // RIPS_TEST_COLLAPSE=on would turn the stop off
			col, err = collapseAdjacency(context.Background(), adjacencyFromMatrix(c.d.Data, c.d.Rows, float32(thr)), c.d.Data, true, 2)
		})
		probeMin = 1000
		if err != nil {
			t.Fatal(err)
		}
		if col == nil {
			gaveUp++
		} else {
			went++
		}
		for k := 1; k <= c.maxDim; k++ {
			bars += len(want[k])
		}
		// "" decides as the engine would, with the early stop probed
		// after 20 edges so these small inputs reach it both ways.
		for _, mode := range []string{"on", "off", ""} {
			for _, form := range []string{"sparse", "dense"} {
				var got []sdk.Diagram
				var err error
				probeMin = 20
				withCollapse(mode, func() {
					withForm(form, func() {
						got, err = Compute(context.Background(), &c.d, Options{MaxDim: c.maxDim, Threshold: c.thr, Coeff: c.p, Workers: 1 + bars%2})
					})
				})
				probeMin = 1000
				if err != nil {
					t.Fatalf("%s collapse=%s form=%s: %v", c.name, mode, form, err)
				}
				if msg := diffDiagrams(got, want); msg != "" {
					t.Fatalf("%s thr=%v maxdim=%d p=%d collapse=%s form=%s: %s", c.name, c.thr, c.maxDim, c.p, mode, form, msg)
				}
			}
		}
	}
	if bars == 0 {
		t.Fatalf("no case has bars above dimension 0; the comparison says little")
	}
	if gaveUp == 0 || went == 0 {
		t.Fatalf("the early stop gave up on %d inputs and went on with %d; the test needs both", gaveUp, went)
	}
}

// TestCollapseShape checks what the oracle test cannot see: edges are
// only removed or delayed, never advanced or invented; a delayed edge
// carries the float64 value of an edge of the original graph with its
// new time; and on these inputs collapse both removes and delays edges,
// so the oracle comparison above covers both. A 4-cycle with both
// diagonals at a later time loses exactly one diagonal.
func TestCollapseShape(t *testing.T) {
	sq := sdk.NewMatrix(4, 4)
	for i := range 4 {
		for j := range 4 {
			switch (i - j + 4) % 4 {
			case 1, 3:
				sq.Data[i*4+j] = 1
			case 2:
				sq.Data[i*4+j] = 2
			}
		}
	}
	col, err := collapseAdjacency(context.Background(), adjacencyFromMatrix(sq.Data, 4, 2), sq.Data, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(col.nb) / 2; got != 5 {
		t.Fatalf("square with diagonals: %d edges left, want 5 (4 sides, 1 diagonal)", got)
	}

	rng := rand.New(rand.NewPCG(5, 21))
	removed, delayed := 0, 0
	for i := range 12 {
		var d sdk.Matrix
		if i%2 == 0 {
			d = graphMetric(rng, 15+rng.IntN(40))
		} else {
			d = randomCloud(rng, 20+rng.IntN(60), 3, 1)
		}
		n := d.Rows
		thr := float32(enclosingRadius(d.Data, n))
		values := map[float64]bool{}
		for _, x := range d.Data {
			values[x] = true
		}
		for _, dense := range []bool{true, false} {
			adj := adjacencyFromMatrix(d.Data, n, thr)
			col, err := collapseAdjacency(context.Background(), adj, d.Data, dense, 1)
			if err != nil {
				t.Fatal(err)
			}
			if dense {
				removed += (len(adj.nb) - len(col.nb)) / 2
			}
			for u := range n {
				for k := col.off[u]; k < col.off[u+1]; k++ {
					v := col.nb[k]
					orig := float32(d.Data[u*n+int(v)])
					switch {
					case col.d[k] < orig || orig > thr:
						t.Fatalf("case %d: edge %d-%d at %v, originally %v (threshold %v)", i, u, v, col.d[k], orig, thr)
					case !values[col.d64[k]] || float32(col.d64[k]) != col.d[k]:
						t.Fatalf("case %d: edge %d-%d carries %v for time %v", i, u, v, col.d64[k], col.d[k])
					case col.d[k] > orig && dense:
						delayed++
					}
				}
			}
		}
	}
	if removed == 0 || delayed == 0 {
		t.Fatalf("collapse removed %d and delayed %d edges; the oracle tests need both", removed, delayed)
	}
	t.Logf("removed %d, delayed %d (directed) edges", removed, delayed)
}
