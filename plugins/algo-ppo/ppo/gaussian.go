package ppo

import "math"

// halfLog2Pi is log(2 pi) / 2, the constant of the Gaussian log-density.
var halfLog2Pi = 0.5 * math.Log(2*math.Pi)

// gaussLogProb is the log-density of a under a diagonal Gaussian with means
// mu and log standard deviations logStd, summed over the dimensions.
func gaussLogProb(a, mu, logStd []float64) float64 {
	lp := 0.0
	for j, m := range mu {
		z := (a[j] - m) * math.Exp(-logStd[j])
		lp += -0.5*z*z - logStd[j] - halfLog2Pi
	}
	return lp
}

// gaussEntropy is the entropy of a diagonal Gaussian, summed over the
// dimensions; it depends only on the standard deviations.
func gaussEntropy(logStd []float64) float64 {
	h := 0.0
	for _, s := range logStd {
		h += 0.5 + halfLog2Pi + s
	}
	return h
}
