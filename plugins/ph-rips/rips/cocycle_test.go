package rips

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// noisyCircles is k circles of radius 1 side by side in the plane, n
// points each, with Gaussian noise: k long H1 bars among short ones.
func noisyCircles(n, k int, noise float64, seed uint64) sdk.Matrix {
	r := rand.New(rand.NewPCG(seed, 7))
	m := sdk.NewMatrix(n*k, 3)
	for c := range k {
		for i := range n {
			a := r.Float64() * 2 * math.Pi
			row := m.Row(c*n + i)
			row[0] = 3*float64(c) + math.Cos(a) + noise*r.NormFloat64()
			row[1] = math.Sin(a) + noise*r.NormFloat64()
			row[2] = noise * r.NormFloat64()
		}
	}
	return m
}

// TestCocyclesPairsAndConditions: the cocycle path's H1 pairs are the
// engine's, and each bar's cocycle (1) is a cocycle of the complex at
// its birth and just before its death (zero on every triangle there)
// and (2) is nonzero on the cycle that creates the class: the birth
// edge closed by a path of older edges. Random clouds and noisy
// circles, several seeds, Z/2, Z/3 and Z/47.
func TestCocyclesPairsAndConditions(t *testing.T) {
	type cloud struct {
		name string
		pts  sdk.Matrix
	}
	var clouds []cloud
	for seed := range uint64(3) {
		clouds = append(clouds, cloud{"random", noisyCircles(60, 1, 1.5, seed+11)})
		clouds = append(clouds, cloud{"circles", noisyCircles(40, 2, 0.08, seed+21)})
	}
	for _, c := range clouds {
		d := MustEuclidean(c.pts)
		n := d.Rows
		for _, p := range []int{2, 3, 47} {
			ds, err := Compute(context.Background(), &d, Options{MaxDim: 1, Coeff: p, Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			h1, err := Cocycles1(context.Background(), d.Data, n, 0, p)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(ds[1].Pairs)
			got := slices.Clone(h1.Pairs)
			cmp := func(a, b [2]float64) int {
				if a[0] != b[0] {
					return cmpF(a[0], b[0])
				}
				return cmpF(a[1], b[1])
			}
			slices.SortFunc(want, cmp)
			slices.SortFunc(got, cmp)
			if !slices.Equal(got, want) {
				t.Fatalf("%s p=%d: cocycle path pairs\n%v\nengine\n%v", c.name, p, got, want)
			}
			if len(h1.Cocycles) != len(h1.Pairs) || len(got) == 0 {
				t.Fatalf("%s p=%d: %d cocycles for %d pairs", c.name, p, len(h1.Cocycles), len(h1.Pairs))
			}
			for k, bar := range h1.Pairs {
				cc := h1.Cocycles[k]
				for _, s := range []float32{float32(bar[0]), math.Nextafter32(float32(bar[1]), 0)} {
					if bad := coboundaryAt(d, cc, s, p); bad != "" {
						t.Fatalf("%s p=%d bar %v at scale %v: not a cocycle: %s", c.name, p, bar, s, bad)
					}
				}
				if v := onCreatingCycle(t, d, cc, bar[0], p); v == 0 {
					t.Fatalf("%s p=%d bar %v: cocycle is zero on the cycle that creates the class", c.name, p, bar)
				}
			}
		}
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// value is the cocycle's value on the oriented edge (i, j) restricted to
// edges of float32 length <= s.
func value(d sdk.Matrix, c sdk.Cocycle, s float32, i, j, p int) int {
	if float32(d.At(i, j)) > s {
		return 0
	}
	a, b, sign := i, j, 1
	if a > b {
		a, b, sign = j, i, -1
	}
	for k := range c.V {
		if int(c.I[k]) == a && int(c.J[k]) == b {
			return ((sign*int(c.V[k]))%p + p) % p
		}
	}
	return 0
}

// coboundaryAt checks that the cocycle, restricted to the complex at
// scale s, vanishes on every triangle there; it names one that does not.
func coboundaryAt(d sdk.Matrix, c sdk.Cocycle, s float32, p int) string {
	n := d.Rows
	for a := range n {
		for b := a + 1; b < n; b++ {
			if float32(d.At(a, b)) > s {
				continue
			}
			for e := b + 1; e < n; e++ {
				if float32(d.At(a, e)) > s || float32(d.At(b, e)) > s {
					continue
				}
				v := value(d, c, s, b, e, p) - value(d, c, s, a, e, p) + value(d, c, s, a, b, p)
				if ((v%p)+p)%p != 0 {
					return fmt.Sprintf("triangle (%d, %d, %d)", a, b, e)
				}
			}
		}
	}
	return ""
}

// onCreatingCycle evaluates the cocycle on the cycle born at the bar's
// birth: the one edge of that length, closed by a shortest path (in
// hops) through strictly shorter edges.
func onCreatingCycle(t *testing.T, d sdk.Matrix, c sdk.Cocycle, birth float64, p int) int {
	n := d.Rows
	b32 := float32(birth)
	u, v := -1, -1
	for i := range n {
		for j := i + 1; j < n; j++ {
			if float32(d.At(i, j)) == b32 {
				if u >= 0 {
					t.Fatalf("two edges of length %v: the creating cycle is ambiguous", birth)
				}
				u, v = i, j
			}
		}
	}
	if u < 0 {
		t.Fatalf("no edge of length %v", birth)
	}
	prev := make([]int, n)
	for i := range prev {
		prev[i] = -1
	}
	prev[v] = v
	queue := []int{v}
	for len(queue) > 0 && prev[u] < 0 {
		x := queue[0]
		queue = queue[1:]
		for y := range n {
			if prev[y] < 0 && float32(d.At(x, y)) < b32 {
				prev[y] = x
				queue = append(queue, y)
			}
		}
	}
	if prev[u] < 0 {
		t.Fatalf("birth edge (%d, %d) joins two components: not an H1 birth", u, v)
	}
	// The cycle u -> v, then back along the path v -> ... -> u.
	sum := value(d, c, b32, u, v, p)
	for x := u; x != v; x = prev[x] {
		sum += value(d, c, b32, prev[x], x, p)
	}
	return ((sum % p) + p) % p
}
