package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// algo is a toy learner: one tanh hidden layer of 4 units and a linear
// output, actions the output plus Gaussian noise clipped to the bounds;
// every rollout it nudges the output weights by the rollout's mean
// reward. Small, but it keeps the whole contract: updates in order,
// activations, a checkpoint that restores it bit for bit.
type algo struct {
	name    string
	unitBox bool // the fault: actions clipped to [-1, 1], whatever the bounds

	mu sync.Mutex
	st *algoState
}

const hidden = 4

// algoState is everything a checkpoint holds.
type algoState struct {
	ObsDim, ActDim int
	Low, High      []float64
	W1             []float64 // hidden x ObsDim
	W2             []float64 // ActDim x hidden
	Rollout        int
	Acts, Updates  int
	NumEnvs        int
	RewardSum      float64
	Rng            []byte
	rng            *rand.Rand
	pcg            *rand.PCG
}

func (a *algo) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: a.name, Kind: sdk.KindAlgo, Version: "0.1.0", Protocol: sdk.ProtocolVersion,
		Description:  "a tiny policy (conformance kit fixture)",
		Capabilities: map[string]string{sdk.CapMaxObsDim: "64", "action_space": "box"}}, nil
}

func (a *algo) Init(_ context.Context, cfg sdk.AlgoConfig) (sdk.AlgoSpec, error) {
	e := cfg.Env
	if e.ObsDim < 1 || e.ActDim < 1 || len(e.ActLow) != e.ActDim || len(e.ActHigh) != e.ActDim {
		return sdk.AlgoSpec{}, fmt.Errorf("%s: env spec %+v has no action box", a.name, e)
	}
	rollout := 8
	if v, ok := cfg.Hyper["num_steps"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return sdk.AlgoSpec{}, fmt.Errorf("%s: num_steps %q, want an integer >= 1", a.name, v)
		}
		rollout = n
	}
	pcg := rand.NewPCG(uint64(cfg.Seed), 0xa160)
	st := &algoState{ObsDim: e.ObsDim, ActDim: e.ActDim, Low: e.ActLow, High: e.ActHigh, Rollout: rollout, NumEnvs: max(e.NumEnvs, 1),
		W1: make([]float64, hidden*e.ObsDim), W2: make([]float64, e.ActDim*hidden), pcg: pcg, rng: rand.New(pcg)}
	for i := range st.W1 {
		st.W1[i] = st.rng.NormFloat64()
	}
	for i := range st.W2 {
		st.W2[i] = 0.5 * st.rng.NormFloat64()
	}
	a.mu.Lock()
	a.st = st
	a.mu.Unlock()
	return sdk.AlgoSpec{Layers: []string{"policy/1"}, RolloutSteps: rollout}, nil
}

func (st *algoState) hiddenOf(x []float64) []float64 {
	h := make([]float64, hidden)
	for u := range hidden {
		var s float64
		for k, v := range x {
			s += st.W1[u*st.ObsDim+k] * v
		}
		h[u] = math.Tanh(s)
	}
	return h
}

func (a *algo) actions(st *algoState, obs sdk.Matrix, noise bool) (sdk.Matrix, error) {
	if obs.Cols != st.ObsDim || len(obs.Data) != obs.Rows*obs.Cols {
		return sdk.Matrix{}, fmt.Errorf("%s: observations are %dx%d, want %d columns", a.name, obs.Rows, obs.Cols, st.ObsDim)
	}
	out := sdk.NewMatrix(obs.Rows, st.ActDim)
	for i := range obs.Rows {
		h := st.hiddenOf(obs.Row(i))
		for j := range st.ActDim {
			var s float64
			for u, v := range h {
				s += st.W2[j*hidden+u] * v
			}
			if noise {
				s += st.rng.NormFloat64()
			}
			lo, hi := st.Low[j], st.High[j]
			if a.unitBox {
				lo, hi = -1, 1
			}
			out.Data[i*st.ActDim+j] = math.Min(math.Max(s, lo), hi)
		}
	}
	return out, nil
}

func (a *algo) Act(_ context.Context, req sdk.ActRequest) (sdk.ActResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.st
	if st == nil {
		return sdk.ActResult{}, fmt.Errorf("%s: not initialised", a.name)
	}
	var res sdk.ActResult
	if req.Prev != nil {
		for _, r := range req.Prev.Reward {
			st.RewardSum += r
		}
		st.Acts++
		if st.Acts%st.Rollout == 0 {
			mean := st.RewardSum / float64(st.Rollout*st.NumEnvs)
			for i := range st.W2 {
				st.W2[i] += 0.01 * mean
			}
			st.RewardSum = 0
			st.Updates++
			res.Update = &sdk.UpdateStats{Update: st.Updates, Step: st.Acts * st.NumEnvs, Stats: map[string]float64{"charts/mean_reward": mean}}
		}
	}
	acts, err := a.actions(st, req.Obs, true)
	res.Actions = acts
	return res, err
}

func (a *algo) Policy(_ context.Context, obs sdk.Matrix, deterministic bool) (sdk.Matrix, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil {
		return sdk.Matrix{}, fmt.Errorf("%s: not initialised", a.name)
	}
	return a.actions(a.st, obs, !deterministic)
}

func (a *algo) Activations(_ context.Context, states sdk.Matrix, names []string) ([]sdk.Layer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.st
	if st == nil {
		return nil, fmt.Errorf("%s: not initialised", a.name)
	}
	for _, n := range names {
		if n != "policy/1" {
			return nil, fmt.Errorf("%s: no layer %q (layers: policy/1)", a.name, n)
		}
	}
	if states.Cols != st.ObsDim || len(states.Data) != states.Rows*states.Cols {
		return nil, fmt.Errorf("%s: states are %dx%d, want %d columns", a.name, states.Rows, states.Cols, st.ObsDim)
	}
	m := sdk.NewMatrix(states.Rows, hidden)
	for i := range states.Rows {
		copy(m.Row(i), st.hiddenOf(states.Row(i)))
	}
	return []sdk.Layer{{Name: "policy/1", Values: m}}, nil
}

func (a *algo) Save(context.Context) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil {
		return nil, fmt.Errorf("%s: not initialised", a.name)
	}
	rng, err := a.st.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	a.st.Rng = rng
	return json.Marshal(a.st)
}

func (a *algo) Load(_ context.Context, b []byte) error {
	var st algoState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%s: checkpoint: %v", a.name, err)
	}
	st.pcg = &rand.PCG{}
	if err := st.pcg.UnmarshalBinary(st.Rng); err != nil {
		return fmt.Errorf("%s: checkpoint: %v", a.name, err)
	}
	st.rng = rand.New(st.pcg)
	a.mu.Lock()
	a.st = &st
	a.mu.Unlock()
	return nil
}
