package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// The suite: equivalents of the datasets Vietoris-Rips engines are
// compared on in the Ripser paper (Bauer 2021) and giotto-ph's benchmarks,
// most from the PH-roadmap collection (Otter et al. 2017), generated here
// at their published settings, plus seed-like clouds with several seeds.
// sphere_3_192 and o3_1024 are Ripser's published example files (data/,
// with their checksums); the other rows are generated from the datasets'
// descriptions, and a row that is not the original says so in its name:
//   - o3_4096-resampled: 4,096 fresh Haar-random O(3) matrices, as the
//     published file holds, not the file itself.
//   - random16-resampled: 50 fresh Gaussian points in R^16, as the
//     paper's dataset is described.
//   - dragon-like: the Stanford dragon scan is not available; 2,000
//     points on a knotted tube (a trefoil) in R^3, a closed surface of the
//     same size and kind.
//   - clifford-torus: 50,000 points need a 20 GB dense matrix here (and
//     8.6 GB in ripser); 5,000 points with the threshold scaled by
//     sqrt(10) to keep the same mean number of neighbours.
//   - cyclo-octane-like: the conformation space of cyclo-octane is a
//     sphere and a Klein bottle glued along two curves (Martin et al.
//     2010); 6,040 points on a sphere and a Klein bottle that cut each
//     other, in R^24, thresholded at a mean of about 30 neighbours.
//   - fractal-like: ripser's fractal-r is a distance matrix of 512 nodes
//     of a self-similar network with random weights; here three nested
//     levels of 8 clusters, each level a random metric on 8 points
//     scaled by 1/3 per level.

// SuiteNames are the workload names of the suite: the full one and a
// quick one (the small rows) for checks in minutes.
var SuiteNames = []string{"suite", "suite-quick"}

// Suite returns the suite's inputs; quick keeps the rows that take ripser
// at most a few seconds. geo computes the seed-like rows' distances.
func Suite(seed int64, quick bool, geo Geodesic) ([]Input, error) {
	var out []Input
	add := func(name string, d sdk.Matrix, maxDim int, thr float64) {
		out = append(out, Input{Name: name, Distances: d, MaxDim: maxDim, Threshold: thr})
	}
	// Clouds keep their points, so the engines can be handed either.
	addCloud := func(name string, pts sdk.Matrix, maxDim int, thr float64) {
		out = append(out, Input{Name: name, Distances: euclidean(pts), MaxDim: maxDim, Threshold: thr, Points: pts})
	}
	sphere, err := Published("sphere_3_192")
	if err != nil {
		return nil, err
	}
	add("sphere_3_192", sphere.Matrix, 2, 0)
	o3, err := Published("o3_1024")
	if err != nil {
		return nil, err
	}
	addCloud("o3_1024 thr1.8", o3.Matrix, 2, 1.8)
	addCloud("o3_1024 thr1.8", o3.Matrix, 3, 1.8)
	if !quick {
		addCloud("o3_4096-resampled thr1.4", O3(4096, seed), 3, 1.4)
	}
	addCloud("random16-resampled (50 pts R^16)", Gaussian(50, 16, seed), 7, 0)
	add("fractal-like 512", Fractal(seed), 2, 0)
	addCloud("dragon-like 2000 R^3", KnotTube(2000, seed), 1, 0)
	if !quick {
		addCloud("clifford-torus 5000 (scaled) thr0.474", CliffordTorus(5000, seed), 2, 0.474) // 0.15*sqrt(10)
		cyc := SphereKlein(6040, seed)
		d := euclidean(cyc)
		out = append(out, Input{Name: "cyclo-octane-like 6040 R^24", Distances: d, MaxDim: 2, Threshold: neighbourRadius(d, 30), Points: cyc})
	}
	seeds := []int64{seed, seed + 1, seed + 2}
	if quick {
		seeds = seeds[:2]
	}
	for _, s := range seeds {
		g, err := geo(TanhTorus(500, 64, s), K)
		if err != nil {
			return nil, fmt.Errorf("workload seed-like %d: %w", s, err)
		}
		add(fmt.Sprintf("seed-like torus->tanh R^64 k=15 seed %d", s), g, 2, 0)
	}
	return out, nil
}

// Sphere samples n points uniformly on the unit k-sphere in R^(k+1):
// normalised Gaussians.
func Sphere(n, k int, seed int64) sdk.Matrix {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5e4e))
	m := sdk.NewMatrix(n, k+1)
	for i := range n {
		row := m.Row(i)
		var s float64
		for j := range row {
			row[j] = rng.NormFloat64()
			s += row[j] * row[j]
		}
		for j := range row {
			row[j] /= math.Sqrt(s)
		}
	}
	return m
}

// O3 samples n Haar-random orthogonal 3x3 matrices as points in R^9:
// Gram-Schmidt of a Gaussian matrix's columns (a QR decomposition with
// R's diagonal positive). Both components of O(3) appear.
func O3(n int, seed int64) sdk.Matrix {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x03))
	m := sdk.NewMatrix(n, 9)
	for i := range n {
		var q [3][3]float64 // q[c] is column c
		for c := range 3 {
			for r := range 3 {
				q[c][r] = rng.NormFloat64()
			}
			for p := range c {
				dot := q[c][0]*q[p][0] + q[c][1]*q[p][1] + q[c][2]*q[p][2]
				for r := range 3 {
					q[c][r] -= dot * q[p][r]
				}
			}
			norm := math.Sqrt(q[c][0]*q[c][0] + q[c][1]*q[c][1] + q[c][2]*q[c][2])
			for r := range 3 {
				q[c][r] /= norm
			}
		}
		row := m.Row(i)
		for r := range 3 {
			for c := range 3 {
				row[r*3+c] = q[c][r]
			}
		}
	}
	return m
}

// Fractal is a 512-point self-similar metric: a point is three digits
// in 0..7 (cluster, sub-cluster, leaf), and the distance is the sum over
// levels of 3^-level times a random metric on the 8 digits (weights
// uniform in [1,2], so the triangle inequality holds).
func Fractal(seed int64) sdk.Matrix {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xf4ac))
	const levels, k = 3, 8
	var w [levels][k][k]float64
	for l := range levels {
		for a := range k {
			for b := range a {
				x := (1 + rng.Float64()) * math.Pow(3, -float64(l))
				w[l][a][b], w[l][b][a] = x, x
			}
		}
	}
	n := 512
	d := sdk.NewMatrix(n, n)
	for i := range n {
		for j := range i {
			var s float64
			for l := range levels {
				shift := uint(3 * (levels - 1 - l))
				s += w[l][(i>>shift)&7][(j>>shift)&7]
			}
			d.Data[i*n+j], d.Data[j*n+i] = s, s
		}
	}
	return d
}

// KnotTube samples n points on a tube of radius 0.3 around a trefoil
// knot in R^3, with Gaussian noise of 0.01.
func KnotTube(n int, seed int64) sdk.Matrix {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xd4a9))
	curve := func(t float64) [3]float64 {
		return [3]float64{math.Sin(t) + 2*math.Sin(2*t), math.Cos(t) - 2*math.Cos(2*t), -math.Sin(3 * t)}
	}
	m := sdk.NewMatrix(n, 3)
	for i := range n {
		t, a := 2*math.Pi*rng.Float64(), 2*math.Pi*rng.Float64()
		p, q := curve(t), curve(t+1e-4)
		tan := unit([3]float64{q[0] - p[0], q[1] - p[1], q[2] - p[2]})
		// a normal frame: any vector not along the tangent, made normal
		u := unit(cross(tan, [3]float64{0.3, 0.5, 0.8}))
		v := cross(tan, u)
		row := m.Row(i)
		for k := range 3 {
			row[k] = p[k] + 0.3*(math.Cos(a)*u[k]+math.Sin(a)*v[k]) + 0.01*rng.NormFloat64()
		}
	}
	return m
}

func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func unit(a [3]float64) [3]float64 {
	s := math.Sqrt(a[0]*a[0] + a[1]*a[1] + a[2]*a[2])
	return [3]float64{a[0] / s, a[1] / s, a[2] / s}
}

// CliffordTorus samples n points (cos a, sin a, cos b, sin b)/sqrt 2 with
// a, b uniform.
func CliffordTorus(n int, seed int64) sdk.Matrix {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc11f))
	m := sdk.NewMatrix(n, 4)
	for i := range n {
		a, b := 2*math.Pi*rng.Float64(), 2*math.Pi*rng.Float64()
		copy(m.Row(i), []float64{math.Cos(a) / math.Sqrt2, math.Sin(a) / math.Sqrt2, math.Cos(b) / math.Sqrt2, math.Sin(b) / math.Sqrt2})
	}
	return m
}

// SphereKlein samples n points, half on a Klein bottle in R^4 (radii 2
// and 1) and half on the sphere of radius 2 in its first three
// coordinates, which cuts it, then maps R^4 into R^24 by a random
// orthonormal frame.
func SphereKlein(n int, seed int64) sdk.Matrix {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc8c8))
	var frame [4][24]float64
	for c := range 4 {
		for r := range 24 {
			frame[c][r] = rng.NormFloat64()
		}
		for p := range c {
			var dot float64
			for r := range 24 {
				dot += frame[c][r] * frame[p][r]
			}
			for r := range 24 {
				frame[c][r] -= dot * frame[p][r]
			}
		}
		var s float64
		for r := range 24 {
			s += frame[c][r] * frame[c][r]
		}
		for r := range 24 {
			frame[c][r] /= math.Sqrt(s)
		}
	}
	m := sdk.NewMatrix(n, 24)
	for i := range n {
		var x [4]float64
		if i%2 == 0 {
			u, v := 2*math.Pi*rng.Float64(), 2*math.Pi*rng.Float64()
			x = [4]float64{(2 + math.Cos(v)) * math.Cos(u), (2 + math.Cos(v)) * math.Sin(u), math.Sin(v) * math.Cos(u/2), math.Sin(v) * math.Sin(u/2)}
		} else {
			var g [3]float64
			for k := range g {
				g[k] = rng.NormFloat64()
			}
			g = unit(g)
			x = [4]float64{2 * g[0], 2 * g[1], 2 * g[2], 0}
		}
		row := m.Row(i)
		for c := range 4 {
			for r := range 24 {
				row[r] += x[c] * frame[c][r]
			}
		}
	}
	return m
}

// neighbourRadius is the median over points of the distance to their
// k-th nearest other point, rounded up to 3 significant digits: a
// threshold giving about k neighbours each.
func neighbourRadius(d sdk.Matrix, k int) float64 {
	n := d.Rows
	kth := make([]float64, n)
	row := make([]float64, n)
	for i := range n {
		copy(row, d.Row(i))
		slices.Sort(row)
		kth[i] = row[min(k, n-1)]
	}
	slices.Sort(kth)
	r := kth[n/2]
	s := math.Pow(10, math.Floor(math.Log10(r))-2)
	return math.Ceil(r/s) * s
}
