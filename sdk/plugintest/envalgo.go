package plugintest

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// randomActions draws actions uniformly inside the bounds of spec.
func randomActions(spec sdk.EnvSpec, r *rand.Rand) sdk.Matrix {
	a := sdk.NewMatrix(spec.NumEnvs, spec.ActDim)
	for i := 0; i < spec.NumEnvs; i++ {
		for j := 0; j < spec.ActDim; j++ {
			lo, hi := spec.ActLow[j], spec.ActHigh[j]
			a.Data[i*spec.ActDim+j] = lo + (hi-lo)*r.Float64()
		}
	}
	return a
}

// CheckEnvUnknownTask checks that opening a task the plugin does not
// offer is an error, and that the plugin declares its tasks.
func CheckEnvUnknownTask(t T, e sdk.Environment, info sdk.Info) {
	t.Helper()
	if len(sdk.Tasks(info)) == 0 {
		t.Fatalf(`an environment must list its task ids in capability "tasks"`)
	}
	if _, _, err := e.Open(ctx(t), sdk.EnvConfig{TaskID: "NoSuchTask-v0", NumEnvs: 1}); err == nil {
		t.Errorf("opening an unknown task must be an error")
	}
}

// CheckEnvTask opens task twice with one seed and once with another,
// steps it 50 times with random actions, and checks shapes, bit-identical
// replays, different seeds differing, the declared observation size, and
// that NaN or wrongly shaped actions are errors.
func CheckEnvTask(t T, e sdk.Environment, info sdk.Info, task string) {
	t.Helper()
	run := func(seed int64) (sdk.EnvSpec, []float64) {
		h, spec, err := e.Open(ctx(t), sdk.EnvConfig{TaskID: task, NumEnvs: 2, Seed: seed, Options: Defaults(info)})
		if err != nil {
			t.Fatalf("open %s with the declared default parameters: %v", task, err)
		}
		defer e.Close(ctx(t), h)
		if dims, _ := sdk.ObsDims(info); dims[task] != 0 && dims[task] != spec.ObsDim {
			t.Errorf("declared %s says %s has %d observations; open says %d", sdk.CapObsDims, task, dims[task], spec.ObsDim)
		}
		if spec.NumEnvs != 2 || spec.ObsDim < 1 || spec.ActDim < 1 || len(spec.ActLow) != spec.ActDim || len(spec.ActHigh) != spec.ActDim {
			t.Fatalf("spec is inconsistent: %+v", spec)
		}
		obs, err := e.Reset(ctx(t), h, seed)
		if err != nil {
			t.Fatalf("reset: %v", err)
		}
		if obs.Rows != 2 || obs.Cols != spec.ObsDim {
			t.Fatalf("reset gave %dx%d observations, want 2x%d", obs.Rows, obs.Cols, spec.ObsDim)
		}
		trace := append([]float64(nil), obs.Data...)
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		for step := 0; step < 50; step++ {
			res, err := e.Step(ctx(t), h, randomActions(spec, r))
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if res.Obs.Rows != 2 || res.Obs.Cols != spec.ObsDim || len(res.Reward) != 2 || len(res.Terminated) != 2 || len(res.Truncated) != 2 {
				t.Fatalf("step %d result has wrong shapes", step)
			}
			trace = append(trace, res.Obs.Data...)
			trace = append(trace, res.Reward...)
		}
		nan := randomActions(spec, r)
		nan.Data[0] = math.NaN()
		if _, err := e.Step(ctx(t), h, nan); err == nil {
			t.Errorf("a NaN action must be an error")
		}
		short := sdk.Matrix{Rows: 2, Cols: spec.ActDim - 1, Data: make([]float64, 2*(spec.ActDim-1))}
		if _, err := e.Step(ctx(t), h, short); err == nil {
			t.Errorf("actions of the wrong width must be an error")
		}
		return spec, trace
	}
	_, a := run(1)
	_, b := run(1)
	_, c := run(2)
	if !equalBits(a, b) {
		t.Errorf("the same seed must give bit-identical trajectories")
	}
	if equalBits(a, c) {
		t.Errorf("different seeds gave identical trajectories")
	}
	CheckEnvState(t, e, task)
}

// CheckEnvState checks an environment that implements sdk.EnvStater (an
// optional part of the contract): a batch restored from a saved state, in
// a batch opened with another seed, continues bit for bit as the
// original.
func CheckEnvState(t T, e sdk.Environment, task string) {
	t.Helper()
	st, ok := e.(sdk.EnvStater)
	if !ok {
		return
	}
	h, spec, err := e.Open(ctx(t), sdk.EnvConfig{TaskID: task, NumEnvs: 2, Seed: 3})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer e.Close(ctx(t), h)
	r := rand.New(rand.NewPCG(3, 7))
	for step := 0; step < 40; step++ {
		if _, err := e.Step(ctx(t), h, randomActions(spec, r)); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	saved, err := st.SaveState(ctx(t), h)
	if errors.Is(err, sdk.ErrStateUnsupported) {
		t.Logf("%s: no state save (optional): runs on it resume with fresh episodes", task)
		return
	}
	if err != nil {
		t.Fatalf("save state: %v", err)
	}
	acts := make([]sdk.Matrix, 60)
	var want []float64
	for k := range acts {
		acts[k] = randomActions(spec, r)
		res, err := e.Step(ctx(t), h, acts[k])
		if err != nil {
			t.Fatalf("step after save %d: %v", k, err)
		}
		want = append(append(want, res.Obs.Data...), res.Reward...)
	}
	h2, _, err := e.Open(ctx(t), sdk.EnvConfig{TaskID: task, NumEnvs: 2, Seed: 4})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer e.Close(ctx(t), h2)
	if _, err := st.LoadState(ctx(t), h2, saved); err != nil {
		t.Fatalf("load state: %v", err)
	}
	var got []float64
	for k := range acts {
		res, err := e.Step(ctx(t), h2, acts[k])
		if err != nil {
			t.Fatalf("step after load %d: %v", k, err)
		}
		got = append(append(got, res.Obs.Data...), res.Reward...)
	}
	if !equalBits(got, want) {
		t.Errorf("a batch restored with LoadState must continue bit for bit as the saved one")
	}
	if _, err := st.LoadState(ctx(t), h2, []byte("not a state")); err == nil {
		t.Errorf("loading a garbage state must be an error")
	}
}

func equalBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// syntheticSpec is a small continuous-control problem for checking a
// learner without any simulator.
func syntheticSpec() sdk.EnvSpec {
	inf := math.Inf(1)
	return sdk.EnvSpec{
		TaskID: "synthetic", NumEnvs: 2, ObsDim: 3, ActDim: 2,
		ObsLow: []float64{-inf, -inf, -inf}, ObsHigh: []float64{inf, inf, inf},
		ActLow: []float64{-1, -1}, ActHigh: []float64{1, 1}, MaxEpisodeSteps: 100, DT: 0.01,
	}
}

// CheckAlgo trains a learner on a synthetic problem with tiny budgets and
// checks actions in bounds, updates reported in order, activations of the
// named layers, errors for unknown layers and wrong widths, and a
// save/load round trip that restores the policy bit for bit.
func CheckAlgo(t T, a sdk.Algorithm) {
	spec := syntheticSpec()
	hyper := map[string]string{"num_steps": "16", "num_minibatches": "2", "update_epochs": "2", "total_timesteps": "128", "hidden_size": "8"}
	as, err := a.Init(ctx(t), sdk.AlgoConfig{Env: spec, Seed: 3, Hyper: hyper})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	if len(as.Layers) == 0 || as.RolloutSteps < 1 {
		t.Fatalf("init must name hidden layers and a rollout length; got %+v", as)
	}
	r := rand.New(rand.NewPCG(3, 3))
	obs := RandomCloud(2, 3, 4)
	var prev *sdk.Outcome
	updates := 0
	for step := 0; step < 3*as.RolloutSteps; step++ {
		res, err := a.Act(ctx(t), sdk.ActRequest{Obs: obs, Prev: prev})
		if err != nil {
			t.Fatalf("act %d: %v", step, err)
		}
		if res.Actions.Rows != 2 || res.Actions.Cols != 2 {
			t.Fatalf("act gave %dx%d actions, want 2x2", res.Actions.Rows, res.Actions.Cols)
		}
		for _, v := range res.Actions.Data {
			if v < -1 || v > 1 || math.IsNaN(v) {
				t.Fatalf("action %v outside the bounds [-1, 1]", v)
			}
		}
		if res.Update != nil {
			updates++
			if res.Update.Update != updates || len(res.Update.Stats) == 0 {
				t.Fatalf("update %d reported as %+v", updates, res.Update)
			}
		}
		obs = RandomCloud(2, 3, uint64(step+10))
		prev = &sdk.Outcome{Reward: []float64{r.NormFloat64(), 1}, Terminated: []bool{step%7 == 6, false}, Truncated: []bool{false, step%11 == 10}, FinalObs: RandomCloud(2, 3, uint64(step+1000))}
	}
	if updates < 2 {
		t.Fatalf("%d Act calls with rollout length %d made %d updates, want >= 2", 3*as.RolloutSteps, as.RolloutSteps, updates)
	}

	states := RandomCloud(5, 3, 9)
	ls, err := a.Activations(ctx(t), states, nil)
	if err != nil {
		t.Fatalf("activations: %v", err)
	}
	if len(ls) != len(as.Layers) {
		t.Fatalf("activations returned %d layers, init named %d", len(ls), len(as.Layers))
	}
	for i, l := range ls {
		if l.Name != as.Layers[i] || l.Values.Rows != 5 || l.Values.Validate(true) != nil {
			t.Fatalf("layer %d: %q %dx%d", i, l.Name, l.Values.Rows, l.Values.Cols)
		}
	}
	if _, err := a.Activations(ctx(t), states, []string{"no/such/layer"}); err == nil {
		t.Errorf("asking for an unknown layer must be an error")
	}
	wrong := RandomCloud(5, 4, 9)
	if _, err := a.Policy(ctx(t), wrong, true); err == nil {
		t.Errorf("states of the wrong width must be an error")
	}

	ck, err := a.Save(ctx(t))
	if err != nil || len(ck) == 0 {
		t.Fatalf("save: %v (%d bytes)", err, len(ck))
	}
	before, err := a.Policy(ctx(t), states, true)
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	// Train further so the weights move, then restore.
	for step := 0; step < as.RolloutSteps; step++ {
		if _, err := a.Act(ctx(t), sdk.ActRequest{Obs: obs, Prev: prev}); err != nil {
			t.Fatalf("act after save: %v", err)
		}
	}
	if err := a.Load(ctx(t), ck); err != nil {
		t.Fatalf("load: %v", err)
	}
	after, err := a.Policy(ctx(t), states, true)
	if err != nil {
		t.Fatalf("policy after load: %v", err)
	}
	if !equalBits(before.Data, after.Data) {
		t.Errorf("deterministic policy differs after save/load round trip")
	}
	ck2, _ := a.Save(ctx(t))
	if !bytes.Equal(ck, ck2) {
		t.Errorf("save after load does not reproduce the loaded checkpoint")
	}
	if err := a.Load(ctx(t), []byte("not a checkpoint")); err == nil {
		t.Errorf("loading garbage must be an error")
	}
}
