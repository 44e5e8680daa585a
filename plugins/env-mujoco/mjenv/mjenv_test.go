package mjenv

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/tasks"
	"github.com/neuraltopology/neuraltopology/sdk"
)

var bg = context.Background()

func open(t *testing.T, e *Env, task string, n int, seed int64, opts map[string]string) (int, sdk.EnvSpec) {
	t.Helper()
	h, spec, err := e.Open(bg, sdk.EnvConfig{TaskID: task, NumEnvs: n, Seed: seed, Options: opts})
	if err != nil {
		t.Fatalf("open %s: %v", task, err)
	}
	t.Cleanup(func() { e.Close(bg, h) })
	return h, spec
}

// randomActions draws actions uniformly from a box 1.5 times the control
// range, so some need clipping.
func randomActions(spec sdk.EnvSpec, r *rand.Rand) sdk.Matrix {
	a := sdk.NewMatrix(spec.NumEnvs, spec.ActDim)
	for i := range a.Data {
		j := i % spec.ActDim
		lo, hi := spec.ActLow[j], spec.ActHigh[j]
		mid, half := (lo+hi)/2, 1.5*(hi-lo)/2
		a.Data[i] = mid + half*(2*r.Float64()-1)
	}
	return a
}

func TestSpecSizes(t *testing.T) {
	e := New()
	for task, want := range map[string][2]int{"Hopper-v4": {11, 3}, "Walker2d-v4": {17, 6}, "InvertedPendulum-v4": {4, 1}} {
		h, spec := open(t, e, task, 3, 0, nil)
		if spec.ObsDim != want[0] || spec.ActDim != want[1] || spec.NumEnvs != 3 || spec.MaxEpisodeSteps != 1000 {
			t.Errorf("%s: spec %+v, want obs %d act %d", task, spec, want[0], want[1])
		}
		obs, err := e.Reset(bg, h, 1)
		if err != nil || obs.Rows != 3 || obs.Cols != want[0] {
			t.Errorf("%s: reset gave %dx%d (%v)", task, obs.Rows, obs.Cols, err)
		}
		res, err := e.Step(bg, h, sdk.NewMatrix(3, want[1]))
		if err != nil || res.Obs.Cols != want[0] || len(res.Info[tasks.InfoXPosition]) != 3 {
			t.Errorf("%s: step result %dx%d (%v)", task, res.Obs.Rows, res.Obs.Cols, err)
		}
		for _, k := range spec.InfoKeys {
			if len(res.Info[k]) != 3 {
				t.Errorf("%s: info %q has %d values, want 3", task, k, len(res.Info[k]))
			}
		}
	}
}

// TestLocomotionReward recomputes each reward from the reported x
// positions and the clipped actions: forward velocity + 1 - 0.001|a|^2.
func TestLocomotionReward(t *testing.T) {
	for _, task := range []string{"Hopper-v4", "Walker2d-v4"} {
		e := New()
		h, spec := open(t, e, task, 2, 5, nil)
		r := rand.New(rand.NewPCG(5, 5))
		prevX := []float64{math.NaN(), math.NaN()} // unknown right after a reset
		checked := 0
		for step := 0; step < 400; step++ {
			a := randomActions(spec, r)
			res, err := e.Step(bg, h, a)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				x := res.Info[tasks.InfoXPosition][i]
				ctrl := 0.0
				for _, v := range a.Row(i) {
					v = math.Max(-1, math.Min(1, v))
					ctrl += v * v
				}
				if !math.IsNaN(prevX[i]) {
					want := (x-prevX[i])/0.008 + 1 - 0.001*ctrl
					if math.Abs(res.Reward[i]-want) > 1e-9*math.Max(1, math.Abs(want)) {
						t.Fatalf("%s step %d env %d: reward %v, recomputed %v", task, step, i, res.Reward[i], want)
					}
					checked++
				}
				inf := res.Info
				if sum := inf[tasks.InfoRewardForward][i] + inf[tasks.InfoRewardCtrl][i] + inf[tasks.InfoRewardSurvive][i]; math.Abs(sum-res.Reward[i]) > 1e-12 {
					t.Fatalf("%s: reward terms sum to %v, reward %v", task, sum, res.Reward[i])
				}
				prevX[i] = x
				if res.Terminated[i] || res.Truncated[i] {
					prevX[i] = math.NaN()
				}
			}
		}
		if checked < 400 {
			t.Errorf("%s: only %d rewards checked", task, checked)
		}
	}
}

// healthyFromObs applies the task's healthy rule to an observation. The
// second result is false when the observation cannot decide (a velocity
// clipped at 10 hides whether |qvel| < 100).
func healthyFromObs(task string, o []float64) (healthy, decidable bool) {
	switch task {
	case "Hopper-v4":
		// o = z, angle, 3 joint angles, 6 clipped velocities.
		for _, v := range o[1:5] {
			if !(-100 < v && v < 100) {
				return false, true
			}
		}
		if !(o[0] > 0.7 && -0.2 < o[1] && o[1] < 0.2) {
			return false, true
		}
		for _, v := range o[5:] {
			if math.Abs(v) >= 10 {
				return true, false
			}
		}
		return true, true
	case "Walker2d-v4":
		return 0.8 < o[0] && o[0] < 2 && -1 < o[1] && o[1] < 1, true
	default:
		return math.Abs(o[1]) <= 0.2, true
	}
}

// TestTermination checks that an episode ends as terminated exactly when
// the healthy rule, applied to the last observation, says unhealthy.
func TestTermination(t *testing.T) {
	for _, task := range taskOrder {
		e := New()
		h, spec := open(t, e, task, 4, 9, nil)
		r := rand.New(rand.NewPCG(9, 1))
		ends := 0
		for step := 0; step < 600; step++ {
			res, err := e.Step(bg, h, randomActions(spec, r))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				o := res.Obs.Row(i)
				if res.Terminated[i] || res.Truncated[i] {
					o = res.FinalObs.Row(i)
					ends++
				}
				healthy, ok := healthyFromObs(task, o)
				if ok && healthy == res.Terminated[i] {
					t.Fatalf("%s step %d env %d: terminated %v but healthy rule says %v for %v", task, step, i, res.Terminated[i], healthy, o)
				}
				if !ok && !res.Terminated[i] && res.Info[InfoUnstable][i] != 0 {
					t.Fatalf("%s: unstable without termination", task)
				}
			}
		}
		if ends == 0 {
			t.Errorf("%s: no episode ended in 600 random steps; the test checked nothing", task)
		}
	}
}

// TestResetNoise checks that reset states lie within U(-s, s) of the
// initial state, that the noise is really there, and that the
// reset_noise_scale option changes it.
func TestResetNoise(t *testing.T) {
	for _, task := range taskOrder {
		tk, _ := tasks.Lookup(task)
		s := tk.ResetNoise
		e := New()
		h, _ := open(t, e, task, 50, 3, nil)
		obs, err := e.Reset(bg, h, 4)
		if err != nil {
			t.Fatal(err)
		}
		init := make([]float64, tk.ObsDim)
		if task != "InvertedPendulum-v4" {
			init[0] = 1.25 // rootz; the observation starts at qpos[1]
		}
		maxDev := 0.0
		for i := range obs.Rows {
			for j, v := range obs.Row(i) {
				d := math.Abs(v - init[j])
				if d > s {
					t.Fatalf("%s env %d obs[%d] = %v, more than %v from %v", task, i, j, v, s, init[j])
				}
				maxDev = math.Max(maxDev, d)
			}
		}
		if maxDev < 0.9*s {
			t.Errorf("%s: largest reset deviation %v; noise of scale %v looks missing", task, maxDev, s)
		}
		h0, _ := open(t, e, task, 2, 3, map[string]string{"reset_noise_scale": "0"})
		obs0, _ := e.Reset(bg, h0, 8)
		for j, v := range obs0.Row(1) {
			if v != init[j] {
				t.Errorf("%s with reset_noise_scale 0: obs[%d] = %v, want %v", task, j, v, init[j])
			}
		}
	}
}

func trajectory(t *testing.T, task string, n int, seed int64, steps int) []float64 {
	e := New()
	h, spec := open(t, e, task, n, seed, nil)
	obs, _ := e.Reset(bg, h, -1)
	tr := append([]float64(nil), obs.Data...)
	r := rand.New(rand.NewPCG(1, 2)) // same actions for every seed
	for range steps {
		res, err := e.Step(bg, h, randomActions(spec, r))
		if err != nil {
			t.Fatal(err)
		}
		tr = append(tr, res.Obs.Data...)
		tr = append(tr, res.Reward...)
		tr = append(tr, res.FinalObs.Data...)
	}
	return tr
}

func sameBits(a, b []float64) bool {
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

func TestDeterminism(t *testing.T) {
	for _, task := range taskOrder {
		a := trajectory(t, task, 3, 11, 300)
		b := trajectory(t, task, 3, 11, 300)
		c := trajectory(t, task, 3, 12, 300)
		if !sameBits(a, b) {
			t.Errorf("%s: same seed, different trajectories", task)
		}
		if sameBits(a, c) {
			t.Errorf("%s: seeds 11 and 12 gave identical trajectories", task)
		}
	}
	// Env i's stream depends only on (seed, i), so the parallel batch and a
	// batch of one agree on env 0's first observation.
	e := New()
	h3, _ := open(t, e, "Hopper-v4", 3, 21, nil)
	h1, _ := open(t, e, "Hopper-v4", 1, 21, nil)
	o3, _ := e.Reset(bg, h3, 21)
	o1, _ := e.Reset(bg, h1, 21)
	if !sameBits(o3.Row(0), o1.Row(0)) || sameBits(o3.Row(0), o3.Row(1)) {
		t.Errorf("env streams: batch-of-3 row 0 %v, batch-of-1 %v, row 1 %v", o3.Row(0), o1.Row(0), o3.Row(1))
	}
}

// TestClipping: actions beyond the control range act like the bound.
func TestClipping(t *testing.T) {
	e := New()
	ha, spec := open(t, e, "Hopper-v4", 1, 2, nil)
	hb, _ := open(t, e, "Hopper-v4", 1, 2, nil)
	for step := range 50 {
		big, edge := sdk.NewMatrix(1, 3), sdk.NewMatrix(1, 3)
		for j := range 3 {
			sign := float64(1 - 2*((step+j)%2))
			big.Data[j], edge.Data[j] = sign*1e6, sign*spec.ActHigh[j]
		}
		ra, err1 := e.Step(bg, ha, big)
		rb, err2 := e.Step(bg, hb, edge)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !sameBits(ra.Obs.Data, rb.Obs.Data) || ra.Reward[0] != rb.Reward[0] {
			t.Fatalf("step %d: action 1e6 and the bound differ", step)
		}
	}
}

// balance is a hand-tuned linear controller that keeps the pendulum up and
// the cart near the middle, so an episode can only end by the time limit.
func balance(o []float64) float64 {
	x, th, xd, thd := o[0], o[1], o[2], o[3]
	return 1.0*x + 10*th + 0.5*xd + 1.0*thd
}

func TestTruncationAt1000(t *testing.T) {
	e := New()
	h, _ := open(t, e, "InvertedPendulum-v4", 1, 6, nil)
	obs, _ := e.Reset(bg, h, 6)
	o := append([]float64(nil), obs.Row(0)...)
	for step := 1; step <= 1000; step++ {
		res, err := e.Step(bg, h, sdk.Matrix{Rows: 1, Cols: 1, Data: []float64{balance(o)}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Terminated[0] {
			t.Fatalf("pendulum fell at step %d: %v", step, res.FinalObs.Row(0))
		}
		if res.Truncated[0] != (step == 1000) {
			t.Fatalf("step %d: truncated %v", step, res.Truncated[0])
		}
		if step == 1000 {
			if len(res.Episodes) != 1 || res.Episodes[0].Length != 1000 || res.Episodes[0].Return != 1000 {
				t.Fatalf("episode stats %+v, want length 1000 return 1000", res.Episodes)
			}
			if f := res.FinalObs.Row(0); sameBits(f, res.Obs.Row(0)) || math.Abs(f[1]) > 0.2 {
				t.Fatalf("final observation %v: should be the balanced last state, apart from the reset one", f)
			}
			for j, v := range res.Obs.Row(0) {
				if math.Abs(v) > 0.01 {
					t.Fatalf("after auto-reset obs[%d] = %v, not a fresh episode", j, v)
				}
			}
		}
		copy(o, res.Obs.Row(0))
	}
}

func TestBadInput(t *testing.T) {
	e := New()
	h, _ := open(t, e, "Hopper-v4", 2, 0, nil)
	bad := []struct {
		name string
		a    sdk.Matrix
	}{
		{"wrong rows", sdk.NewMatrix(1, 3)},
		{"wrong cols", sdk.NewMatrix(2, 2)},
		{"short data", sdk.Matrix{Rows: 2, Cols: 3, Data: make([]float64, 5)}},
		{"NaN", sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{0, 0, 0, 0, math.NaN(), 0}}},
		{"Inf", sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{math.Inf(-1), 0, 0, 0, 0, 0}}},
	}
	for _, c := range bad {
		if _, err := e.Step(bg, h, c.a); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	cfgs := []struct {
		cfg  sdk.EnvConfig
		want string
	}{
		{sdk.EnvConfig{TaskID: "Ant-v4", NumEnvs: 1}, "InvertedPendulum-v4"},
		{sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 0}, "NumEnvs"},
		{sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 1, Options: map[string]string{"colour": "red"}}, "reset_noise_scale"},
		{sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 1, Options: map[string]string{"reset_noise_scale": "-1"}}, "reset_noise_scale"},
	}
	for _, c := range cfgs {
		_, _, err := e.Open(bg, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("open %+v: error %v, want one mentioning %q", c.cfg, err, c.want)
		}
	}
	if _, err := e.Step(bg, 999, sdk.NewMatrix(2, 3)); err == nil {
		t.Errorf("step on an unknown handle: no error")
	}
	if _, err := e.Render(bg, h, 2, 64, 64); err == nil {
		t.Errorf("render of env 2 in a batch of 2: no error")
	}
	if err := e.Close(bg, h); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(bg, h); err == nil {
		t.Errorf("second close: no error")
	}
}

// TestInstability forces a non-finite state and checks that the step
// reports it and ends the episode as terminated.
func TestInstability(t *testing.T) {
	e := New()
	var mu sync.Mutex
	var logged []string
	e.Logf = func(f string, args ...any) {
		mu.Lock()
		logged = append(logged, f)
		mu.Unlock()
	}
	h, spec := open(t, e, "Hopper-v4", 2, 0, nil)
	b, _ := e.get(h)
	b.envs[1].data.Qvel()[3] = math.NaN()
	res, err := e.Step(bg, h, sdk.NewMatrix(2, spec.ActDim))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Terminated[1] || res.Info[InfoUnstable][1] != 1 || len(logged) != 1 {
		t.Errorf("NaN state: terminated %v unstable %v logged %d", res.Terminated[1], res.Info[InfoUnstable][1], len(logged))
	}
	if res.Terminated[0] || res.Info[InfoUnstable][0] != 0 {
		t.Errorf("the healthy env was flagged too")
	}
	for _, v := range res.Obs.Row(1) {
		if math.IsNaN(v) {
			t.Fatalf("env 1 not reset after the instability: %v", res.Obs.Row(1))
		}
	}
}

func TestDescribe(t *testing.T) {
	info, err := New().Describe(bg)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "mujoco" || info.Kind != sdk.KindEnv || info.Version != "0.1.0" || info.Protocol != sdk.ProtocolVersion {
		t.Errorf("info %+v", info)
	}
	if info.Capabilities["tasks"] != "Hopper-v4,Walker2d-v4,InvertedPendulum-v4" || info.Capabilities["render"] != "gif" {
		t.Errorf("capabilities %v", info.Capabilities)
	}
}

// TestWorkersDoNotChangeResults: spreading envs over goroutines must give
// the same bits as stepping them one after another.
func TestWorkersDoNotChangeResults(t *testing.T) {
	run := func(workers int) []float64 {
		e := New()
		h, spec := open(t, e, "Walker2d-v4", 5, 13, nil)
		b, _ := e.get(h)
		b.workers = workers
		r := rand.New(rand.NewPCG(13, 13))
		var tr []float64
		for range 200 {
			res, err := e.Step(bg, h, randomActions(spec, r))
			if err != nil {
				t.Fatal(err)
			}
			tr = append(append(append(tr, res.Obs.Data...), res.Reward...), res.FinalObs.Data...)
			for _, ep := range res.Episodes {
				tr = append(tr, float64(ep.Env), ep.Return, float64(ep.Length))
			}
		}
		return tr
	}
	if !sameBits(run(1), run(3)) {
		t.Errorf("1 and 3 workers gave different trajectories")
	}
}

func TestWorkers(t *testing.T) {
	for _, c := range []struct {
		n, procs int
		micros   float64
		want     int
	}{
		{1, 2, 65, 1},  // a batch of one steps inline
		{2, 2, 65, 2},  // Hopper: every env is worth a goroutine
		{8, 2, 65, 2},  // never more than the cores
		{2, 2, 11, 1},  // pendulum: two cheap envs are not worth a wake-up
		{8, 2, 11, 2},  // eight are
		{8, 16, 11, 2}, // and no more than the work allows
		{3, 1, 90, 1},
	} {
		if got := workers(c.n, c.procs, c.micros); got != c.want {
			t.Errorf("workers(%d envs, %d procs, %v us) = %d, want %d", c.n, c.procs, c.micros, got, c.want)
		}
	}
}
