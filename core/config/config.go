// Package config holds the settings of a NeuralTopology run: the seed
// project's YAML keys (so its config files work unchanged, including the
// misspelt hidden_szie) plus this project's own, with their defaults.
package config

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/sdk"
	"go.yaml.in/yaml/v3"
)

// Config is everything a run needs. Field tags are the YAML keys; the
// seed's keys come first and keep its names.
type Config struct {
	// The seed's keys (CleanRL's ppo_continuous_action names).
	EnvID                    string  `yaml:"env_id"`
	Seed                     int64   `yaml:"seed"`
	HiddenSize               string  `yaml:"hidden_size"` // "64" or "64,64"
	TotalTimesteps           int     `yaml:"total_timesteps"`
	LearningRate             float64 `yaml:"learning_rate"`
	AnnealLR                 bool    `yaml:"anneal_lr"`
	NumEnvs                  int     `yaml:"num_envs"`
	NumSteps                 int     `yaml:"num_steps"`
	Gamma                    float64 `yaml:"gamma"`
	GAELambda                float64 `yaml:"gae_lambda"`
	NumMinibatches           int     `yaml:"num_minibatches"`
	UpdateEpochs             int     `yaml:"update_epochs"`
	NormAdv                  bool    `yaml:"norm_adv"`
	ClipCoef                 float64 `yaml:"clip_coef"`
	ClipVLoss                bool    `yaml:"clip_vloss"`
	EntCoef                  float64 `yaml:"ent_coef"`
	VFCoef                   float64 `yaml:"vf_coef"`
	MaxGradNorm              float64 `yaml:"max_grad_norm"`
	TargetKL                 float64 `yaml:"target_kl"` // 0: no early stop
	TopologyAnalysisInterval int     `yaml:"topology_analysis_interval"`
	SaveCheckpointInterval   int     `yaml:"save_checkpoint_interval"`
	CaptureVideo             bool    `yaml:"capture_video"`
	// The seed's experiment-tracker keys. nthost does not reach W&B
	// itself; with track true a run prints how to upload its
	// TensorBoard files afterwards (TrackNotice).
	Track            bool   `yaml:"track"`
	WandbProjectName string `yaml:"wandb_project_name"`
	WandbEntity      string `yaml:"wandb_entity"`

	// This project's keys.
	Env          string  `yaml:"env"`              // environment plugin name
	Algo         string  `yaml:"algo"`             // algorithm plugin name
	Dist         string  `yaml:"dist"`             // distance plugin name
	PH           string  `yaml:"ph"`               // homology plugin name
	K            int     `yaml:"k"`                // neighbours for the geodesic metric (other points)
	TDASamples   int     `yaml:"tda_samples"`      // states per snapshot
	MaxDim       int     `yaml:"maxdim"`           // highest homology dimension (capped at d-1)
	BettiScale   float64 `yaml:"betti_scale"`      // the seed's fixed scale for Betti numbers
	NormalizedIn bool    `yaml:"normalized_input"` // input cloud in normalised coordinates
	SaveClouds   bool    `yaml:"save_clouds"`      // keep point clouds as .npz for later benchmarks
	RunDir       string  `yaml:"run_dir"`          // default runs/<env-id>__<algo>__<seed>__<time>
	SnapshotJobs int     `yaml:"snapshot_jobs"`    // snapshots computed at once beside training

	// Supervised runs (core/classify): a data plugin's labelled data set
	// instead of an environment. Empty Data means an RL run.
	Data         string `yaml:"data"`          // data plugin name, e.g. "naitzat"
	DataID       string `yaml:"data_id"`       // the data set, e.g. "D-I"
	TrainSamples int    `yaml:"train_samples"` // training points; 0: the data set's own size
	// MaxHoldoutError is the largest error on the homology set (points
	// the network never trained on) a trained network may have for its
	// topology to be computed: the paper's "well-trained" networks have
	// near-zero generalisation error.
	MaxHoldoutError float64 `yaml:"max_holdout_error"`

	// Parameters for each plugin, as the plugin declares them (its
	// Describe lists name, type and default; the host checks them at
	// start). YAML maps, e.g. dist_params: {weights: unit}; flags
	// --dist-param weights=unit. A plugin's "k" is also set by k.
	EnvParams  map[string]string `yaml:"env_params"`
	AlgoParams map[string]string `yaml:"algo_params"`
	DistParams map[string]string `yaml:"dist_params"`
	PHParams   map[string]string `yaml:"ph_params"`
	DataParams map[string]string `yaml:"data_params"`
}

// ParamKeys are the keys holding plugin parameters, by plugin kind.
var ParamKeys = map[string]string{"env": "env_params", "algo": "algo_params", "dist": "dist_params", "ph": "ph_params", "data": "data_params"}

// Default returns the seed's defaults: Hopper-v4, 1M steps, CleanRL's PPO
// hyperparameters, a snapshot every 10 updates with 500 states, k = 15
// geodesic distances and Ripser-style homology in dims 0..2.
func Default() Config {
	return Config{
		EnvID: "Hopper-v4", Seed: 1, HiddenSize: "64,64",
		TotalTimesteps: 1_000_000, LearningRate: 3e-4, AnnealLR: true,
		NumEnvs: 1, NumSteps: 2048, Gamma: 0.99, GAELambda: 0.95,
		NumMinibatches: 32, UpdateEpochs: 10, NormAdv: true, ClipCoef: 0.2,
		ClipVLoss: true, EntCoef: 0, VFCoef: 0.5, MaxGradNorm: 0.5,
		TopologyAnalysisInterval: 10, SaveCheckpointInterval: 50,

		Env: "mujoco", Algo: "ppo", Dist: "geodesic", PH: "rips",
		K: 15, TDASamples: 500, MaxDim: 2, BettiScale: 2.5, SnapshotJobs: 1,
		MaxHoldoutError: 0.001,
	}
}

// aliases maps alternative spellings found in the seed's files to keys.
var aliases = map[string]string{"hidden_szie": "hidden_size"}

// ignored are seed keys that have no effect here (CleanRL's derived sizes,
// its torch switches, its run name); they are accepted so its files load.
var ignored = map[string]bool{
	"exp_name":            true,
	"torch_deterministic": true, "cuda": true, "batch_size": true, "minibatch_size": true,
	"num_iterations": true,
}

// Load reads a YAML file over c. Unknown keys are an error naming the key
// (a typo must not silently fall back to a default); the seed's misspelt
// hidden_szie is accepted.
func (c *Config) Load(path string) ([]string, error) {
	b, err := runstore.ReadFileLimit(path, runstore.MaxSmallFile)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config %s: %v", path, err)
	}
	var set []string
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		node := raw[k]
		if ignored[k] {
			continue
		}
		key := k
		if a, ok := aliases[k]; ok {
			key = a
		}
		if err := c.Set(key, nodeText(&node)); err != nil {
			return nil, fmt.Errorf("config %s: line %d: %v", path, node.Line, err)
		}
		set = append(set, key)
	}
	return set, nil
}

// nodeText renders a YAML node as the text Set parses: scalars as they
// are, sequences (e.g. hidden sizes [64, 64]) joined by commas, mappings
// (plugin parameters) as k=v pairs joined by commas.
func nodeText(n *yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, n.Content[i].Value+"="+n.Content[i+1].Value)
		}
		return strings.Join(parts, ",")
	}
	if n.Kind == yaml.SequenceNode {
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = c.Value
		}
		return strings.Join(parts, ",")
	}
	return n.Value
}

// field finds the struct field with YAML key key.
func (c *Config) field(key string) (reflect.Value, bool) {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("yaml") == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// Keys lists every YAML key a config accepts, in declaration order.
func Keys() []string {
	t := reflect.TypeOf(Config{})
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("yaml")
	}
	return keys
}

// IsBool reports whether key holds true or false, so that a command line
// can take it as a switch (--save-clouds) as well as with a value.
func IsBool(key string) bool {
	if a, ok := aliases[key]; ok {
		key = a
	}
	var c Config
	f, ok := c.field(key)
	return ok && f.Kind() == reflect.Bool
}

// Set parses text into the field with YAML key key.
func (c *Config) Set(key, text string) error {
	if a, ok := aliases[key]; ok {
		key = a
	}
	f, ok := c.field(key)
	if !ok {
		return fmt.Errorf("unknown key %q (known keys: %s)", key, strings.Join(Keys(), ", "))
	}
	text = strings.TrimSpace(text)
	switch f.Kind() {
	case reflect.Map:
		// k=v pairs merge into a copy, so configs copied by value never
		// share a parameter map; an empty text clears it.
		m := map[string]string{}
		if text != "" {
			for k, v := range f.Interface().(map[string]string) {
				m[k] = v
			}
		}
		for _, kv := range strings.Split(text, ",") {
			if kv = strings.TrimSpace(kv); kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return fmt.Errorf("%s: %q is not NAME=VALUE", key, kv)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		if len(m) == 0 {
			m = nil
		}
		if kt, ok := m["k"]; ok && key == "dist_params" {
			// dist_params k and k are one setting (--k is the short form
			// of --dist-param k=N): keep them equal, so config.yaml says
			// what the run uses and Validate checks its range.
			k, err := strconv.Atoi(kt)
			if err != nil {
				return fmt.Errorf("dist_params: k=%s is not an integer", kt)
			}
			c.K = k
		}
		f.Set(reflect.ValueOf(m))
	case reflect.String:
		f.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", key, text)
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int64:
		// Accept 1e6 and 1_000_000 for step counts.
		x, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return fmt.Errorf("%s: %q is not an integer", key, text)
		}
		f.SetInt(int64(x))
		if _, ok := c.DistParams["k"]; ok && key == "k" {
			m := maps.Clone(c.DistParams)
			m["k"] = strconv.Itoa(c.K)
			c.DistParams = m
		}
	case reflect.Float64:
		if key == "target_kl" && (text == "" || text == "~" || strings.EqualFold(text, "none") || strings.EqualFold(text, "null")) {
			f.SetFloat(0)
			return nil
		}
		x, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: %q is not a finite number", key, text)
		}
		f.SetFloat(x)
	}
	return nil
}

// Get renders the field with YAML key key as text.
func (c *Config) Get(key string) string {
	f, ok := c.field(key)
	if !ok {
		return ""
	}
	switch f.Kind() {
	case reflect.Float64:
		return strconv.FormatFloat(f.Float(), 'g', -1, 64)
	case reflect.Map:
		m := f.Interface().(map[string]string)
		parts := make([]string, 0, len(m))
		for _, k := range sortedKeys(m) {
			parts = append(parts, k+"="+m[k])
		}
		return strings.Join(parts, ",")
	default:
		return fmt.Sprint(f.Interface())
	}
}

// Hyper returns every key as text, the form an algorithm plugin receives
// (it picks the keys it knows), with the algorithm's parameters added.
// The parameter maps themselves are left out.
func (c *Config) Hyper() map[string]string {
	m := make(map[string]string)
	for _, k := range Keys() {
		if f, _ := c.field(k); f.Kind() != reflect.Map {
			m[k] = c.Get(k)
		}
	}
	for k, v := range c.AlgoParams {
		m[k] = v
	}
	return m
}

// Params returns the parameters for the plugin of kind ("env", "algo",
// "dist", "ph" or "data").
func (c *Config) Params(kind string) map[string]string {
	switch kind {
	case "env":
		return c.EnvParams
	case "algo":
		return c.AlgoParams
	case "dist":
		return c.DistParams
	case "ph":
		return c.PHParams
	case "data":
		return c.DataParams
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Validate checks values that would make a run fail later, so it fails
// before any plugin starts.
func (c *Config) Validate() error {
	var errs []string
	pos := func(key string, v int) {
		if v < 1 {
			errs = append(errs, fmt.Sprintf("%s must be >= 1 (got %d)", key, v))
		}
	}
	pos("total_timesteps", c.TotalTimesteps)
	pos("num_envs", c.NumEnvs)
	pos("num_steps", c.NumSteps)
	pos("num_minibatches", c.NumMinibatches)
	pos("update_epochs", c.UpdateEpochs)
	pos("tda_samples", c.TDASamples)
	pos("snapshot_jobs", c.SnapshotJobs)
	if c.TopologyAnalysisInterval < 0 {
		errs = append(errs, "topology_analysis_interval must be >= 0 (0 turns snapshots off)")
	}
	if c.SaveCheckpointInterval < 0 {
		errs = append(errs, "save_checkpoint_interval must be >= 0 (0 saves only at the end)")
	}
	if c.NumSteps*c.NumEnvs%max(c.NumMinibatches, 1) != 0 {
		errs = append(errs, fmt.Sprintf("num_steps x num_envs (%d) must be divisible by num_minibatches (%d)", c.NumSteps*c.NumEnvs, c.NumMinibatches))
	}
	// These become parts of paths (runs/<env_id>__<algo>__..., plugin
	// binaries nt-<kind>-<name>): nothing that could leave its folder.
	for _, kv := range [][2]string{{"env_id", c.EnvID}, {"env", c.Env}, {"algo", c.Algo}, {"dist", c.Dist}, {"ph", c.PH}, {"data", c.Data}, {"data_id", c.DataID}} {
		if kv[1] == "" && (kv[0] == "data" || kv[0] == "data_id") {
			continue // an RL run
		}
		if !safeName(kv[1]) {
			errs = append(errs, fmt.Sprintf("%s %q: want letters, digits, '.', '_' and '-' only, not starting with '.'", kv[0], kv[1]))
		}
	}
	if c.Data != "" && c.DataID == "" {
		errs = append(errs, fmt.Sprintf("data %q needs data_id, the data set to generate (e.g. --data-id D-I)", c.Data))
	}
	if c.MaxHoldoutError < 0 || c.MaxHoldoutError > 1 || math.IsNaN(c.MaxHoldoutError) {
		errs = append(errs, fmt.Sprintf("max_holdout_error must be in [0, 1] (a fraction of the homology points; got %g)", c.MaxHoldoutError))
	}
	if c.TrainSamples < 0 {
		errs = append(errs, fmt.Sprintf("train_samples must be >= 0 (0: the data set's own size; got %d)", c.TrainSamples))
	}
	if c.MaxDim < 0 || c.MaxDim > 3 {
		errs = append(errs, fmt.Sprintf("maxdim must be 0..3 (got %d)", c.MaxDim))
	}
	if _, kParam := c.DistParams["k"]; (c.Dist == "geodesic" || kParam) && (c.K < 1 || c.K >= c.TDASamples) {
		errs = append(errs, fmt.Sprintf("k must be in 1..tda_samples-1 (got %d)", c.K))
	}
	if c.LearningRate <= 0 {
		errs = append(errs, "learning_rate must be > 0")
	}
	if c.Gamma <= 0 || c.Gamma > 1 || c.GAELambda < 0 || c.GAELambda > 1 {
		errs = append(errs, "gamma must be in (0,1] and gae_lambda in [0,1]")
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	// Sizes the machine cannot hold are refused now, with one line, not
	// by the OOM killer an hour in.
	if err := sdk.CheckMemory("config: this run (rollout buffer, networks, snapshots)", c.MemoryNeed()); err != nil {
		return err
	}
	return nil
}

// MemoryNeed is a lower bound, in bytes, of what a run with this config
// holds at once: the rollout buffer, the actor's and critic's weights with
// their gradients and Adam moments, and a snapshot's distance matrices and
// activations. Observation and action widths are not known before the
// environment starts, so they count as 1: the bound only catches sizes
// that cannot fit whatever the task.
func (c *Config) MemoryNeed() float64 {
	var hidden []float64
	for _, f := range strings.Split(c.HiddenSize, ",") {
		if h, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err == nil && h > 0 {
			hidden = append(hidden, h)
		}
	}
	params, prev, width := 0.0, 1.0, 0.0
	for _, h := range hidden {
		params += prev*h + h
		prev = h
		width += h
	}
	params += prev + 1
	const f64 = 8
	nets := 2 * params * f64 * 4 // actor and critic: weights, gradients, two Adam moments
	rollout := float64(c.NumSteps) * float64(c.NumEnvs) * (1 + 1 + 6) * f64
	n := float64(c.TDASamples)
	snapshot := 2*n*n*f64 + n*width*f64
	return nets + rollout + snapshot
}

// YAML renders the resolved config, every key, for the run directory.
func (c *Config) YAML() []byte {
	var b bytes.Buffer
	b.WriteString("# resolved NeuralTopology config: every key, after file and flags\n")
	for _, k := range Keys() {
		v := c.Get(k)
		switch f, _ := c.field(k); f.Kind() {
		case reflect.String:
			v = strconv.Quote(v)
		case reflect.Map:
			m := f.Interface().(map[string]string)
			parts := make([]string, 0, len(m))
			for _, pk := range sortedKeys(m) {
				parts = append(parts, pk+": "+strconv.Quote(m[pk]))
			}
			v = "{" + strings.Join(parts, ", ") + "}"
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	return b.Bytes()
}

// TrackerKeys are the keys of the experiment tracker: they do not change
// a run's results.
var TrackerKeys = []string{"track", "wandb_project_name", "wandb_entity"}

// TrackNotice is the line a run prints at its start when track is true:
// W&B cannot be reached from nthost, so the run's TensorBoard files (in
// runDir/tb) are uploaded after the run with wandb sync, with the
// project and entity of the config. "" when track is false.
func (c *Config) TrackNotice(runDir string) string {
	if !c.Track {
		return ""
	}
	cmd := "wandb sync --sync-tensorboard"
	if c.WandbProjectName != "" {
		cmd += " -p " + shellQuote(c.WandbProjectName)
	}
	if c.WandbEntity != "" {
		cmd += " -e " + shellQuote(c.WandbEntity)
	}
	return "track: nthost does not upload to W&B itself; after the run: " + cmd + " " + shellQuote(filepath.Join(runDir, "tb"))
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and ./_-+=:@,.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("./_-+=:@,", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	if s == "" {
		return "''"
	}
	return s
}

// safeName reports whether s can be one component of a path: letters,
// digits, '.', '_' and '-', not empty and not starting with '.'.
func safeName(s string) bool {
	if s == "" || s[0] == '.' || len(s) > 200 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
