package recording

import (
	"fmt"
	"math"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Cloud is a population's activity as a point cloud over time, as
// `nthost recording import` writes it: Points[i] is the population
// vector of the bin centred at Times[i]. Rates, when kept, are the
// binned rates before smoothing (time bins x units) and Options the
// steps that made Points from them, so a shuffled control can be
// preprocessed exactly as the data were.
type Cloud struct {
	Points sdk.Matrix
	Times  []float64
	// Timed says Times are times (a cloud from nthost recording import,
	// or an archive with times), not just the row numbers.
	Timed   bool
	Rates   sdk.Matrix // 0 x 0 if the cloud came without rates
	Bin     float64
	Options Options
	// Subsample is how many points homology takes from the cloud
	// (density-aware, see Subsample); 0: all.
	Subsample int
}

// HasRates reports whether c keeps the binned rates behind its points.
func (c Cloud) HasRates() bool { return c.Rates.Rows > 0 && c.Rates.Rows == c.Points.Rows }

// Make preprocesses binned rates into a cloud that keeps them.
func Make(b Binned, o Options) (Cloud, error) {
	pts, err := Preprocess(b.Rates, o)
	if err != nil {
		return Cloud{}, err
	}
	return Cloud{Points: pts, Times: b.Times, Timed: true, Rates: b.Rates, Bin: b.Bin, Options: o}, nil
}

func scalar(v float64) sdk.Matrix { return sdk.Matrix{Rows: 1, Cols: 1, Data: []float64{v}} }

func column(v []float64) sdk.Matrix { return sdk.Matrix{Rows: len(v), Cols: 1, Data: v} }

// Save writes c to path as .npz: points, times (n x 1), subsample when
// set, and when kept rates, bin, smooth_bins, sqrt and pca.
func (c Cloud) Save(path string) error {
	arr := []matio.NamedArray{{Name: "points", Matrix: c.Points}, {Name: "times", Matrix: column(c.Times)}}
	if c.Subsample > 0 {
		arr = append(arr, matio.NamedArray{Name: "subsample", Matrix: scalar(float64(c.Subsample))})
	}
	if c.HasRates() {
		sq := 0.0
		if c.Options.Sqrt {
			sq = 1
		}
		arr = append(arr,
			matio.NamedArray{Name: "rates", Matrix: c.Rates},
			matio.NamedArray{Name: "bin", Matrix: scalar(c.Bin)},
			matio.NamedArray{Name: "smooth_bins", Matrix: scalar(c.Options.SmoothBins)},
			matio.NamedArray{Name: "sqrt", Matrix: scalar(sq)},
			matio.NamedArray{Name: "pca", Matrix: scalar(float64(c.Options.PCA))})
	}
	return matio.WriteNPZ(path, arr)
}

// LoadCloud reads a cloud from .npz (points; times, rates and the
// preprocessing settings when present: a plain points-only archive is a
// cloud without rates, its times the row numbers) or from any matrix
// file matio reads.
func LoadCloud(path string) (Cloud, error) {
	if !isNPZ(path) {
		m, err := matio.Read(path)
		if err != nil {
			return Cloud{}, err
		}
		if err := m.Validate(true); err != nil {
			return Cloud{}, fmt.Errorf("%s: %v", path, err)
		}
		return Cloud{Points: m, Times: rowNumbers(m.Rows)}, nil
	}
	arrs, err := matio.ReadNPZ(path)
	if err != nil {
		return Cloud{}, err
	}
	by := map[string]sdk.Matrix{}
	for _, a := range arrs {
		by[a.Name] = a.Matrix
	}
	pts, ok := by["points"]
	if !ok {
		if len(arrs) != 1 {
			return Cloud{}, fmt.Errorf("%s: no array named points (a cloud from nthost recording import has points and times)", path)
		}
		pts = arrs[0].Matrix
	}
	if err := pts.Validate(true); err != nil {
		return Cloud{}, fmt.Errorf("%s: points: %v", path, err)
	}
	c := Cloud{Points: pts, Times: rowNumbers(pts.Rows)}
	if t, ok := by["times"]; ok {
		if t.Rows*t.Cols != pts.Rows {
			return Cloud{}, fmt.Errorf("%s: times has %d values for %d points", path, t.Rows*t.Cols, pts.Rows)
		}
		c.Times, c.Timed = t.Data, true
	}
	if s, ok := by["subsample"]; ok {
		if len(s.Data) != 1 || s.Data[0] < 0 || s.Data[0] != math.Trunc(s.Data[0]) {
			return Cloud{}, fmt.Errorf("%s: subsample: want one whole number >= 0", path)
		}
		c.Subsample = int(s.Data[0])
	}
	if r, ok := by["rates"]; ok {
		if r.Rows != pts.Rows {
			return Cloud{}, fmt.Errorf("%s: rates has %d rows for %d points", path, r.Rows, pts.Rows)
		}
		if err := r.Validate(true); err != nil {
			return Cloud{}, fmt.Errorf("%s: rates: %v", path, err)
		}
		get := func(name string) (float64, error) {
			m, ok := by[name]
			if !ok || len(m.Data) != 1 || math.IsNaN(m.Data[0]) {
				return 0, fmt.Errorf("%s: rates come without the scalar %s that says how points were made from them", path, name)
			}
			return m.Data[0], nil
		}
		var vals [4]float64
		for i, name := range []string{"bin", "smooth_bins", "sqrt", "pca"} {
			if vals[i], err = get(name); err != nil {
				return Cloud{}, err
			}
		}
		c.Rates, c.Bin = r, vals[0]
		c.Options = Options{SmoothBins: vals[1], Sqrt: vals[2] != 0, PCA: int(vals[3])}
	}
	return c, nil
}

func rowNumbers(n int) []float64 {
	t := make([]float64, n)
	for i := range t {
		t[i] = float64(i)
	}
	return t
}

func isNPZ(path string) bool {
	return len(path) >= 4 && (path[len(path)-4:] == ".npz" || path[len(path)-4:] == ".NPZ")
}
