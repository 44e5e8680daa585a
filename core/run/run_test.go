package run

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/rundiff"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/plugins/dist-geodesic/geodesic"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/rips"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// smallConfig is a short InvertedPendulum run with two snapshots.
func smallConfig() config.Config {
	c := config.Default()
	c.EnvID = "InvertedPendulum-v4"
	c.TotalTimesteps = 2048
	c.NumSteps = 256
	c.NumMinibatches = 4
	c.UpdateEpochs = 2
	c.TopologyAnalysisInterval = 4
	c.SaveCheckpointInterval = 4
	c.TDASamples = 120
	c.K = 10
	c.MaxDim = 1
	c.SaveClouds = true
	return c
}

func inProcess() Plugins {
	return Plugins{Env: mjenv.New(), Algo: ppo.New(), Dist: geodesic.Plugin{}, PH: rips.Plugin{}}
}

func runSmall(t *testing.T, inline bool) (string, Result) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), inProcess(), smallConfig(), Options{Dir: dir, Inline: inline, Log: zerolog.Nop()})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return dir, res
}

func readTopology(t *testing.T, dir string) []summary.TopologyRecord {
	t.Helper()
	recs, err := summary.ReadTopology(filepath.Join(dir, runstore.TopologyFile))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestRunWritesEverything(t *testing.T) {
	dir, res := runSmall(t, false)
	if res.Updates != 8 || res.Snapshots != 2 || res.Steps != 2048 {
		t.Fatalf("result %+v: want 8 updates, 2 snapshots, 2048 steps", res)
	}
	recs := readTopology(t, dir)
	// Two snapshots of input + 4 hidden layers.
	if len(recs) != 10 {
		t.Fatalf("%d topology records, want 10", len(recs))
	}
	for _, r := range recs {
		if r.Step != 1024 && r.Step != 2048 {
			t.Errorf("record at step %d, want 1024 or 2048", r.Step)
		}
		ds, err := diagram.ReadNPZ(filepath.Join(dir, "diagrams", "step_"+itoa(r.Step), runstore.SafeName(r.Cloud)+".npz"))
		if err != nil {
			t.Fatalf("diagram of %s at %d: %v", r.Cloud, r.Step, err)
		}
		// Betti numbers in the record must be those of the stored diagram.
		got := make([]int, r.Summary.MaxDim()+1)
		for k := range got {
			got[k] = r.Summary.Betti(k)
		}
		want := make([]int, len(got))
		for _, d := range ds {
			if d.Dim < len(want) {
				for _, p := range d.Pairs {
					if p[0] <= 2.5 && 2.5 < p[1] {
						want[d.Dim]++
					}
				}
			}
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s step %d: record Betti %v, diagram says %v", r.Cloud, r.Step, got, want)
		}
		if r.Points != 120 {
			t.Errorf("%s: %d points, want 120", r.Cloud, r.Points)
		}
		h0 := 0
		for _, d := range ds {
			if d.Dim == 0 {
				for _, p := range d.Pairs {
					if math.IsInf(p[1], 1) {
						h0++
					}
				}
			}
		}
		if h0 < 1 {
			t.Errorf("%s: no essential H0 class", r.Cloud)
		}
	}
	scalars, err := summary.ReadScalars(filepath.Join(dir, runstore.ScalarsFile))
	if err != nil || len(scalars) != 8 {
		t.Fatalf("%d scalar records (%v), want 8", len(scalars), err)
	}
	if _, ok := scalars[7].Values["losses/approx_kl"]; !ok {
		t.Errorf("scalars lack losses/approx_kl: %v", scalars[7].Values)
	}
	for _, f := range []string{"config.yaml", "scalars.csv", "topology.csv", "timings.json", runstore.StateFile, "clouds/step_1024/actor_1.npz"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	tb, _ := filepath.Glob(filepath.Join(dir, "tb", "events.out.tfevents.*"))
	if len(tb) != 1 {
		t.Errorf("want one TensorBoard event file, got %v", tb)
	}
	var timings map[string]float64
	b, _ := os.ReadFile(filepath.Join(dir, runstore.TimingsFile))
	if err := json.Unmarshal(b, &timings); err != nil || timings["homology_and_distances"] <= 0 || timings["training"] <= 0 {
		t.Errorf("timings %v (%v)", timings, err)
	}
}

func TestConcurrentAndInlineSnapshotsAgree(t *testing.T) {
	a, _ := runSmall(t, false)
	b, _ := runSmall(t, true)
	ra, rb := readTopology(t, a), readTopology(t, b)
	if len(ra) != len(rb) {
		t.Fatalf("%d vs %d records", len(ra), len(rb))
	}
	for i := range ra {
		ra[i].Seconds, rb[i].Seconds = 0, 0
		if !reflect.DeepEqual(ra[i], rb[i]) {
			t.Fatalf("record %d differs:\nconcurrent %+v\ninline     %+v", i, ra[i], rb[i])
		}
	}
}

func TestResumeContinuesFromCheckpoint(t *testing.T) {
	full, _ := runSmall(t, true)

	// A run killed during update 6, after its checkpoint at update 4 is
	// on disk (it is written once snapshot 1, taken at update 4, is), with
	// a torn line at the end of a log, as kill -9 could leave it.
	dir := filepath.Join(t.TempDir(), "run")
	cfg := smallConfig()
	ctx, cancel := context.WithCancel(context.Background())
	p := inProcess()
	p.Algo = &cancelAt{Algorithm: p.Algo, update: 6, cancel: cancel, after: filepath.Join(dir, runstore.StateFile)}
	if _, err := Run(ctx, p, cfg, Options{Dir: dir, Log: zerolog.Nop()}); err == nil {
		t.Fatal("the interrupted run reported success")
	}
	f, _ := os.OpenFile(filepath.Join(dir, runstore.TopologyFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"step":1280,"upd`)
	f.Close()

	res, err := Run(context.Background(), inProcess(), cfg, Options{Dir: dir, Resume: true, Inline: true, Log: zerolog.Nop()})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if res.Updates != 8 || res.Snapshots != 2 {
		t.Fatalf("resumed run: %+v", res)
	}
	sameRun(t, full, dir)
}

// sameRun fails the test unless run directories a and b hold the same
// results (core/rundiff).
func sameRun(t *testing.T, a, b string) {
	t.Helper()
	d, err := rundiff.Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) > 0 {
		t.Fatalf("%d differences between the uninterrupted run and the resumed one:\n%s", len(d), strings.Join(d, "\n"))
	}
}

// TestStopSavesAndResumesExactly stops a run between updates through
// Options.Stop, as SIGINT does, and resumes it: nothing is lost and the
// result is the uninterrupted run's.
func TestStopSavesAndResumesExactly(t *testing.T) {
	full, _ := runSmall(t, false)
	dir := filepath.Join(t.TempDir(), "run")
	stop := make(chan struct{})
	p := inProcess()
	// Updates take 256 steps, so the 601st Act is in update 3's rollout:
	// the stop comes between updates.
	p.Algo = &closeAfter{Algorithm: p.Algo, acts: 601, stop: stop}
	_, err := Run(context.Background(), p, smallConfig(), Options{Dir: dir, Stop: stop, Log: zerolog.Nop()})
	if !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "--resume "+dir) {
		t.Fatalf("stopped run: %v", err)
	}
	st, _ := (&runstore.Store{Dir: dir}).LoadState()
	if st == nil || !st.Stopped || st.Step != 600 || st.Update != 2 {
		t.Fatalf("stop checkpoint %+v, want one at step 600 after update 2", st)
	}
	if _, err := Run(context.Background(), inProcess(), smallConfig(), Options{Dir: dir, Resume: true, Log: zerolog.Nop()}); err != nil {
		t.Fatalf("resume: %v", err)
	}
	sameRun(t, full, dir)
}

// closeAfter closes stop at the n-th Act call.
type closeAfter struct {
	sdk.Algorithm
	acts, n int
	stop    chan struct{}
}

func (c *closeAfter) Act(ctx context.Context, req sdk.ActRequest) (sdk.ActResult, error) {
	c.n++
	if c.n == c.acts {
		close(c.stop)
	}
	return c.Algorithm.Act(ctx, req)
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// cancelAt cancels the run's context when the learner reports update n,
// standing in for a kill at that moment; if after is set, it first waits
// (up to a minute) for that file to exist.
type cancelAt struct {
	sdk.Algorithm
	update int
	cancel func()
	after  string
}

func (c *cancelAt) Act(ctx context.Context, req sdk.ActRequest) (sdk.ActResult, error) {
	r, err := c.Algorithm.Act(ctx, req)
	if r.Update != nil && r.Update.Update == c.update {
		for i := 0; c.after != "" && i < 600; i++ {
			if _, err := os.Stat(c.after); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.cancel()
	}
	return r, err
}

func TestShortHopperRun(t *testing.T) {
	c := config.Default()
	c.TotalTimesteps = 4096
	c.NumSteps = 1024
	c.TopologyAnalysisInterval = 2
	c.TDASamples = 150
	dir := filepath.Join(t.TempDir(), "hopper")
	res, err := Run(context.Background(), inProcess(), c, Options{Dir: dir, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshots != 2 {
		t.Fatalf("%d snapshots, want 2", res.Snapshots)
	}
	recs := readTopology(t, dir)
	if len(recs) != 10 {
		t.Fatalf("%d records, want 10", len(recs))
	}
	for _, r := range recs {
		wantDim := 64
		if r.Cloud == "input" {
			wantDim = 11
		}
		if r.Dim != wantDim || r.Summary.MaxDim() != 2 {
			t.Errorf("%s: ambient dim %d (want %d), homology up to H%d (want H2)", r.Cloud, r.Dim, wantDim, r.Summary.MaxDim())
		}
		if r.Summary.Betti(0) < 1 {
			t.Errorf("%s: beta_0 = %d at scale 2.5, a cloud has at least one component", r.Cloud, r.Summary.Betti(0))
		}
	}
}

func TestNormalizedInputCloud(t *testing.T) {
	c := smallConfig()
	c.TotalTimesteps = 1024
	c.NormalizedIn = true
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), inProcess(), c, Options{Dir: dir, Inline: true, Log: zerolog.Nop()}); err != nil {
		t.Fatal(err)
	}
	raw, _ := runSmall(t, true)
	load := func(dir string) sdk.Matrix {
		a, err := matio.ReadNPZ(filepath.Join(dir, "clouds", "step_1024", "input.npz"))
		if err != nil {
			t.Fatal(err)
		}
		return a[0].Matrix
	}
	n, r := load(dir), load(raw)
	if n.Rows != r.Rows || n.Cols != r.Cols {
		t.Fatalf("shapes %dx%d vs %dx%d", n.Rows, n.Cols, r.Rows, r.Cols)
	}
	// Normalised coordinates are centred with unit-ish spread and clipped
	// to [-10, 10]; raw pendulum states are small, so the two differ.
	same := true
	for i := range n.Data {
		if math.Abs(n.Data[i]) > 10 {
			t.Fatalf("normalised coordinate %v outside [-10, 10]", n.Data[i])
		}
		if n.Data[i] != r.Data[i] {
			same = false
		}
	}
	if same {
		t.Fatal("the normalised input cloud equals the raw one")
	}
}
