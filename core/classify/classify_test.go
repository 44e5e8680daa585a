package classify

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/snapshot"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// plugins builds the real data, distance and homology plugins once.
func plugins(t *testing.T) (sdk.Data, sdk.Distance, sdk.Homology, sdk.Info) {
	t.Helper()
	binOnce.Do(func() {
		// Shared by every test of the package, so not one test's
		// TempDir (removed when that test ends); TestMain removes it.
		binDir, binErr = os.MkdirTemp("", "classify-plugins")
		if binErr != nil {
			return
		}
		for _, p := range []string{"data-naitzat", "dist-geodesic", "ph-rips", "ph-ripser", "algo-mlp"} {
			kind, name, _ := cut(p)
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "nt-"+kind+"-"+name), "../../plugins/"+p).CombinedOutput()
			if err != nil {
				binErr = fmt.Errorf("building %s: %v\n%s", p, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	d, err := plugintest.Open(t, filepath.Join(binDir, "nt-data-naitzat")).Data()
	if err != nil {
		t.Fatal(err)
	}
	dc := plugintest.Open(t, filepath.Join(binDir, "nt-dist-geodesic"))
	pc := plugintest.Open(t, filepath.Join(binDir, "nt-ph-rips"))
	dist, _ := dc.Plugin().(sdk.Distance)
	ph, _ := pc.Plugin().(sdk.Homology)
	return d, dist, ph, pc.Info
}

func cut(p string) (string, string, bool) {
	for i := range p {
		if p[i] == '-' {
			return p[:i], p[i+1:], true
		}
	}
	return p, "", false
}

// inputBetti runs the input layer of data set id through Topology with
// the paper's settings (ApplyDefaults) and returns each class's Betti
// numbers at 2.5 hops.
func inputBetti(t *testing.T, id string, samples int, seed int64) map[string][]int {
	data, dist, ph, phInfo := plugins(t)
	cfg := config.Default()
	cfg.Data, cfg.DataID, cfg.Seed = "naitzat", id, seed
	if err := ApplyDefaults(&cfg, map[string]bool{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ds, err := data.Generate(ctx, sdk.DataRequest{DatasetID: id, Seed: seed, Split: sdk.SplitHomology, Samples: samples})
	if err != nil {
		t.Fatal(err)
	}
	opt := snapshot.Options{Metric: cfg.Dist, K: cfg.K, MaxDim: cfg.MaxDim,
		DistParams: map[string]string{"k": strconv.Itoa(cfg.K), "weights": cfg.DistParams["weights"]},
		Threshold:  Threshold(cfg.BettiScale, true), Edges: sdk.TakesInput(phInfo, "edges"),
		Summary: summary.Options{BettiScale: cfg.BettiScale}}
	got := map[string][]int{}
	clouds := []snapshot.Cloud{{Name: "input", Net: summary.NetInput, Points: ds.Points}}
	err = Topology(ctx, dist, ph, clouds, ds, cfg.K, opt, func(class string, _ snapshot.Cloud, r snapshot.Result) error {
		got[class] = bettis(r.Record.Summary)
		if r.Record.Points+r.Record.Duplicates != samples/2 {
			t.Errorf("class %s: %d points and %d duplicates, want %d in all", class, r.Record.Points, r.Record.Duplicates, samples/2)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestInputGroundTruth: through the real plugin processes and the
// paper's metric (k-NN hop counts, k = 14 for D-I and 35 for D-II,
// Betti numbers at 2.5 hops), the input layer's Betti numbers are the
// data sets' true ones for each class, on two seeds. D-I uses the
// paper's 2,600 homology points; D-II 4,500 rather than 11,250 to keep
// the test short (4,500 still gives the true numbers; the run default
// stays the paper's).
func TestInputGroundTruth(t *testing.T) {
	for _, tc := range []struct {
		id      string
		samples int
		want    map[string][]int
	}{
		{"D-I", 2600, map[string][]int{"a": {9, 0}, "b": {1, 9}}},
		{"D-II", 4500, map[string][]int{"a": {9, 9, 0}, "b": {9, 9, 0}}},
	} {
		for _, seed := range []int64{11, 12} {
			got := inputBetti(t, tc.id, tc.samples, seed)
			for class, want := range tc.want {
				if !slices.Equal(got[class], want) {
					t.Errorf("%s seed %d class %s: Betti numbers %v, want %v", tc.id, seed, class, got[class], want)
				}
			}
		}
	}
}

// runD1 runs the whole supervised job on D-I through the real plugin
// processes (the mlp learner included) with a 2-15x4-2 ReLU network and
// 600 homology points, and returns its error and fit.json.
func runD1(t *testing.T, trainSamples int) (FitSummary, string, error) {
	t.Helper()
	data, dist, ph, phInfo := plugins(t)
	algo, ok := plugintest.Open(t, filepath.Join(binDir, "nt-algo-mlp")).Plugin().(sdk.Classifier)
	if !ok {
		t.Fatal("nt-algo-mlp is not a classifier")
	}
	cfg := config.Default()
	cfg.Data, cfg.DataID, cfg.Algo, cfg.Seed = "naitzat", "D-I", "mlp", 3
	cfg.HiddenSize, cfg.TDASamples, cfg.TrainSamples = "15,15,15,15", 600, trainSamples
	cfg.AlgoParams = map[string]string{"activation": "relu"}
	if err := ApplyDefaults(&cfg, map[string]bool{"hidden_size": true, "tda_samples": true}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err := Run(ctx, Plugins{Data: data, Algo: algo, Dist: dist, PH: ph}, cfg, Options{Dir: dir, Edges: sdk.TakesInput(phInfo, "edges")})
	var fs FitSummary
	b, rerr := os.ReadFile(filepath.Join(dir, FitFile))
	if rerr != nil {
		t.Fatalf("fit.json: %v (run error: %v)", rerr, err)
	}
	if jerr := json.Unmarshal(b, &fs); jerr != nil {
		t.Fatal(jerr)
	}
	return fs, dir, err
}

// TestRunTrainsWellBeforeTopology: the network whose topology is
// computed meets the training criterion as the host recomputes it from
// the network's own class probabilities: every training point right, a
// training cross-entropy at most the mlp's loss_target (1e-4) and equal
// to what the plugin reported, and at most max_holdout_error wrong on
// the homology points; then every layer of both classes has a record.
func TestRunTrainsWellBeforeTopology(t *testing.T) {
	fs, dir, err := runD1(t, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !fs.Reached || fs.CheckedAccuracy != 1 || fs.CheckedLoss > 1e-4 || math.Abs(fs.CheckedLoss-fs.Loss) > 1e-9 {
		t.Errorf("fit.json %+v: want reached, checked accuracy 1 and a checked loss <= 1e-4 equal to the plugin's", fs)
	}
	if e := 1 - fs.HomologyAccuracy; e > fs.MaxHoldoutError || fs.MaxHoldoutError != 0.001 {
		t.Errorf("homology error %g, max_holdout_error %g", e, fs.MaxHoldoutError)
	}
	recs, err := os.ReadFile(filepath.Join(dir, "topology.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.TrimSpace(string(recs)), "\n"); n != 2*5 {
		t.Errorf("topology.csv has %d records, want 2 classes x 5 clouds", n)
	}
}

// TestRunRefusesPoorGeneralisation: 60 training points are fitted
// perfectly, but the network then misclassifies more than 0.1% of the
// homology points; the run ends with an error naming max_holdout_error,
// fit.json written and no topology computed.
func TestRunRefusesPoorGeneralisation(t *testing.T) {
	fs, dir, err := runD1(t, 60)
	if err == nil || !strings.Contains(err.Error(), "max_holdout_error") {
		t.Fatalf("run error %v, want one naming max_holdout_error (fit %+v)", err, fs)
	}
	if fs.CheckedAccuracy != 1 || 1-fs.HomologyAccuracy <= 0.001 {
		t.Errorf("fit.json %+v: want a perfect fit of the training points and over 0.1%% homology error", fs)
	}
	if _, serr := os.Stat(filepath.Join(dir, "topology.csv")); !os.IsNotExist(serr) {
		t.Errorf("topology.csv exists after a refused network (%v)", serr)
	}
}

func TestThreshold(t *testing.T) {
	for _, tc := range []struct {
		s    float64
		hops bool
		want float64
	}{{2.5, true, 2}, {3, true, 3}, {2.5, false, 0}, {0.5, true, 0}} {
		if got := Threshold(tc.s, tc.hops); got != tc.want {
			t.Errorf("Threshold(%v, %v) = %v, want %v", tc.s, tc.hops, got, tc.want)
		}
	}
}

// TestDistinct: repeated rows (as a ReLU layer makes) are dropped, and
// -0 equals 0.
func TestDistinct(t *testing.T) {
	m := sdk.Matrix{Rows: 4, Cols: 2, Data: []float64{0, 1, 2, 3, negZero(), 1, 2, 3.5}}
	u, dups := distinct(m)
	if u.Rows != 3 || dups != 1 || !slices.Equal(u.Data, []float64{0, 1, 2, 3, 2, 3.5}) {
		t.Fatalf("distinct: %d rows %v, %d duplicates", u.Rows, u.Data, dups)
	}
}

func negZero() float64 { z := 0.0; return -z }

func TestApplyDefaultsKeepsGivenKeys(t *testing.T) {
	cfg := config.Default()
	cfg.DataID = "D-II"
	if err := cfg.Set("k", "20"); err != nil {
		t.Fatal(err)
	}
	if err := ApplyDefaults(&cfg, map[string]bool{"k": true}); err != nil {
		t.Fatal(err)
	}
	if cfg.K != 20 || cfg.TDASamples != 11250 || cfg.MaxDim != 2 || cfg.HiddenSize != PaperWidths || cfg.DistParams["weights"] != "hops" {
		t.Fatalf("defaults: k %d, tda_samples %d, maxdim %d, hidden %q, weights %q", cfg.K, cfg.TDASamples, cfg.MaxDim, cfg.HiddenSize, cfg.DistParams["weights"])
	}
}

// TestRipsMatchesRipserOnHops: hop-count distances tie massively (a few
// integer values for hundreds of thousands of pairs). At the threshold
// the run uses (2 hops), our engine's diagrams, given sparse edges as a
// run sends them, equal those of Debian's ripser given the dense matrix,
// pair for pair, on clouds of D-I (dims 0, 1) and D-II (dims 0..2).
func TestRipsMatchesRipserOnHops(t *testing.T) {
	data, dist, rips, _ := plugins(t)
	rc := plugintest.Open(t, filepath.Join(binDir, "nt-ph-ripser"))
	ripser, _ := rc.Plugin().(sdk.Homology)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		id      string
		n, k, d int
	}{{"D-I", 800, 14, 1}, {"D-II", 900, 35, 2}} {
		ds, err := data.Generate(ctx, sdk.DataRequest{DatasetID: tc.id, Seed: 5, Split: sdk.SplitHomology, Samples: tc.n})
		if err != nil {
			t.Fatal(err)
		}
		for ci, class := range ds.Classes {
			pts := subset(ds.Points, rowsOf(ds.Labels, ci))
			dr, err := dist.Compute(ctx, pts, map[string]string{"k": strconv.Itoa(tc.k), "weights": "hops"})
			if err != nil {
				t.Fatal(err)
			}
			want, err := ripser.Compute(ctx, sdk.HomologyRequest{Distances: &dr.Distances, MaxDim: tc.d, Threshold: 2})
			if err != nil {
				t.Fatal(err)
			}
			got, err := rips.Compute(ctx, sdk.HomologyRequest{Edges: within(dr.Distances, 2), MaxDim: tc.d, Threshold: 2})
			if err != nil {
				t.Fatal(err)
			}
			for dim := 0; dim <= tc.d; dim++ {
				g, w := sortedPairs(got, dim), sortedPairs(want, dim)
				if !slices.Equal(g, w) {
					t.Errorf("%s class %s H%d: rips %d pairs, ripser %d; first of each: %v / %v", tc.id, class, dim, len(g), len(w), head(g), head(w))
				}
			}
		}
	}
}

func within(d sdk.Matrix, t float64) *sdk.Edges {
	e := &sdk.Edges{N: d.Rows}
	for i := 0; i < d.Rows; i++ {
		for j := i + 1; j < d.Rows; j++ {
			if v := d.At(i, j); v <= t {
				e.I, e.J, e.D = append(e.I, int32(i)), append(e.J, int32(j)), append(e.D, v)
			}
		}
	}
	return e
}

func sortedPairs(ds []sdk.Diagram, dim int) [][2]float64 {
	var out [][2]float64
	for _, d := range ds {
		if d.Dim == dim {
			out = append(out, d.Pairs...)
		}
	}
	slices.SortFunc(out, func(a, b [2]float64) int {
		if a[0] != b[0] {
			return cmpF(a[0], b[0])
		}
		return cmpF(a[1], b[1])
	})
	return out
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func head(p [][2]float64) [][2]float64 { return p[:min(len(p), 3)] }
