// Package mjenv implements sdk.Environment in-process on MuJoCo: batches
// of independent copies of one task (tasks package), stepped in parallel
// over the cores, reset automatically at episode end, and reproducible bit
// for bit from a seed.
//
// The same value serves the nt-env-mujoco plugin binary (through
// sdk.Serve) and in-process users such as learning tests.
package mjenv

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mujoco"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/tasks"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Version is the plugin's semantic version.
const Version = "0.1.0"

// InfoUnstable is the info key set to 1 on a step where MuJoCo raised a
// warning or the state stopped being finite; that step ends the episode
// as terminated.
const InfoUnstable = "physics_unstable"

// MaxEnvs bounds NumEnvs so a typo cannot allocate millions of states.
const MaxEnvs = 4096

// Env is the MuJoCo environment plugin. The zero value is not usable; call
// New. Its methods are safe for concurrent use; calls on one handle are
// serialised.
type Env struct {
	mu      sync.Mutex
	batches map[int]*batch
	next    int
	// Logf, if set, receives one line per physics instability. It may be
	// called from several goroutines at once (log.Printf is fine).
	Logf func(format string, args ...any)
}

// New returns an environment plugin with no open batches.
func New() *Env { return &Env{batches: map[int]*batch{}, next: 1} }

// Describe reports the plugin's identity and tasks.
func (e *Env) Describe(ctx context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:        "mujoco",
		Kind:        sdk.KindEnv,
		Version:     Version,
		Protocol:    sdk.ProtocolVersion,
		Description: fmt.Sprintf("MuJoCo %s control tasks with Gymnasium v4 semantics", mjVersion()),
		Capabilities: map[string]string{
			"tasks":    strings.Join(taskOrder, ","),
			"obs_dims": obsDims(),
			"render":   "gif",
		},
	}, nil
}

// obsDims renders each task's observation size for capability obs_dims.
func obsDims() string {
	var parts []string
	for _, id := range taskOrder {
		if t, err := tasks.Lookup(id); err == nil {
			parts = append(parts, fmt.Sprintf("%s=%d", id, t.ObsDim))
		}
	}
	return strings.Join(parts, ",")
}

// taskOrder is the order the capabilities list the tasks in.
var taskOrder = []string{"Hopper-v4", "Walker2d-v4", "InvertedPendulum-v4"}

func mjVersion() string {
	v := mujoco.Version()
	return fmt.Sprintf("%d.%d.%d", v/100, v/10%10, v%10)
}

// options are the per-batch settings EnvConfig.Options may change.
type options struct {
	resetNoise float64
}

// knownOptions lists the option keys Open accepts.
var knownOptions = []string{"reset_noise_scale"}

func parseOptions(t *tasks.Task, kv map[string]string) (options, error) {
	o := options{resetNoise: t.ResetNoise}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := kv[k]
		switch k {
		case "reset_noise_scale":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return o, fmt.Errorf("option reset_noise_scale=%q: want a finite number >= 0", v)
			}
			o.resetNoise = f
		default:
			return o, fmt.Errorf("unknown option %q (valid: %s)", k, strings.Join(knownOptions, ", "))
		}
	}
	return o, nil
}

// instance is one environment of a batch.
type instance struct {
	data   *mujoco.Data
	rng    *rand.Rand
	src    *rand.PCG // rng's source, kept to save and restore the stream
	steps  int
	ret    float64
	warned int // d.WarningTotal() after the last reset or step
	// lastRet and lastLen describe the episode that ended at this step.
	lastRet float64
	lastLen int
	// scratch holds the clipped action and the outcome, reused per step.
	act []float64
	out tasks.Outcome
}

// batch is one opened set of environments of a task.
type batch struct {
	// mu serialises calls on the batch: MuJoCo states must not be stepped,
	// reset, drawn or freed by two calls at once.
	mu      sync.Mutex
	task    *tasks.Task
	model   *mujoco.Model
	opts    options
	spec    sdk.EnvSpec
	qpos0   []float64
	envs    []instance
	ctrlLo  []float64
	ctrlHi  []float64
	dt      float64
	workers int
	logf    func(string, ...any)
	render  *renderer
	renderW int
	renderH int
	// cols are this step's info columns in InfoKeys order (the last is
	// InfoUnstable), so workers index them without map lookups.
	cols [][]float64
}

// envRNG derives env i's random stream from the batch seed: one PCG
// stream per (seed, i), so envs are independent and a batch of N
// reproduces the first N envs of a bigger batch.
func envRNG(seed int64, i int) (*rand.Rand, *rand.PCG) {
	src := rand.NewPCG(splitmix(uint64(seed)), splitmix(uint64(i)^0x6a09e667f3bcc909))
	return rand.New(src), src
}

// splitmix is SplitMix64's output function, used to spread nearby seeds
// over the whole PCG state.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Open creates a batch of cfg.NumEnvs environments of cfg.TaskID, already
// reset with cfg.Seed.
func (e *Env) Open(ctx context.Context, cfg sdk.EnvConfig) (int, sdk.EnvSpec, error) {
	t, err := tasks.Lookup(cfg.TaskID)
	if err != nil {
		return 0, sdk.EnvSpec{}, err
	}
	if cfg.NumEnvs < 1 || cfg.NumEnvs > MaxEnvs {
		return 0, sdk.EnvSpec{}, fmt.Errorf("%s: NumEnvs %d out of range 1..%d", cfg.TaskID, cfg.NumEnvs, MaxEnvs)
	}
	opts, err := parseOptions(t, cfg.Options)
	if err != nil {
		return 0, sdk.EnvSpec{}, fmt.Errorf("%s: %w", cfg.TaskID, err)
	}
	b, err := newBatch(t, cfg, opts)
	if err != nil {
		return 0, sdk.EnvSpec{}, err
	}
	b.logf = e.Logf
	e.mu.Lock()
	h := e.next
	e.next++
	e.batches[h] = b
	e.mu.Unlock()
	return h, b.spec, nil
}

func newBatch(t *tasks.Task, cfg sdk.EnvConfig, opts options) (*batch, error) {
	m, err := mujoco.LoadXML(t.XML)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.ID, err)
	}
	nu := m.Nu()
	b := &batch{
		task:    t,
		model:   m,
		opts:    opts,
		qpos0:   m.Qpos0(),
		envs:    make([]instance, cfg.NumEnvs),
		ctrlLo:  make([]float64, nu),
		ctrlHi:  make([]float64, nu),
		dt:      m.Timestep() * float64(t.FrameSkip),
		workers: workers(cfg.NumEnvs, runtime.GOMAXPROCS(0), t.StepMicros),
		cols:    make([][]float64, len(t.InfoKeys)+1),
	}
	for i := range nu {
		a := m.Actuator(i)
		b.ctrlLo[i], b.ctrlHi[i] = a.CtrlRange[0], a.CtrlRange[1]
	}
	inf := math.Inf(1)
	obsLo, obsHi := make([]float64, t.ObsDim), make([]float64, t.ObsDim)
	for i := range obsLo {
		obsLo[i], obsHi[i] = -inf, inf
	}
	b.spec = sdk.EnvSpec{
		TaskID: t.ID, NumEnvs: cfg.NumEnvs,
		ObsDim: t.ObsDim, ActDim: nu,
		ObsLow: obsLo, ObsHigh: obsHi,
		ActLow:          append([]float64(nil), b.ctrlLo...),
		ActHigh:         append([]float64(nil), b.ctrlHi...),
		MaxEpisodeSteps: tasks.MaxEpisodeSteps,
		DT:              b.dt,
		InfoKeys:        append(append([]string(nil), t.InfoKeys...), InfoUnstable),
	}
	for i := range b.envs {
		d, err := mujoco.NewData(m)
		if err != nil {
			b.close()
			return nil, fmt.Errorf("%s: env %d: %w", t.ID, i, err)
		}
		rng, src := envRNG(cfg.Seed, i)
		b.envs[i] = instance{
			data: d, rng: rng, src: src,
			act: make([]float64, nu),
			out: tasks.Outcome{Info: make([]float64, len(t.InfoKeys))},
		}
		b.resetEnv(i)
	}
	return b, nil
}

// minChunkMicros is the least physics work worth a goroutine of its own:
// starting and waking one costs a few microseconds, which a 10 us
// pendulum step cannot amortise but a 65 us Hopper step can.
const minChunkMicros = 40

// workers is how many goroutines step a batch of n envs: at most one per
// core, and only as many as keep minChunkMicros of work each. The result
// never changes a trajectory, only the wall time.
func workers(n, procs int, stepMicros float64) int {
	byWork := int(float64(n) * stepMicros / minChunkMicros)
	return max(1, min(n, procs, byWork))
}

// close frees everything; the caller holds b.mu or owns b alone.
func (b *batch) close() {
	if b.render != nil {
		b.render.close()
		b.render = nil
	}
	for i := range b.envs {
		if b.envs[i].data != nil {
			b.envs[i].data.Close()
		}
	}
	b.model.Close()
	b.model = nil
}

// resetEnv starts a new episode in env i: qpos = qpos0 + U(-s, s),
// qvel = U(-s, s), then forward so derived quantities match.
func (b *batch) resetEnv(i int) {
	in := &b.envs[i]
	d := in.data
	d.Reset()
	s := b.opts.resetNoise
	qpos, qvel := d.Qpos(), d.Qvel()
	for j := range qpos {
		qpos[j] = b.qpos0[j] + uniform(in.rng, s)
	}
	for j := range qvel {
		qvel[j] = uniform(in.rng, s)
	}
	d.Forward()
	in.steps, in.ret, in.warned = 0, 0, d.WarningTotal()
}

// uniform draws from U(-s, s).
func uniform(r *rand.Rand, s float64) float64 { return s * (2*r.Float64() - 1) }

func (e *Env) get(h int) (*batch, error) {
	e.mu.Lock()
	b, ok := e.batches[h]
	e.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("mujoco: no open batch with handle %d", h)
	}
	return b, nil
}

// Reset starts a new episode in every env. seed >= 0 reseeds env i's
// stream from (seed, i); seed < 0 keeps drawing from the current streams.
func (e *Env) Reset(ctx context.Context, handle int, seed int64) (sdk.Matrix, error) {
	b, err := e.get(handle)
	if err != nil {
		return sdk.Matrix{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.model == nil {
		return sdk.Matrix{}, fmt.Errorf("mujoco: batch %d is closed", handle)
	}
	obs := sdk.NewMatrix(len(b.envs), b.task.ObsDim)
	for i := range b.envs {
		if seed >= 0 {
			b.envs[i].rng, b.envs[i].src = envRNG(seed, i)
		}
		b.resetEnv(i)
		b.task.Observe(b.envs[i].data, obs.Row(i))
	}
	return obs, nil
}

// Step applies one row of actions per env. Actions outside the control
// range are clipped; NaN or infinite actions are an error and leave every
// env untouched.
func (e *Env) Step(ctx context.Context, handle int, actions sdk.Matrix) (sdk.StepResult, error) {
	b, err := e.get(handle)
	if err != nil {
		return sdk.StepResult{}, err
	}
	n, na := len(b.envs), b.spec.ActDim
	if actions.Rows != n || actions.Cols != na {
		return sdk.StepResult{}, fmt.Errorf("%s: actions are %dx%d, want %dx%d (NumEnvs x ActDim)", b.task.ID, actions.Rows, actions.Cols, n, na)
	}
	if err := actions.Validate(true); err != nil {
		return sdk.StepResult{}, fmt.Errorf("%s: actions: %w", b.task.ID, err)
	}
	if err := ctx.Err(); err != nil {
		return sdk.StepResult{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.model == nil {
		return sdk.StepResult{}, fmt.Errorf("mujoco: batch %d is closed", handle)
	}
	// Every array of the result is cut from one float slab and one bool
	// slab: allocation is most of mjenv's own cost on a cheap task. The
	// three-index slices keep an append on one part from spilling into
	// the next.
	keys := b.spec.InfoKeys
	od := b.task.ObsDim
	f := make([]float64, 2*n*od+n+len(keys)*n)
	bs := make([]bool, 3*n)
	res := sdk.StepResult{
		Obs:        sdk.Matrix{Rows: n, Cols: od, Data: f[: n*od : n*od]},
		FinalObs:   sdk.Matrix{Rows: n, Cols: od, Data: f[n*od : 2*n*od : 2*n*od]},
		Reward:     f[2*n*od : 2*n*od+n : 2*n*od+n],
		Terminated: bs[:n:n],
		Truncated:  bs[n : 2*n : 2*n],
		Info:       make(map[string][]float64, len(keys)),
	}
	flat := f[2*n*od+n:]
	for k, key := range keys {
		res.Info[key] = flat[k*n : (k+1)*n : (k+1)*n]
		b.cols[k] = res.Info[key]
	}
	ended := bs[2*n:]
	if b.workers <= 1 {
		b.stepRange(0, n, actions, &res, ended)
	} else {
		// The calling goroutine steps the first range itself: one
		// goroutine fewer to start and wake per batch step, and the
		// caller's core is not left idle while it waits.
		var wg sync.WaitGroup
		per := (n + b.workers - 1) / b.workers
		for lo := per; lo < n; lo += per {
			hi := min(lo+per, n)
			wg.Add(1)
			go func() {
				defer wg.Done()
				b.stepRange(lo, hi, actions, &res, ended)
			}()
		}
		b.stepRange(0, min(per, n), actions, &res, ended)
		wg.Wait()
	}
	// Episode stats are gathered after the parallel part so their order
	// (by env index) does not depend on scheduling.
	for i := range ended {
		if ended[i] {
			res.Episodes = append(res.Episodes, sdk.EpisodeStat{Env: i, Return: b.envs[i].lastRet, Length: b.envs[i].lastLen})
		}
	}
	return res, nil
}
