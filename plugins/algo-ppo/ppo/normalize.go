package ppo

import "math"

// normEps is added to variances before taking square roots, as Gymnasium's
// normalisation wrappers do.
const normEps = 1e-8

// runningStat keeps the running mean and (population) variance of vectors,
// merged batch by batch with the parallel-variance formula of Chan et al.
// It starts, as Gymnasium's RunningMeanStd, from a prior of mean 0,
// variance 1 and a pseudo-count of 1e-4, so the first normalisations do
// not divide by a zero variance.
type runningStat struct {
	Mean, Var []float64
	Count     float64
	// scratch for a batch's moments
	bm, bv []float64
}

func newRunningStat(dim int) runningStat {
	s := runningStat{Mean: make([]float64, dim), Var: make([]float64, dim), Count: 1e-4,
		bm: make([]float64, dim), bv: make([]float64, dim)}
	for i := range s.Var {
		s.Var[i] = 1
	}
	return s
}

// update merges the n rows of x (n x dim, row-major) into the statistics.
func (s *runningStat) update(x []float64, n int) {
	dim := len(s.Mean)
	for j := range s.bm {
		s.bm[j], s.bv[j] = 0, 0
	}
	for i := 0; i < n; i++ {
		for j, v := range x[i*dim : (i+1)*dim] {
			s.bm[j] += v
		}
	}
	fn := float64(n)
	for j := range s.bm {
		s.bm[j] /= fn
	}
	for i := 0; i < n; i++ {
		for j, v := range x[i*dim : (i+1)*dim] {
			d := v - s.bm[j]
			s.bv[j] += d * d
		}
	}
	tot := s.Count + fn
	for j := range s.Mean {
		bvar := s.bv[j] / fn
		delta := s.bm[j] - s.Mean[j]
		m2 := s.Var[j]*s.Count + bvar*fn + delta*delta*s.Count*fn/tot
		s.Mean[j] += delta * fn / tot
		s.Var[j] = m2 / tot
	}
	s.Count = tot
}

// normalize writes (x - mean) / sqrt(var + eps), clipped to [-clip, clip],
// for the n rows of x into dst (which may alias x).
func (s *runningStat) normalize(dst, x []float64, n int, clip float64) {
	dim := len(s.Mean)
	for i := 0; i < n; i++ {
		for j := 0; j < dim; j++ {
			v := (x[i*dim+j] - s.Mean[j]) / math.Sqrt(s.Var[j]+normEps)
			dst[i*dim+j] = math.Max(-clip, math.Min(clip, v))
		}
	}
}

// returnScaler scales rewards by the running standard deviation of the
// discounted return, as Gymnasium's NormalizeReward: each env's return
// accumulates ret = ret*gamma + r and restarts at termination (not at
// truncation); its variance, not its mean, sets the scale.
type returnScaler struct {
	Ret  []float64 // per env
	Stat runningStat
}

func newReturnScaler(numEnvs int) returnScaler {
	return returnScaler{Ret: make([]float64, numEnvs), Stat: newRunningStat(1)}
}

// scale replaces reward[i] by its scaled, clipped value and updates the
// statistics.
func (rs *returnScaler) scale(reward []float64, terminated []bool, gamma, clip float64) {
	for i, r := range reward {
		keep := gamma
		if terminated[i] {
			// Gymnasium multiplies by (1 - terminated) before adding the
			// reward, so the terminal reward starts the next sum.
			keep = 0
		}
		rs.Ret[i] = rs.Ret[i]*keep + r
	}
	rs.Stat.update(rs.Ret, len(rs.Ret))
	sd := math.Sqrt(rs.Stat.Var[0] + normEps)
	for i, r := range reward {
		reward[i] = math.Max(-clip, math.Min(clip, r/sd))
	}
}
