package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSeedFileLoads(t *testing.T) {
	// The seed's keys as its files spell them, misspelling included.
	p := write(t, `env_id: Walker2d-v4
seed: 3
hidden_szie: 128
total_timesteps: 2e6
learning_rate: 0.00025
num_envs: 2
target_kl: null
ent_coef: 0.01
topology_analysis_interval: 5
capture_video: true
exp_name: walker
`)
	c := Default()
	set, err := c.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.EnvID != "Walker2d-v4" || c.Seed != 3 || c.HiddenSize != "128" || c.TotalTimesteps != 2_000_000 ||
		c.LearningRate != 0.00025 || c.NumEnvs != 2 || c.TargetKL != 0 || c.EntCoef != 0.01 ||
		c.TopologyAnalysisInterval != 5 || !c.CaptureVideo {
		t.Fatalf("loaded %+v", c)
	}
	if c.NumSteps != 2048 || c.NumMinibatches != 32 {
		t.Fatalf("unset keys lost their defaults: %+v", c)
	}
	if !strings.Contains(strings.Join(set, ","), "hidden_size") {
		t.Fatalf("hidden_szie not reported as hidden_size: %v", set)
	}
}

func TestBadFilesNameTheCulprit(t *testing.T) {
	for body, want := range map[string]string{
		"num_steps: lots\n":      "num_steps",
		"learnig_rate: 0.1\n":    `unknown key "learnig_rate"`,
		"gamma: .nan\n":          "gamma",
		"env_id: [unclosed\n":    "c.yaml",
		"total_timesteps: 1.5\n": "not an integer",
	} {
		c := Default()
		_, err := c.Load(write(t, body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error containing %q", body, err, want)
		}
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	c.NumMinibatches = 3
	c.K = 0
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "divisible") || !strings.Contains(err.Error(), "k must be") {
		t.Fatalf("got %v", err)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	c := Default()
	c.EnvID = "InvertedPendulum-v4"
	c.TargetKL = 0.1
	c.HiddenSize = "32,16"
	c.K = 9 // dist_params k and k are one setting (TestDistParamKIsK)
	c.DistParams = map[string]string{"k": "9", "weights": "unit"}
	c.AlgoParams = map[string]string{"clip_obs": "5"}
	var d Config
	if _, err := d.Load(write(t, string(c.YAML()))); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, c) {
		t.Fatalf("round trip changed the config:\n%+v\n%+v", c, d)
	}
	if h := c.Hyper(); h["learning_rate"] != "0.0003" || h["hidden_size"] != "32,16" || h["target_kl"] != "0.1" || h["clip_obs"] != "5" {
		t.Fatalf("hyper = %v", h)
	}
	if _, ok := c.Hyper()["dist_params"]; ok {
		t.Fatalf("hyper must not carry the parameter maps")
	}
}

func TestParamMaps(t *testing.T) {
	path := write(t, "dist: geodesic\ndist_params:\n  weights: unit\nph_params: {engine: fast}\n")
	c := Default()
	if _, err := c.Load(path); err != nil {
		t.Fatal(err)
	}
	if c.DistParams["weights"] != "unit" || c.PHParams["engine"] != "fast" {
		t.Fatalf("maps not loaded: %v %v", c.DistParams, c.PHParams)
	}
	// A flag adds to the file's map; the copy made before is untouched.
	before := c
	if err := c.Set("dist_params", "k=7"); err != nil {
		t.Fatal(err)
	}
	if c.DistParams["k"] != "7" || c.DistParams["weights"] != "unit" || len(before.DistParams) != 1 {
		t.Fatalf("merge: %v, copy %v", c.DistParams, before.DistParams)
	}
	if err := c.Set("dist_params", "novalue"); err == nil || !strings.Contains(err.Error(), "novalue") {
		t.Fatalf("want an error naming the bad pair, got %v", err)
	}
}

// TestTrackNotice: the notice names the project, the entity and the run's
// TensorBoard folder, quoted for a shell, and is empty without track.
func TestTrackNoticeText(t *testing.T) {
	c := Default()
	if n := c.TrackNotice("runs/a"); n != "" {
		t.Errorf("track false: %q", n)
	}
	c.Track, c.WandbProjectName = true, "my proj"
	n := c.TrackNotice("runs/a b")
	if !strings.HasSuffix(n, "wandb sync --sync-tensorboard -p 'my proj' 'runs/a b/tb'") {
		t.Errorf("notice %q", n)
	}
}

// TestDistParamKIsK: dist_params k and k are one setting, whichever is
// given, so config.yaml says what the run uses and the range is checked.
func TestDistParamKIsK(t *testing.T) {
	c := Default()
	if err := c.Set("dist_params", "k=7"); err != nil {
		t.Fatal(err)
	}
	if c.K != 7 {
		t.Errorf("dist_params k=7 left k at %d", c.K)
	}
	if err := c.Set("k", "9"); err != nil {
		t.Fatal(err)
	}
	if c.DistParams["k"] != "9" {
		t.Errorf("k 9 left dist_params k at %s", c.DistParams["k"])
	}
	if err := c.Set("dist_params", "k=100000"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "100000") {
		t.Errorf("dist_params k=100000 validated: %v", err)
	}
	if err := c.Set("dist_params", "k=x"); err == nil {
		t.Error("dist_params k=x accepted")
	}
}
