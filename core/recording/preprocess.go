// Package recording turns neural recordings (NWB 2.x files) into point
// clouds of population activity over time, and tests their topology
// against shuffled controls.
//
// The usual pipeline (Chaudhuri et al. 2019; Gardner et al. 2022): bin
// each unit's spikes, smooth along time with a Gaussian, take square
// roots (which stabilises Poisson variance), standardise each unit,
// project on the leading principal components, and thin the time bins to
// a few hundred points that cover the cloud evenly, dropping the
// sparsest bins first so that noise does not bridge a hole.
package recording

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Binned is a population's activity on a regular time grid.
type Binned struct {
	Rates sdk.Matrix // time bins x units (spikes per second, or a series' mean)
	Times []float64  // bin centres in seconds
	Bin   float64    // bin width in seconds
}

// BinSpikes counts each unit's spikes in bins of width bin over [from,
// to) and divides by the width. Spikes outside the interval are left out.
func BinSpikes(spikes [][]float64, from, to, bin float64) (Binned, error) {
	if !(bin > 0) || math.IsInf(bin, 0) {
		return Binned{}, fmt.Errorf("bin width %v: want > 0", bin)
	}
	if !(to > from) {
		return Binned{}, fmt.Errorf("interval [%v, %v): want an end after the start", from, to)
	}
	nb := int(math.Floor((to-from)/bin + 1e-9))
	if nb < 2 {
		return Binned{}, fmt.Errorf("interval [%v, %v) holds %d bins of %v s: want at least 2", from, to, nb, bin)
	}
	if len(spikes) == 0 {
		return Binned{}, fmt.Errorf("no units to bin")
	}
	m := sdk.NewMatrix(nb, len(spikes))
	inv := 1 / bin
	for u, s := range spikes {
		for _, t := range s {
			if t < from || t >= to {
				continue
			}
			k := int((t - from) * inv)
			if k >= nb {
				continue
			}
			m.Data[k*m.Cols+u] += inv
		}
	}
	times := make([]float64, nb)
	for k := range times {
		times[k] = from + (float64(k)+0.5)*bin
	}
	return Binned{Rates: m, Times: times, Bin: bin}, nil
}

// BinSeries averages a sampled series (rows of data at times) in bins
// of width bin over [from, to). A bin without a sample takes the value
// of the sample nearest its centre.
func BinSeries(s Series, from, to, bin float64) (Binned, error) {
	if len(s.Data) == 0 {
		return Binned{}, fmt.Errorf("the series has no samples")
	}
	if !(bin > 0) || math.IsInf(bin, 0) {
		return Binned{}, fmt.Errorf("bin width %v: want > 0", bin)
	}
	if !(to > from) {
		return Binned{}, fmt.Errorf("interval [%v, %v): want an end after the start", from, to)
	}
	nb := int(math.Floor((to-from)/bin + 1e-9))
	if nb < 2 {
		return Binned{}, fmt.Errorf("interval [%v, %v) holds %d bins of %v s: want at least 2", from, to, nb, bin)
	}
	cols := len(s.Data[0])
	m := sdk.NewMatrix(nb, cols)
	count := make([]int, nb)
	for i, t := range s.Times {
		if t < from || t >= to {
			continue
		}
		k := min(int((t-from)/bin), nb-1)
		count[k]++
		row := m.Row(k)
		for j, v := range s.Data[i] {
			row[j] += v
		}
	}
	times := make([]float64, nb)
	for k := range times {
		times[k] = from + (float64(k)+0.5)*bin
		row := m.Row(k)
		if count[k] > 0 {
			for j := range row {
				row[j] /= float64(count[k])
			}
			continue
		}
		i := sort.SearchFloat64s(s.Times, times[k])
		if i == len(s.Times) || i > 0 && times[k]-s.Times[i-1] < s.Times[i]-times[k] {
			i--
		}
		copy(row, s.Data[i])
	}
	return Binned{Rates: m, Times: times, Bin: bin}, nil
}

// Options are the preprocessing steps from binned rates to points.
type Options struct {
	SmoothBins float64 // Gaussian smoothing along time, sigma in bins; 0: none
	Sqrt       bool    // square root of the (non-negative) rates
	PCA        int     // keep this many principal components; 0: all columns
}

// Preprocess smooths, square-roots, standardises and projects binned
// rates (time bins x units) to points (time bins x PCA), centred and
// scaled to a root mean square radius of 1 (see unitRMS). A unit that
// never varies is left out (it carries no information and has no
// standard deviation to divide by).
func Preprocess(rates sdk.Matrix, o Options) (sdk.Matrix, error) {
	T, U := rates.Rows, rates.Cols
	if T < 2 || U < 1 {
		return sdk.Matrix{}, fmt.Errorf("%d bins x %d units: want at least 2 bins and 1 unit", T, U)
	}
	x := sdk.NewMatrix(T, U)
	copy(x.Data, rates.Data)
	if o.SmoothBins > 0 {
		smooth(x, o.SmoothBins)
	}
	if o.Sqrt {
		for i, v := range x.Data {
			x.Data[i] = math.Sqrt(max(v, 0))
		}
	}
	// Standardise each unit; keep those that vary.
	var keep []int
	mean := make([]float64, U)
	sd := make([]float64, U)
	for u := range U {
		var s, ss float64
		for t := range T {
			s += x.Data[t*U+u]
		}
		mu := s / float64(T)
		for t := range T {
			d := x.Data[t*U+u] - mu
			ss += d * d
		}
		mean[u], sd[u] = mu, math.Sqrt(ss/float64(T))
		if sd[u] > 1e-12*(1+math.Abs(mu)) {
			keep = append(keep, u)
		}
	}
	if len(keep) == 0 {
		return sdk.Matrix{}, fmt.Errorf("no unit varies over the %d bins (all silent or constant)", T)
	}
	z := mat.NewDense(T, len(keep), nil)
	for t := range T {
		for j, u := range keep {
			z.Set(t, j, (x.Data[t*U+u]-mean[u])/sd[u])
		}
	}
	d := o.PCA
	if d <= 0 || d >= len(keep) {
		out := sdk.NewMatrix(T, len(keep))
		copy(out.Data, z.RawMatrix().Data)
		return unitRMS(out), nil
	}
	var cov mat.SymDense
	cov.SymOuterK(1/float64(T), z.T())
	var eig mat.EigenSym
	if !eig.Factorize(&cov, true) {
		return sdk.Matrix{}, fmt.Errorf("PCA: the eigendecomposition did not converge")
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	// EigenSym orders eigenvalues ascending: the last d columns lead.
	k := len(keep)
	w := vecs.Slice(0, k, k-d, k)
	var proj mat.Dense
	proj.Mul(z, w)
	out := sdk.NewMatrix(T, d)
	for t := range T {
		for j := range d {
			// Leading component first.
			out.Data[t*d+j] = proj.At(t, d-1-j)
		}
	}
	return unitRMS(out), nil
}

// unitRMS centres the rows of m and scales them to a root mean square
// distance of 1 from the centre. A cloud's size then says nothing about
// the population: the variance the leading components hold is larger
// for structured activity than for shuffled activity, and bars would
// otherwise be longer for the data than for its shuffled controls
// merely because its cloud is bigger. Bars are compared in units of the
// cloud's own radius.
func unitRMS(m sdk.Matrix) sdk.Matrix {
	mu := make([]float64, m.Cols)
	for t := range m.Rows {
		for j, v := range m.Row(t) {
			mu[j] += v / float64(m.Rows)
		}
	}
	var ss float64
	for t := range m.Rows {
		r := m.Row(t)
		for j := range r {
			r[j] -= mu[j]
			ss += r[j] * r[j]
		}
	}
	if s := math.Sqrt(ss / float64(m.Rows)); s > 0 {
		for i := range m.Data {
			m.Data[i] /= s
		}
	}
	return m
}

// smooth convolves each column of x with a Gaussian of standard
// deviation sigma (in rows), cut at 4 sigma and renormalised at the ends
// so the edges are not pulled towards zero.
func smooth(x sdk.Matrix, sigma float64) {
	h := int(math.Ceil(4 * sigma))
	if h < 1 {
		return
	}
	k := make([]float64, 2*h+1)
	for i := range k {
		d := float64(i-h) / sigma
		k[i] = math.Exp(-0.5 * d * d)
	}
	T, U := x.Rows, x.Cols
	col := make([]float64, T)
	for u := range U {
		for t := range T {
			col[t] = x.Data[t*U+u]
		}
		for t := range T {
			var s, w float64
			for i := max(0, t-h); i <= min(T-1, t+h); i++ {
				kw := k[i-t+h]
				s += kw * col[i]
				w += kw
			}
			x.Data[t*U+u] = s / w
		}
	}
}
