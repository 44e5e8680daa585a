package rips

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// runRipser computes the barcode with Debian's ripser (p=2) or
// ripser-coeff (other p) on the lower triangle of d.
func runRipser(t testing.TB, d sdk.Matrix, maxDim int, threshold float64, p int) [][][2]float64 {
	t.Helper()
	bin := "/usr/bin/ripser"
	args := []string{"--format", "lower-distance", "--dim", strconv.Itoa(maxDim)}
	if p != 2 {
		bin = "/usr/bin/ripser-coeff"
		args = append(args, "--modulus", strconv.Itoa(p))
	}
	if threshold > 0 {
		args = append(args, "--threshold", strconv.FormatFloat(threshold, 'g', -1, 64))
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("oracle %s missing (apt-get install ripser): %v", bin, err)
	}
	f := filepath.Join(t.TempDir(), "d.txt")
	var b bytes.Buffer
	n := d.Rows
	for i := 1; i < n; i++ {
		for j := 0; j < i; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(d.At(i, j), 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append(args, f)...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return parseRipser(t, out, maxDim)
}

func parseRipser(t testing.TB, out []byte, maxDim int) [][][2]float64 {
	t.Helper()
	res := make([][][2]float64, maxDim+1)
	dim := -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, ok := strings.CutPrefix(line, "persistence intervals in dim "); ok {
			var err error
			dim, err = strconv.Atoi(strings.TrimSuffix(k, ":"))
			if err != nil {
				t.Fatalf("bad ripser line %q", line)
			}
			continue
		}
		if !strings.HasPrefix(line, "[") || dim < 0 {
			continue
		}
		body := strings.TrimSuffix(strings.TrimPrefix(line, "["), ")")
		parts := strings.SplitN(body, ",", 2)
		bv, err := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
		if err != nil {
			t.Fatalf("bad ripser line %q", line)
		}
		dv := math.Inf(1)
		if s := strings.TrimSpace(parts[1]); s != "" {
			if dv, err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("bad ripser line %q", line)
			}
		}
		res[dim] = append(res[dim], [2]float64{bv, dv})
	}
	for i := range res {
		sortPairs(res[i])
	}
	return res
}

// near compares within Ripser's float32 storage and its 6 significant
// printed digits.
func near(a, b float64) bool {
	if math.IsInf(a, 1) || math.IsInf(b, 1) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-5*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// diffDiagrams returns "" if got matches want as multisets of pairs.
func diffDiagrams(got []sdk.Diagram, want [][][2]float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d diagrams, want %d", len(got), len(want))
	}
	for k := range want {
		g, w := got[k].Pairs, want[k]
		if got[k].Dim != k {
			return fmt.Sprintf("diagram %d has Dim %d", k, got[k].Dim)
		}
		if len(g) != len(w) {
			return fmt.Sprintf("dim %d: %d pairs, ripser %d\n ours %v\n ripser %v", k, len(g), len(w), trunc(g), trunc(w))
		}
		// Both sorted; match greedily within tolerance to absorb
		// near-ties that rounding may order differently.
		used := make([]bool, len(w))
		for _, p := range g {
			found := false
			for j, q := range w {
				if !used[j] && near(p[0], q[0]) && near(p[1], q[1]) {
					used[j], found = true, true
					break
				}
			}
			if !found {
				return fmt.Sprintf("dim %d: pair %v not in ripser's\n ours %v\n ripser %v", k, p, trunc(g), trunc(w))
			}
		}
	}
	return ""
}

func trunc(p [][2]float64) [][2]float64 {
	if len(p) > 30 {
		return p[:30]
	}
	return p
}

// randomCloud makes n points in R^dim; with rounding > 0 their distances
// are rounded to that many decimals so ties are frequent.
func randomCloud(rng *rand.Rand, n, dim, decimals int) sdk.Matrix {
	pts := sdk.NewMatrix(n, dim)
	clustered := rng.IntN(2) == 0
	for i := range n {
		for k := range dim {
			x := rng.NormFloat64()
			if clustered {
				x += float64(3 * (i % 3))
			}
			pts.Data[i*dim+k] = x
		}
	}
	d := MustEuclidean(pts)
	if decimals > 0 {
		s := math.Pow(10, float64(decimals))
		for i := range d.Data {
			d.Data[i] = math.Round(d.Data[i]*s) / s
		}
	}
	return d
}

func TestAgainstRipser(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type tc struct {
		n, dim, maxDim, p, decimals int
		thr                         bool
	}
	var cases []tc
	for i := 0; i < 90; i++ {
		c := tc{dim: 2 + rng.IntN(7), maxDim: 1 + rng.IntN(2), p: 2, decimals: rng.IntN(4)}
		switch {
		case i%6 == 0 && i < 60:
			c.maxDim, c.n = 3, 5+rng.IntN(30)
		case c.maxDim == 1:
			c.n = 5 + rng.IntN(196)
		default:
			c.n = 5 + rng.IntN(116)
		}
		if i%3 == 0 {
			c.p = 3
		}
		if i%4 == 1 {
			c.thr = true
		}
		cases = append(cases, c)
	}
	// A few large ones.
	cases = append(cases, tc{n: 200, dim: 3, maxDim: 2, p: 2, decimals: 3}, tc{n: 150, dim: 8, maxDim: 2, p: 3, decimals: 0, thr: true},
		tc{n: 120, dim: 5, maxDim: 2, p: 2, decimals: 0})
	if testing.Short() {
		cases = cases[:20]
	}
	for i, c := range cases {
		d := randomCloud(rng, c.n, c.dim, c.decimals)
		thr := 0.0
		if c.thr {
			// Somewhere inside the range of distances.
			thr = math.Round(d.Data[1]*100*(0.5+rng.Float64())) / 100
		}
		name := fmt.Sprintf("%d/n%d-d%d-max%d-p%d-thr%v", i, c.n, c.dim, c.maxDim, c.p, thr)
		want := runRipser(t, d, c.maxDim, thr, c.p)
		// Sequential, parallel, and with the columns taken in a shuffled
		// order so that columns take pivots over from later ones.
		for _, cfg := range []struct {
			workers  int
			shuffled bool
		}{{1, false}, {2, false}, {1, true}, {2, true}} {
			var got []sdk.Diagram
			var err error
			withOrder(cfg.shuffled, func() {
				got, err = Compute(context.Background(), &d, Options{MaxDim: c.maxDim, Threshold: thr, Coeff: c.p, Workers: cfg.workers})
			})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if msg := diffDiagrams(got, want); msg != "" {
				t.Fatalf("%s workers=%d shuffled=%v: %s", name, cfg.workers, cfg.shuffled, msg)
			}
		}
	}
}

// graphMetric is the shortest-path metric of a random connected graph
// with small integer weights: a metric with very many ties, where the
// tie-breaking rules of the filtration order matter most.
func graphMetric(rng *rand.Rand, n int) sdk.Matrix {
	const inf = math.MaxInt32
	w := make([]int, n*n)
	for i := range w {
		w[i] = inf
	}
	for i := range n {
		w[i*n+i] = 0
		if i > 0 { // a random spanning tree keeps it connected
			j := rng.IntN(i)
			x := 1 + rng.IntN(4)
			w[i*n+j], w[j*n+i] = x, x
		}
	}
	for range 2 * n {
		i, j := rng.IntN(n), rng.IntN(n)
		if i != j {
			x := 1 + rng.IntN(4)
			w[i*n+j], w[j*n+i] = x, x
		}
	}
	for k := range n {
		for i := range n {
			for j := range n {
				if a, b := w[i*n+k], w[k*n+j]; a != inf && b != inf && a+b < w[i*n+j] {
					w[i*n+j] = a + b
				}
			}
		}
	}
	d := sdk.NewMatrix(n, n)
	for i, x := range w {
		d.Data[i] = float64(x)
	}
	return d
}

func TestAgainstRipserGraphMetrics(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 25 {
		n := 8 + rng.IntN(50)
		maxDim := 1 + rng.IntN(2)
		if n < 25 && i%3 == 0 {
			maxDim = 3
		}
		p := []int{2, 3, 5}[i%3]
		d := graphMetric(rng, n)
		want := runRipser(t, d, maxDim, 0, p)
		for _, cfg := range []struct {
			workers  int
			shuffled bool
		}{{1, false}, {2, true}} {
			var got []sdk.Diagram
			var err error
			withOrder(cfg.shuffled, func() {
				got, err = Compute(context.Background(), &d, Options{MaxDim: maxDim, Coeff: p, Workers: cfg.workers})
			})
			if err != nil {
				t.Fatal(err)
			}
			if msg := diffDiagrams(got, want); msg != "" {
				t.Fatalf("graph %d n=%d maxdim=%d p=%d workers=%d: %s", i, n, maxDim, p, cfg.workers, msg)
			}
		}
	}
}

// TestAgainstRipserDim3 checks dimension 3 on a cloud with real H3: the
// 4-sphere sampled sparsely plus noise.
func TestAgainstRipserDim3(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Now()
	pts := sdk.NewMatrix(40, 4)
	for i := range 40 {
		var s float64
		for k := range 4 {
			x := rng.NormFloat64()
			pts.Data[i*4+k] = x
			s += x * x
		}
		for k := range 4 {
			pts.Data[i*4+k] /= math.Sqrt(s)
		}
	}
	d := MustEuclidean(pts)
	for _, p := range []int{2, 5} {
		want := runRipser(t, d, 3, 0, p)
		got, err := Compute(context.Background(), &d, Options{MaxDim: 3, Coeff: p})
		if err != nil {
			t.Fatal(err)
		}
		if msg := diffDiagrams(got, want); msg != "" {
			t.Fatalf("p=%d: %s", p, msg)
		}
		if len(want[3]) == 0 {
			t.Fatalf("test cloud has no H3; pick another")
		}
	}
	// Dimension 4, and a large prime, on a small random cloud.
	small := randomCloud(rng, 13, 5, 2)
	for _, p := range []int{2, 65521} {
		want := runRipser(t, small, 4, 0, p)
		got, err := Compute(context.Background(), &small, Options{MaxDim: 4, Coeff: p})
		if err != nil {
			t.Fatal(err)
		}
		if msg := diffDiagrams(got, want); msg != "" {
			t.Fatalf("maxdim 4 p=%d: %s", p, msg)
		}
	}
	t.Logf("dim 3 and 4 checks took %v", time.Since(start))
}

// TestAgainstRipserHighDim checks dimensions above the usual ones on
// random16-like clouds (Gaussian points in R^16, as in the Ripser
// paper's random16, but 12-16 points so it stays short), on tie-heavy
// graph metrics, and asks for more dimensions than the points span.
func TestAgainstRipserHighDim(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 7))
	type tc struct {
		d      sdk.Matrix
		maxDim int
		p      int
		name   string
	}
	var cases []tc
	for i := range 8 {
		n := 12 + rng.IntN(5)
		cases = append(cases, tc{randomCloud(rng, n, 16, i%3), 5 + i%3, []int{2, 3}[i%2], fmt.Sprintf("cloud%d-n%d", i, n)})
	}
	for i := range 3 {
		n := 10 + rng.IntN(4)
		cases = append(cases, tc{graphMetric(rng, n), 6, []int{2, 5, 3}[i], fmt.Sprintf("graph%d-n%d", i, n)})
	}
	// Cross-polytopes: the 2m points +-e_i of R^m have a Rips complex
	// at scale sqrt 2 that is the boundary of the m-dimensional
	// cross-polytope, an (m-1)-sphere, so H_{m-1} has a bar. Exact
	// (all ties) and jittered.
	for _, m := range []int{6, 7, 8} {
		for _, jitter := range []float64{0, 0.02} {
			pts := sdk.NewMatrix(2*m, m)
			for i := range m {
				pts.Data[2*i*m+i], pts.Data[(2*i+1)*m+i] = 1, -1
			}
			for i := range pts.Data {
				pts.Data[i] += jitter * rng.NormFloat64()
			}
			cases = append(cases, tc{MustEuclidean(pts), m - 1, 2 + int(jitter*50), fmt.Sprintf("cross%d-jitter%v", m, jitter)})
		}
	}
	// More dimensions than 7 points span: dims 6..9 are empty.
	cases = append(cases, tc{randomCloud(rng, 7, 3, 1), 9, 2, "n7-max9"})
	highest := 0
	for _, c := range cases {
		want := runRipser(t, c.d, c.maxDim, 0, c.p)
		for k := 5; k <= c.maxDim; k++ {
			if len(want[k]) > 0 {
				highest = max(highest, k)
			}
		}
		for _, cfg := range []struct {
			workers  int
			shuffled bool
		}{{1, false}, {2, true}} {
			var got []sdk.Diagram
			var err error
			withOrder(cfg.shuffled, func() {
				got, err = Compute(context.Background(), &c.d, Options{MaxDim: c.maxDim, Coeff: c.p, Workers: cfg.workers})
			})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if msg := diffDiagrams(got, want); msg != "" {
				t.Fatalf("%s maxdim=%d p=%d workers=%d: %s", c.name, c.maxDim, c.p, cfg.workers, msg)
			}
		}
	}
	// The comparison means little if ripser found nothing up there.
	if highest < 6 {
		t.Fatalf("no case has bars in dimension 6 or above (highest %d); pick other clouds", highest)
	}
}
