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
