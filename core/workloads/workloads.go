// Package workloads generates the reproducible benchmark inputs of the
// persistent homology engines (W1, W2, W3, and the suite of standard
// datasets), so `ripsbench` and `nthost bench ph` time the same distance
// matrices. Geodesic distances come from the caller (Geodesic), so this
// package needs no plugin.
//
//   - W1: 500 points, k=15 k-NN graph geodesic distances, on (a) a noisy
//     torus pushed through tanh of a random linear map into R^64 and (b)
//     Gaussian noise in R^11. This is the size and metric of the seed
//     pipeline's activation clouds.
//   - W2: the same two clouds with Euclidean distances.
//   - W3: 1,000 points on a noisy torus in R^3, Euclidean distances.
//
// All workloads are meant for homology dimensions 0..2 (MaxDim below).
package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Input is one named distance matrix and the settings it is computed at.
type Input struct {
	Name      string
	Distances sdk.Matrix
	// MaxDim is the highest homology dimension to compute.
	MaxDim int
	// Threshold is the filtration threshold; 0 means none (the
	// enclosing radius).
	Threshold float64
	// Points, when Rows > 0, is the Euclidean point cloud Distances was
	// computed from, so a benchmark can hand an engine the points and
	// let it find the pairs within the threshold itself.
	Points sdk.Matrix
}

// MaxDim is the homology dimension every workload is computed to.
const MaxDim = 2

// Names lists the workloads in order.
var Names = []string{"W1", "W2", "W3"}

// K is the neighbour count of W1's geodesic metric (other points), with
// Euclidean edge weights.
const K = 15

// Geodesic returns the shortest-path distances of the k-nearest-neighbour
// graph of points with Euclidean edge weights (the geodesic distance
// plugin's metric).
type Geodesic func(points sdk.Matrix, k int) (sdk.Matrix, error)

// Generate returns the inputs of workload name ("W1", "W2", "W3",
// "suite" or "suite-quick") for a seed; the same seed gives the same
// matrices. geo computes the geodesic rows' distances.
func Generate(name string, seed int64, geo Geodesic) ([]Input, error) {
	switch name {
	case "suite", "suite-quick":
		return Suite(seed, name == "suite-quick", geo)
	}
	ins, err := generateW(name, seed, geo)
	for i := range ins {
		ins[i].MaxDim = MaxDim
	}
	return ins, err
}

func generateW(name string, seed int64, geo Geodesic) ([]Input, error) {
	switch name {
	case "W1", "W2":
		torus := TanhTorus(500, 64, seed)
		noise := Gaussian(500, 11, seed)
		if name == "W2" {
			return []Input{
				{Name: "W2a torus->tanh R^64 euclid", Distances: euclidean(torus)},
				{Name: "W2b gauss R^11 euclid", Distances: euclidean(noise)},
			}, nil
		}
		da, err := geo(torus, K)
		if err != nil {
			return nil, fmt.Errorf("workload W1a: %w", err)
		}
		db, err := geo(noise, K)
		if err != nil {
			return nil, fmt.Errorf("workload W1b: %w", err)
		}
		return []Input{
			{Name: "W1a torus->tanh R^64 geodesic k=15", Distances: da},
			{Name: "W1b gauss R^11 geodesic k=15", Distances: db},
		}, nil
	case "W3":
		return []Input{{Name: "W3 torus R^3 n=1000 euclid", Distances: euclidean(Torus(1000, seed))}}, nil
	}
	return nil, fmt.Errorf("unknown workload %q (want W1, W2, W3, suite or suite-quick)", name)
}

// Torus samples n points uniformly in angle on the torus with radii 2 and
// 1 in R^3, plus Gaussian noise of standard deviation 0.05.
func Torus(n int, seed int64) sdk.Matrix {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x70125))
	m := sdk.NewMatrix(n, 3)
	for i := range n {
		a, b := 2*math.Pi*rng.Float64(), 2*math.Pi*rng.Float64()
		r := 2 + math.Cos(b)
		m.Data[i*3] = r*math.Cos(a) + 0.05*rng.NormFloat64()
		m.Data[i*3+1] = r*math.Sin(a) + 0.05*rng.NormFloat64()
		m.Data[i*3+2] = math.Sin(b) + 0.05*rng.NormFloat64()
	}
	return m
}

// TanhTorus is Torus(n) mapped through x -> tanh(A x) with A a random
// dim x 3 Gaussian matrix scaled by 1/sqrt(3): a smooth, saturating
// embedding like a hidden layer's.
func TanhTorus(n, dim int, seed int64) sdk.Matrix {
	t := Torus(n, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0xa11ce))
	a := make([]float64, dim*3)
	for i := range a {
		a[i] = rng.NormFloat64() / math.Sqrt(3)
	}
	m := sdk.NewMatrix(n, dim)
	for i := range n {
		x := t.Row(i)
		for j := range dim {
			m.Data[i*dim+j] = math.Tanh(a[j*3]*x[0] + a[j*3+1]*x[1] + a[j*3+2]*x[2])
		}
	}
	return m
}

// Gaussian samples n standard normal points in R^dim.
func Gaussian(n, dim int, seed int64) sdk.Matrix {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9a55))
	m := sdk.NewMatrix(n, dim)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

// Euclidean returns the Euclidean distance matrix of points, one per row;
// a coordinate that is not a finite number is an error naming its row.
func Euclidean(p sdk.Matrix) (sdk.Matrix, error) {
	for i, x := range p.Data {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return sdk.Matrix{}, fmt.Errorf("point %d: coordinate %d is %v", i/max(p.Cols, 1), i%max(p.Cols, 1), x)
		}
	}
	return euclidean(p), nil
}

func euclidean(p sdk.Matrix) sdk.Matrix {
	n := p.Rows
	d := sdk.NewMatrix(n, n)
	for i := range n {
		for j := range i {
			var s float64
			a, b := p.Row(i), p.Row(j)
			for k := range a {
				x := a[k] - b[k]
				s += x * x
			}
			d.Data[i*n+j] = math.Sqrt(s)
			d.Data[j*n+i] = d.Data[i*n+j]
		}
	}
	return d
}
