package circular

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestCoordinatesOfACircle: landmarks evenly on a circle with the
// cocycle that counts crossings of angle 0 (value -1 in Z/47 on each
// edge whose short arc crosses it); the circular coordinates of noisy
// points on the circle must be their true angles up to rotation and
// reflection, for several seeds.
func TestCoordinatesOfACircle(t *testing.T) {
	const L, n, p = 40, 500, 47
	for seed := range uint64(3) {
		r := rand.New(rand.NewPCG(seed, 9))
		pts := sdk.NewMatrix(L+n, 3)
		truth := make([]float64, L+n)
		for i := range L + n {
			a := 2 * math.Pi * float64(i) / L
			if i >= L {
				a = 2 * math.Pi * r.Float64()
			}
			truth[i] = a
			row := pts.Row(i)
			row[0], row[1], row[2] = math.Cos(a)+0.03*r.NormFloat64(), math.Sin(a)+0.03*r.NormFloat64(), 0.03*r.NormFloat64()
		}
		lm := make([]int, L)
		var cc sdk.Cocycle
		for i := range L {
			lm[i] = i
			for j := i + 1; j < L; j++ {
				if j-i > L/2 {
					cc.I, cc.J, cc.V = append(cc.I, int32(i)), append(cc.J, int32(j)), append(cc.V, p-1)
				}
			}
		}
		h1 := sdk.Diagram{Dim: 1, Pairs: [][2]float64{{0.16, 1.7}}, Cocycles: []sdk.Cocycle{cc}}
		res, err := Coordinates(pts, lm, h1, 1, p)
		if err != nil {
			t.Fatal(err)
		}
		if res.Defects != 0 || res.Uncovered != 0 {
			t.Fatalf("seed %d: %d cocycle defects, %d points uncovered", seed, res.Defects, res.Uncovered)
		}
		rho := math.Abs(Correlation(res.Angle, truth))
		// Aligned, the largest error must be small too.
		al := Align(truth, res.Angle)
		worst := 0.0
		for i, a := range al {
			d := math.Abs(math.Remainder(a-truth[i], 2*math.Pi))
			worst = max(worst, d)
		}
		if rho < 0.99 || worst > 0.3 {
			t.Fatalf("seed %d: |circular correlation| %.4f, worst aligned error %.3f rad", seed, rho, worst)
		}
	}
}

// TestCorrelationInvariances: 1 for a rotation, -1 for a reflection,
// near 0 for independent angles.
func TestCorrelationInvariances(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	a, b, c := make([]float64, 2000), make([]float64, 2000), make([]float64, 2000)
	for i := range a {
		a[i] = 2 * math.Pi * r.Float64()
		b[i] = math.Mod(a[i]+1.3, 2*math.Pi)
		c[i] = 2 * math.Pi * r.Float64()
	}
	neg := make([]float64, len(a))
	for i := range a {
		neg[i] = 2*math.Pi - a[i]
	}
	if v := Correlation(a, b); math.Abs(v-1) > 1e-9 {
		t.Fatalf("rotation: %v", v)
	}
	if v := Correlation(a, neg); math.Abs(v+1) > 1e-9 {
		t.Fatalf("reflection: %v", v)
	}
	if v := Correlation(a, c); math.Abs(v) > 0.1 {
		t.Fatalf("independent: %v", v)
	}
}

// TestEvenSpeedUndoesADistortion: a heading that turns equally fast in
// every direction but is seen through a monotone distortion of the
// circle (as circular coordinates see it through the population's
// geometry), with decoding noise, comes back: the raw distorted angle's
// |correlation| with the heading is below 0.9, EvenSpeed's >= 0.98, for
// several seeds.
func TestEvenSpeedUndoesADistortion(t *testing.T) {
	const n, dt = 6000, 0.1
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 5))
		head, seen, times := make([]float64, n), make([]float64, n), make([]float64, n)
		h, w := 2*math.Pi*r.Float64(), 0.0
		for i := range n {
			// Angular velocity: Ornstein-Uhlenbeck, 1 s time constant.
			w += -w*dt + 1.2*math.Sqrt(2*dt)*r.NormFloat64()
			h = math.Mod(h+w*dt+2*math.Pi, 2*math.Pi)
			head[i], times[i] = h, float64(i)*dt
			g := h + 0.5*math.Sin(h) + 0.15*math.Sin(2*h+1) + 0.05*r.NormFloat64()
			seen[i] = math.Mod(g+2*math.Pi, 2*math.Pi)
		}
		raw := math.Abs(Correlation(seen, head))
		even := math.Abs(Correlation(EvenSpeed(seen, times), head))
		rank := math.Abs(RankCorrelation(seen, head))
		t.Logf("seed %d: |circular correlation| raw %.3f, even speed %.3f (of ranks %.3f)", seed, raw, even, rank)
		if raw > 0.9 || even < 0.98 {
			t.Errorf("seed %d: raw %.3f (want a distortion below 0.9), even speed %.3f (want >= 0.98)", seed, raw, even)
		}
	}
}
