package rips

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// runRipserSparse runs Debian's ripser (or ripser-coeff) on e in its
// sparse "i j d" format, the oracle for ComputeEdges. ripser 1.2.1
// ignores --threshold on a sparse file (its H0 joins components by
// pairs above it), so the file holds only the pairs within it.
func runRipserSparse(t testing.TB, e sdk.Edges, maxDim int, threshold float64, p int) [][][2]float64 {
	t.Helper()
	bin := "/usr/bin/ripser"
	args := []string{"--format", "sparse", "--dim", strconv.Itoa(maxDim)}
	if p != 2 {
		bin = "/usr/bin/ripser-coeff"
		args = append(args, "--modulus", strconv.Itoa(p))
	}
	var b bytes.Buffer
	for k, d := range e.D {
		if threshold > 0 && float32(d) > float32(threshold) {
			continue
		}
		fmt.Fprintf(&b, "%d %d %s\n", e.I[k], e.J[k], strconv.FormatFloat(d, 'g', -1, 64))
	}
	fmt.Fprintf(&b, "%d %d 0\n", e.N-1, e.N-1) // keeps the last point
	f := filepath.Join(t.TempDir(), "e.txt")
	if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append(args, f)...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return parseRipser(t, out, maxDim)
}

// someEdges keeps each pair of d with probability keep, in both
// orientations and in random order, as a user's file might list them.
func someEdges(rng *rand.Rand, d sdk.Matrix, keep float64) sdk.Edges {
	e := sdk.Edges{N: d.Rows}
	for i := range d.Rows {
		for j := range i {
			if rng.Float64() < keep {
				a, b := int32(i), int32(j)
				if rng.IntN(2) == 0 {
					a, b = b, a
				}
				e.I, e.J, e.D = append(e.I, a), append(e.J, b), append(e.D, d.At(i, j))
			}
		}
	}
	rng.Shuffle(len(e.D), func(x, y int) {
		e.I[x], e.I[y] = e.I[y], e.I[x]
		e.J[x], e.J[y] = e.J[y], e.J[x]
		e.D[x], e.D[y] = e.D[y], e.D[x]
	})
	return e
}

// TestEdgesAgainstRipser gives ComputeEdges clouds with pairs missing
// (so missing is not the same as "over the threshold"), with and without
// a threshold, on both forms, and compares with ripser --format sparse
// on the same pairs.
func TestEdgesAgainstRipser(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 2))
	for i := range 12 {
		n := 15 + rng.IntN(60)
		maxDim := 1 + i%3
		if maxDim == 3 {
			n = 12 + rng.IntN(20)
		}
		d := randomCloud(rng, n, 2+rng.IntN(4), rng.IntN(3))
		e := someEdges(rng, d, 0.4+0.55*rng.Float64())
		thr := 0.0
		if i%2 == 1 {
			thr = d.Data[1]
		}
		p := []int{2, 3}[i%2]
		want := runRipserSparse(t, e, maxDim, thr, p)
		for _, form := range []string{"sparse", "dense", ""} {
			var got []sdk.Diagram
			var err error
			withForm(form, func() {
				got, err = Plugin{Workers: 1 + i%2}.Compute(context.Background(), sdk.HomologyRequest{Edges: &e, MaxDim: maxDim, Threshold: thr, Coeff: p})
			})
			if err != nil {
				t.Fatalf("case %d (form %q): %v", i, form, err)
			}
			if msg := diffDiagrams(got, want); msg != "" {
				t.Fatalf("case %d n=%d pairs=%d thr=%v maxdim=%d p=%d form=%q: %s", i, n, len(e.D), thr, maxDim, p, form, msg)
			}
		}
	}
}

// TestEdgesBadInput: each malformed list gets one line naming the pair,
// on the sparse path and on the dense one.
func TestEdgesBadInput(t *testing.T) {
	for _, form := range []string{"sparse", "dense"} {
		for _, c := range []struct {
			e    sdk.Edges
			want string
		}{
			{sdk.Edges{N: 3, I: []int32{0, 1}, J: []int32{1, 0}, D: []float64{1, 1}}, "pair (0, 1) is given twice"},
			{sdk.Edges{N: 3, I: []int32{0}, J: []int32{3}, D: []float64{1}}, "(0, 3) is outside 0..2"},
			{sdk.Edges{N: 3, I: []int32{2}, J: []int32{2}, D: []float64{1}}, "vertex 2 to itself"},
			{sdk.Edges{N: 3, I: []int32{0}, J: []int32{1}, D: []float64{-2}}, "distance -2"},
			{sdk.Edges{N: 3, I: []int32{0}, J: []int32{1}}, "1, 1 and 0 values"},
		} {
			var err error
			withForm(form, func() {
				_, err = ComputeEdges(context.Background(), &c.e, Options{MaxDim: 1})
			})
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("form %s, %+v: got %v, want one line containing %q", form, c.e, err, c.want)
			}
		}
	}
}

// Sparse input whose vertex ids reach far beyond its pairs (a cloud's
// pairs scattered over ids up to 50,000): memory follows the pairs, and
// the diagrams equal ripser's on the same file, every isolated vertex an
// essential H0 class. Ids whose isolated vertices exceed the memory
// budget are refused in one line.
func TestEdgesWithSparseVertexIds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	d := randomCloud(rng, 40, 3, 2)
	small := someEdges(rng, d, 0.7)
	const n = 50_000
	// Vertex n-1 has a pair: ripser takes its point count from the
	// largest id in a pair (it skips the "i i 0" line).
	ids := append(rng.Perm(n - 1)[:39], n-1)
	e := sdk.Edges{N: n, D: small.D}
	for k := range small.D {
		e.I, e.J = append(e.I, int32(ids[small.I[k]])), append(e.J, int32(ids[small.J[k]]))
	}
	want := runRipserSparse(t, e, 1, 0, 2)
	var got []sdk.Diagram
	var err error
	n0 := allocated(func() {
		got, err = Plugin{Workers: 1}.Compute(context.Background(), sdk.HomologyRequest{Edges: &e, MaxDim: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg := diffDiagrams(got, want); msg != "" {
		t.Fatal(msg)
	}
	// The H0 pairs themselves are 16 bytes each; the filtration of 5*10^4
	// points (the path taken before) needs hundreds of megabytes.
	if n0 > 64<<20 {
		t.Errorf("allocated %d MB for %d pairs", n0>>20, len(e.D))
	}
	t.Setenv("NT_MEMORY_BUDGET", "1M")
	e.N = 1 << 30
	e.I[0] = 1<<30 - 1
	_, err = Plugin{Workers: 1}.Compute(context.Background(), sdk.HomologyRequest{Edges: &e, MaxDim: 1})
	if err == nil || !strings.Contains(err.Error(), "in no pair (vertex ids up to 1073741823") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line refusing the isolated vertices, got %v", err)
	}
	t.Log(err)
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}
