package ppo

import "math"

// The update's element-wise loops. Each is a variable holding the pure-Go
// version below unless kernels_cgo.go replaces it at init with a C twin
// that GCC vectorises and that gives the same bits (TestKernelsMatchGo).
var (
	// tanhInPlace replaces every element of y by its hyperbolic tangent.
	tanhInPlace = tanhGo
	// adamKernel is one Adam step over parameters p with gradients g
	// (multiplied by scale first) and moments m and v.
	adamKernel = adamGo
	// colSums adds the column sums of the n x len(gb) matrix dz to gb.
	colSums = colSumsGo
	// tanhGrad multiplies dh by tanh's derivative 1 - h^2 at outputs h.
	tanhGrad = tanhGradGo
)

// kernelBackend names the implementation of the loops above.
var kernelBackend = "go"

func adamGo(p, g, m, v []float64, b1, b2, eps, stepSize, invSqrtBC2, scale float64) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i, gi := range g {
		gi *= scale
		m[i] = b1*m[i] + (1-b1)*gi
		v[i] = b2*v[i] + (1-b2)*gi*gi
		p[i] -= stepSize * m[i] / (math.Sqrt(v[i])*invSqrtBC2 + eps)
	}
}

func colSumsGo(gb, dz []float64, n int) {
	cols := len(gb)
	for i := 0; i < n; i++ {
		row := dz[i*cols : (i+1)*cols]
		for j, v := range row {
			gb[j] += v
		}
	}
}

func tanhGradGo(dh, h []float64) {
	h = h[:len(dh)]
	for k, x := range h {
		dh[k] *= 1 - x*x
	}
}
