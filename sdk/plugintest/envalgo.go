package plugintest

import (
	"bytes"
	"errors"
	"fmt"
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
	_, _, err := e.Open(ctx(t), sdk.EnvConfig{TaskID: "NoSuchTask-v0", NumEnvs: 1})
	wantRefusal(t, "Open of an unknown task NoSuchTask-v0", err)
}

// maxEpisodeCheck bounds how many steps CheckEnvTask takes to see every
// env of its batch end an episode.
const maxEpisodeCheck = 5000

// envRun is what CheckEnvTask records of one batch: everything the
// environment returned, in order, and whether its envs started in
// different states (so that it has random starts, and a seed to honour).
type envRun struct {
	trace  []float64
	random bool
}

// CheckEnvTask checks one task of an environment plugin. It opens a batch
// of two envs, resets it and steps it with random actions inside the
// bounds until each env has ended at least one episode (the spec's time
// limit bounds how long that may take), checking shapes, the declared
// observation size, finite values, and that every episode end comes with
// its final observation and its statistics (return and length as the
// steps summed them, truncation exactly at the time limit). Then it checks
// the seed: the same seed must give a bit-identical trajectory under the
// same actions, also after Open with another seed (Reset with a seed
// reseeds); and an env whose envs start in different states must give
// another trajectory for another seed. A deterministic env, starting
// alike whatever the seed, passes. NaN and wrongly shaped actions must be
// errors.
func CheckEnvTask(t T, e sdk.Environment, info sdk.Info, task string) {
	t.Helper()
	run := func(openSeed, resetSeed int64, full bool) envRun {
		h, spec, err := e.Open(ctx(t), sdk.EnvConfig{TaskID: task, NumEnvs: 2, Seed: openSeed, Options: Defaults(info)})
		if err != nil {
			t.Fatalf("open %s with the declared default parameters: %v", task, err)
		}
		defer e.Close(ctx(t), h)
		if dims, _ := sdk.ObsDims(info); full && dims[task] != 0 && dims[task] != spec.ObsDim {
			t.Errorf("declared %s says %s has %d observations; open says %d", sdk.CapObsDims, task, dims[task], spec.ObsDim)
		}
		if spec.NumEnvs != 2 || spec.ObsDim < 1 || spec.ActDim < 1 || len(spec.ActLow) != spec.ActDim || len(spec.ActHigh) != spec.ActDim {
			t.Fatalf("open: spec is inconsistent: want NumEnvs 2, ObsDim and ActDim >= 1, ActDim action bounds; got %+v", spec)
		}
		obs, err := e.Reset(ctx(t), h, resetSeed)
		if err != nil {
			t.Fatalf("reset (seed %d): %v", resetSeed, err)
		}
		if obs.Rows != 2 || obs.Cols != spec.ObsDim || len(obs.Data) != 2*spec.ObsDim {
			t.Fatalf("reset: want 2x%d observations (%d values), got %dx%d with %d values", spec.ObsDim, 2*spec.ObsDim, obs.Rows, obs.Cols, len(obs.Data))
		}
		out := envRun{trace: append([]float64(nil), obs.Data...), random: !equalBits(obs.Row(0), obs.Row(1))}
		limit := maxEpisodeCheck
		if spec.MaxEpisodeSteps > 0 {
			limit = min(spec.MaxEpisodeSteps, maxEpisodeCheck)
		}
		// The same actions for every run: a difference between runs is
		// the environment's.
		r := rand.New(rand.NewPCG(1, 7))
		var ret [2]float64
		var length, ended [2]int
		for step := 1; ended[0] == 0 || ended[1] == 0; step++ {
			if step > limit {
				if spec.MaxEpisodeSteps > 0 && spec.MaxEpisodeSteps <= maxEpisodeCheck {
					t.Fatalf("step %d: env %d has not ended an episode; want Truncated at the spec's time limit, MaxEpisodeSteps %d", step-1, unfinished(ended), spec.MaxEpisodeSteps)
				}
				t.Logf("%s: no episode end within %d steps (time limit %d): episode ends not checked", task, limit, spec.MaxEpisodeSteps)
				break
			}
			res, err := e.Step(ctx(t), h, randomActions(spec, r))
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if res.Obs.Rows != 2 || res.Obs.Cols != spec.ObsDim || len(res.Reward) != 2 || len(res.Terminated) != 2 || len(res.Truncated) != 2 {
				t.Fatalf("step %d: want 2x%d observations and 2 rewards, terminated and truncated flags; got %dx%d, %d, %d and %d", step, spec.ObsDim, res.Obs.Rows, res.Obs.Cols, len(res.Reward), len(res.Terminated), len(res.Truncated))
			}
			out.trace = append(out.trace, res.Obs.Data...)
			out.trace = append(out.trace, res.Reward...)
			if full {
				checkEpisodes(t, step, spec, res, &ret, &length, &ended)
			}
			for i := range 2 {
				if res.Terminated[i] || res.Truncated[i] {
					if res.FinalObs.Rows == 2 && res.FinalObs.Cols == spec.ObsDim {
						out.trace = append(out.trace, res.FinalObs.Row(i)...)
					}
					ret[i], length[i] = 0, 0
					ended[i]++
				}
			}
		}
		if !full {
			return out
		}
		nan := randomActions(spec, r)
		nan.Data[0] = math.NaN()
		_, err = e.Step(ctx(t), h, nan)
		wantRefusal(t, "a NaN action", err)
		short := sdk.Matrix{Rows: 2, Cols: spec.ActDim - 1, Data: make([]float64, 2*(spec.ActDim-1))}
		_, err = e.Step(ctx(t), h, short)
		wantRefusal(t, fmt.Sprintf("actions 2x%d for action size %d", spec.ActDim-1, spec.ActDim), err)
		return out
	}
	a := run(1, 1, true)
	if b := run(1, 1, false); !equalBits(a.trace, b.trace) {
		t.Errorf("seed 1 twice, same actions: want bit-identical trajectories, got different ones (the env ignores its seed, or draws from a stream it does not reseed)")
	}
	if c := run(7, 1, false); !equalBits(a.trace, c.trace) {
		t.Errorf("Open with seed 7 then Reset(1): want the trajectory of Open with seed 1 then Reset(1) (Reset with a seed >= 0 reseeds), got another")
	}
	if d := run(2, 2, false); equalBits(a.trace, d.trace) {
		if a.random || d.random {
			t.Errorf("seeds 1 and 2 gave bit-identical trajectories, yet the envs of a batch start in different states: want another trajectory for another seed (the env ignores its seed)")
		} else {
			t.Logf("%s: seeds 1 and 2 gave the same trajectory; its starts do not depend on the seed (deterministic)", task)
		}
	}
	CheckEnvState(t, e, task)
}

// checkEpisodes checks one step's episode ends against what the steps so
// far add up to: ret and length are each env's running return and length
// (before this step), ended how many episodes each has ended.
func checkEpisodes(t T, step int, spec sdk.EnvSpec, res sdk.StepResult, ret *[2]float64, length, ended *[2]int) {
	t.Helper()
	stats := map[int]sdk.EpisodeStat{}
	for _, ep := range res.Episodes {
		if ep.Env < 0 || ep.Env > 1 {
			t.Fatalf("step %d: episode statistics for env %d; the batch has envs 0 and 1", step, ep.Env)
		}
		if _, twice := stats[ep.Env]; twice {
			t.Fatalf("step %d: two episode statistics for env %d", step, ep.Env)
		}
		stats[ep.Env] = ep
	}
	for i := range 2 {
		ret[i] += res.Reward[i]
		length[i]++
		done := res.Terminated[i] || res.Truncated[i]
		ep, has := stats[i]
		switch {
		case done && !has:
			t.Fatalf("step %d: env %d ended its episode (terminated %v, truncated %v) but Episodes has no statistics for it; want its return and length", step, i, res.Terminated[i], res.Truncated[i])
		case !done && has:
			t.Fatalf("step %d: Episodes reports an episode of env %d, which neither terminated nor truncated", step, i)
		case !done && spec.MaxEpisodeSteps > 0 && length[i] >= spec.MaxEpisodeSteps:
			t.Fatalf("step %d: env %d has run %d steps without an end; want Truncated at the spec's time limit, MaxEpisodeSteps %d", step, i, length[i], spec.MaxEpisodeSteps)
		case !done:
			continue
		}
		if res.Truncated[i] && !res.Terminated[i] && spec.MaxEpisodeSteps > 0 && length[i] != spec.MaxEpisodeSteps {
			t.Errorf("step %d: env %d truncated after %d steps; want truncation at the time limit, MaxEpisodeSteps %d", step, i, length[i], spec.MaxEpisodeSteps)
		}
		if ep.Length != length[i] {
			t.Fatalf("step %d: env %d's episode has length %d in Episodes; want %d, the steps since its start", step, i, ep.Length, length[i])
		}
		if d := math.Abs(ep.Return - ret[i]); d > 1e-6*math.Max(1, math.Abs(ret[i])) {
			t.Fatalf("step %d: env %d's episode has return %v in Episodes; want %v, the sum of its rewards", step, i, ep.Return, ret[i])
		}
		if res.FinalObs.Rows != 2 || res.FinalObs.Cols != spec.ObsDim {
			t.Fatalf("step %d: env %d ended; want its last observation in FinalObs (2x%d), got FinalObs %dx%d", step, i, spec.ObsDim, res.FinalObs.Rows, res.FinalObs.Cols)
		}
		if equalBits(res.FinalObs.Row(i), make([]float64, spec.ObsDim)) && !equalBits(res.Obs.Row(i), make([]float64, spec.ObsDim)) {
			t.Errorf("step %d: env %d ended but its FinalObs row is all zeros; want the last observation of the episode", step, i)
		}
	}
}

func unfinished(ended [2]int) int {
	if ended[0] == 0 {
		return 0
	}
	return 1
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
// learner without any simulator. Its action bounds are neither [-1, 1]
// nor symmetric, and one excludes 0: a learner must honour the bounds it
// is given, not assume MuJoCo's usual box.
func syntheticSpec() sdk.EnvSpec {
	inf := math.Inf(1)
	return sdk.EnvSpec{
		TaskID: "synthetic", NumEnvs: 2, ObsDim: 3, ActDim: 2,
		ObsLow: []float64{-inf, -inf, -inf}, ObsHigh: []float64{inf, inf, inf},
		ActLow: []float64{-3, 2}, ActHigh: []float64{0.5, 5}, MaxEpisodeSteps: 100, DT: 0.01,
	}
}

// checkActions checks actions of the learner for spec's batch: the shape,
// and every value inside its column's bounds (the contract: Act and
// Policy return actions inside EnvSpec.ActLow..ActHigh).
func checkActions(t T, what string, spec sdk.EnvSpec, a sdk.Matrix) {
	t.Helper()
	if a.Rows != spec.NumEnvs || a.Cols != spec.ActDim || len(a.Data) != spec.NumEnvs*spec.ActDim {
		t.Fatalf("%s: want %dx%d actions (%d values), got %dx%d with %d values", what, spec.NumEnvs, spec.ActDim, spec.NumEnvs*spec.ActDim, a.Rows, a.Cols, len(a.Data))
	}
	for k, v := range a.Data {
		j := k % spec.ActDim
		if lo, hi := spec.ActLow[j], spec.ActHigh[j]; !(v >= lo && v <= hi) {
			t.Fatalf("%s: action (%d,%d) is %v; want it inside its bounds [%v, %v] (EnvSpec.ActLow, ActHigh)", what, k/spec.ActDim, j, v, lo, hi)
		}
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
		checkActions(t, fmt.Sprintf("act %d", step), spec, res.Actions)
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
	checkActions(t, "policy of 5 states", sdk.EnvSpec{NumEnvs: 5, ActDim: spec.ActDim, ActLow: spec.ActLow, ActHigh: spec.ActHigh}, before)
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
