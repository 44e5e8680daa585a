// Package sweepreport turns a sweep's finished trials into results across
// seeds: per group of trials that differ only in their seed (per task,
// and per value of every other grid key), the mean and a 95% bootstrap
// band of every Betti number along training, learning curves with bands,
// tests of the claims users make about topology over training, CSVs of
// all of it, PNG plots and SWEEP_DIR/report.html.
//
// The seed is the unit of replication throughout: each claim reduces
// every seed's run to one value (a correlation over its snapshots, a mean
// difference) and tests those values across seeds, since the snapshots of
// one run are autocorrelated and pooling them as independent samples
// makes effects out of noise.
package sweepreport

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/provenance"
	"github.com/neuraltopology/neuraltopology/core/stats"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/sweep"
)

// Level is the confidence level of every band and interval; Resamples
// the bootstrap resamples behind the interquartile mean's interval (as
// many as rliable's examples use); Alpha the level claims are tested at.
const (
	Level     = 0.95
	Resamples = 50000
	Alpha     = 0.05
)

// Measures are the two ways a Betti number is counted: at the seed's
// fixed scale, and scale-free (bars longer than a fraction of the cloud's
// diameter).
var Measures = []string{"betti", "persistent"}

func measureOf(d summary.DimSummary, measure string) float64 {
	if measure == "persistent" {
		return float64(d.Persistent)
	}
	return float64(d.Betti)
}

// seedRun is one finished trial's records.
type seedRun struct {
	Seed       string
	Dir        string
	Topology   []summary.TopologyRecord
	Scalars    []summary.ScalarRecord
	Provenance []provenance.Record

	at map[recKey]summary.Summary // Topology by step and cloud
}

type recKey struct {
	step  int
	net   string
	layer int
}

// index makes the lookups of value and netTotal constant-time.
func (r *seedRun) index() {
	r.at = make(map[recKey]summary.Summary, len(r.Topology))
	for _, t := range r.Topology {
		r.at[recKey{t.Step, t.Net, t.Layer}] = t.Summary
	}
}

// Group is the trials that differ only in their seed.
type Group struct {
	Name  string // the task and the other grid values, e.g. "Hopper-v4__k-8"
	EnvID string
	Runs  []seedRun
	Steps []int // snapshot steps every run has
}

// readRecords reads a run's JSON-lines file, or its gzip-compressed copy
// (name.gz) as published results keep them; none if neither exists.
func readRecords[T any](dir, name string, read func(string) ([]T, error)) ([]T, error) {
	recs, err := read(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		recs, err = read(filepath.Join(dir, name+".gz"))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return recs, err
}

// load groups the sweep's done trials by everything but their seed.
func load(m *sweep.Manifest) ([]*Group, error) {
	byName := map[string]*Group{}
	var groups []*Group
	for _, st := range m.Status() {
		if st.State != sweep.StateDone {
			continue
		}
		// Named by task first, then the other grid values.
		cfg, err := m.Spec.Config(st.Trial)
		if err != nil {
			return nil, err
		}
		parts := []string{cfg.EnvID}
		seed := fmt.Sprint(cfg.Seed)
		for _, p := range st.Params {
			if p.Key != "seed" && p.Key != "env_id" {
				parts = append(parts, p.Key+"-"+p.Value)
			}
		}
		name := strings.Join(parts, "__")
		g := byName[name]
		if g == nil {
			g = &Group{Name: name, EnvID: cfg.EnvID}
			byName[name] = g
			groups = append(groups, g)
		}
		r := seedRun{Seed: seed, Dir: st.Dir}
		if r.Topology, err = readRecords(st.Dir, summary.TopologyFile, summary.ReadTopology); err != nil {
			return nil, fmt.Errorf("trial %s: %w", st.Name, err)
		}
		r.Topology = summary.LatestTopology(r.Topology)
		if r.Scalars, err = readRecords(st.Dir, summary.ScalarsFile, summary.ReadScalars); err != nil {
			return nil, fmt.Errorf("trial %s: %w", st.Name, err)
		}
		r.Scalars = summary.LatestScalars(r.Scalars)
		if r.Provenance, err = provenance.Read(filepath.Join(st.Dir, provenance.File)); err != nil {
			return nil, fmt.Errorf("trial %s: %w", st.Name, err)
		}
		r.index()
		g.Runs = append(g.Runs, r)
	}
	for _, g := range groups {
		count := map[int]int{}
		for _, r := range g.Runs {
			seen := map[int]bool{}
			for _, t := range r.Topology {
				if !seen[t.Step] {
					seen[t.Step] = true
					count[t.Step]++
				}
			}
		}
		for s, n := range count {
			if n == len(g.Runs) {
				g.Steps = append(g.Steps, s)
			}
		}
		sort.Ints(g.Steps)
	}
	return groups, nil
}

// Cloud names one point cloud across runs.
type Cloud struct {
	Net   string
	Layer int
}

// clouds lists the clouds of a group: the input first, then each net's
// layers.
func (g *Group) clouds() []Cloud {
	seen := map[Cloud]bool{}
	var out []Cloud
	for _, r := range g.Runs {
		for _, t := range r.Topology {
			c := Cloud{t.Net, t.Layer}
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Net == summary.NetInput) != (out[j].Net == summary.NetInput) {
			return out[i].Net == summary.NetInput
		}
		if out[i].Net != out[j].Net {
			return out[i].Net < out[j].Net
		}
		return out[i].Layer < out[j].Layer
	})
	return out
}

func (g *Group) nets() []string {
	var all []summary.TopologyRecord
	for _, r := range g.Runs {
		all = append(all, r.Topology...)
	}
	return plots.Nets(all)
}

// layers lists a net's hidden layers, shallowest first.
func (g *Group) layers(net string) []int {
	var ls []int
	for _, c := range g.clouds() {
		if c.Net == net && c.Layer >= 1 {
			ls = append(ls, c.Layer)
		}
	}
	return ls
}

// value is one run's measure of cloud c at step in dimension dim (dim < 0:
// summed over dims); false if the run has no such record.
func (r seedRun) value(c Cloud, step, dim int, measure string) (float64, bool) {
	sum, ok := r.at[recKey{step, c.Net, c.Layer}]
	if !ok {
		return 0, false
	}
	s, found := 0.0, false
	for _, d := range sum.Dims {
		if dim < 0 || d.Dim == dim {
			s += measureOf(d, measure)
			found = true
		}
	}
	return s, found
}

// netTotal is one run's measure in dimension dim (dim < 0: all dims,
// the seed's "total Betti number") summed over a net's hidden layers at
// step.
func (r seedRun) netTotal(net string, step, dim int, measure string) (float64, bool) {
	s, found := 0.0, false
	for layer := 1; ; layer++ {
		v, ok := r.value(Cloud{net, layer}, step, dim, measure)
		if !ok {
			if _, exists := r.at[recKey{step, net, layer}]; exists {
				continue // the layer has no record of that dim
			}
			break
		}
		s += v
		found = true
	}
	return s, found
}

// returns is one run's learning curve: at each update's step, the mean
// return of the last 100 episodes finished so far (summary.ReturnMean),
// so that its last point is the run's final return (summary.FinalReturn).
func (r seedRun) returns() map[int]float64 {
	out := map[int]float64{}
	for _, s := range r.Scalars {
		if v, ok := s.Values[plots.LearningCurveScalar]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[s.Step] = v
		}
	}
	return out
}

// Point is a mean over seeds with its band.
type Point struct {
	Step         int
	N            int
	Mean, Lo, Hi float64
	Values       []float64 // one per seed, in run order
}

// point is the mean over seeds at one step with its pointwise t
// interval: exact for normal data, where a percentile bootstrap over 5 or
// 10 seeds covers well below its level.
func point(step int, vals []float64) Point {
	lo, hi := stats.TInterval(vals, Level)
	return Point{Step: step, N: len(vals), Mean: stats.Mean(vals), Lo: lo, Hi: hi, Values: vals}
}

// series gathers f over the group's runs at each common snapshot step.
func (g *Group) series(f func(r seedRun, step int) (float64, bool)) []Point {
	var out []Point
	for _, s := range g.Steps {
		var vals []float64
		for _, r := range g.Runs {
			if v, ok := f(r, s); ok {
				vals = append(vals, v)
			}
		}
		if len(vals) > 0 {
			out = append(out, point(s, vals))
		}
	}
	return out
}

// learning is the group's learning curve at the update steps every run
// logged.
func (g *Group) learning() []Point {
	curves := make([]map[int]float64, len(g.Runs))
	count := map[int]int{}
	for i, r := range g.Runs {
		curves[i] = r.returns()
		for s := range curves[i] {
			count[s]++
		}
	}
	var steps []int
	for s, n := range count {
		if n == len(g.Runs) {
			steps = append(steps, s)
		}
	}
	sort.Ints(steps)
	out := make([]Point, 0, len(steps))
	for _, s := range steps {
		vals := make([]float64, len(curves))
		for i, c := range curves {
			vals[i] = c[s]
		}
		out = append(out, point(s, vals))
	}
	return out
}

func band(label string, pts []Point) plots.Band {
	b := plots.Band{Label: label}
	for _, p := range pts {
		b.X = append(b.X, float64(p.Step))
		b.Mean = append(b.Mean, p.Mean)
		b.Lo = append(b.Lo, p.Lo)
		b.Hi = append(b.Hi, p.Hi)
	}
	return b
}
