package diagdist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"testing"
)

var inf = math.Inf(1)

// brute returns the bottleneck and the sum of costs^p over every matching
// of the augmented diagrams, trying all permutations: independent of the
// package's algorithms, for tiny finite diagrams.
func brute(a, b [][2]float64, p float64) (bottleneck, wsum float64) {
	n, m := len(a), len(b)
	N := n + m
	cost := func(i, j int) float64 {
		switch {
		case i < n && j < m:
			return linfRef(a[i], b[j])
		case i < n:
			if j-m == i {
				return math.Abs(a[i][1]-a[i][0]) / 2
			}
			return inf // a point goes to its own projection only
		case j < m:
			if i-n == j {
				return math.Abs(b[j][1]-b[j][0]) / 2
			}
			return inf
		}
		return 0
	}
	perm := make([]int, N)
	for i := range perm {
		perm[i] = i
	}
	bottleneck, wsum = inf, inf
	var rec func(k int)
	rec = func(k int) {
		if k == N {
			var worst, s float64
			for i, j := range perm {
				c := cost(i, j)
				worst = max(worst, c)
				s += math.Pow(c, p)
			}
			bottleneck, wsum = min(bottleneck, worst), min(wsum, s)
			return
		}
		for t := k; t < N; t++ {
			perm[k], perm[t] = perm[t], perm[k]
			rec(k + 1)
			perm[k], perm[t] = perm[t], perm[k]
		}
	}
	rec(0)
	return bottleneck, wsum
}

func linfRef(x, y [2]float64) float64 {
	return math.Max(math.Abs(x[0]-y[0]), math.Abs(x[1]-y[1]))
}

func randomDiagram(r *rand.Rand, n int, grid bool) [][2]float64 {
	d := make([][2]float64, n)
	for i := range d {
		b := r.Float64()
		l := r.ExpFloat64() * 0.3
		if grid {
			// Coarse values make many equal candidate costs and ties.
			b, l = float64(r.IntN(5))/4, float64(r.IntN(4))/4
		}
		d[i] = [2]float64{b, b + l}
	}
	return d
}

func near(a, b float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-9*max(1, math.Abs(b))
}

func TestAgainstPermutations(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 300; trial++ {
		a := randomDiagram(r, r.IntN(4), trial%2 == 0)
		b := randomDiagram(r, r.IntN(4), trial%2 == 0)
		wantB, w1 := brute(a, b, 1)
		_, w2 := brute(a, b, 2)
		if got := Bottleneck(a, b); got != wantB {
			t.Fatalf("Bottleneck(%v, %v) = %v, permutations %v", a, b, got, wantB)
		}
		if got := Wasserstein(a, b, 1); !near(got, w1) {
			t.Fatalf("W1(%v, %v) = %v, permutations %v", a, b, got, w1)
		}
		if got := Wasserstein(a, b, 2); !near(got, math.Sqrt(w2)) {
			t.Fatalf("W2(%v, %v) = %v, permutations %v", a, b, got, math.Sqrt(w2))
		}
	}
}

func TestKnownValues(t *testing.T) {
	for _, c := range []struct {
		name       string
		a, b       [][2]float64
		bn, w1, w2 float64
	}{
		{"empty", nil, nil, 0, 0, 0},
		{"one to diagonal", [][2]float64{{0, 1}}, nil, 0.5, 0.5, 0.5},
		{"shifted death", [][2]float64{{0, 1}}, [][2]float64{{0, 2}}, 1, 1, 1},
		// Matching (0,4) to (1,3) costs 1; (2,2) is on the diagonal.
		{"diagonal point dropped", [][2]float64{{2, 2}, {0, 4}}, [][2]float64{{1, 3}}, 1, 1, 1},
		// Two far apart points: both go to the diagonal rather than to
		// each other (cost 10 each way vs 0.5 + 0.5).
		{"far apart", [][2]float64{{0, 1}}, [][2]float64{{10, 11}}, 0.5, 1, math.Sqrt(0.5)},
		{"essential", [][2]float64{{0, inf}}, [][2]float64{{1, inf}}, 1, 1, 1},
		{"essential count differs", [][2]float64{{0, inf}}, nil, inf, inf, inf},
		{"essential vs finite", [][2]float64{{0, inf}}, [][2]float64{{0, 5}}, inf, inf, inf},
		{"minus infinity births", [][2]float64{{math.Inf(-1), 3}}, [][2]float64{{math.Inf(-1), 1}}, 2, 2, 2},
		{"both infinite on diagonal", [][2]float64{{inf, inf}, {0, 2}}, [][2]float64{{0, 2}}, 0, 0, 0},
		// Essential births {0, 2} vs {0, 5} match in order (cost 3); the
		// finite (0,1) goes to the diagonal (0.5).
		{"mixed", [][2]float64{{0, 1}, {2, inf}, {0, inf}}, [][2]float64{{0, inf}, {5, inf}}, 3, 3.5, math.Sqrt(9.25)},
	} {
		if got := Bottleneck(c.a, c.b); !near(got, c.bn) {
			t.Errorf("%s: bottleneck %v, want %v", c.name, got, c.bn)
		}
		if got := Wasserstein(c.a, c.b, 1); !near(got, c.w1) {
			t.Errorf("%s: W1 %v, want %v", c.name, got, c.w1)
		}
		if got := Wasserstein(c.a, c.b, 2); !near(got, c.w2) {
			t.Errorf("%s: W2 %v, want %v", c.name, got, c.w2)
		}
	}
	nan := [][2]float64{{0, math.NaN()}}
	if !math.IsNaN(Bottleneck(nan, nil)) || !math.IsNaN(Wasserstein(nil, nan, 1)) {
		t.Errorf("a NaN coordinate must give NaN")
	}
	if !math.IsNaN(Wasserstein(nil, nil, 0.5)) || !math.IsNaN(Wasserstein(nil, nil, math.NaN())) {
		t.Errorf("p < 1 or NaN must give NaN")
	}
	a, b := [][2]float64{{0, 1}, {0.2, 0.9}}, [][2]float64{{0.1, 0.7}}
	if Wasserstein(a, b, inf) != Bottleneck(a, b) {
		t.Errorf("p = +Inf must be the bottleneck distance")
	}
}

// TestMetricProperties checks what any metric must satisfy on larger
// random diagrams than the permutation test can reach.
func TestMetricProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for trial := 0; trial < 20; trial++ {
		x := randomDiagram(r, 5+r.IntN(30), trial%3 == 0)
		y := randomDiagram(r, 5+r.IntN(30), trial%3 == 0)
		z := randomDiagram(r, 5+r.IntN(30), trial%3 == 0)
		for _, f := range []struct {
			name string
			d    func(a, b [][2]float64) float64
		}{
			{"bottleneck", Bottleneck},
			{"W1", func(a, b [][2]float64) float64 { return Wasserstein(a, b, 1) }},
			{"W2", func(a, b [][2]float64) float64 { return Wasserstein(a, b, 2) }},
		} {
			if d := f.d(x, x); d != 0 {
				t.Errorf("%s(x, x) = %v", f.name, d)
			}
			xy, yx := f.d(x, y), f.d(y, x)
			if !near(xy, yx) {
				t.Errorf("%s not symmetric: %v vs %v", f.name, xy, yx)
			}
			if xz, yz := f.d(x, z), f.d(y, z); xz > xy+yz+1e-9 {
				t.Errorf("%s triangle: d(x,z)=%v > %v + %v", f.name, xz, xy, yz)
			}
		}
		// W_inf <= W_2 <= W_1 for matchings of the same diagrams.
		bn, w1, w2 := Bottleneck(x, y), Wasserstein(x, y, 1), Wasserstein(x, y, 2)
		if bn > w2+1e-12 || w2 > w1+1e-12 {
			t.Errorf("want bottleneck %v <= W2 %v <= W1 %v", bn, w2, w1)
		}
	}
}

// gudhiPython finds Debian's python3 with gudhi, POT and numpy; the
// cross-check fails rather than skips without them (Debian packages
// python3-gudhi and python3-pot).
func gudhiPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil {
			if exec.Command(path, "-c", "import gudhi, gudhi.wasserstein, ot").Run() == nil {
				return path
			}
		}
	}
	t.Fatal("python3 with gudhi and POT is required for the GUDHI cross-check (Debian packages python3-gudhi, python3-pot; `make deps` installs them)")
	return ""
}

const gudhiScript = `
import json, sys, warnings
import numpy as np
import gudhi
from gudhi.wasserstein import wasserstein_distance
warnings.simplefilter("ignore")
cases = json.load(sys.stdin)
out = []
for a, b in cases:
    a, b = a or [], b or []
    A = np.array([[float(x) for x in p] for p in a], dtype=float).reshape(-1, 2)
    B = np.array([[float(x) for x in p] for p in b], dtype=float).reshape(-1, 2)
    r = [gudhi.bottleneck_distance(A, B, 0),
         wasserstein_distance(A, B, order=1.0, internal_p=np.inf),
         wasserstein_distance(A, B, order=2.0, internal_p=np.inf)]
    out.append([repr(float(v)) for v in r])
json.dump(out, sys.stdout)
`

func TestAgainstGUDHI(t *testing.T) {
	py := gudhiPython(t)
	r := rand.New(rand.NewPCG(3, 3))
	type dgm = [][2]float64
	var cases [][2]dgm
	for trial := 0; trial < 60; trial++ {
		a := randomDiagram(r, r.IntN(40), trial%4 == 0)
		b := randomDiagram(r, r.IntN(40), trial%4 == 0)
		if trial%5 == 1 { // matching essential parts
			for k := r.IntN(3); k >= 0; k-- {
				a = append(a, [2]float64{r.Float64(), inf})
				b = append(b, [2]float64{r.Float64(), inf})
			}
		}
		cases = append(cases, [2]dgm{a, b})
	}
	cases = append(cases,
		[2]dgm{{{0, inf}, {0, 1}}, {{0, 1}}},                               // essential counts differ
		[2]dgm{{{0, 1}, {1, 1}, {0.5, 0.5}}, nil},                          // diagonal points
		[2]dgm{nil, nil},                                                   // both empty
		[2]dgm{randomDiagram(r, 150, false), randomDiagram(r, 120, false)}, // larger
	)
	// Numbers cross as text so that infinities survive JSON exactly.
	text := make([][2][][2]string, len(cases))
	for i, c := range cases {
		for s := 0; s < 2; s++ {
			for _, p := range c[s] {
				text[i][s] = append(text[i][s], [2]string{strconv.FormatFloat(p[0], 'g', -1, 64), strconv.FormatFloat(p[1], 'g', -1, 64)})
			}
		}
	}
	in, _ := json.Marshal(text)
	cmd := exec.Command(py, "-c", gudhiScript)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("gudhi script: %v\n%s", err, stderr.String())
	}
	var out [][3]string
	if err := json.Unmarshal(outb, &out); err != nil || len(out) != len(cases) {
		t.Fatalf("gudhi output: %v (%d results for %d cases)", err, len(out), len(cases))
	}
	for i, c := range cases {
		var want [3]float64
		for k, s := range out[i] {
			if want[k], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("gudhi value %q: %v", s, err)
			}
		}
		got := [3]float64{Bottleneck(c[0], c[1]), Wasserstein(c[0], c[1], 1), Wasserstein(c[0], c[1], 2)}
		for k, name := range []string{"bottleneck", "W1", "W2"} {
			if !near(got[k], want[k]) {
				t.Errorf("case %d (%d vs %d points): %s %v, GUDHI %v", i, len(c[0]), len(c[1]), name, got[k], want[k])
			}
		}
	}
}

func TestHungarianAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 200; trial++ {
		N := 1 + r.IntN(30)
		c := make([]float64, N*N)
		for i := range c {
			c[i] = r.Float64() * 10
			if trial%3 == 0 {
				c[i] = float64(r.IntN(4)) // ties
			}
		}
		got, want := hungarian(c, N), hungarianRef(c, N)
		if !near(got, want) {
			t.Fatalf("trial %d (N=%d): %v, reference %v", trial, N, got, want)
		}
	}
}

// BenchmarkDistances times both distances on diagrams the size a 500-point
// snapshot gives in H0 and H1.
func BenchmarkDistances(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{100, 500} {
		x, y := randomDiagram(r, n, false), randomDiagram(r, n, false)
		b.Run(fmt.Sprintf("bottleneck/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				Bottleneck(x, y)
			}
		})
		b.Run(fmt.Sprintf("wasserstein2/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				Wasserstein(x, y, 2)
			}
		})
		// The assignment step alone, ours against the textbook method on
		// the same augmented cost matrix.
		c, N := costMatrix(x, y, 2)
		b.Run(fmt.Sprintf("assign/N=%d/ours", N), func(b *testing.B) {
			for b.Loop() {
				hungarian(c, N)
			}
		})
		b.Run(fmt.Sprintf("assign/N=%d/textbook", N), func(b *testing.B) {
			for b.Loop() {
				hungarianRef(c, N)
			}
		})
	}
}

// hungarianRef is the textbook O(N^3) Hungarian method (potentials on
// rows and columns, one full pass over the columns per step), kept as the
// reference for hungarian. It returns the minimum total cost of a perfect assignment of the
// rows to the columns of the N x N cost matrix c, by the O(N^3) shortest
// augmenting path method with row and column potentials: rows are added
// one at a time, and each addition runs a Dijkstra over the columns with
// reduced costs (non-negative by the potentials) to the nearest free
// column.
func hungarianRef(c []float64, N int) float64 {
	inf := math.Inf(1)
	u := make([]float64, N+1) // row potentials, 1-based; row 0 unused
	v := make([]float64, N+1) // column potentials; column 0 is a virtual start
	owner := make([]int, N+1) // owner[j]: row assigned to column j (1-based), 0 if free
	prev := make([]int, N+1)  // column before j on the shortest path
	dist := make([]float64, N+1)
	done := make([]bool, N+1)
	for i := 1; i <= N; i++ {
		owner[0] = i
		j0 := 0
		for j := range dist {
			dist[j], done[j] = inf, false
		}
		for {
			done[j0] = true
			i0 := owner[j0]
			delta, j1 := inf, 0
			row := c[(i0-1)*N:]
			for j := 1; j <= N; j++ {
				if done[j] {
					continue
				}
				if r := row[j-1] - u[i0] - v[j]; r < dist[j] {
					dist[j], prev[j] = r, j0
				}
				if dist[j] < delta {
					delta, j1 = dist[j], j
				}
			}
			// Shift potentials so the visited tree stays tight and the
			// remaining reduced costs drop by delta.
			for j := 0; j <= N; j++ {
				if done[j] {
					u[owner[j]] += delta
					v[j] -= delta
				} else {
					dist[j] -= delta
				}
			}
			j0 = j1
			if owner[j0] == 0 {
				break
			}
		}
		// Augment along the path back to the virtual column.
		for j0 != 0 {
			j1 := prev[j0]
			owner[j0] = owner[j1]
			j0 = j1
		}
	}
	// Sum the costs of the assignment itself rather than trusting the
	// potentials, which carry rounding from every update.
	var total float64
	for j := 1; j <= N; j++ {
		total += c[(owner[j]-1)*N+j-1]
	}
	return total
}
