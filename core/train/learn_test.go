package train

import (
	"context"
	"math"
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

// TestResumePPOFromCheckpoint stops a real run after update 2, saving a
// checkpoint there, and resumes it in a new learner and environment.
func TestResumePPOFromCheckpoint(t *testing.T) {
	ctx := context.Background()
	hyper := map[string]string{"total_timesteps": "2048", "num_steps": "256", "num_minibatches": "4", "update_epochs": "2"}
	cfg := Config{TaskID: "InvertedPendulum-v4", NumEnvs: 2, Seed: 5, Hyper: hyper}
	algo := ppo.New()
	var ck []byte
	var at int
	_, err := Run(ctx, mjenv.New(), algo, cfg, Hooks{OnUpdate: func(ctx context.Context, p Progress) error {
		if p.Update == 2 {
			var err error
			ck, err = algo.Save(ctx)
			at = p.Step
			if err != nil {
				return err
			}
			return ErrStop
		}
		return nil
	}})
	if err != nil || ck == nil {
		t.Fatalf("first leg: checkpoint %d bytes, error %v", len(ck), err)
	}
	cfg.Checkpoint, cfg.StartStep = ck, at
	var seen []int
	res, err := Run(ctx, mjenv.New(), ppo.New(), cfg, Hooks{OnUpdate: func(_ context.Context, p Progress) error {
		seen = append(seen, p.Update, p.Step)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{3, 3 * 512, 4, 4 * 512}
	if len(seen) != 4 || seen[0] != want[0] || seen[1] != want[1] || seen[2] != want[2] || seen[3] != want[3] {
		t.Fatalf("resumed updates (update, step) %v, want %v", seen, want)
	}
	if res.Updates != 4 || res.Steps != 2048 {
		t.Fatalf("resumed run ended at update %d step %d, want 4, 2048", res.Updates, res.Steps)
	}
}
