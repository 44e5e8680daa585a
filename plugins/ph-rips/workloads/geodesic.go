package workloads

import (
	"container/heap"
	"fmt"
	"math"
	"sort"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// geodesic is the seed pipeline's metric: shortest paths in the
// symmetrised k-NN graph (k counts other points) with Euclidean edge
// weights; pairs in different components get twice the largest finite
// distance. It is a stand-in until plugins/dist-geodesic/geodesic lands.
func geodesic(p sdk.Matrix, k int) (sdk.Matrix, error) {
	n := p.Rows
	if k < 1 || k >= n {
		return sdk.Matrix{}, fmt.Errorf("k=%d neighbours needs 1 <= k < %d points", k, n)
	}
	e := euclidean(p)
	adj := make([]map[int]float64, n)
	for i := range adj {
		adj[i] = map[int]float64{}
	}
	idx := make([]int, n)
	for i := range n {
		for j := range idx {
			idx[j] = j
		}
		row := e.Row(i)
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] < row[idx[b]] })
		taken := 0
		for _, j := range idx {
			if j == i {
				continue
			}
			adj[i][j] = row[j]
			adj[j][i] = row[j]
			taken++
			if taken == k {
				break
			}
		}
	}
	// Sorted adjacency lists: map order would make last-bit rounding of
	// tied paths vary between runs.
	type arc struct {
		to int
		w  float64
	}
	nbr := make([][]arc, n)
	for i, m := range adj {
		for j, w := range m {
			nbr[i] = append(nbr[i], arc{j, w})
		}
		sort.Slice(nbr[i], func(a, b int) bool { return nbr[i][a].to < nbr[i][b].to })
	}
	d := sdk.NewMatrix(n, n)
	maxFinite := 0.0
	for s := range n {
		dist := d.Row(s)
		for i := range dist {
			dist[i] = math.Inf(1)
		}
		dist[s] = 0
		q := &pq{{s, 0}}
		for q.Len() > 0 {
			it := heap.Pop(q).(item)
			if it.d > dist[it.v] {
				continue
			}
			for _, a := range nbr[it.v] {
				if nd := it.d + a.w; nd < dist[a.to] {
					dist[a.to] = nd
					heap.Push(q, item{a.to, nd})
				}
			}
		}
		for _, x := range dist {
			if !math.IsInf(x, 1) {
				maxFinite = max(maxFinite, x)
			}
		}
	}
	for i := range d.Data {
		if math.IsInf(d.Data[i], 1) {
			d.Data[i] = 2 * maxFinite
		}
	}
	// Dijkstra from each end can differ in the last bit; keep it exact.
	for i := range n {
		for j := range i {
			m := min(d.Data[i*n+j], d.Data[j*n+i])
			d.Data[i*n+j], d.Data[j*n+i] = m, m
		}
	}
	return d, nil
}

type item struct {
	v int
	d float64
}

type pq []item

func (q pq) Len() int           { return len(q) }
func (q pq) Less(i, j int) bool { return q[i].d < q[j].d }
func (q pq) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *pq) Push(x any)        { *q = append(*q, x.(item)) }
func (q *pq) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
