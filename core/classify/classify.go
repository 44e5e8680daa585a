// Package classify is the supervised job: a data plugin generates a
// labelled training set and a homology set, a supervised algorithm plugin
// (sdk.Classifier) is fitted to 100% training accuracy, and the topology
// of each class's point cloud is computed at the input (layer 0) and at
// every hidden layer through the distance and homology plugins, as in
// Naitzat, Zhitnikov and Lim, "Topology of deep neural networks" (JMLR
// 2020).
//
// The run directory has the RL job's layout (core/runstore): config.yaml,
// scalars.jsonl/.csv (one line per epoch: loss and training accuracy),
// topology.jsonl/.csv (one line per class per layer, with the class
// column set), diagrams/<class>/<cloud>.npz, fit.json, timings.json and
// report.html.
package classify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/snapshot"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// FitFile is the file in the run directory that says how training ended.
const FitFile = "fit.json"

// NetName is the Net of a supervised run's hidden-layer records; the
// input cloud's is summary.NetInput.
const NetName = "mlp"

// Preset is a data set's defaults from the paper: the k of its k-NN graph,
// its homology sample size and the highest homology dimension (its
// ambient dimension less one).
type Preset struct {
	K, HomologySamples, MaxDim int
}

// Presets are Naitzat et al.'s settings for their data sets.
var Presets = map[string]Preset{
	"D-I":   {K: 14, HomologySamples: 2600, MaxDim: 1},
	"D-II":  {K: 35, HomologySamples: 11250, MaxDim: 2},
	"D-III": {K: 35, HomologySamples: 9450, MaxDim: 2},
}

// PaperWidths is the paper's main network: 10 hidden layers of width 15.
const PaperWidths = "15,15,15,15,15,15,15,15,15,15"

// ApplyDefaults sets, for a supervised run, the keys the user did not
// give (given holds the keys set by flags or the config file) to the
// paper's values for cfg.DataID: k, tda_samples, maxdim (from Presets),
// hidden_size 15 x 10, the metric geodesic with weights=hops and the
// Betti scale 2.5 hops. A data set without a preset keeps the RL
// defaults, except for the network and the metric.
func ApplyDefaults(cfg *config.Config, given map[string]bool) error {
	set := func(key, v string) error {
		if given[key] {
			return nil
		}
		return cfg.Set(key, v)
	}
	p, ok := Presets[cfg.DataID]
	steps := [][2]string{{"hidden_size", PaperWidths}, {"dist", "geodesic"}, {"betti_scale", "2.5"}}
	if ok {
		steps = append(steps, [2]string{"k", strconv.Itoa(p.K)}, [2]string{"tda_samples", strconv.Itoa(p.HomologySamples)}, [2]string{"maxdim", strconv.Itoa(p.MaxDim)})
	}
	for _, kv := range steps {
		if err := set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	if _, w := cfg.DistParams["weights"]; !w && cfg.Dist == "geodesic" {
		if cfg.DistParams == nil {
			cfg.DistParams = map[string]string{}
		}
		cfg.DistParams["weights"] = "hops"
	}
	return nil
}

// Threshold is the largest filtration value the homology needs for Betti
// numbers at scale s: with integer (hop) distances, the largest integer
// at most s, since nothing enters the complex between two integers.
func Threshold(s float64, hops bool) float64 {
	if hops && s >= 1 {
		return math.Floor(s)
	}
	return 0
}

// Plugins are the four plugins of a supervised run.
type Plugins struct {
	Data sdk.Data
	Algo sdk.Classifier
	Dist sdk.Distance
	PH   sdk.Homology
}

// Options are the run's settings beyond its config.
type Options struct {
	Dir        string
	Log        zerolog.Logger
	Transports map[sdk.Kind]string
	// Edges sends the homology plugin sparse pairs within the threshold
	// (it lists "edges" in CapInput).
	Edges bool
	// Report, if set, builds report.html at the end.
	Report func(dir string) error
}

// Result summarises a finished run.
type Result struct {
	Dir      string
	Epochs   int
	Accuracy float64
	Records  []summary.TopologyRecord
	Timings  map[string]float64
}

// FitSummary is fit.json.
type FitSummary struct {
	Data           string `json:"data"`
	DatasetID      string `json:"data_id"`
	TrainPoints    int    `json:"train_points"`
	HomologyPoints int    `json:"homology_points"`
	Epochs         int    `json:"epochs"`
	// Accuracy and Loss are the plugin's own last epoch's.
	Accuracy float64 `json:"train_accuracy"`
	Loss     float64 `json:"train_loss"`
	Reached  bool    `json:"reached"`
	// Attempts counts the learner's initialisations: more than 1 when it
	// restarted a training that had stalled (absent: 1).
	Attempts int `json:"attempts,omitempty"`
	// CheckedAccuracy and CheckedLoss are the final network's training
	// accuracy and mean cross-entropy as the host recomputes them from its
	// class probabilities (Policy), independent of the plugin's report.
	CheckedAccuracy float64 `json:"checked_train_accuracy"`
	CheckedLoss     float64 `json:"checked_train_loss"`
	// HomologyAccuracy is the accuracy on the homology set, which the
	// network never trained on; its error must be at most MaxHoldoutError.
	HomologyAccuracy float64 `json:"homology_accuracy"`
	MaxHoldoutError  float64 `json:"max_holdout_error"`
}

// DefaultDir is runs/<data_id>__<algo>-<activation>__<seed>__<unix time>.
func DefaultDir(cfg config.Config, now time.Time) string {
	name := cfg.Algo
	if a := cfg.AlgoParams["activation"]; a != "" {
		name += "-" + a
	}
	return filepath.Join("runs", fmt.Sprintf("%s__%s__%d__%d", cfg.DataID, name, cfg.Seed, now.Unix()))
}

// Run trains one network and computes the topology of every class at
// every layer. A network that does not reach the target accuracy ends
// the run with an error after its epochs are written; nothing is computed
// on it.
func Run(ctx context.Context, p Plugins, cfg config.Config, opt Options) (Result, error) {
	t0 := time.Now()
	if opt.Dir == "" {
		opt.Dir = DefaultDir(cfg, t0)
	}
	store, err := runstore.Open(opt.Dir)
	if err != nil {
		return Result{}, err
	}
	defer store.Close()
	// A trial run again (a sweep continuing) starts afresh: the records of
	// an interrupted attempt would otherwise be counted twice.
	for _, f := range []string{runstore.ScalarsFile, runstore.TopologyFile} {
		if err := os.Remove(store.Path(f)); err != nil && !os.IsNotExist(err) {
			return Result{}, err
		}
	}
	if err := store.WriteFile(runstore.ConfigFile, cfg.YAML()); err != nil {
		return Result{}, err
	}
	if opt.Transports != nil {
		used := map[string]string{}
		for k, v := range opt.Transports {
			used[string(k)] = v
		}
		b, _ := json.MarshalIndent(used, "", " ")
		if err := store.WriteFile(runstore.TransportFile, b); err != nil {
			return Result{}, err
		}
	}
	res := Result{Dir: opt.Dir, Timings: map[string]float64{}}

	gen := func(split string, n int) (sdk.DataSet, error) {
		ds, err := p.Data.Generate(ctx, sdk.DataRequest{DatasetID: cfg.DataID, Seed: cfg.Seed, Split: split, Samples: n, Params: cfg.DataParams})
		if err != nil {
			return ds, fmt.Errorf("data %s %s split: %w", cfg.DataID, split, err)
		}
		if err := ds.Validate(); err != nil {
			return ds, fmt.Errorf("data plugin %q, %s %s split: %w", cfg.Data, cfg.DataID, split, err)
		}
		return ds, nil
	}
	train, err := gen(sdk.SplitTrain, cfg.TrainSamples)
	if err != nil {
		return res, err
	}
	hom, err := gen(sdk.SplitHomology, cfg.TDASamples)
	if err != nil {
		return res, err
	}
	if hom.Points.Cols != train.Points.Cols || len(hom.Classes) != len(train.Classes) {
		return res, fmt.Errorf("data plugin %q: the homology split is %d-dimensional with %d classes, the training split %d with %d", cfg.Data, hom.Points.Cols, len(hom.Classes), train.Points.Cols, len(train.Classes))
	}

	if _, err := p.Algo.Init(ctx, sdk.AlgoConfig{
		Env:  sdk.EnvSpec{TaskID: cfg.DataID, ObsDim: train.Points.Cols, ActDim: len(train.Classes)},
		Seed: cfg.Seed, Hyper: cfg.Hyper(),
	}); err != nil {
		return res, fmt.Errorf("init %s: %w", cfg.Algo, err)
	}
	fitStart := time.Now()
	fit, err := p.Algo.Fit(ctx, sdk.FitRequest{Points: train.Points, Labels: train.Labels, Classes: len(train.Classes), TargetAccuracy: 1})
	res.Timings["training"] = time.Since(fitStart).Seconds()
	if err != nil {
		return res, fmt.Errorf("fit %s: %w", cfg.Algo, err)
	}
	for _, e := range fit.Epochs {
		rec := summary.ScalarRecord{Step: e.Epoch, Update: e.Epoch, Values: map[string]float64{"losses/train_loss": e.Loss, "charts/train_accuracy": e.Accuracy}}
		if err := store.Append(runstore.ScalarsFile, rec); err != nil {
			return res, err
		}
	}
	fs := FitSummary{Data: cfg.Data, DatasetID: cfg.DataID, TrainPoints: train.Points.Rows, HomologyPoints: hom.Points.Rows, Reached: fit.Reached}
	if n := len(fit.Epochs); n > 0 {
		last := fit.Epochs[n-1]
		fs.Epochs, fs.Accuracy, fs.Loss, fs.Attempts = last.Epoch, last.Accuracy, last.Loss, max(1, last.Attempt)
	}
	res.Epochs, res.Accuracy = fs.Epochs, fs.Accuracy
	fs.MaxHoldoutError = cfg.MaxHoldoutError
	probs, err := p.Algo.Policy(ctx, train.Points, false)
	if err != nil {
		return res, fmt.Errorf("%s: class probabilities of the training points: %w", cfg.Algo, err)
	}
	fs.CheckedAccuracy, fs.CheckedLoss = accuracy(probs, train.Labels), crossEntropy(probs, train.Labels)
	if probs, err = p.Algo.Policy(ctx, hom.Points, true); err != nil {
		return res, fmt.Errorf("%s: classes of the homology points: %w", cfg.Algo, err)
	}
	fs.HomologyAccuracy = accuracy(probs, hom.Labels)
	b, _ := json.MarshalIndent(fs, "", " ")
	if err := store.WriteFile(FitFile, append(b, '\n')); err != nil {
		return res, err
	}
	opt.Log.Info().Int("epochs", fs.Epochs).Int("attempts", fs.Attempts).Float64("train_accuracy", fs.CheckedAccuracy).Float64("train_loss", fs.CheckedLoss).
		Float64("homology_accuracy", fs.HomologyAccuracy).Float64("seconds", res.Timings["training"]).Msg("network trained")
	if !fit.Reached {
		return res, fmt.Errorf("%s reached %.4f%% training accuracy and a training loss of %.3g after %d epochs in %d attempt(s) (%d of %d points misclassified), short of its target (100%% and --algo-param loss_target); no topology computed: raise --algo-param max_epochs or restarts, change lr, or use another --seed",
			cfg.Algo, 100*fs.Accuracy, fs.Loss, fs.Epochs, fs.Attempts, int(math.Round((1-fs.Accuracy)*float64(train.Points.Rows))), train.Points.Rows)
	}
	if fs.CheckedAccuracy < 1 {
		return res, fmt.Errorf("%s reported 100%% training accuracy, but its network classifies %.4f%% of the training points right; no topology computed", cfg.Algo, 100*fs.CheckedAccuracy)
	}
	if e := 1 - fs.HomologyAccuracy; e > cfg.MaxHoldoutError {
		return res, fmt.Errorf("%s misclassifies %d of the %d homology points (error %.3g%%, max_holdout_error %.3g%%): not well trained; no topology computed: lower --algo-param loss_target, raise --max-holdout-error, or use another --seed",
			cfg.Algo, int(math.Round(e*float64(hom.Points.Rows))), hom.Points.Rows, 100*e, 100*cfg.MaxHoldoutError)
	}

	layers, err := p.Algo.Activations(ctx, hom.Points, nil)
	if err != nil {
		return res, fmt.Errorf("activations: %w", err)
	}
	clouds := []snapshot.Cloud{{Name: "input", Net: summary.NetInput, Layer: 0, Points: hom.Points}}
	for i, l := range layers {
		if l.Values.Rows != hom.Points.Rows {
			return res, fmt.Errorf("activations: layer %s has %d rows for %d points", l.Name, l.Values.Rows, hom.Points.Rows)
		}
		clouds = append(clouds, snapshot.Cloud{Name: l.Name, Net: NetName, Layer: i + 1, Points: l.Values})
	}
	sopt := snapshot.Options{
		Metric: cfg.Dist, K: cfg.K, DistParams: cfg.DistParams, PHParams: cfg.PHParams, MaxDim: cfg.MaxDim,
		Threshold: Threshold(cfg.BettiScale, cfg.DistParams["weights"] == "hops" || cfg.DistParams["weights"] == "unit"),
		Edges:     opt.Edges,
		Summary:   summary.Options{BettiScale: cfg.BettiScale},
	}
	topoStart := time.Now()
	err = Topology(ctx, p.Dist, p.PH, clouds, hom, cfg.K, sopt, func(class string, c snapshot.Cloud, r snapshot.Result) error {
		r.Record.Metric = metricName(cfg)
		if err := store.Append(runstore.TopologyFile, r.Record); err != nil {
			return err
		}
		path := store.Path("diagrams", runstore.SafeName(class), runstore.SafeName(c.Name)+".npz")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := diagram.WriteNPZ(path, r.Diagrams); err != nil {
			return err
		}
		res.Records = append(res.Records, r.Record)
		opt.Log.Info().Str("class", class).Str("cloud", c.Name).Int("points", r.Record.Points).Int("duplicates", r.Record.Duplicates).
			Ints("betti", bettis(r.Record.Summary)).Float64("seconds", r.Record.Seconds).
			Float64("dist_seconds", r.DistSeconds).Float64("ph_seconds", r.PHSeconds).Msg("topology")
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Timings["homology_and_distances"] = time.Since(topoStart).Seconds()
	if err := writeCSVs(store, res.Records, fit.Epochs); err != nil {
		return res, err
	}
	res.Timings["total"] = time.Since(t0).Seconds()
	writeTimings := func() error {
		b, _ := json.MarshalIndent(res.Timings, "", " ")
		return store.WriteFile(runstore.TimingsFile, b)
	}
	if err := writeTimings(); err != nil {
		return res, err
	}
	if opt.Report != nil {
		start := time.Now()
		if err := opt.Report(opt.Dir); err != nil {
			return res, fmt.Errorf("report: %w", err)
		}
		res.Timings["report"] = time.Since(start).Seconds()
		res.Timings["total"] = time.Since(t0).Seconds()
		if err := writeTimings(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Topology computes, for each class of data (the labels of the rows) and
// each cloud (rows in data's order: the input or a layer's activations
// of data.Points), the distances and homology of the class's distinct
// points, and hands each result, its record's Class and Duplicates set,
// to emit in class-then-layer order.
func Topology(ctx context.Context, dist sdk.Distance, ph sdk.Homology, clouds []snapshot.Cloud, data sdk.DataSet, k int, opt snapshot.Options, emit func(class string, c snapshot.Cloud, r snapshot.Result) error) error {
	for ci, class := range data.Classes {
		rows := rowsOf(data.Labels, ci)
		for _, c := range clouds {
			if c.Points.Rows != len(data.Labels) {
				return fmt.Errorf("cloud %s has %d rows for %d labelled points", c.Name, c.Points.Rows, len(data.Labels))
			}
			pts := subset(c.Points, rows)
			uniq, dups := distinct(pts)
			if opt.Metric == "geodesic" && uniq.Rows <= k {
				return fmt.Errorf("class %s at %s: %d distinct points of %d, too few for k = %d neighbours", class, c.Name, uniq.Rows, pts.Rows, k)
			}
			cc := c
			cc.Points = uniq
			r, err := snapshot.Analyze(ctx, dist, ph, cc, opt)
			if err != nil {
				return fmt.Errorf("class %s: %w", class, err)
			}
			r.Record.Class, r.Record.Duplicates = class, dups
			if err := emit(class, c, r); err != nil {
				return err
			}
		}
	}
	return nil
}

func metricName(cfg config.Config) string {
	s := cfg.Dist
	if cfg.Dist == "geodesic" {
		s += " k=" + strconv.Itoa(cfg.K)
		if w := cfg.DistParams["weights"]; w != "" {
			s += " " + w
		}
	}
	return s
}

func bettis(s summary.Summary) []int {
	var out []int
	for _, d := range s.Dims {
		out = append(out, d.Betti)
	}
	return out
}

// accuracy is the fraction of rows whose largest entry is at the label.
func accuracy(probs sdk.Matrix, labels []int) float64 {
	if probs.Rows != len(labels) || probs.Rows == 0 {
		return math.NaN()
	}
	right := 0
	for i := 0; i < probs.Rows; i++ {
		row := probs.Row(i)
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == labels[i] {
			right++
		}
	}
	return float64(right) / float64(probs.Rows)
}

// crossEntropy is the mean of -log(probability of the label) over rows.
func crossEntropy(probs sdk.Matrix, labels []int) float64 {
	if probs.Rows != len(labels) || probs.Rows == 0 {
		return math.NaN()
	}
	sum := 0.0
	for i := 0; i < probs.Rows; i++ {
		sum -= math.Log(max(probs.Row(i)[labels[i]], 1e-300))
	}
	return sum / float64(probs.Rows)
}

func rowsOf(labels []int, c int) []int {
	var rows []int
	for i, l := range labels {
		if l == c {
			rows = append(rows, i)
		}
	}
	return rows
}

func subset(m sdk.Matrix, rows []int) sdk.Matrix {
	out := sdk.NewMatrix(len(rows), m.Cols)
	for r, i := range rows {
		copy(out.Row(r), m.Row(i))
	}
	return out
}

// distinct returns the distinct rows of m, in order of first appearance,
// and how many repeats were dropped. A ReLU layer maps whole regions of
// the input to one point; the paper's metric counts each location once,
// and dropping repeats here also spares the distance and homology
// plugins their rows.
func distinct(m sdk.Matrix) (sdk.Matrix, int) {
	seen := map[string]bool{}
	out := sdk.Matrix{Cols: m.Cols}
	var key strings.Builder
	for i := 0; i < m.Rows; i++ {
		key.Reset()
		for _, v := range m.Row(i) {
			if v == 0 {
				v = 0 // -0 is 0
			}
			key.WriteString(strconv.FormatUint(math.Float64bits(v), 16))
			key.WriteByte(',')
		}
		if seen[key.String()] {
			continue
		}
		seen[key.String()] = true
		out.Data = append(out.Data, m.Row(i)...)
		out.Rows++
	}
	return out, m.Rows - out.Rows
}

func writeCSVs(store *runstore.Store, topo []summary.TopologyRecord, epochs []sdk.EpochStat) error {
	var scalars []summary.ScalarRecord
	for _, e := range epochs {
		scalars = append(scalars, summary.ScalarRecord{Step: e.Epoch, Update: e.Epoch, Values: map[string]float64{"losses/train_loss": e.Loss, "charts/train_accuracy": e.Accuracy}})
	}
	for name, write := range map[string]func(io.Writer) error{
		"scalars.csv":  func(w io.Writer) error { return summary.WriteScalarsCSV(w, scalars) },
		"topology.csv": func(w io.Writer) error { return summary.WriteTopologyCSV(w, topo) },
	} {
		if err := runstore.WriteAtomic(store.Path(name), write); err != nil {
			return err
		}
	}
	return nil
}
