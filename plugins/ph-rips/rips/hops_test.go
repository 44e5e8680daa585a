package rips

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// hopEdges returns the pairs of points of pts at most maxHops apart in
// the symmetric k-nearest-neighbour graph (i and j joined when either
// is among the other's k nearest), with the hop count as distance: the
// integer geodesic metric of the supervised-network clouds, whose
// distances are nearly all tied. Brute-force k-NN and a BFS per point.
func hopEdges(pts sdk.Matrix, k, maxHops int) sdk.Edges {
	n := pts.Rows
	d := MustEuclidean(pts)
	adj := make([][]int32, n)
	idx := make([]int32, n)
	for i := range n {
		for j := range idx {
			idx[j] = int32(j)
		}
		row := d.Data[i*n : (i+1)*n]
		slices.SortFunc(idx, func(a, b int32) int {
			if row[a] != row[b] {
				if row[a] < row[b] {
					return -1
				}
				return 1
			}
			return int(a - b)
		})
		for _, j := range idx[1 : k+1] {
			adj[i] = append(adj[i], j)
			adj[j] = append(adj[j], int32(i))
		}
	}
	e := sdk.Edges{N: n}
	hop := make([]int, n)
	for i := range n {
		for j := range hop {
			hop[j] = -1
		}
		hop[i] = 0
		front := []int32{int32(i)}
		for h := 1; h <= maxHops; h++ {
			var next []int32
			for _, u := range front {
				for _, v := range adj[u] {
					if hop[v] < 0 {
						hop[v] = h
						next = append(next, v)
						if int(v) > i {
							e.I, e.J, e.D = append(e.I, int32(i)), append(e.J, v), append(e.D, float64(h))
						}
					}
				}
			}
			front = next
		}
	}
	return e
}

// TestHopCountsAgainstRipser: integer hop-count distances of k-NN
// graphs (k = 14 and 35, as the supervised-network clouds use),
// thresholded at 2 hops, dims 0..2, against ripser on the same sparse
// input; the engine gets the pairs as edges (sparse form, collapse) and
// as a full matrix with threshold 2 (the main job's form).
func TestHopCountsAgainstRipser(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 35))
	for c, tc := range []struct{ n, k, shape int }{{2000, 14, 1}, {600, 35, 0}, {800, 14, 2}} {
		pts := shapeCloud(rng, tc.shape, tc.n)
		e := hopEdges(pts, tc.k, 2)
		want := runRipserSparse(t, e, 2, 0, 2)
		got, err := ComputeEdges(context.Background(), &e, Options{MaxDim: 2})
		if err != nil {
			t.Fatal(err)
		}
		if msg := diffDiagrams(got, want); msg != "" {
			t.Fatalf("case %d (n %d, k %d, edges): %s", c, tc.n, tc.k, msg)
		}
		t.Logf("case %d: n %d k %d, %d pairs within 2 hops, pairs %d/%d/%d", c, tc.n, tc.k, len(e.D), len(want[0]), len(want[1]), len(want[2]))
		if c > 0 {
			continue
		}
		// The full matrix, absent pairs at 3 hops and beyond, threshold 2.
		m := sdk.NewMatrix(tc.n, tc.n)
		for i := range m.Data {
			m.Data[i] = 3
		}
		for i := range tc.n {
			m.Data[i*tc.n+i] = 0
		}
		for x, dv := range e.D {
			i, j := int(e.I[x]), int(e.J[x])
			m.Data[i*tc.n+j], m.Data[j*tc.n+i] = dv, dv
		}
		got, err = Compute(context.Background(), &m, Options{MaxDim: 2, Threshold: 2, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if msg := diffDiagrams(got, want); msg != "" {
			t.Fatalf("case %d (n %d, k %d, matrix, threshold 2): %s", c, tc.n, tc.k, msg)
		}
	}
}

// TestHopCountsScale times the engine on hop-count clouds of the
// supervised-network reproduction's sizes (2,600 and 11,250 points,
// k = 14 and 35, threshold 2 hops, dims 0..2) when RIPS_HOPS is set
// (a benchmark, not part of CI: it only logs). RIPS_HOPS=ripser also
// runs ripser on each input and checks that the barcodes agree.
func TestHopCountsScale(t *testing.T) {
	mode := os.Getenv("RIPS_HOPS")
	if mode == "" {
		t.Skip("set RIPS_HOPS=1 (or =ripser) to run the hop-count benchmark")
	}
	rng := rand.New(rand.NewPCG(26, 11))
	for _, tc := range []struct{ n, k int }{{2600, 14}, {2600, 35}, {11250, 14}, {11250, 35}} {
		pts := shapeCloud(rng, 1, tc.n)
		e := hopEdges(pts, tc.k, 2)
		for _, workers := range []int{1, 2} {
			cpu0 := cpuSeconds()
			t0 := time.Now()
			got, err := ComputeEdges(context.Background(), &e, Options{MaxDim: 2, Threshold: 2, Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("n %d k %d: %d pairs, workers %d: wall %.2f s, CPU %.2f s, pairs %d/%d/%d",
				tc.n, tc.k, len(e.D), workers, time.Since(t0).Seconds(), cpuSeconds()-cpu0, len(got[0].Pairs), len(got[1].Pairs), len(got[2].Pairs))
			if mode == "ripser" && workers == 1 {
				t0 := time.Now()
				want := runRipserSparse(t, e, 2, 0, 2)
				t.Logf("n %d k %d: ripser wall %.2f s", tc.n, tc.k, time.Since(t0).Seconds())
				if msg := diffDiagrams(got, want); msg != "" {
					t.Fatalf("n %d k %d: %s", tc.n, tc.k, msg)
				}
			}
		}
	}
}

// cpuSeconds is the process's user+system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
