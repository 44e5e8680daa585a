package train

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// localDriver is an in-process sdk.Driver: the learner runs sdk.Drive,
// the loop an algorithm plugin runs in the direct mode, against env.
type localDriver struct {
	sdk.Algorithm
	env    sdk.Environment
	drives int
	steps  []int // Steps of each Drive
}

func (d *localDriver) Drives(e sdk.Environment) bool { return e == d.env }

func (d *localDriver) Drive(ctx context.Context, req sdk.DriveRequest) (sdk.DriveResult, error) {
	d.drives++
	// Past the loop's step counter, as an algorithm plugin steps the
	// environment plugin past the host.
	r, err := sdk.Drive(ctx, d.env.(*stepCounter).Environment, d.Algorithm, req)
	d.steps = append(d.steps, r.Steps)
	return r, err
}

// stepCounter counts the Steps the loop itself makes.
type stepCounter struct {
	sdk.Environment
	steps int
}

func (s *stepCounter) Step(ctx context.Context, h int, a sdk.Matrix) (sdk.StepResult, error) {
	s.steps++
	return s.Environment.Step(ctx, h, a)
}

func (s *stepCounter) SaveState(ctx context.Context, h int) ([]byte, error) {
	return s.Environment.(sdk.EnvStater).SaveState(ctx, h)
}

func (s *stepCounter) LoadState(ctx context.Context, h int, b []byte) (sdk.Matrix, error) {
	return s.Environment.(sdk.EnvStater).LoadState(ctx, h, b)
}

// TestDrivenMatchesStepByStep trains real PPO on InvertedPendulum (two
// envs, episodes ending mid-rollout) once step by step and once through a
// Driver whose Drives end at updates and, with a limit of 100 steps, in
// between; every update's statistics, every episode with its step and the
// final checkpoint must agree bit for bit. Then a driven run is stopped
// between updates (Config.Stop, honoured at a Drive's end) and resumed
// step by step: the continuation must be the uninterrupted run's.
func TestDrivenMatchesStepByStep(t *testing.T) {
	ctx := context.Background()
	hyper := map[string]string{"total_timesteps": "3072", "num_steps": "256", "num_minibatches": "4", "update_epochs": "2"}
	cfg := Config{TaskID: "InvertedPendulum-v4", NumEnvs: 2, Seed: 5, Hyper: hyper, ReturnWindow: 5, DriveSteps: 100}

	var full trace
	algo := ppo.New()
	if _, err := Run(ctx, mjenv.New(), algo, cfg, full.hooks(algo, -1, nil)); err != nil {
		t.Fatal(err)
	}

	var driven trace
	env := &stepCounter{Environment: mjenv.New()}
	d := &localDriver{Algorithm: ppo.New(), env: env}
	res, err := Run(ctx, env, d, cfg, driven.hooks(d, -1, nil))
	if err != nil {
		t.Fatal(err)
	}
	// 256 steps per update in Drives of at most 100: 100, 100, 56, then
	// 100, 100, 56 from each update to the next.
	if env.steps != 0 || d.drives != 18 || res.Steps != 3072 {
		t.Fatalf("the loop stepped %d times itself and Drove %d times (%v) to step %d; want 0, 18, 3072", env.steps, d.drives, d.steps, res.Steps)
	}
	if !reflect.DeepEqual(driven.updates, full.updates) {
		t.Fatalf("updates differ:\n driven %v\n stepped %v", driven.updates, full.updates)
	}
	if len(full.episodes) < 10 || !reflect.DeepEqual(driven.episodes, full.episodes) || !reflect.DeepEqual(driven.epSteps, full.epSteps) {
		t.Fatalf("episodes differ: driven at %v, stepped at %v", driven.epSteps, full.epSteps)
	}
	if !bytes.Equal(driven.final, full.final) {
		t.Fatal("the final learner checkpoints differ")
	}

	// Stop inside update 4's rollout; the Drive under way finishes first.
	stopAt := 0
	for _, s := range full.epSteps {
		if s > 3*512 && s < 4*512 {
			stopAt = s
			break
		}
	}
	if stopAt == 0 {
		t.Fatalf("no episode ends inside update 4 (episode ends at %v)", full.epSteps)
	}
	var leg trace
	stop := make(chan struct{})
	cfgStop := cfg
	cfgStop.Stop = stop
	env = &stepCounter{Environment: mjenv.New()}
	d = &localDriver{Algorithm: ppo.New(), env: env}
	res, err = Run(ctx, env, d, cfgStop, leg.hooks(d, stopAt, stop))
	if err != nil || !res.Stopped || res.State == nil {
		t.Fatalf("stopped leg: %+v, %v", res, err)
	}
	if s := res.State.Step; s < stopAt || s > stopAt+2*100 || res.State.Update != 3 {
		t.Fatalf("stopped at step %d update %d, want within a Drive after step %d, update 3", s, res.State.Update, stopAt)
	}
	cfg.DriveSteps = 0
	checkContinuation(t, cfg, res.State, full, 3)
}

// badDriver answers Drives with replies that cannot be right.
type badDriver struct {
	*fakeAlgo
	env   sdk.Environment
	reply sdk.DriveResult
}

func (b *badDriver) Drives(e sdk.Environment) bool { return e == b.env }

func (b *badDriver) Drive(context.Context, sdk.DriveRequest) (sdk.DriveResult, error) {
	return b.reply, nil
}

func TestRunRefusesImpossibleDrives(t *testing.T) {
	ones := sdk.Matrix{Rows: 1, Cols: 1, Data: []float64{1}}
	for _, c := range []struct {
		reply sdk.DriveResult
		want  string
	}{
		{sdk.DriveResult{Steps: 0, Last: sdk.ActResult{Actions: ones}}, "made 0 steps"},
		{sdk.DriveResult{Steps: 9, Last: sdk.ActResult{Actions: ones}}, "made 9 steps"},
		{sdk.DriveResult{Steps: 2, Last: sdk.ActResult{Actions: ones}}, "without an update"},
		{sdk.DriveResult{Steps: 4, Last: sdk.ActResult{Actions: sdk.NewMatrix(2, 1)}}, "2x1"},
		{sdk.DriveResult{Steps: 4, Last: sdk.ActResult{Actions: ones}, Episodes: []sdk.DrivenEpisode{{AfterStep: 5}}}, "after step 5 of 4"},
	} {
		env := &countEnv{epLen: 3}
		b := &badDriver{fakeAlgo: &fakeAlgo{rollout: 4, total: 2}, env: env, reply: c.reply}
		_, err := Run(context.Background(), env, b, Config{TaskID: "Count-v0", NumEnvs: 1, DriveSteps: 4}, Hooks{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("reply %+v: error %v, want one containing %q", c.reply, err, c.want)
		}
	}
}
