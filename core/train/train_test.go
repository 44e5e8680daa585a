package train

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// countEnv is a one-dimensional environment whose episodes last exactly
// epLen steps (the last one truncated) and whose reward is the action.
type countEnv struct {
	n, epLen int
	t        []int
	ret      []float64
	steps    int
	closed   bool
}

func (e *countEnv) Describe(context.Context) (sdk.Info, error) { return sdk.Info{Name: "count"}, nil }
func (e *countEnv) Open(_ context.Context, c sdk.EnvConfig) (int, sdk.EnvSpec, error) {
	if c.TaskID != "Count-v0" {
		return 0, sdk.EnvSpec{}, fmt.Errorf("no task %q", c.TaskID)
	}
	e.n, e.t, e.ret = c.NumEnvs, make([]int, c.NumEnvs), make([]float64, c.NumEnvs)
	return 4, sdk.EnvSpec{TaskID: c.TaskID, NumEnvs: c.NumEnvs, ObsDim: 1, ActDim: 1, MaxEpisodeSteps: e.epLen}, nil
}
func (e *countEnv) Reset(context.Context, int, int64) (sdk.Matrix, error) {
	return sdk.NewMatrix(e.n, 1), nil
}
func (e *countEnv) Step(_ context.Context, h int, a sdk.Matrix) (sdk.StepResult, error) {
	if h != 4 {
		return sdk.StepResult{}, fmt.Errorf("bad handle %d", h)
	}
	e.steps++
	r := sdk.StepResult{Obs: sdk.NewMatrix(e.n, 1), Reward: make([]float64, e.n), Terminated: make([]bool, e.n),
		Truncated: make([]bool, e.n), FinalObs: sdk.NewMatrix(e.n, 1)}
	for i := 0; i < e.n; i++ {
		e.t[i]++
		r.Reward[i] = a.At(i, 0)
		e.ret[i] += r.Reward[i]
		r.Obs.Data[i] = float64(e.t[i])
		if e.t[i] == e.epLen {
			r.Truncated[i] = true
			r.FinalObs.Data[i] = float64(e.t[i])
			r.Episodes = append(r.Episodes, sdk.EpisodeStat{Env: i, Return: e.ret[i], Length: e.t[i]})
			e.t[i], e.ret[i] = 0, 0
			r.Obs.Data[i] = 0
		}
	}
	return r, nil
}
func (e *countEnv) Render(context.Context, int, int, int, int) (sdk.Frame, error) {
	return sdk.Frame{}, errors.New("no")
}
func (e *countEnv) Close(context.Context, int) error { e.closed = true; return nil }

// fakeAlgo acts 1 everywhere, "updates" every rollout steps, and checks
// that it is fed outcomes in the documented order.
type fakeAlgo struct {
	rollout, total  int
	calls, recorded int
	update          int
	loaded          []byte
	err             error
}

func (f *fakeAlgo) Describe(context.Context) (sdk.Info, error) { return sdk.Info{Name: "fake"}, nil }
func (f *fakeAlgo) Init(_ context.Context, c sdk.AlgoConfig) (sdk.AlgoSpec, error) {
	return sdk.AlgoSpec{RolloutSteps: f.rollout, TotalUpdates: f.total}, nil
}
func (f *fakeAlgo) Act(_ context.Context, r sdk.ActRequest) (sdk.ActResult, error) {
	f.calls++
	if (r.Prev == nil) != (f.calls == 1) {
		f.err = fmt.Errorf("call %d: Prev nil = %v", f.calls, r.Prev == nil)
	}
	var res sdk.ActResult
	if r.Prev != nil {
		f.recorded++
	}
	if f.recorded == f.rollout {
		f.update++
		f.recorded = 0
		res.Update = &sdk.UpdateStats{Update: f.update, Step: f.update * f.rollout * r.Obs.Rows, Stats: map[string]float64{"x": 1}}
	}
	res.Actions = sdk.NewMatrix(r.Obs.Rows, 1)
	for i := range res.Actions.Data {
		res.Actions.Data[i] = 1
	}
	return res, f.err
}
func (f *fakeAlgo) Policy(context.Context, sdk.Matrix, bool) (sdk.Matrix, error) {
	return sdk.Matrix{}, nil
}
func (f *fakeAlgo) Activations(context.Context, sdk.Matrix, []string) ([]sdk.Layer, error) {
	return nil, nil
}
func (f *fakeAlgo) Save(context.Context) ([]byte, error) { return []byte("ck"), nil }
func (f *fakeAlgo) Load(_ context.Context, b []byte) error {
	f.loaded = b
	f.update = 2
	return nil
}

func TestRunStepsUpdatesAndEpisodes(t *testing.T) {
	env := &countEnv{epLen: 7}
	algo := &fakeAlgo{rollout: 10, total: 3}
	var updates []Progress
	var episodes int
	res, err := Run(context.Background(), env, algo, Config{TaskID: "Count-v0", NumEnvs: 2, ReturnWindow: 3}, Hooks{
		OnUpdate:  func(_ context.Context, p Progress) error { updates = append(updates, p); return nil },
		OnEpisode: func(_ context.Context, step int, ep sdk.EpisodeStat) error { episodes++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if algo.err != nil {
		t.Fatal(algo.err)
	}
	// 3 updates of 10 steps: 30 env steps, the 31st Act makes the last update.
	if env.steps != 30 || algo.calls != 31 || res.Steps != 60 || res.Updates != 3 {
		t.Fatalf("env steps %d, Act calls %d, result steps %d updates %d; want 30, 31, 60, 3", env.steps, algo.calls, res.Steps, res.Updates)
	}
	if len(updates) != 3 || updates[2].Update != 3 || updates[2].TotalUpdates != 3 {
		t.Fatalf("OnUpdate saw %+v", updates)
	}
	// Episodes of 7 steps in 2 envs over 30 steps: 4 each.
	if episodes != 8 || res.Episodes != 8 {
		t.Fatalf("%d episodes hooked, %d in result, want 8", episodes, res.Episodes)
	}
	last := updates[2]
	if len(last.Recent) != 3 || last.MeanReturn != 7 || last.MeanLength != 7 {
		t.Fatalf("last progress: recent %v mean %v length %v, want 3 returns of 7", last.Recent, last.MeanReturn, last.MeanLength)
	}
	if !env.closed {
		t.Fatal("environment batch left open")
	}
}

func TestRunStopsOnHookAndResumes(t *testing.T) {
	env := &countEnv{epLen: 5}
	algo := &fakeAlgo{rollout: 4, total: 10}
	res, err := Run(context.Background(), env, algo, Config{TaskID: "Count-v0", NumEnvs: 1}, Hooks{
		OnUpdate: func(_ context.Context, p Progress) error {
			if p.Update == 2 {
				return ErrStop
			}
			return nil
		},
	})
	if err != nil || !res.Stopped || res.Updates != 2 {
		t.Fatalf("stop at update 2: result %+v, error %v", res, err)
	}

	// Resume: the learner loads the checkpoint and the loop counts from
	// its step, so only updates 3..10 remain. countEnv cannot save its
	// state, so its episodes start afresh.
	env2, algo2 := &countEnv{epLen: 5}, &fakeAlgo{rollout: 4, total: 10}
	var first Start
	res, err = Run(context.Background(), env2, algo2, Config{TaskID: "Count-v0", NumEnvs: 1, Resume: &State{Step: 8, Update: 2, Algo: []byte("ck")}},
		Hooks{OnStart: func(_ context.Context, s Start) error { first = s; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if string(algo2.loaded) != "ck" || first.Update != 2 || first.Step != 8 {
		t.Fatalf("resume: loaded %q, start %+v", algo2.loaded, first)
	}
	if res.Updates != 10 || env2.steps != 32 || res.Steps != 40 {
		t.Fatalf("resumed run: %d updates, %d env steps, result steps %d; want 10, 32, 40", res.Updates, env2.steps, res.Steps)
	}
}

func TestRunErrorsNameTheirSource(t *testing.T) {
	_, err := Run(context.Background(), &countEnv{epLen: 3}, &fakeAlgo{rollout: 2, total: 1}, Config{TaskID: "Nope-v0", NumEnvs: 1}, Hooks{})
	if err == nil || !strings.Contains(err.Error(), "Nope-v0") {
		t.Fatalf("unknown task: %v", err)
	}
	boom := errors.New("boom")
	_, err = Run(context.Background(), &countEnv{epLen: 3}, &fakeAlgo{rollout: 2, total: 5}, Config{TaskID: "Count-v0", NumEnvs: 1},
		Hooks{OnUpdate: func(context.Context, Progress) error { return boom }})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "update 1") {
		t.Fatalf("failing hook: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, &countEnv{epLen: 3}, &fakeAlgo{rollout: 2, total: 5}, Config{TaskID: "Count-v0", NumEnvs: 1}, Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
}
