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
	bc1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.Step))
	stepSize := lr / bc1
	sqrtBC2 := math.Sqrt(bc2)
	b1, b2 := a.Beta1, a.Beta2
	m, v := a.M[:len(params)], a.V[:len(params)]
	grads = grads[:len(params)]
	for i, g := range grads {
		m[i] = b1*m[i] + (1-b1)*g
		v[i] = b2*v[i] + (1-b2)*g*g
		params[i] -= stepSize * m[i] / (math.Sqrt(v[i])/sqrtBC2 + a.Eps)
	}
}

// clipGradNorm scales grads so that their global L2 norm is at most
// maxNorm, as torch.nn.utils.clip_grad_norm_, and returns the norm before
// clipping.
func clipGradNorm(grads []float64, maxNorm float64) float64 {
	s := 0.0
	for _, g := range grads {
		s += g * g
	}
	norm := math.Sqrt(s)
	if c := maxNorm / (norm + 1e-6); c < 1 {
		for i := range grads {
			grads[i] *= c
		}
	}
	return norm
}
