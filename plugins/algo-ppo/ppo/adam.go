package ppo

import "math"

// adam is torch.optim.Adam (no weight decay, no amsgrad) over one flat
// parameter vector.
type adam struct {
	Beta1, Beta2, Eps float64
	M, V              []float64
	Step              int
}

func newAdam(n int, eps float64) adam {
	return adam{Beta1: 0.9, Beta2: 0.999, Eps: eps, M: make([]float64, n), V: make([]float64, n)}
}

// step applies one update with learning rate lr to params given grads.
func (a *adam) step(params, grads []float64, lr float64) {
	a.Step++
	a.stepRange(params, grads, 0, len(params), lr, 1, a.Step)
}

// stepRange applies update number t (1-based) to params[lo:hi], with the
// gradients multiplied by scale first (gradient clipping). Disjoint ranges
// may be updated concurrently; the caller advances Step.
func (a *adam) stepRange(params, grads []float64, lo, hi int, lr, scale float64, t int) {
	bc1 := 1 - math.Pow(a.Beta1, float64(t))
	bc2 := 1 - math.Pow(a.Beta2, float64(t))
	stepSize := lr / bc1
	// torch divides sqrt(v) by sqrt(bc2); multiplying by the reciprocal
	// saves a division per parameter and differs only in rounding.
	invSqrtBC2 := 1 / math.Sqrt(bc2)
	adamKernel(params[lo:hi], grads[lo:hi], a.M[lo:hi], a.V[lo:hi], a.Beta1, a.Beta2, a.Eps, stepSize, invSqrtBC2, scale)
}

// sumSquares returns the sum of the squares of x.
func sumSquares(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return s
}

// clipScale is the factor torch.nn.utils.clip_grad_norm_ multiplies the
// gradients by so that their global L2 norm is at most maxNorm: 1 when
// they are already within it.
func clipScale(norm, maxNorm float64) float64 {
	if c := maxNorm / (norm + 1e-6); c < 1 {
		return c
	}
	return 1
}
