package ppo

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// toyEnv is a deterministic batch of small noisy linear systems with
// terminations (|x0| > 2) and time-limit truncations (50 steps). Its state
// is plain values, so a test can copy it to branch a run.
type toyEnv struct {
	n     int
	s     []float64
	steps []int
	rng   rand.PCG
}

func newToyEnv(n int, seed uint64) *toyEnv {
	e := &toyEnv{n: n, s: make([]float64, 3*n), steps: make([]int, n), rng: *rand.NewPCG(seed, 1)}
	for i := 0; i < n; i++ {
		e.reset(i)
	}
	return e
}

func (e *toyEnv) clone() *toyEnv {
	c := *e
	c.s = append([]float64(nil), e.s...)
	c.steps = append([]int(nil), e.steps...)
	return &c
}

func (e *toyEnv) reset(i int) {
	r := rand.New(&e.rng)
	for j := 0; j < 3; j++ {
		e.s[3*i+j] = 0.5 * r.NormFloat64()
	}
	e.steps[i] = 0
}

func (e *toyEnv) obs() sdk.Matrix {
	return sdk.Matrix{Rows: e.n, Cols: 3, Data: append([]float64(nil), e.s...)}
}

func (e *toyEnv) step(act sdk.Matrix) (sdk.Matrix, *sdk.Outcome) {
	r := rand.New(&e.rng)
	o := &sdk.Outcome{Reward: make([]float64, e.n), Terminated: make([]bool, e.n),
		Truncated: make([]bool, e.n), FinalObs: sdk.NewMatrix(e.n, 3)}
	for i := 0; i < e.n; i++ {
		a := act.Row(i)
		s := e.s[3*i : 3*i+3]
		s[0] = 0.9*s[0] + 0.3*a[0] + 0.1*r.NormFloat64()
		s[1] = 0.9*s[1] + 0.3*a[1] + 0.1*r.NormFloat64()
		s[2] = 0.5*s[2] + s[0] - s[1]
		o.Reward[i] = 1 - s[0]*s[0] - 0.1*s[2]*s[2]
		e.steps[i]++
		o.Terminated[i] = math.Abs(s[0]) > 2
		o.Truncated[i] = !o.Terminated[i] && e.steps[i] >= 50
		if o.Terminated[i] || o.Truncated[i] {
			copy(o.FinalObs.Row(i), s)
			e.reset(i)
		}
	}
	return e.obs(), o
}

// smallHyper is a fast configuration: batches of num_envs x 32 steps.
func smallHyper() map[string]string {
	return map[string]string{"num_steps": "32", "num_minibatches": "4", "update_epochs": "3",
		"hidden_size": "8,8", "total_timesteps": "4096", "ent_coef": "0.01", "target_kl": "none"}
}

func initPPO(t *testing.T, numEnvs int, hyper map[string]string) *PPO {
	t.Helper()
	a := New()
	if _, err := a.Init(context.Background(), sdk.AlgoConfig{Env: testSpec(numEnvs), Seed: 3, Hyper: hyper}); err != nil {
		t.Fatal(err)
	}
	return a
}

// run drives a for steps env steps (or, if updates > 0, until that many
// updates) starting with prev, and returns the update statistics with
// SPS removed (it depends on the clock), the final outcome and actions.
func run(t *testing.T, a *PPO, env *toyEnv, prev *sdk.Outcome, updates int) ([]sdk.UpdateStats, *sdk.Outcome, [][]float64) {
	t.Helper()
	var stats []sdk.UpdateStats
	var acts [][]float64
	obs := env.obs()
	for len(stats) < updates {
		res, err := a.Act(context.Background(), sdk.ActRequest{Obs: obs, Prev: prev})
		if err != nil {
			t.Fatal(err)
		}
		acts = append(acts, append([]float64(nil), res.Actions.Data...))
		if res.Update != nil {
			delete(res.Update.Stats, "charts/SPS")
			stats = append(stats, *res.Update)
		}
		obs, prev = env.step(res.Actions)
	}
	return stats, prev, acts
}

func TestCheckpointResumesIdentically(t *testing.T) {
	ctx := context.Background()
	a := initPPO(t, 2, smallHyper())
	env := newToyEnv(2, 11)
	_, prev, _ := run(t, a, env, nil, 3)
	// Checkpoint at an arbitrary point inside a rollout, too.
	for i := 0; i < 5; i++ {
		res, err := a.Act(ctx, sdk.ActRequest{Obs: env.obs(), Prev: prev})
		if err != nil {
			t.Fatal(err)
		}
		_, prev = env.step(res.Actions)
	}
	ck, err := a.Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	envB, prevB := env.clone(), prev

	statsA, _, actsA := run(t, a, env, prev, 4)
	b := New() // uninitialised: the checkpoint carries its config
	if err := b.Load(ctx, ck); err != nil {
		t.Fatal(err)
	}
	if again, err := b.Save(ctx); err != nil || !bytes.Equal(again, ck) {
		t.Fatalf("saving a just-loaded learner gives different bytes (error %v)", err)
	}
	statsB, _, actsB := run(t, b, envB, prevB, 4)

	if !reflect.DeepEqual(statsA, statsB) {
		t.Fatalf("statistics differ after resume:\nA %v\nB %v", statsA, statsB)
	}
	if !reflect.DeepEqual(actsA, actsB) {
		t.Fatal("actions differ after resume")
	}
	if !reflect.DeepEqual(a.l.theta, b.l.theta) || !reflect.DeepEqual(a.l.opt, b.l.opt) {
		t.Fatal("weights or optimiser state differ after resume")
	}
	if statsA[3].Update != 7 || statsA[3].Step != 7*2*32 {
		t.Fatalf("last update is %d at step %d, want 7 at %d", statsA[3].Update, statsA[3].Step, 7*2*32)
	}
}

func TestSameSeedSameRunAndPolicyDoesNotPerturb(t *testing.T) {
	ctx := context.Background()
	a, b := initPPO(t, 1, smallHyper()), initPPO(t, 1, smallHyper())
	statsA, _, _ := run(t, a, newToyEnv(1, 5), nil, 2)
	// b is interrupted by Policy and Activations calls between steps.
	env := newToyEnv(1, 5)
	var statsB []sdk.UpdateStats
	var prev *sdk.Outcome
	obs := env.obs()
	for len(statsB) < 2 {
		if _, err := b.Policy(ctx, sdk.Matrix{Rows: 4, Cols: 3, Data: make([]float64, 12)}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Activations(ctx, obs, nil); err != nil {
			t.Fatal(err)
		}
		res, err := b.Act(ctx, sdk.ActRequest{Obs: obs, Prev: prev})
		if err != nil {
			t.Fatal(err)
		}
		if res.Update != nil {
			delete(res.Update.Stats, "charts/SPS")
			statsB = append(statsB, *res.Update)
		}
		obs, prev = env.step(res.Actions)
	}
	if !reflect.DeepEqual(statsA, statsB) {
		t.Fatalf("Policy/Activations changed training:\n%v\n%v", statsA, statsB)
	}
	for _, k := range []string{"losses/value_loss", "losses/policy_loss", "losses/entropy", "losses/old_approx_kl",
		"losses/approx_kl", "losses/clipfrac", "losses/explained_variance", "charts/learning_rate"} {
		if _, ok := statsA[0].Stats[k]; !ok {
			t.Errorf("update statistics lack %s", k)
		}
	}
	// Linear annealing: update 2 of 4096/32 = 128 uses (1 - 1/128) lr.
	if got, want := statsA[1].Stats["charts/learning_rate"], 3e-4*(1-1.0/128); math.Abs(got-want) > 1e-18 {
		t.Fatalf("learning rate of update 2 is %v, want %v", got, want)
	}
}

func TestMinibatchSizeIsBatchOverNumMinibatches(t *testing.T) {
	a := initPPO(t, 2, map[string]string{"num_steps": "64", "num_minibatches": "4", "update_epochs": "3",
		"hidden_size": "4", "total_timesteps": "1000"})
	if a.l.mbSize != 32 {
		t.Fatalf("minibatch size %d, want 2*64/4 = 32", a.l.mbSize)
	}
	run(t, a, newToyEnv(2, 1), nil, 1)
	// One optimiser step per minibatch: epochs x num_minibatches.
	if a.l.opt.Step != 3*4 {
		t.Fatalf("%d optimiser steps in one update, want 12", a.l.opt.Step)
	}
	// The seed's defaults: 2048 steps, 32 minibatches -> 64 samples each.
	d := initPPO(t, 1, map[string]string{"total_timesteps": "4096"})
	if d.l.mbSize != 64 || len(d.l.mbAdv) != 64 {
		t.Fatalf("default minibatch size %d, want 64", d.l.mbSize)
	}
}

func TestTruncationBootstrapsWithFinalObservation(t *testing.T) {
	ctx := context.Background()
	a := initPPO(t, 2, smallHyper())
	l := a.l
	obs := sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{0.1, 0.2, 0.3, -0.1, 0.4, 0}}
	if _, err := a.Act(ctx, sdk.ActRequest{Obs: obs}); err != nil {
		t.Fatal(err)
	}
	final := sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{0, 0, 0, 1.5, -2, 0.7}}
	out := &sdk.Outcome{Reward: []float64{1, 1}, Terminated: []bool{true, false}, Truncated: []bool{false, true}, FinalObs: final}
	// The reward scale the learner will use, computed independently:
	// both returns are 1 (env 0 restarts at termination), merged into the
	// prior (mean 0, var 1, count 1e-4).
	const eps = 1e-4
	mean := 2.0 / (2 + eps)
	varR := (eps*1 + eps*2*1.0*1.0/(2+eps)) / (2 + eps)
	scaled := 1 / math.Sqrt(varR+1e-8)
	_ = mean
	// V(normalised final obs of env 1) before the next Act changes stats.
	norm := make([]float64, 3)
	l.obsStat.normalize(norm, final.Row(1), 1, 10)
	v := refForward(l.critic, norm)[0]
	if _, err := a.Act(ctx, sdk.ActRequest{Obs: obs, Prev: out}); err != nil {
		t.Fatal(err)
	}
	if math.Abs(l.bRew[0]-scaled) > 1e-12 {
		t.Errorf("terminated env's stored reward %v, want %v", l.bRew[0], scaled)
	}
	if want := scaled + 0.99*v; math.Abs(l.bRew[1]-want) > 1e-12 {
		t.Errorf("truncated env's stored reward %v, want scaled reward + gamma V(final) = %v", l.bRew[1], want)
	}
	if !l.bDone[0] || !l.bDone[1] {
		t.Error("both episodes ended but are not marked done")
	}
}

func TestActionsAreClippedButStoredRaw(t *testing.T) {
	ctx := context.Background()
	a := initPPO(t, 1, smallHyper())
	for j := range a.l.logStd {
		a.l.logStd[j] = 1.5 // wide policy: most samples leave [-1, 1]
	}
	obs := sdk.Matrix{Rows: 1, Cols: 3, Data: []float64{0, 0, 0}}
	env := newToyEnv(1, 1)
	var prev *sdk.Outcome
	outside := 0
	for i := 0; i < 20; i++ {
		res, err := a.Act(ctx, sdk.ActRequest{Obs: obs, Prev: prev})
		if err != nil {
			t.Fatal(err)
		}
		raw := a.l.bAct[i*2 : i*2+2]
		for j, v := range res.Actions.Data {
			if v < -1 || v > 1 {
				t.Fatalf("action %v outside the bounds", v)
			}
			if want := math.Max(-1, math.Min(1, raw[j])); v != want {
				t.Fatalf("env got %v, want clip(%v)", v, raw[j])
			}
			if math.Abs(raw[j]) > 1 {
				outside++
			}
		}
		obs, prev = env.step(res.Actions)
	}
	if outside == 0 {
		t.Fatal("no sample left the bounds: the test does not test clipping")
	}
}

func TestActivations(t *testing.T) {
	ctx := context.Background()
	a := initPPO(t, 1, smallHyper())
	run(t, a, newToyEnv(1, 2), nil, 1) // give the normaliser some history
	l := a.l
	states := sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{0.3, -1, 2, 5, 0, -0.2}}
	meanBefore := append([]float64(nil), l.obsStat.Mean...)
	layers, err := a.Activations(ctx, states, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"actor/1", "actor/2", "critic/1", "critic/2"}
	if len(layers) != 4 {
		t.Fatalf("%d layers, want 4", len(layers))
	}
	for i, ly := range layers {
		if ly.Name != names[i] || ly.Values.Rows != 2 || ly.Values.Cols != 8 {
			t.Fatalf("layer %d is %s %dx%d, want %s 2x8", i, ly.Name, ly.Values.Rows, ly.Values.Cols, names[i])
		}
	}
	if !reflect.DeepEqual(meanBefore, l.obsStat.Mean) {
		t.Fatal("Activations changed the observation statistics")
	}
	// Row 1 of actor/1 by hand: tanh(norm(x) W1 + b1).
	norm := make([]float64, 3)
	l.obsStat.normalize(norm, states.Row(1), 1, 10)
	d := l.actor.layers[0]
	for o := 0; o < d.out; o++ {
		s := d.b[o]
		for i := 0; i < 3; i++ {
			s += norm[i] * d.w[i*d.out+o]
		}
		if got := layers[0].Values.At(1, o); math.Abs(got-math.Tanh(s)) > 1e-12 {
			t.Fatalf("actor/1 (1,%d) = %v, want %v", o, got, math.Tanh(s))
		}
	}
	one, err := a.Activations(ctx, states, []string{"critic/2"})
	if err != nil || len(one) != 1 || !reflect.DeepEqual(one[0].Values, layers[3].Values) {
		t.Fatalf("asking for critic/2 alone: %v, %v", one, err)
	}
	if _, err := a.Activations(ctx, states, []string{"actor/3"}); err == nil || !strings.Contains(err.Error(), "actor/3") {
		t.Fatalf("unknown layer: error %v, want one naming actor/3", err)
	}
}

func TestHyperParsing(t *testing.T) {
	c, err := ParseConfig(map[string]string{"hidden_szie": "32", "target_kl": "0.1", "unknown_key": "x",
		"total_timesteps": "1e6", "clip_vloss": "False"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Hidden, []int{32, 32}) || c.TargetKL != 0.1 || c.TotalTimesteps != 1000000 || c.ClipVLoss {
		t.Fatalf("parsed %+v", c)
	}
	c, _ = ParseConfig(map[string]string{"hidden_szie": "32", "hidden_size": "[16, 8]"})
	if !reflect.DeepEqual(c.Hidden, []int{16, 8}) {
		t.Fatalf("hidden_size should win over hidden_szie: %v", c.Hidden)
	}
	for key, val := range map[string]string{"learning_rate": "fast", "num_steps": "0", "gamma": "1.5",
		"anneal_lr": "maybe", "hidden_size": "64,x", "num_minibatches": "2.5"} {
		_, err := ParseConfig(map[string]string{key: val})
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%q: error %v, want one naming the key", key, val, err)
		}
	}
	if d := DefaultConfig(); d.NumSteps != 2048 || d.NumMinibatches != 32 || d.UpdateEpochs != 10 ||
		d.LearningRate != 3e-4 || d.MaxGradNorm != 0.5 || d.ClipCoef != 0.2 || d.GAELambda != 0.95 {
		t.Fatalf("defaults are not CleanRL's: %+v", d)
	}
}

func TestBadRequests(t *testing.T) {
	ctx := context.Background()
	if _, err := New().Act(ctx, sdk.ActRequest{}); err == nil {
		t.Fatal("Act before Init succeeded")
	}
	a := initPPO(t, 1, smallHyper())
	bad := sdk.Matrix{Rows: 1, Cols: 3, Data: []float64{0, math.NaN(), 0}}
	if _, err := a.Act(ctx, sdk.ActRequest{Obs: bad}); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("NaN observation: %v", err)
	}
	if _, err := a.Act(ctx, sdk.ActRequest{Obs: sdk.NewMatrix(1, 4)}); err == nil {
		t.Fatal("wrong observation width accepted")
	}
	if err := New().Load(ctx, []byte("not a checkpoint")); err == nil {
		t.Fatal("garbage checkpoint accepted")
	}
	if _, err := New().Init(ctx, sdk.AlgoConfig{Env: testSpec(1), Hyper: map[string]string{"total_timesteps": "10"}}); err == nil {
		t.Fatal("a budget shorter than one rollout was accepted")
	}
}

func TestRestartWithoutPrevCutsPendingStep(t *testing.T) {
	ctx := context.Background()
	a := initPPO(t, 1, smallHyper())
	env := newToyEnv(1, 3)
	var prev *sdk.Outcome
	obs := env.obs()
	for i := 0; i < 5; i++ { // steps 0..4 stored, step 4 pending
		res, err := a.Act(ctx, sdk.ActRequest{Obs: obs, Prev: prev})
		if err != nil {
			t.Fatal(err)
		}
		obs, prev = env.step(res.Actions)
	}
	l := a.l
	// The seeds above are fixed, so this never changes from run to run;
	// it guards an edit of them that would make the test vacuous.
	if l.bDone[3] {
		t.Fatal("with these seeds the toy episode ends at step 3; choose seeds that keep it running")
	}
	rew3, val4 := l.bRew[3], l.bVal[4]
	// The host restarts the episodes (e.g. after resuming from a
	// checkpoint): step 4's outcome never comes.
	if _, err := a.Act(ctx, sdk.ActRequest{Obs: newToyEnv(1, 8).obs()}); err != nil {
		t.Fatal(err)
	}
	if l.t != 5 {
		t.Fatalf("rollout position %d, want 5 (pending step replaced by the new one)", l.t)
	}
	if !l.bDone[3] || l.bRew[3] != rew3+0.99*val4 {
		t.Fatalf("step 3: done %v reward %v, want cut and bootstrapped to %v", l.bDone[3], l.bRew[3], rew3+0.99*val4)
	}
	if l.rews.Ret[0] != 0 {
		t.Fatalf("discounted return not restarted: %v", l.rews.Ret[0])
	}
}

func TestBadOutcomeChangesNothing(t *testing.T) {
	ctx := context.Background()
	a := initPPO(t, 2, smallHyper())
	obs := sdk.Matrix{Rows: 2, Cols: 3, Data: make([]float64, 6)}
	if _, err := a.Act(ctx, sdk.ActRequest{Obs: obs}); err != nil {
		t.Fatal(err)
	}
	before, err := a.Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]*sdk.Outcome{
		"NaN reward":    {Reward: []float64{1, math.NaN()}, Terminated: []bool{false, false}, Truncated: []bool{false, false}},
		"short flags":   {Reward: []float64{1, 1}, Terminated: []bool{false}, Truncated: []bool{false, false}},
		"no final obs":  {Reward: []float64{1, 1}, Terminated: []bool{false, false}, Truncated: []bool{false, true}},
		"NaN final obs": {Reward: []float64{1, 1}, Terminated: []bool{false, false}, Truncated: []bool{false, true}, FinalObs: sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{0, 0, 0, 0, math.Inf(1), 0}}},
	} {
		if _, err := a.Act(ctx, sdk.ActRequest{Obs: obs, Prev: o}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	after, err := a.Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var x, y PPO
	if err := x.Load(ctx, before); err != nil {
		t.Fatal(err)
	}
	if err := y.Load(ctx, after); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x.l.bRew, y.l.bRew) || !reflect.DeepEqual(x.l.rews, y.l.rews) || !reflect.DeepEqual(x.l.obsStat, y.l.obsStat) || x.l.globalStep != y.l.globalStep {
		t.Fatal("rejected outcomes changed the learner's state")
	}
}

func TestNormalizedInputLayer(t *testing.T) {
	a := initPPO(t, 1, smallHyper())
	run(t, a, newToyEnv(1, 2), nil, 1)
	l := a.l
	states := sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{0.3, -1, 2, 5e3, 0, -0.2}}
	layers, err := a.Activations(context.Background(), states, []string{sdk.NormalizedInputLayer, "critic/2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 || layers[0].Name != sdk.NormalizedInputLayer || layers[1].Name != "critic/2" {
		t.Fatalf("got layers %v", layers)
	}
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			// Written out here rather than through normalize, so the
			// test does not share the code it checks.
			want := (states.At(i, j) - l.obsStat.Mean[j]) / math.Sqrt(l.obsStat.Var[j]+1e-8)
			want = math.Max(-10, math.Min(10, want))
			if got := layers[0].Values.At(i, j); math.Abs(got-want) > 1e-12 {
				t.Fatalf("normalised input (%d,%d) = %v, want %v", i, j, got, want)
			}
		}
	}
	if layers[0].Values.At(1, 0) != 10 {
		t.Fatalf("an outlier must be clipped to 10, got %v", layers[0].Values.At(1, 0))
	}
	all, _ := a.Activations(context.Background(), states, nil)
	for _, ly := range all {
		if ly.Name == sdk.NormalizedInputLayer {
			t.Fatal("the normalised input must not be in the default set of layers")
		}
	}
}

// TestOverlappedActMatchesAct runs one learner on Act and another on
// ActOverlapped, settling after every other step and otherwise leaving
// the value for the next call (ActOverlapped, or a Save) to compute: the
// actions, the update statistics (value losses and explained variance
// read the deferred values) and checkpoints taken with work pending must
// be identical, across truncations and several updates.
func TestOverlappedActMatchesAct(t *testing.T) {
	ctx := context.Background()
	a, b := initPPO(t, 3, smallHyper()), initPPO(t, 3, smallHyper())
	ea, eb := newToyEnv(3, 9), newToyEnv(3, 9)
	var pa, pb *sdk.Outcome
	updates := 0
	for step := 0; updates < 4; step++ {
		ra, err := a.Act(ctx, sdk.ActRequest{Obs: ea.obs(), Prev: pa})
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.ActOverlapped(ctx, sdk.ActRequest{Obs: eb.obs(), Prev: pb})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ra.Actions, rb.Actions) {
			t.Fatalf("step %d: actions %v, overlapped %v", step, ra.Actions.Data, rb.Actions.Data)
		}
		if (ra.Update == nil) != (rb.Update == nil) {
			t.Fatalf("step %d: one learner updated, the other did not", step)
		}
		if ra.Update != nil {
			updates++
			delete(ra.Update.Stats, "charts/SPS")
			delete(rb.Update.Stats, "charts/SPS")
			if !reflect.DeepEqual(ra.Update, rb.Update) {
				t.Fatalf("update %d: statistics\n %v\noverlapped\n %v", updates, ra.Update, rb.Update)
			}
		}
		switch {
		case step%2 == 0:
			b.Settle()
		case step%7 == 3:
			ca, err1 := a.Save(ctx)
			cb, err2 := b.Save(ctx)
			if err1 != nil || err2 != nil || !bytes.Equal(ca, cb) {
				t.Fatalf("step %d: checkpoints differ (%v, %v)", step, err1, err2)
			}
		}
		_, pa = ea.step(ra.Actions)
		_, pb = eb.step(rb.Actions)
	}
}
