package ppo

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernelsMatchGo checks that the element-wise kernels in use (the C
// twins in a cgo build) give the same bits as their Go versions, on
// random data and on tanh's special values.
func TestKernelsMatchGo(t *testing.T) {
	if err := loadGemm(); err != nil {
		t.Fatal(err)
	}
	t.Logf("kernels: %s, matrix products: %s", kernelBackend, gemmBackend)
	rnd := rand.New(rand.NewPCG(3, 4))
	same := func(what string, got, want []float64) {
		t.Helper()
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%s: element %d is %v, Go gives %v", what, i, got[i], want[i])
			}
		}
	}
	// Odd lengths exercise the vector loops' remainders.
	for _, n := range []int{1, 7, 64*64 + 5} {
		x := make([]float64, n)
		for i := range x {
			x[i] = rnd.NormFloat64() * math.Pow(10, 3*rnd.Float64()-2)
		}
		if n == 7 {
			copy(x, []float64{math.Inf(1), math.Inf(-1), math.NaN(), 0, math.Copysign(0, -1), 22, -40})
		}
		a, b := append([]float64(nil), x...), append([]float64(nil), x...)
		tanhInPlace(a)
		tanhGo(b)
		same("tanh", a, b)

		h := make([]float64, n)
		for i := range h {
			h[i] = 2*rnd.Float64() - 1
		}
		a, b = append([]float64(nil), x...), append([]float64(nil), x...)
		tanhGrad(a, h)
		tanhGradGo(b, h)
		same("tanh gradient", a, b)

		g, m, v := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range g {
			g[i], m[i], v[i] = rnd.NormFloat64(), 0.1*rnd.NormFloat64(), rnd.Float64()
		}
		pa, ma, va := append([]float64(nil), x...), append([]float64(nil), m...), append([]float64(nil), v...)
		pb, mb, vb := append([]float64(nil), x...), append([]float64(nil), m...), append([]float64(nil), v...)
		adamKernel(pa, g, ma, va, 0.9, 0.999, 1e-5, 3e-4/0.1, 1/math.Sqrt(0.001), 0.37)
		adamGo(pb, g, mb, vb, 0.9, 0.999, 1e-5, 3e-4/0.1, 1/math.Sqrt(0.001), 0.37)
		same("Adam parameters", pa, pb)
		same("Adam first moment", ma, mb)
		same("Adam second moment", va, vb)
	}
	for _, cols := range []int{1, 3, 64} {
		const rows = 65
		dz := make([]float64, rows*cols)
		for i := range dz {
			dz[i] = rnd.NormFloat64()
		}
		a, b := make([]float64, cols), make([]float64, cols)
		for j := range a {
			a[j] = rnd.NormFloat64()
			b[j] = a[j]
		}
		colSums(a, dz, rows)
		colSumsGo(b, dz, rows)
		same("column sums", a, b)
	}
}
