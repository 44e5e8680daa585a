package train

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestPPOLearnsInvertedPendulum is the learning canary: PPO with CleanRL's
// hyperparameters, on a budget shorter than CleanRL's 1M steps, must bring
// InvertedPendulum-v4 to the "solved" average return of 950 (over the last
// 20 training episodes) and its deterministic policy must then balance
// the pole for the whole 1000-step episode.
func TestPPOLearnsInvertedPendulum(t *testing.T) {
	ctx := context.Background()
	env, algo := mjenv.New(), ppo.New()
	const budget = 150_000
	hyper := map[string]string{"total_timesteps": "150000"}
	best := math.Inf(-1)
	solvedAt := 0
	res, err := Run(ctx, env, algo, Config{TaskID: "InvertedPendulum-v4", NumEnvs: 1, Seed: 1, Hyper: hyper, ReturnWindow: 20}, Hooks{
		OnUpdate: func(_ context.Context, p Progress) error {
			t.Logf("update %3d step %6d: mean return %7.1f over %d episodes, approx_kl %.4f, SPS %.0f",
				p.Update, p.Step, p.MeanReturn, len(p.Recent), p.Stats["losses/approx_kl"], p.Stats["charts/SPS"])
			if len(p.Recent) == 20 && p.MeanReturn > best {
				best = p.MeanReturn
			}
			if best >= 950 {
				solvedAt = p.Step
				return ErrStop
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if best < 950 {
		t.Fatalf("best average return over 20 episodes %.1f after %d steps, want >= 950", best, res.Steps)
	}
	t.Logf("solved at step %d (budget %d) in %v", solvedAt, budget, res.Elapsed)

	// The deterministic policy on a fresh batch, normalised as in training.
	h, spec, err := env.Open(ctx, sdk.EnvConfig{TaskID: "InvertedPendulum-v4", NumEnvs: 2, Seed: 99})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close(ctx, h)
	obs, err := env.Reset(ctx, h, 99)
	if err != nil {
		t.Fatal(err)
	}
	var rets []float64
	for len(rets) < 2 {
		a, err := algo.Policy(ctx, obs, true)
		if err != nil {
			t.Fatal(err)
		}
		sr, err := env.Step(ctx, h, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, ep := range sr.Episodes {
			rets = append(rets, ep.Return)
		}
		obs = sr.Obs
	}
	for _, r := range rets {
		if r < float64(spec.MaxEpisodeSteps)*0.95 {
			t.Errorf("deterministic policy episode return %.0f, want >= %.0f", r, float64(spec.MaxEpisodeSteps)*0.95)
		}
	}
}

// trace records what a run reports: every update's statistics (without
// the wall-clock charts/SPS) and every episode, and the learner's final
// checkpoint.
type trace struct {
	updates  []map[string]float64
	episodes []sdk.EpisodeStat
	epSteps  []int
	final    []byte
}

func (tr *trace) hooks(algo sdk.Algorithm, stopAt int, stop chan struct{}) Hooks {
	return Hooks{
		OnEpisode: func(_ context.Context, step int, ep sdk.EpisodeStat) error {
			tr.episodes = append(tr.episodes, ep)
			tr.epSteps = append(tr.epSteps, step)
			if step == stopAt {
				close(stop)
			}
			return nil
		},
		OnUpdate: func(ctx context.Context, p Progress) error {
			st := map[string]float64{"update": float64(p.Update), "step": float64(p.Step), "mean_return": p.MeanReturn, "episodes": float64(p.Episodes)}
			for k, v := range p.Stats {
				if k != "charts/SPS" {
					st[k] = v
				}
			}
			tr.updates = append(tr.updates, st)
			if p.Update == p.TotalUpdates {
				var err error
				tr.final, err = algo.Save(ctx)
				return err
			}
			return nil
		},
	}
}

// TestResumeIsExact stops real PPO runs on InvertedPendulum (two envs,
// so episodes end mid-rollout) at an update (Progress.Save) and between
// updates (Config.Stop), resumes each in a new learner and environment,
// and requires the continuation to report what the uninterrupted run
// reports after that point, bit for bit, and to end with the same
// learner checkpoint.
func TestResumeIsExact(t *testing.T) {
	ctx := context.Background()
	hyper := map[string]string{"total_timesteps": "3072", "num_steps": "256", "num_minibatches": "4", "update_epochs": "2"}
	cfg := Config{TaskID: "InvertedPendulum-v4", NumEnvs: 2, Seed: 5, Hyper: hyper, ReturnWindow: 5}

	var full trace
	algo := ppo.New()
	if _, err := Run(ctx, mjenv.New(), algo, cfg, full.hooks(algo, -1, nil)); err != nil {
		t.Fatal(err)
	}
	if len(full.updates) != 6 || len(full.episodes) < 10 {
		t.Fatalf("uninterrupted run: %d updates, %d episodes", len(full.updates), len(full.episodes))
	}

	// At update 2, through the hook's Save.
	var st *State
	algo = ppo.New()
	_, err := Run(ctx, mjenv.New(), algo, cfg, Hooks{OnUpdate: func(ctx context.Context, p Progress) error {
		if p.Update == 2 {
			var err error
			st, err = p.Save(ctx)
			if err != nil {
				return err
			}
			return ErrStop
		}
		return nil
	}})
	if err != nil || st == nil || st.Env == nil || st.Step != 2*512 {
		t.Fatalf("first leg: state %+v, error %v", st, err)
	}
	checkContinuation(t, cfg, st, full, 2)

	// Between updates: at the first episode end inside update 4's
	// rollout.
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
	var firstLeg trace
	stop := make(chan struct{})
	cfgStop := cfg
	cfgStop.Stop = stop
	algo = ppo.New()
	res, err := Run(ctx, mjenv.New(), algo, cfgStop, firstLeg.hooks(algo, stopAt, stop))
	if err != nil || !res.Stopped || res.State == nil {
		t.Fatalf("stopped leg: %+v, %v", res, err)
	}
	if res.State.Step != stopAt || res.State.Update != 3 {
		t.Fatalf("stopped at step %d update %d, want step %d update 3", res.State.Step, res.State.Update, stopAt)
	}
	checkContinuation(t, cfg, res.State, full, 3)
}

// checkContinuation resumes st and compares what follows with the
// uninterrupted run from update `from` on.
func checkContinuation(t *testing.T, cfg Config, st *State, full trace, from int) {
	t.Helper()
	cfg.Resume = st
	var got trace
	algo := ppo.New()
	res, err := Run(context.Background(), mjenv.New(), algo, cfg, got.hooks(algo, -1, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Updates != 6 || res.Steps != 3072 {
		t.Fatalf("resumed run ended at update %d step %d, want 6, 3072", res.Updates, res.Steps)
	}
	if !reflect.DeepEqual(got.updates, full.updates[from:]) {
		t.Fatalf("updates after resuming at update %d differ:\n got  %v\n want %v", from, got.updates, full.updates[from:])
	}
	if n := len(got.episodes); n == 0 || !reflect.DeepEqual(got.episodes, full.episodes[len(full.episodes)-n:]) {
		t.Fatalf("the %d episodes after the resume differ from the uninterrupted run's last ones", n)
	}
	if !bytes.Equal(got.final, full.final) {
		t.Fatal("the resumed run's final learner checkpoint differs from the uninterrupted run's")
	}
}
