// Package geodesic computes graph geodesic distances of a point cloud, the
// seed pipeline's metric, and serves them as the "geodesic" distance
// plugin.
//
// The graph links each point to its k nearest other points (Euclidean,
// ties broken by the lower point index so the graph is deterministic), made
// symmetric: i and j are joined if either is among the other's k nearest.
// An edge is as long as the Euclidean distance between its ends, or 1 with
// unit weights (then distances count hops). The distance between two points
// is the length of a shortest path, found by Dijkstra's algorithm from
// every point. Pairs in different connected components get twice the
// largest finite distance, the seed's rule, so that the matrix stays finite
// and the components merge last in a Rips filtration.
//
// k counts OTHER points. The seed asked scikit-learn's kneighbors for 15
// neighbours of each training point, which returns the point itself first,
// so the seed's graph joins each point to its 14 nearest other points: to
// reproduce it exactly use k = 14. DefaultK (15) is the usual meaning of
// "15 nearest neighbours".
//
// Edge cases: k must be in 1..n-1 and there must be at least two points;
// NaN or infinite coordinates and a shape that does not match the data are
// errors. Duplicate points are allowed: they are joined by zero-length
// edges, so distinct points can be at distance 0 and the result is a
// pseudometric. A group of more than k identical points can form a
// component of its own. If every component is a single location (all its
// points identical), the largest finite distance is 0 and the rule gives
// 0 between components too. With weights "hops" (WeightHops) duplicates
// are removed before the graph is built instead, and each gets its first
// copy's distances; the plugin logs how many it removed.
package geodesic

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Version is the plugin's own semantic version.
const Version = "0.1.0"

// DefaultK is the number of nearest other points each point is joined to
// when the caller does not say. The seed's exact graph is k = 14.
const DefaultK = 15

// Weights selects the length of a graph edge.
type Weights int

const (
	// WeightEuclid makes an edge as long as the Euclidean distance between
	// its ends (the seed's choice, and the zero value).
	WeightEuclid Weights = iota
	// WeightUnit makes every edge length 1, so distances count hops.
	WeightUnit
	// WeightHops counts hops as WeightUnit does, over the distinct
	// points: duplicates are removed before the graph is built (so they do
	// not take up each other's k neighbours) and then get the row of their
	// first copy, at distance 0 from it. Naitzat, Zhitnikov and Lim's
	// metric (JMLR 2020).
	WeightHops
)

// String returns the parameter spelling of w: "euclid" or "unit".
func (w Weights) String() string {
	switch w {
	case WeightEuclid:
		return "euclid"

	case WeightUnit:
		return "unit"
	case WeightHops:
		return "hops"
	}
	return "Weights(" + strconv.Itoa(int(w)) + ")"
}

// ParseWeights reads the parameter spelling of a Weights value.
func ParseWeights(s string) (Weights, error) {
	switch s {
	case "euclid":
		return WeightEuclid, nil
	case "unit":
		return WeightUnit, nil
	case "hops":
		return WeightHops, nil
	}
	return 0, fmt.Errorf("weights %q: want euclid, unit or hops", s)
}

// Options tunes Distances beyond k. The zero value is the seed's metric.
type Options struct {
	Weights Weights
}

// Distances returns the n x n geodesic distance matrix of the rows of
// points over their symmetrised k-nearest-neighbour graph, and the number
// of connected components of that graph. The matrix is exactly symmetric
// with a zero diagonal and, thanks to the 2 x max rule, finite.
func Distances(points sdk.Matrix, k int, opt Options) (d sdk.Matrix, components int, err error) {
	d, components, _, err = distances(context.Background(), points, k, opt)
	return d, components, err
}

// Dedupe returns the distinct rows of points in order of first
// appearance, and for each row the index of its distinct copy. Rows are
// equal when every coordinate is (== on float64, so 0 and -0 are equal).
func Dedupe(points sdk.Matrix) (sdk.Matrix, []int) {
	type key string
	first := map[key]int{}
	of := make([]int, points.Rows)
	var keep []int
	buf := make([]byte, 0, 8*points.Cols)
	for i := 0; i < points.Rows; i++ {
		buf = buf[:0]
		for _, v := range points.Row(i) {
			if v == 0 {
				v = 0 // -0 and 0 are the same point
			}
			b := math.Float64bits(v)
			buf = append(buf, byte(b), byte(b>>8), byte(b>>16), byte(b>>24), byte(b>>32), byte(b>>40), byte(b>>48), byte(b>>56))
		}
		if j, ok := first[key(buf)]; ok {
			of[i] = of[j]
			continue
		}
		first[key(buf)] = i
		of[i] = len(keep)
		keep = append(keep, i)
	}
	u := sdk.NewMatrix(len(keep), points.Cols)
	for r, i := range keep {
		copy(u.Row(r), points.Row(i))
	}
	return u, of
}

// distances also returns the number of duplicate points removed (with
// WeightHops; 0 otherwise).
func distances(ctx context.Context, points sdk.Matrix, k int, opt Options) (sdk.Matrix, int, int, error) {
	if opt.Weights == WeightHops {
		if err := euclid.CheckPoints(points); err != nil {
			return sdk.Matrix{}, 0, 0, err
		}
		u, of := Dedupe(points)
		if u.Rows < 2 {
			return sdk.Matrix{}, 0, 0, fmt.Errorf("geodesic distances need at least 2 distinct points, got %d", u.Rows)
		}
		if k >= u.Rows {
			return sdk.Matrix{}, 0, 0, fmt.Errorf("k = %d: want 1 <= k <= %d, the distinct points less one (%d of the %d points are duplicates)", k, u.Rows-1, points.Rows-u.Rows, points.Rows)
		}
		du, c, err := hopDistances(ctx, u, k)
		if err != nil || u.Rows == points.Rows {
			return du, c, 0, err
		}
		n, m := points.Rows, u.Rows
		d := sdk.NewMatrix(n, n)
		for i := 0; i < n; i++ {
			row, src := d.Row(i), du.Row(of[i])
			for j := 0; j < n; j++ {
				row[j] = src[of[j]]
			}
		}
		return d, c, n - m, nil
	}
	d, c, err := graphDistances(ctx, points, k, opt.Weights)
	return d, c, 0, err
}

func hopDistances(ctx context.Context, points sdk.Matrix, k int) (sdk.Matrix, int, error) {
	return graphDistances(ctx, points, k, WeightUnit)
}

func graphDistances(ctx context.Context, points sdk.Matrix, k int, weights Weights) (sdk.Matrix, int, error) {
	opt := Options{Weights: weights}
	if err := euclid.CheckPoints(points); err != nil {
		return sdk.Matrix{}, 0, err
	}
	n := points.Rows
	if n < 2 {
		return sdk.Matrix{}, 0, fmt.Errorf("geodesic distances need at least 2 points, got %d", n)
	}
	if k < 1 || k >= n {
		return sdk.Matrix{}, 0, fmt.Errorf("k = %d: want 1 <= k <= n-1 = %d (k counts other points)", k, n-1)
	}
	if opt.Weights != WeightEuclid && opt.Weights != WeightUnit {
		return sdk.Matrix{}, 0, fmt.Errorf("unknown edge weights %v", opt.Weights)
	}
	e, err := euclid.Matrix(points)
	if err != nil {
		return sdk.Matrix{}, 0, err
	}
	g := buildGraph(e, k, opt.Weights)
	// The Euclidean matrix is no longer needed: its storage becomes the
	// result, halving the peak memory of large clouds.
	out := e
	if err := allPairs(ctx, g, out.Data); err != nil {
		return sdk.Matrix{}, 0, err
	}
	return out, finish(out), nil
}

// graph is a symmetric weighted graph in compressed sparse row form: the
// neighbours of v are adj[start[v]:start[v+1]] with lengths w[...].
type graph struct {
	n     int
	start []int32
	adj   []int32
	w     []float64
	// unit: every edge has length 1, so shortest paths are found
	// breadth-first (hop counts), without Dijkstra's heap.
	unit bool
}

// buildGraph joins each point to its k nearest others (by the Euclidean
// matrix e) and symmetrises.
func buildGraph(e sdk.Matrix, k int, weights Weights) graph {
	n := e.Rows
	knn := make([]int32, n*k)
	workers := euclid.Workers(n * n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			h := make(maxHeap, 0, k)
			for i := w; i < n; i += workers {
				nearest(&h, e.Row(i), i, k)
				for t, c := range h {
					knn[i*k+t] = c.j
				}
			}
		}(w)
	}
	wg.Wait()

	// Each directed kNN link becomes two half-edges; duplicates (i and j in
	// each other's lists) are removed after sorting each list, which also
	// fixes the edge order Dijkstra sees.
	deg := make([]int32, n+1)
	for i := 0; i < n; i++ {
		for _, j := range knn[i*k : (i+1)*k] {
			deg[i+1]++
			deg[j+1]++
		}
	}
	for v := 0; v < n; v++ {
		deg[v+1] += deg[v]
	}
	fill := append([]int32(nil), deg[:n]...)
	raw := make([]int32, deg[n])
	for i := 0; i < n; i++ {
		for _, j := range knn[i*k : (i+1)*k] {
			raw[fill[i]] = j
			fill[i]++
			raw[fill[j]] = int32(i)
			fill[j]++
		}
	}
	g := graph{n: n, start: make([]int32, n+1), unit: weights == WeightUnit}
	for v := 0; v < n; v++ {
		l := raw[deg[v]:deg[v+1]]
		sort.Slice(l, func(a, b int) bool { return l[a] < l[b] })
		for t, j := range l {
			if t > 0 && l[t-1] == j {
				continue
			}
			g.adj = append(g.adj, j)
			if weights == WeightUnit {
				g.w = append(g.w, 1)
			} else {
				g.w = append(g.w, e.At(v, int(j)))
			}
		}
		g.start[v+1] = int32(len(g.adj))
	}
	return g
}

type cand struct {
	d float64
	j int32
}

// less orders candidates by distance, then index: a strict total order, so
// the k nearest are well defined even among equidistant points.
func (a cand) less(b cand) bool { return a.d < b.d || (a.d == b.d && a.j < b.j) }

// maxHeap keeps the k best candidates seen so far with the worst on top.
type maxHeap []cand

// nearest leaves in *h the k nearest points to i (excluding i) given row,
// the distances from i to every point.
func nearest(h *maxHeap, row []float64, i, k int) {
	*h = (*h)[:0]
	for j, d := range row {
		if j == i {
			continue
		}
		c := cand{d, int32(j)}
		if len(*h) < k {
			h.push(c)
		} else if c.less((*h)[0]) {
			(*h)[0] = c
			h.down(0)
		}
	}
}

func (h *maxHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[p].less(s[i]) {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h maxHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		big := l
		if r := l + 1; r < len(h) && h[l].less(h[r]) {
			big = r
		}
		if !h[i].less(h[big]) {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}

// allPairs writes into out (n*n, row-major) the shortest-path lengths from
// every source, +Inf where unreachable. Sources are dealt round-robin to
// the workers; each row is written by one worker from the graph alone, so
// the result does not depend on scheduling.
func allPairs(ctx context.Context, g graph, out []float64) error {
	n := g.n
	workers := euclid.Workers(n * len(g.adj))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			q := newQueue(n)
			for s := w; s < n; s += workers {
				if ctx.Err() != nil {
					return
				}
				if g.unit {
					bfs(g, s, out[s*n:(s+1)*n], q.heap)
					continue
				}
				dijkstra(g, s, out[s*n:(s+1)*n], q)
			}
		}(w)
	}
	wg.Wait()
	return ctx.Err()
}

// bfs fills dist with the hop counts from s, using fifo (capacity n) as
// its queue: with edges of length 1 breadth-first order is shortest-path
// order, and the counts are whole numbers, so the result equals
// dijkstra's exactly at a fraction of its cost (no heap).
func bfs(g graph, s int, dist []float64, fifo []int32) {
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	dist[s] = 0
	fifo = append(fifo[:0], int32(s))
	for h := 0; h < len(fifo); h++ {
		u := fifo[h]
		next := dist[u] + 1
		for e := g.start[u]; e < g.start[u+1]; e++ {
			if v := g.adj[e]; math.IsInf(dist[v], 1) {
				dist[v] = next
				fifo = append(fifo, v)
			}
		}
	}
}

// dijkstra fills dist with the shortest-path lengths from s.
func dijkstra(g graph, s int, dist []float64, q *queue) {
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	dist[s] = 0
	q.reset()
	q.update(int32(s), 0)
	for q.len() > 0 {
		u, du := q.pop()
		for e := g.start[u]; e < g.start[u+1]; e++ {
			v := g.adj[e]
			if nd := du + g.w[e]; nd < dist[v] {
				dist[v] = nd
				q.update(v, nd)
			}
		}
	}
}

// queue is a binary min-heap of vertices keyed by tentative distance, with
// each vertex's heap position kept so a shorter path moves it up in place
// instead of adding a duplicate entry.
type queue struct {
	heap []int32
	key  []float64 // key[v] for v in the heap
	pos  []int32   // position of v in heap, -1 if absent
}

func newQueue(n int) *queue {
	q := &queue{heap: make([]int32, 0, n), key: make([]float64, n), pos: make([]int32, n)}
	for i := range q.pos {
		q.pos[i] = -1
	}
	return q
}

func (q *queue) len() int { return len(q.heap) }

// reset empties the queue; pop leaves every popped vertex at -1, so only
// what is still queued (nothing, after a full run) needs clearing.
func (q *queue) reset() {
	for _, v := range q.heap {
		q.pos[v] = -1
	}
	q.heap = q.heap[:0]
}

// update inserts v with key d, or lowers its key to d.
func (q *queue) update(v int32, d float64) {
	q.key[v] = d
	i := q.pos[v]
	if i < 0 {
		i = int32(len(q.heap))
		q.heap = append(q.heap, v)
	}
	q.up(int(i), v)
}

func (q *queue) up(i int, v int32) {
	d := q.key[v]
	for i > 0 {
		p := (i - 1) / 2
		pv := q.heap[p]
		if q.key[pv] <= d {
			break
		}
		q.heap[i] = pv
		q.pos[pv] = int32(i)
		i = p
	}
	q.heap[i] = v
	q.pos[v] = int32(i)
}

func (q *queue) pop() (int32, float64) {
	top := q.heap[0]
	q.pos[top] = -1
	last := q.heap[len(q.heap)-1]
	q.heap = q.heap[:len(q.heap)-1]
	if len(q.heap) > 0 {
		// Sift last down from the root.
		d := q.key[last]
		i := 0
		for {
			l := 2*i + 1
			if l >= len(q.heap) {
				break
			}
			c := l
			if r := l + 1; r < len(q.heap) && q.key[q.heap[r]] < q.key[q.heap[l]] {
				c = r
			}
			if q.key[q.heap[c]] >= d {
				break
			}
			q.heap[i] = q.heap[c]
			q.pos[q.heap[i]] = int32(i)
			i = c
		}
		q.heap[i] = last
		q.pos[last] = int32(i)
	}
	return top, q.key[top]
}

// finish makes d exactly symmetric, counts the components (vertices
// reachable from each other), and replaces +Inf by twice the largest
// finite distance. It returns the number of components.
func finish(d sdk.Matrix) int {
	n := d.Rows
	// Paths found from i and from j sum the same edges in opposite orders
	// and can differ in the last bit; the smaller is the better bound.
	for i := 0; i < n; i++ {
		d.Data[i*n+i] = 0
		for j := i + 1; j < n; j++ {
			a, b := d.Data[i*n+j], d.Data[j*n+i]
			m := min(a, b)
			d.Data[i*n+j], d.Data[j*n+i] = m, m
		}
	}
	components := 0
	seen := make([]bool, n)
	for i := 0; i < n; i++ {
		if seen[i] {
			continue
		}
		components++
		for j, v := range d.Row(i) {
			if !math.IsInf(v, 1) {
				seen[j] = true
			}
		}
	}
	if components == 1 {
		return 1
	}
	var big float64
	for _, v := range d.Data {
		if !math.IsInf(v, 1) && v > big {
			big = v
		}
	}
	for k, v := range d.Data {
		if math.IsInf(v, 1) {
			d.Data[k] = 2 * big
		}
	}
	return components
}

// Plugin is the "geodesic" distance plugin.
//
// Parameters: "k", the number of nearest other points each point is joined
// to (default 15; the seed's graph is 14), and "weights", "euclid" (default),
// "unit" or "hops" (see WeightHops; the number of duplicates removed is
// logged at level info). Any other parameter is an error.
type Plugin struct{}

var _ sdk.Distance = Plugin{}

// Describe reports the plugin's name, kind, versions and parameters.
func (Plugin) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:        "geodesic",
		Kind:        sdk.KindDist,
		Version:     Version,
		Protocol:    sdk.ProtocolVersion,
		Description: "geodesic distances over the symmetrised k-nearest-neighbour graph",
		Capabilities: map[string]string{
			sdk.CapMetric: "true", // shortest paths; 2*max between components keeps it
			"seed_k":      "14",
			"disjoint":    "2*max",
			"symmetric":   "union",
		},
		Params: []sdk.ParamSpec{
			{Name: "k", Type: sdk.ParamInt, Default: strconv.Itoa(DefaultK), Doc: "nearest other points each point is joined to (--k is its short form)", Min: "1"},
			{Name: "weights", Type: sdk.ParamString, Default: "euclid", Doc: "edge lengths: euclid; unit for hop counts; hops for hop counts over the distinct points (duplicates at 0 from their first copy)", Choices: []string{"euclid", "unit", "hops"}},
		},
	}, nil
}

// Compute returns the geodesic distance matrix of points and the number of
// components of the graph.
func (Plugin) Compute(ctx context.Context, points sdk.Matrix, params map[string]string) (sdk.DistanceResult, error) {
	k, opt, err := parseParams(params)
	if err != nil {
		return sdk.DistanceResult{}, fmt.Errorf("geodesic: %w", err)
	}
	// The result and its gRPC message: checked before allocating either.
	if err := sdk.CheckSquare("geodesic", points.Rows, 2); err != nil {
		return sdk.DistanceResult{}, err
	}
	d, c, dups, err := distances(ctx, points, k, opt)
	if err != nil {
		return sdk.DistanceResult{}, fmt.Errorf("geodesic: %w", err)
	}
	if dups > 0 {
		// The result keeps one row per input point; the count goes to the
		// log, where the host shows it under the plugin's name.
		sdk.Logger().Info("duplicate points removed before the k-NN graph", "duplicates", dups, "points", points.Rows)
	}
	return sdk.DistanceResult{Distances: d, Components: c}, nil
}

func parseParams(params map[string]string) (int, Options, error) {
	k, opt := DefaultK, Options{}
	keys := make([]string, 0, len(params))
	for key := range params {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	var unknown []string
	for _, key := range keys {
		v := params[key]
		switch key {
		case "k":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, opt, fmt.Errorf("parameter k = %q: want a whole number", v)
			}
			if n < 1 {
				return 0, opt, fmt.Errorf("parameter k = %d: want k >= 1", n)
			}
			k = n
		case "weights":
			w, err := ParseWeights(strings.TrimSpace(v))
			if err != nil {
				return 0, opt, fmt.Errorf("parameter %v", err)
			}
			opt.Weights = w
		default:
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		return 0, opt, fmt.Errorf("unknown parameter(s) %s: want k, weights", strings.Join(unknown, ", "))
	}
	return k, opt, nil
}
