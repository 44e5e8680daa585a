// Package naitzat generates the three synthetic data sets of Naitzat,
// Zhitnikov and Lim, "Topology of deep neural networks" (JMLR 21(184),
// 2020), and serves them as the "naitzat" data plugin.
//
// Each data set has two classes, "a" (label 0) and "b" (label 1), whose
// topology is known, so the Betti numbers of the input layer can be
// checked against the truth:
//
//   - D-I, in R^2: nine disks (a) on a 3 x 3 grid, each inside a hole of a
//     larger disk with nine holes (b), with a margin between a disk and
//     the rim of its hole. a = (9, 0), b = (1, 9).
//   - D-II, in R^3: nine pairs of linked solid tori, one torus of each
//     pair in each class. a = b = (9, 9, 0).
//   - D-III, in R^3: nine groups of three nested shapes: a sphere (a)
//     around a smaller sphere that encloses a ball (both b).
//     a = (9, 0, 9), b = (18, 0, 9).
//
// D-I's regions are covered by jittered square lattices (see lattice);
// D-II's and D-III's are sampled uniformly (by rejection from a bounding
// box, or uniformly on a sphere's surface); the two classes get half the points
// each, and a class's components get equal shares. The splits of one seed
// come from independent random streams, so a seed's homology set is not
// part of its training set. The sizes are the paper's (Sizes).
package naitzat

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Version is the plugin's own semantic version.
const Version = "0.1.0"

// Classes are the class names, indexed by label.
var Classes = []string{"a", "b"}

// Size is a data set's number of points per split.
type Size struct{ Train, Homology int }

// Sizes are the paper's sample sizes (training / homology).
var Sizes = map[string]Size{
	"D-I":   {7800, 2600},
	"D-II":  {45000, 11250},
	"D-III": {37800, 9450},
}

// Betti is the ground truth of a data set: per class, the Betti numbers
// in dimensions 0, 1, ... (up to the ambient dimension minus one).
var Betti = map[string][2][]int{
	"D-I":   {{9, 0}, {1, 9}},
	"D-II":  {{9, 9, 0}, {9, 9, 0}},
	"D-III": {{9, 0, 9}, {18, 0, 9}},
}

// IDs lists the data set ids in order.
func IDs() []string {
	ids := make([]string, 0, len(Sizes))
	for id := range Sizes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// The geometry. D-I: holes of radius holeR on a grid of spacing 1, disks
// of radius diskR inside them (margin holeR - diskR), all inside a disk of
// radius outerR. D-II: tori of major radius 1 and minor radius torusR; the
// partner torus is centred one major radius away in the perpendicular
// plane, so the two core circles are 1 apart and the tubes torusR*2 less.
// D-III: spheres of radii 1.5 and 1 around a ball of radius 0.2. Groups of
// D-II and D-III sit on a grid of spacing 4, far apart next to their size.
const (
	holeR   = 0.35
	diskR   = 0.2
	outerR  = 1.9
	torusR  = 0.3
	spacing = 4.0
	sphereA = 1.5
	sphereB = 1.0
	ballR   = 0.2
)

// grid3 returns the nine centres of a 3 x 3 grid of spacing s around 0.
func grid3(s float64) [][2]float64 {
	var c [][2]float64
	for i := -1; i <= 1; i++ {
		for j := -1; j <= 1; j++ {
			c = append(c, [2]float64{float64(i) * s, float64(j) * s})
		}
	}
	return c
}

// Generate returns n points of data set id for the split's random stream
// of seed: the first half class a, the rest class b.
func Generate(id string, seed int64, split string, n int) (sdk.DataSet, error) {
	sz, ok := Sizes[id]
	if !ok {
		return sdk.DataSet{}, fmt.Errorf("data set %q: want one of %s", id, strings.Join(IDs(), ", "))
	}
	var stream uint64
	switch split {
	case sdk.SplitTrain:
		stream = 1
		if n == 0 {
			n = sz.Train
		}
	case sdk.SplitHomology:
		stream = 2
		if n == 0 {
			n = sz.Homology
		}
	default:
		return sdk.DataSet{}, fmt.Errorf("split %q: want %s or %s", split, sdk.SplitTrain, sdk.SplitHomology)
	}
	if n < 18*2 || n > 10_000_000 {
		return sdk.DataSet{}, fmt.Errorf("samples %d: want 36 to 10,000,000 (each of the 18 or more components needs points)", n)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), stream))
	dim := 3
	if id == "D-I" {
		dim = 2
	}
	ds := sdk.DataSet{Points: sdk.NewMatrix(n, dim), Labels: make([]int, n), Classes: append([]string(nil), Classes...)}
	na := n / 2
	for i := 0; i < n; i++ {
		label := 0
		if i >= na {
			label = 1
		}
		ds.Labels[i] = label
		// The component of the class this point goes to: equal shares.
		k, of := i, na
		if label == 1 {
			k, of = i-na, n-na
		}
		p := ds.Points.Row(i)
		switch id {
		case "D-II":
			sampleDII(rng, label, k, of, p)
		case "D-III":
			sampleDIII(rng, label, k, of, p)
		}
	}
	if id == "D-I" {
		generateDI(rng, ds.Points, na)
	}
	return ds, nil
}

// part maps the k-th of n points to one of m parts, in equal shares.
func part(k, n, m int) int { return k * m / n }

// inHoleDI reports whether (x, y) lies in one of D-I's nine holes.
func inHoleDI(x, y float64) bool {
	for _, c := range grid3(1) {
		if dx, dy := x-c[0], y-c[1]; dx*dx+dy*dy < holeR*holeR {
			return true
		}
	}
	return false
}

// lattice fills rows of p (2 columns) with points of a jittered square
// lattice inside a region: the lattice, of random offset, is made just
// fine enough to put at least len(p)/2 points inside the region (the
// box [-b, b]^2 holds it), each point moves by up to 0.3 of a spacing,
// and a random subset of the right size is kept. Uniform random points
// leave gaps and clumps that a k = 14 graph turns into spurious
// 2-hop cycles; a jittered lattice covers the region evenly, as the
// paper's figures of D-I show.
func lattice(rng *rand.Rand, p sdk.Matrix, inside func(x, y float64) bool, b float64) {
	n := p.Rows
	h := 2 * b / math.Sqrt(float64(n))
	var pts [][2]float64
	for range 60 {
		pts = pts[:0]
		ox, oy := h*rng.Float64(), h*rng.Float64()
		for x := -b + ox; x <= b; x += h {
			for y := -b + oy; y <= b; y += h {
				if !inside(x, y) {
					continue
				}
				jx, jy := x, y
				for range 8 {
					tx, ty := x+0.6*h*(rng.Float64()-0.5), y+0.6*h*(rng.Float64()-0.5)
					if inside(tx, ty) {
						jx, jy = tx, ty
						break
					}
				}
				pts = append(pts, [2]float64{jx, jy})
			}
		}
		if len(pts) >= n {
			break
		}
		h *= 0.97 * math.Sqrt(float64(len(pts)+1)/float64(n))
	}
	rng.Shuffle(len(pts), func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
	for i := 0; i < n; i++ {
		q := pts[i%len(pts)]
		p.Data[2*i], p.Data[2*i+1] = q[0], q[1]
	}
}

// generateDI fills D-I's rows: class a's na rows (nine disks in equal
// shares) and then class b's.
func generateDI(rng *rand.Rand, p sdk.Matrix, na int) {
	for g, c := range grid3(1) {
		lo, hi := g*na/9, (g+1)*na/9
		sub := sdk.Matrix{Rows: hi - lo, Cols: 2, Data: p.Data[2*lo : 2*hi]}
		lattice(rng, sub, func(x, y float64) bool { return x*x+y*y <= diskR*diskR }, diskR)
		for i := range sub.Rows {
			sub.Data[2*i] += c[0]
			sub.Data[2*i+1] += c[1]
		}
	}
	sub := sdk.Matrix{Rows: p.Rows - na, Cols: 2, Data: p.Data[2*na:]}
	lattice(rng, sub, func(x, y float64) bool { return x*x+y*y <= outerR*outerR && !inHoleDI(x, y) }, outerR)
}

// solidTorus draws a point uniformly in the solid torus of major radius 1
// and minor radius torusR around the z axis, centred at 0.
func solidTorus(rng *rand.Rand) (x, y, z float64) {
	const b = 1 + torusR
	for {
		x, y, z = b*(2*rng.Float64()-1), b*(2*rng.Float64()-1), torusR*(2*rng.Float64()-1)
		if d := math.Hypot(x, y) - 1; d*d+z*z <= torusR*torusR {
			return x, y, z
		}
	}
}

func sampleDII(rng *rand.Rand, label, k, n int, p []float64) {
	c := grid3(spacing)[part(k, n, 9)]
	x, y, z := solidTorus(rng)
	if label == 0 {
		p[0], p[1], p[2] = c[0]+x, c[1]+y, z
		return
	}
	// The partner lies in the xz plane, centred at (1, 0, 0): its tube
	// passes through the hole of the first, which passes through its own.
	p[0], p[1], p[2] = c[0]+1+x, c[1]+z, y
}

// onSphere draws a point uniformly on the sphere of radius r.
func onSphere(rng *rand.Rand, r float64) (x, y, z float64) {
	z = 2*rng.Float64() - 1
	t := 2 * math.Pi * rng.Float64()
	s := math.Sqrt(1 - z*z)
	return r * s * math.Cos(t), r * s * math.Sin(t), r * z
}

// inBall draws a point uniformly in the ball of radius r.
func inBall(rng *rand.Rand, r float64) (x, y, z float64) {
	for {
		x, y, z = 2*rng.Float64()-1, 2*rng.Float64()-1, 2*rng.Float64()-1
		if x*x+y*y+z*z <= 1 {
			return r * x, r * y, r * z
		}
	}
}

func sampleDIII(rng *rand.Rand, label, k, n int, p []float64) {
	var x, y, z float64
	var c [2]float64
	if label == 0 {
		c = grid3(spacing)[part(k, n, 9)]
		x, y, z = onSphere(rng, sphereA)
	} else {
		// 18 components: the inner sphere of each group and its ball; the
		// sphere gets three quarters of the group's points, as it is larger.
		g := part(k, n, 9)
		c = grid3(spacing)[g]
		lo, hi := g*n/9, (g+1)*n/9
		if k-lo < 3*(hi-lo)/4 {
			x, y, z = onSphere(rng, sphereB)
		} else {
			x, y, z = inBall(rng, ballR)
		}
	}
	p[0], p[1], p[2] = c[0]+x, c[1]+y, z
}

// Plugin is the "naitzat" data plugin. It takes no parameters.
type Plugin struct{}

var _ sdk.Data = Plugin{}

// Describe reports the plugin's name, kind, versions and data sets.
func (Plugin) Describe(context.Context) (sdk.Info, error) {
	var sizes []string
	for _, id := range IDs() {
		sizes = append(sizes, fmt.Sprintf("%s=%d/%d", id, Sizes[id].Train, Sizes[id].Homology))
	}
	return sdk.Info{
		Name:        "naitzat",
		Kind:        sdk.KindData,
		Version:     Version,
		Protocol:    sdk.ProtocolVersion,
		Description: "D-I, D-II, D-III of Naitzat, Zhitnikov, Lim, Topology of deep neural networks",
		Capabilities: map[string]string{
			sdk.CapDatasets: strings.Join(IDs(), ","),
			"sizes":         strings.Join(sizes, ","),
			"classes":       strings.Join(Classes, ","),
		},
	}, nil
}

// Generate returns the requested split; it takes no parameters.
func (Plugin) Generate(ctx context.Context, req sdk.DataRequest) (sdk.DataSet, error) {
	if len(req.Params) > 0 {
		var names []string
		for k := range req.Params {
			names = append(names, k)
		}
		sort.Strings(names)
		return sdk.DataSet{}, fmt.Errorf("naitzat: unknown parameter(s) %s: it takes none", strings.Join(names, ", "))
	}
	ds, err := Generate(req.DatasetID, req.Seed, req.Split, req.Samples)
	if err != nil {
		return sdk.DataSet{}, fmt.Errorf("naitzat: %w", err)
	}
	return ds, nil
}
