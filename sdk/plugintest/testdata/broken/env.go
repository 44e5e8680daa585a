package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// env is a toy environment, "Cart-v0": a point on a line pushed by one
// action in [-1, 1]. Observations are position and velocity, the reward
// is minus the squared position, an episode terminates when the point
// leaves [-2, 2] and is truncated after 60 steps. Starts are random:
// position and velocity drawn from the batch's stream.
type env struct {
	name string
	// The faults, each off in the healthy env.
	nanAt      int  // a NaN position in the last env's observation at this step of a batch
	fixedSeed  bool // every batch draws from seed 0, whatever it is asked
	noReseed   bool // Reset keeps the stream whatever its seed
	crashAfter int  // a crash (an index out of range) at step crashAfter+1 of a batch
	noEpisodes bool // episodes end without their statistics

	mu      sync.Mutex
	batches map[int]*batch
	next    int
}

const (
	timeLimit = 60
	obsDim    = 2
)

type batch struct {
	n       int
	rng     *rand.Rand
	x, v    []float64
	ret     []float64
	length  []int
	steps   int
	history [50]float64 // the crash50 fault's buffer
}

func (e *env) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: e.name, Kind: sdk.KindEnv, Version: "0.1.0", Protocol: sdk.ProtocolVersion,
		Description:  "a point on a line (conformance kit fixture)",
		Capabilities: map[string]string{sdk.CapTasks: "Cart-v0", sdk.CapObsDims: "Cart-v0=2"}}, nil
}

func (e *env) seed(b *batch, seed int64) {
	if e.fixedSeed {
		seed = 0
	}
	b.rng = rand.New(rand.NewPCG(uint64(seed), 0x70f))
}

func (b *batch) start(i int) {
	b.x[i] = b.rng.Float64() - 0.5
	b.v[i] = 0.2*b.rng.Float64() - 0.1
	b.ret[i], b.length[i] = 0, 0
}

func (b *batch) obs() sdk.Matrix {
	m := sdk.NewMatrix(b.n, obsDim)
	for i := range b.n {
		m.Data[2*i], m.Data[2*i+1] = b.x[i], b.v[i]
	}
	return m
}

func (e *env) Open(_ context.Context, cfg sdk.EnvConfig) (int, sdk.EnvSpec, error) {
	if cfg.TaskID != "Cart-v0" {
		return 0, sdk.EnvSpec{}, fmt.Errorf("%s: unknown task %q (tasks: Cart-v0)", e.name, cfg.TaskID)
	}
	if cfg.NumEnvs < 1 {
		return 0, sdk.EnvSpec{}, fmt.Errorf("%s: %d envs, want at least 1", e.name, cfg.NumEnvs)
	}
	for k := range cfg.Options {
		return 0, sdk.EnvSpec{}, fmt.Errorf("%s: no parameter %q", e.name, k)
	}
	n := cfg.NumEnvs
	b := &batch{n: n, x: make([]float64, n), v: make([]float64, n), ret: make([]float64, n), length: make([]int, n)}
	e.seed(b, cfg.Seed)
	for i := range n {
		b.start(i)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.batches == nil {
		e.batches = map[int]*batch{}
	}
	e.next++
	e.batches[e.next] = b
	inf := math.Inf(1)
	return e.next, sdk.EnvSpec{TaskID: cfg.TaskID, NumEnvs: n, ObsDim: obsDim, ActDim: 1,
		ObsLow: []float64{-inf, -inf}, ObsHigh: []float64{inf, inf},
		ActLow: []float64{-1}, ActHigh: []float64{1}, MaxEpisodeSteps: timeLimit, DT: 0.05}, nil
}

func (e *env) batch(h int) (*batch, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.batches[h]
	if !ok {
		return nil, fmt.Errorf("%s: no batch %d", e.name, h)
	}
	return b, nil
}

func (e *env) Reset(_ context.Context, h int, seed int64) (sdk.Matrix, error) {
	b, err := e.batch(h)
	if err != nil {
		return sdk.Matrix{}, err
	}
	if seed >= 0 && !e.noReseed {
		e.seed(b, seed)
	}
	for i := range b.n {
		b.start(i)
	}
	return b.obs(), nil
}

func (e *env) Step(_ context.Context, h int, actions sdk.Matrix) (sdk.StepResult, error) {
	b, err := e.batch(h)
	if err != nil {
		return sdk.StepResult{}, err
	}
	if actions.Rows != b.n || actions.Cols != 1 || len(actions.Data) != b.n {
		return sdk.StepResult{}, fmt.Errorf("%s: actions are %dx%d, want %dx1", e.name, actions.Rows, actions.Cols, b.n)
	}
	for i, a := range actions.Data {
		if math.IsNaN(a) || a < -1 || a > 1 {
			return sdk.StepResult{}, fmt.Errorf("%s: action of env %d is %v, want a value in [-1, 1]", e.name, i, a)
		}
	}
	b.steps++
	if e.crashAfter > 0 {
		// The fault: a buffer sized for the steps someone tried.
		b.history[b.steps-1] = actions.Data[0]
	}
	res := sdk.StepResult{Reward: make([]float64, b.n), Terminated: make([]bool, b.n), Truncated: make([]bool, b.n), FinalObs: sdk.NewMatrix(b.n, obsDim)}
	for i := range b.n {
		b.v[i] += 0.05 * actions.Data[i]
		b.x[i] += 0.05 * b.v[i] * 20
		res.Reward[i] = -b.x[i] * b.x[i]
		b.ret[i] += res.Reward[i]
		b.length[i]++
		res.Terminated[i] = math.Abs(b.x[i]) > 2
		res.Truncated[i] = !res.Terminated[i] && b.length[i] >= timeLimit
		if res.Terminated[i] || res.Truncated[i] {
			res.FinalObs.Data[2*i], res.FinalObs.Data[2*i+1] = b.x[i], b.v[i]
			if !e.noEpisodes {
				res.Episodes = append(res.Episodes, sdk.EpisodeStat{Env: i, Return: b.ret[i], Length: b.length[i]})
			}
			b.start(i)
		}
	}
	res.Obs = b.obs()
	if e.nanAt > 0 && b.steps == e.nanAt {
		res.Obs.Data[obsDim*(b.n-1)] = math.NaN() // the fault: the last env's position went NaN
	}
	return res, nil
}

func (e *env) Render(context.Context, int, int, int, int) (sdk.Frame, error) {
	return sdk.Frame{}, fmt.Errorf("%s: no rendering", e.name)
}

func (e *env) Close(_ context.Context, h int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.batches, h)
	return nil
}
