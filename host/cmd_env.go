package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/neuraltopology/neuraltopology/core/rollout"
	runcore "github.com/neuraltopology/neuraltopology/core/run"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// cmdEnv groups environment tools; today `rollout`.
func cmdEnv(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "rollout" {
		return fmt.Errorf("env: want `nthost env rollout ...`")
	}
	return cmdRollout(ctx, a, args[1:])
}

// cmdRollout runs a fixed policy in one environment and writes a JSON line
// per step (and a GIF), so users can check a task's semantics by hand.
func cmdRollout(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "env rollout", "nthost env rollout --env mujoco --env-id ID [--steps N] [--seed S] [--policy random|zero | --checkpoint RUN_DIR[/checkpoints/update_N.ckpt] [--stochastic]] [--out traj.jsonl] [--gif out.gif]")
	c.register(fs)
	env := fs.String("env", "mujoco", "environment plugin")
	envID := fs.String("env-id", "Hopper-v4", "task id")
	steps := fs.Int("steps", 1000, "environment steps")
	seed := fs.Int64("seed", 1, "seed of the environment and the random policy")
	policy := fs.String("policy", rollout.PolicyRandom, "random or zero")
	out := fs.String("out", "", "JSON lines file (default: standard output)")
	gifPath := fs.String("gif", "", "write an animated GIF of the rollout here")
	width := fs.Int("width", 320, "GIF frame width")
	height := fs.Int("height", 240, "GIF frame height")
	envParams := paramFlag(fs, "env-param", pluginParamUsage("environment"))
	ckpt := fs.String("checkpoint", "", "roll out the policy trained in this run directory (its latest checkpoint) or checkpoint file; env and task come from the run's config")
	stochastic := fs.Bool("stochastic", false, "with --checkpoint: sample actions from the policy instead of taking its mean")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := a.setup(c); err != nil {
		return err
	}
	var newActor func(context.Context, sdk.EnvSpec) (rollout.Actor, error)
	if *ckpt != "" {
		if flagSet(fs, "policy") {
			return fmt.Errorf("env rollout: --policy and --checkpoint exclude each other")
		}
		tr, err := runcore.ReadTrained(*ckpt)
		if err != nil {
			return err
		}
		for flag, v := range map[string]string{"env": tr.Config.Env, "env-id": tr.Config.EnvID} {
			if got := fs.Lookup(flag).Value.String(); flagSet(fs, flag) && got != v {
				return fmt.Errorf("env rollout: --%s %s, but the checkpoint's run used %s", flag, got, v)
			}
		}
		if len(envParams) > 0 {
			return fmt.Errorf("env rollout: --env-param and --checkpoint exclude each other: the run's env_params are used")
		}
		*env, *envID, envParams = tr.Config.Env, tr.Config.EnvID, tr.Config.EnvParams
		acl, err := a.open(ctx, sdk.KindAlgo, tr.Config.Algo)
		if err != nil {
			return err
		}
		alg, err := acl.Algo()
		if err != nil {
			return err
		}
		newActor = func(ctx context.Context, spec sdk.EnvSpec) (rollout.Actor, error) {
			// The learner is rebuilt as it was trained (its batch of
			// environments included), then loaded; Policy takes any batch.
			spec.NumEnvs = tr.Config.NumEnvs
			if _, err := alg.Init(ctx, sdk.AlgoConfig{Env: spec, Seed: tr.Config.Seed, Hyper: tr.Config.Hyper()}); err != nil {
				return nil, fmt.Errorf("checkpoint %s: init learner: %w", *ckpt, err)
			}
			if err := alg.Load(ctx, tr.Learner); err != nil {
				return nil, fmt.Errorf("checkpoint %s: load learner: %w", *ckpt, err)
			}
			a.log.Info().Str("run", tr.Dir).Int("update", tr.Update).Int("step", tr.Step).Msg("policy loaded")
			return func(ctx context.Context, obs sdk.Matrix) (sdk.Matrix, error) {
				return alg.Policy(ctx, obs, !*stochastic)
			}, nil
		}
	}
	cl, err := a.open(ctx, sdk.KindEnv, *env)
	if err != nil {
		return err
	}
	e, err := cl.Env()
	if err != nil {
		return err
	}
	if err := sdk.CheckParams(cl.Info, envParams); err != nil {
		return err
	}
	var sum rollout.Summary
	roll := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		var err error
		sum, err = rollout.Run(ctx, e, rollout.Options{
			TaskID: *envID, Steps: *steps, Seed: *seed, Policy: *policy, NewActor: newActor,
			GIF: *gifPath, Width: *width, Height: *height, EnvOptions: envParams,
			Stop: a.stopRequests(),
		}, bw)
		if err == nil {
			err = bw.Flush()
		}
		return err
	}
	if *out != "" {
		// Written beside the target and renamed at the end, so a failed
		// rollout never leaves half a file under the requested name.
		err = runstore.WriteAtomic(*out, roll)
	} else {
		err = roll(a.stdout)
	}
	where := "standard output"
	if *out != "" {
		where = *out
	}
	switch {
	case err != nil && *out != "":
		// The rollout is written whole or not at all (a second signal,
		// a failed step): say so, and leave the file as it was.
		return fmt.Errorf("%w; nothing written to %s", err, *out)
	case err != nil:
		return err
	case sum.Stopped:
		// A first signal: the steps done are written, and the exit code
		// still says the command was stopped.
		return stopped(fmt.Sprintf("env rollout: stopped after %d of %d steps; they are written to %s", sum.Steps, *steps, where))
	}
	a.log.Info().Str("env_id", sum.TaskID).Int("steps", sum.Steps).Float64("return", sum.Return).
		Int("episodes", len(sum.Episodes)).Int("gif_frames", sum.Frames).Msg("rollout done")
	return nil
}

// stopped is a command that a first signal ended cleanly, with what it
// did kept: main prints the message and exits with the signal's code,
// as for a run stopped with a checkpoint (runcore.ErrStopped).
type stopped string

func (s stopped) Error() string        { return string(s) }
func (s stopped) Is(target error) bool { return target == runcore.ErrStopped }
