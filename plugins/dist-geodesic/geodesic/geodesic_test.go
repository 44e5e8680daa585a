package geodesic

import (
	"container/heap"
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// euclidRef is the textbook Euclidean distance matrix.
func euclidRef(p sdk.Matrix) sdk.Matrix {
	n := p.Rows
	e := sdk.NewMatrix(n, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for c := 0; c < p.Cols; c++ {
				t := p.At(i, c) - p.At(j, c)
				s += t * t
			}
			e.Data[i*n+j] = math.Sqrt(s)
		}
	}
	return e
}

// floyd is an independent reference: the k-NN graph from a full sort of
// each row, an adjacency matrix, Floyd-Warshall, and the 2 x max rule.
func floyd(p sdk.Matrix, k int, unit bool) (sdk.Matrix, int) {
	n := p.Rows
	e := euclidRef(p).Data
	d := sdk.NewMatrix(n, n)
	for i := range d.Data {
		d.Data[i] = math.Inf(1)
	}
	for i := 0; i < n; i++ {
		idx := make([]int, 0, n-1)
		for j := 0; j < n; j++ {
			if j != i {
				idx = append(idx, j)
			}
		}
		sort.SliceStable(idx, func(a, b int) bool { return e[i*n+idx[a]] < e[i*n+idx[b]] })
		for _, j := range idx[:k] {
			w := e[i*n+j]
			if unit {
				w = 1
			}
			d.Data[i*n+j], d.Data[j*n+i] = w, w
		}
		d.Data[i*n+i] = 0
	}
	for m := 0; m < n; m++ {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if v := d.Data[i*n+m] + d.Data[m*n+j]; v < d.Data[i*n+j] {
					d.Data[i*n+j] = v
				}
			}
		}
	}
	// Components by union over finite entries.
	comp := make([]int, n)
	for i := range comp {
		comp[i] = -1
	}
	c := 0
	for i := 0; i < n; i++ {
		if comp[i] >= 0 {
			continue
		}
		for j := 0; j < n; j++ {
			if !math.IsInf(d.Data[i*n+j], 1) {
				comp[j] = c
			}
		}
		c++
	}
	big := 0.0
	for _, v := range d.Data {
		if !math.IsInf(v, 1) {
			big = max(big, v)
		}
	}
	for i, v := range d.Data {
		if math.IsInf(v, 1) {
			d.Data[i] = 2 * big
		}
	}
	return d, c
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }

func TestMatchesFloydWarshall(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 40; trial++ {
		n := 2 + r.IntN(40)
		dim := 1 + r.IntN(4)
		k := 1 + r.IntN(min(n-1, 6))
		unit := trial%3 == 0
		p := sdk.NewMatrix(n, dim)
		for i := range p.Data {
			p.Data[i] = r.NormFloat64()
		}
		// Some trials get two far apart clusters to exercise the 2 x max
		// rule against the reference.
		if trial%4 == 1 {
			for i := 0; i < n/2; i++ {
				p.Data[i*dim] += 1000
			}
		}
		opt := Options{}
		if unit {
			opt.Weights = WeightUnit
		}
		got, comps, err := Distances(p, k, opt)
		if err != nil {
			t.Fatalf("trial %d (n=%d k=%d): %v", trial, n, k, err)
		}
		want, wantComps := floyd(p, k, unit)
		if comps != wantComps {
			t.Errorf("trial %d (n=%d k=%d): %d components, reference %d", trial, n, k, comps, wantComps)
		}
		for i := range want.Data {
			if !near(got.Data[i], want.Data[i]) {
				t.Fatalf("trial %d (n=%d d=%d k=%d unit=%v): d[%d][%d] = %v, Floyd-Warshall %v", trial, n, dim, k, unit, i/n, i%n, got.Data[i], want.Data[i])
			}
		}
		plugintest.CheckDistanceMatrix(t, got, n)
	}
}

// On points along a line every point's nearest other points are its
// neighbours on the line, so with k = 1 the graph is a path (ties go to the
// lower index) and distances are |i - j| with either weighting.
func TestLinePath(t *testing.T) {
	const n = 12
	p := sdk.NewMatrix(n, 1)
	for i := range p.Data {
		p.Data[i] = float64(i)
	}
	for _, w := range []Weights{WeightEuclid, WeightUnit} {
		d, c, err := Distances(p, 1, Options{Weights: w})
		if err != nil || c != 1 {
			t.Fatalf("%v: components %d, %v", w, c, err)
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if want := math.Abs(float64(i - j)); d.At(i, j) != want {
					t.Fatalf("%v: d(%d,%d) = %v, want %v", w, i, j, d.At(i, j), want)
				}
			}
		}
	}
	// Spacing 1, 2, 4, ...: with unit weights hops still count 1 each.
	for i := range p.Data {
		p.Data[i] = math.Exp2(float64(i))
	}
	d, _, err := Distances(p, 1, Options{Weights: WeightUnit})
	if err != nil {
		t.Fatal(err)
	}
	if d.At(0, n-1) != n-1 {
		t.Errorf("hop distance end to end = %v, want %d", d.At(0, n-1), n-1)
	}
}

// With k = n-1 the graph is complete and, by the triangle inequality, the
// geodesic distance is the Euclidean one.
func TestCompleteGraphIsEuclidean(t *testing.T) {
	p := plugintest.RandomCloud(60, 5, 9)
	d, c, err := Distances(p, 59, Options{})
	if err != nil || c != 1 {
		t.Fatalf("components %d, %v", c, err)
	}
	e, _ := floyd(p, 59, false)
	for i := range d.Data {
		if !near(d.Data[i], e.Data[i]) {
			t.Fatalf("d[%d][%d] = %v, Euclidean %v", i/60, i%60, d.Data[i], e.Data[i])
		}
	}
}

// On a densely sampled unit circle the geodesic distance approaches arc
// length. Every path of chords is no longer than the arc it follows, and
// a chord spanning angle a is at least sin(a/2)/(a/2) of its arc, so with
// amax the widest angle any edge spans:
//
//	arc * sin(amax/2)/(amax/2) <= geodesic <= arc.
//
// For 1,000 random points and k = 15 that lower factor is about 0.999, so
// the stated tolerance is 0.1% of the arc.
func TestCircleArcLength(t *testing.T) {
	const n, k = 1000, 15
	r := rand.New(rand.NewPCG(3, 4))
	ang := make([]float64, n)
	p := sdk.NewMatrix(n, 2)
	for i := range ang {
		ang[i] = 2 * math.Pi * r.Float64()
		p.Data[2*i], p.Data[2*i+1] = math.Cos(ang[i]), math.Sin(ang[i])
	}
	d, c, err := Distances(p, k, Options{})
	if err != nil || c != 1 {
		t.Fatalf("components %d, %v", c, err)
	}
	arc := func(i, j int) float64 {
		a := math.Abs(ang[i] - ang[j])
		return min(a, 2*math.Pi-a)
	}
	// The widest edge: each point's k-th nearest other point.
	amax := 0.0
	for i := 0; i < n; i++ {
		a := make([]float64, 0, n-1)
		for j := 0; j < n; j++ {
			if j != i {
				a = append(a, arc(i, j))
			}
		}
		sort.Float64s(a)
		amax = max(amax, a[k-1])
	}
	lower := math.Sin(amax/2) / (amax / 2)
	if lower < 0.999 {
		t.Fatalf("sample too sparse for the stated 0.1%% tolerance: factor %v", lower)
	}
	worst := 0.0
	for i := 0; i < n; i += 7 {
		for j := 0; j < n; j++ {
			g, a := d.At(i, j), arc(i, j)
			if g > a*(1+1e-12)+1e-12 || g < a*lower-1e-12 {
				t.Fatalf("d(%d,%d) = %v, arc %v: outside [%v, arc]", i, j, g, a, a*lower)
			}
			if a > 0 {
				worst = max(worst, 1-g/a)
			}
		}
	}
	t.Logf("largest relative shortfall from arc length %.2e (bound %.2e)", worst, 1-lower)
}

func TestDisconnectedClusters(t *testing.T) {
	// Three clusters of 20 points, 1000 apart; with k = 5 no edge can leave
	// a cluster because 5 other points of the same cluster are nearer.
	const per = 20
	centres := [][2]float64{{0, 0}, {1000, 0}, {0, 1000}}
	r := rand.New(rand.NewPCG(5, 6))
	p := sdk.NewMatrix(3*per, 2)
	for c, ctr := range centres {
		for i := 0; i < per; i++ {
			row := p.Row(c*per + i)
			row[0], row[1] = ctr[0]+r.Float64(), ctr[1]+r.Float64()
		}
	}
	d, comps, err := Distances(p, 5, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if comps != 3 {
		t.Fatalf("%d components, want 3", comps)
	}
	big := 0.0
	for i := 0; i < 3*per; i++ {
		for j := 0; j < 3*per; j++ {
			if i/per == j/per {
				big = max(big, d.At(i, j))
			}
		}
	}
	if big <= 0 || big > 3 {
		t.Fatalf("largest within-cluster distance %v: want in (0, 3] for unit squares", big)
	}
	for i := 0; i < 3*per; i++ {
		for j := 0; j < 3*per; j++ {
			if i/per != j/per && d.At(i, j) != 2*big {
				t.Fatalf("d(%d,%d) across clusters = %v, want 2 x %v", i, j, d.At(i, j), big)
			}
		}
	}
	plugintest.CheckDistanceMatrix(t, d, 3*per)
}

func TestDuplicatePoints(t *testing.T) {
	// Two copies of every point of a small cloud: each copy is the other's
	// nearest point at distance 0, and distances to the copies agree.
	base := plugintest.RandomCloud(15, 3, 4)
	p := sdk.NewMatrix(30, 3)
	copy(p.Data, base.Data)
	copy(p.Data[45:], base.Data)
	d, c, err := Distances(p, 4, Options{})
	if err != nil || c != 1 {
		t.Fatalf("components %d, %v", c, err)
	}
	for i := 0; i < 15; i++ {
		if d.At(i, i+15) != 0 {
			t.Errorf("copies %d and %d at distance %v, want 0", i, i+15, d.At(i, i+15))
		}
		for j := 0; j < 30; j++ {
			if d.At(i, j) != d.At(i+15, j) {
				t.Errorf("d(%d,%d) = %v but its copy's d(%d,%d) = %v", i, j, d.At(i, j), i+15, j, d.At(i+15, j))
			}
		}
	}
	plugintest.CheckDistanceMatrix(t, d, 30)

	// More than k copies of each of two points: each copy links only to
	// copies, so there are two components and (largest finite distance 0)
	// the rule puts them at 0 too - the documented degenerate case.
	q := sdk.Matrix{Rows: 8, Cols: 1, Data: []float64{0, 0, 0, 0, 5, 5, 5, 5}}
	d, c, err = Distances(q, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c != 2 {
		t.Errorf("%d components, want 2", c)
	}
	for i, v := range d.Data {
		if v != 0 {
			t.Fatalf("d[%d][%d] = %v, want 0", i/8, i%8, v)
		}
	}
}

func TestBadInput(t *testing.T) {
	nan := plugintest.RandomCloud(10, 2, 1)
	nan.Data[3] = math.NaN()
	inf := plugintest.RandomCloud(10, 2, 1)
	inf.Data[4] = math.Inf(1)
	ok := plugintest.RandomCloud(10, 2, 1)
	for _, c := range []struct {
		name string
		p    sdk.Matrix
		k    int
		opt  Options
		want string
	}{
		{"k = n", ok, 10, Options{}, "k = 10: want 1 <= k <= n-1 = 9"},
		{"k > n", ok, 50, Options{}, "k = 50"},
		{"k = 0", ok, 0, Options{}, "k = 0"},
		{"k < 0", ok, -3, Options{}, "k = -3"},
		{"one point", sdk.Matrix{Rows: 1, Cols: 2, Data: []float64{1, 2}}, 1, Options{}, "at least 2 points, got 1"},
		{"no points", sdk.Matrix{Cols: 2}, 1, Options{}, "empty"},
		{"nan", nan, 3, Options{}, "coordinate 1 of point 1 is NaN"},
		{"inf", inf, 3, Options{}, "coordinate 0 of point 2 is +Inf"},
		{"ragged", sdk.Matrix{Rows: 3, Cols: 2, Data: []float64{1, 2, 3, 4}}, 1, Options{}, "needs 6 values, got 4"},
		{"weights", ok, 3, Options{Weights: 7}, "unknown edge weights"},
	} {
		_, _, err := Distances(c.p, c.k, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	p := plugintest.RandomCloud(400, 8, 11)
	old := runtime.GOMAXPROCS(1)
	one, c1, err := Distances(p, 6, Options{})
	runtime.GOMAXPROCS(3)
	three, c3, err2 := Distances(p, 6, Options{})
	runtime.GOMAXPROCS(old)
	if err != nil || err2 != nil || c1 != c3 {
		t.Fatal(err, err2, c1, c3)
	}
	for i := range one.Data {
		if one.Data[i] != three.Data[i] {
			t.Fatalf("element %d: %v with 1 worker, %v with 3", i, one.Data[i], three.Data[i])
		}
	}
}

func TestPluginParams(t *testing.T) {
	ctx := context.Background()
	info, err := Plugin{}.Describe(ctx)
	if err != nil || info.Name != "geodesic" || info.Kind != sdk.KindDist || info.Protocol != sdk.ProtocolVersion {
		t.Fatalf("describe: %+v, %v", info, err)
	}
	p := plugintest.RandomCloud(40, 3, 2)
	def, err := Plugin{}.Compute(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := Distances(p, DefaultK, Options{})
	for i := range want.Data {
		if def.Distances.Data[i] != want.Data[i] {
			t.Fatalf("no params must mean k = %d, euclid weights", DefaultK)
		}
	}
	unit, err := Plugin{}.Compute(ctx, p, map[string]string{"k": " 3 ", "weights": "unit"})
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ = Distances(p, 3, Options{Weights: WeightUnit})
	for i := range want.Data {
		if unit.Distances.Data[i] != want.Data[i] {
			t.Fatalf("k=3 weights=unit not honoured at element %d", i)
		}
	}
	for _, c := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"k": "abc"}, `k = "abc"`},
		{map[string]string{"k": "0"}, "k = 0"},
		{map[string]string{"k": "40"}, "k = 40"},
		{map[string]string{"weights": "cosine"}, `weights "cosine": want euclid, unit or hops`},
		{map[string]string{"K": "5", "metric": "x"}, "unknown parameter(s) K, metric"},
	} {
		_, err := Plugin{}.Compute(ctx, p, c.params)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "geodesic: ") {
			t.Errorf("params %v: error %v, want one containing %q", c.params, err, c.want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (Plugin{}).Compute(cancelled, plugintest.RandomCloud(300, 3, 1), nil); err == nil {
		t.Errorf("a cancelled context must stop the computation with an error")
	}
}

func TestConformance(t *testing.T) {
	bin := plugintest.Build(t, "github.com/neuraltopology/neuraltopology/plugins/dist-geodesic", "nt-dist-geodesic")
	plugintest.Run(t, bin)
}

// lazyDijkstra is the usual textbook all-pairs: container/heap with
// duplicate entries instead of decrease-key, serial. It is the benchmark's
// reference.
func lazyDijkstra(g graph) []float64 {
	n := g.n
	out := make([]float64, n*n)
	for s := 0; s < n; s++ {
		dist := out[s*n : (s+1)*n]
		for i := range dist {
			dist[i] = math.Inf(1)
		}
		dist[s] = 0
		h := &pq{{0, int32(s)}}
		for h.Len() > 0 {
			c := heap.Pop(h).(cand)
			if c.d > dist[c.j] {
				continue
			}
			for e := g.start[c.j]; e < g.start[c.j+1]; e++ {
				v := g.adj[e]
				if nd := c.d + g.w[e]; nd < dist[v] {
					dist[v] = nd
					heap.Push(h, cand{nd, v})
				}
			}
		}
	}
	return out
}

type pq []cand

func (h pq) Len() int           { return len(h) }
func (h pq) Less(i, j int) bool { return h[i].d < h[j].d }
func (h pq) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pq) Push(x any)        { *h = append(*h, x.(cand)) }
func (h *pq) Pop() any {
	o := *h
	c := o[len(o)-1]
	*h = o[:len(o)-1]
	return c
}

// BenchmarkDistances measures the whole metric (k = 15, 64 coordinates,
// the size of a hidden layer) at the sizes a snapshot uses, and, side by
// side at n = 1,000, our shortest-path stage against the serial lazy
// container/heap Dijkstra on the same graph.
func BenchmarkDistances(b *testing.B) {
	for _, n := range []int{500, 1000, 2000} {
		p := plugintest.RandomCloud(n, 64, uint64(n))
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Distances(p, DefaultK, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	p := plugintest.RandomCloud(1000, 64, 1)
	e := euclidRef(p)
	g := buildGraph(e, DefaultK, WeightEuclid)
	b.Run("paths-n=1000/ours", func(b *testing.B) {
		out := make([]float64, 1000*1000)
		for b.Loop() {
			if err := allPairs(context.Background(), g, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("paths-n=1000/lazy-serial", func(b *testing.B) {
		for b.Loop() {
			lazyDijkstra(g)
		}
	})
}
