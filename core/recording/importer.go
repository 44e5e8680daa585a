package recording

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Import defaults: 100 ms bins smoothed with a Gaussian of twice the
// bin, square roots, 6 principal components, and 300 points for
// homology. These show a head-direction population's ring without
// tuning: the heading moves little within 200 ms, and 6 components keep
// the ring's two with room to spare.
const (
	DefaultBin       = 0.1
	DefaultSmoothBy  = 2.0
	DefaultPCA       = 6
	DefaultSubsample = 300
)

// ImportConfig says what to import and how to preprocess it.
type ImportConfig struct {
	Bin    float64 // seconds
	Smooth float64 // Gaussian sigma in seconds; < 0: DefaultSmoothBy bins
	// From, To bound the interval in seconds; both zero: the whole
	// recording (first to last spike, or the series' first to last
	// sample).
	From, To float64
	Units    []int64 // unit ids to keep (nil: all)
	PCA      int     // 0: DefaultPCA; < 0: no projection
	Series   string  // a TimeSeries path: its data instead of /units
}

// Import reads the NWB file at path and returns its population cloud.
func Import(path string, c ImportConfig) (Cloud, error) {
	if c.Bin <= 0 {
		return Cloud{}, fmt.Errorf("--bin %v: want a positive bin width", c.Bin)
	}
	sigma := c.Smooth
	if sigma < 0 {
		sigma = DefaultSmoothBy * c.Bin
	}
	opt := Options{SmoothBins: sigma / c.Bin, Sqrt: c.Series == "", PCA: c.PCA}
	if c.PCA == 0 {
		opt.PCA = DefaultPCA
	} else if c.PCA < 0 {
		opt.PCA = 0
	}
	var b Binned
	if c.Series != "" {
		if len(c.Units) > 0 {
			return Cloud{}, fmt.Errorf("--units selects units of /units; with --series give the series' columns instead")
		}
		s, err := ReadSeries(path, c.Series)
		if err != nil {
			return Cloud{}, err
		}
		from, to := c.From, c.To
		if from == 0 && to == 0 {
			from, to = s.Times[0], s.Times[len(s.Times)-1]
		}
		if b, err = BinSeries(s, from, to, c.Bin); err != nil {
			return Cloud{}, fmt.Errorf("%s: %s: %v", path, c.Series, err)
		}
	} else {
		u, err := ReadUnits(path)
		if err != nil {
			return Cloud{}, err
		}
		spikes := u.Spikes
		if len(c.Units) > 0 {
			spikes = nil
			for _, id := range c.Units {
				k := slices.Index(u.IDs, id)
				if k < 0 {
					return Cloud{}, fmt.Errorf("%s: --units: no unit with id %d in /units/id", path, id)
				}
				spikes = append(spikes, u.Spikes[k])
			}
		}
		from, to := c.From, c.To
		if from == 0 && to == 0 {
			from, to = math.Inf(1), math.Inf(-1)
			for _, s := range spikes {
				for _, t := range s {
					from, to = min(from, t), max(to, t)
				}
			}
			if math.IsInf(from, 0) {
				return Cloud{}, fmt.Errorf("%s: the units selected have no spikes", path)
			}
			to += c.Bin // the last spike falls in the last bin
		}
		if b, err = BinSpikes(spikes, from, to, c.Bin); err != nil {
			return Cloud{}, fmt.Errorf("%s: %v", path, err)
		}
	}
	cl, err := Make(b, opt)
	if err != nil {
		return Cloud{}, fmt.Errorf("%s: %v", path, err)
	}
	return cl, nil
}

// ParseSeconds reads a duration as seconds ("0.1") or with a unit
// ("100ms", "2s", "1m").
func ParseSeconds(s string) (float64, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%q: want a finite duration", s)
		}
		return v, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want seconds (0.1) or a duration (100ms)", s)
	}
	return d.Seconds(), nil
}

// ParseInterval reads "A:B" in seconds (either side may carry a unit).
func ParseInterval(s string) (from, to float64, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("--interval %q: want START:END in seconds", s)
	}
	if from, err = ParseSeconds(a); err != nil {
		return 0, 0, fmt.Errorf("--interval: %v", err)
	}
	if to, err = ParseSeconds(b); err != nil {
		return 0, 0, fmt.Errorf("--interval: %v", err)
	}
	if !(to > from) {
		return 0, 0, fmt.Errorf("--interval %q: want END after START", s)
	}
	return from, to, nil
}

// ParseUnits reads a comma-separated list of unit ids.
func ParseUnits(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--units: %q is not a unit id", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--units %q: no unit ids", s)
	}
	return out, nil
}

// SampleAt returns column col of the series at each of times: the
// sample nearest in time.
func SampleAt(s Series, times []float64, col int) ([]float64, error) {
	if len(s.Data) == 0 {
		return nil, fmt.Errorf("the series has no samples")
	}
	if col < 0 || col >= len(s.Data[0]) {
		return nil, fmt.Errorf("the series has %d columns, want column %d", len(s.Data[0]), col)
	}
	out := make([]float64, len(times))
	for k, t := range times {
		i := sort.SearchFloat64s(s.Times, t)
		if i == len(s.Times) || i > 0 && t-s.Times[i-1] < s.Times[i]-t {
			i--
		}
		out[k] = s.Data[i][col]
	}
	return out, nil
}
