// Package train is the host's training loop: it drives any sdk.Environment
// and sdk.Algorithm, in process or through plugins, step by step until the
// learner has made its configured number of updates.
//
// One loop iteration is
//
//	actions := algo.Act(observations, outcome of the previous actions)
//	outcome := env.Step(actions)
//
// The learner decides when its rollout is full and updates inside Act; the
// loop only watches the update statistics it reports, collects episode
// statistics from the environment, and calls the hooks. Hooks are where a
// host adds snapshots, checkpoints and progress reporting.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Config says what to train.
type Config struct {
	TaskID     string
	NumEnvs    int
	Seed       int64
	EnvOptions map[string]string
	// Hyper goes to the learner as is (it ignores keys it does not know).
	Hyper map[string]string

	// Checkpoint, if not nil, is loaded into the learner after Init and
	// training continues from it. The environments start fresh episodes.
	Checkpoint []byte
	// StartStep is the number of environment steps the checkpointed run
	// had made; the updates it had made are StartStep / (NumEnvs x
	// rollout steps). Take checkpoints right after an update (in
	// OnUpdate) so this is exact.
	StartStep int

	// ReturnWindow is how many recent episodes Progress averages (100
	// if 0, as CleanRL's benchmarks report).
	ReturnWindow int
}

// Start is what a run is about to train on, given to Hooks.OnStart.
type Start struct {
	Env       sdk.EnvSpec
	Algo      sdk.AlgoSpec
	EnvHandle int // the training batch's handle in the environment
	Step      int // environment steps already made (resumed runs)
	Update    int // updates already made
}

// Progress is the state of a run after an update.
type Progress struct {
	sdk.UpdateStats
	TotalUpdates int
	Episodes     int       // episodes finished in this run so far
	Recent       []float64 // returns of the last ReturnWindow episodes, oldest first
	MeanReturn   float64   // mean of Recent; NaN before the first episode ends
	MeanLength   float64   // mean length of the same episodes
	Elapsed      time.Duration
}

// Hooks are called by Run; any may be nil. A hook that returns ErrStop
// ends the run early without error; any other error aborts it.
type Hooks struct {
	OnStart   func(ctx context.Context, s Start) error
	OnEpisode func(ctx context.Context, step int, ep sdk.EpisodeStat) error
	OnUpdate  func(ctx context.Context, p Progress) error
}

// ErrStop is returned by a hook to end a run early and successfully.
var ErrStop = errors.New("train: stop requested")

// Result summarises a finished run.
type Result struct {
	Env      sdk.EnvSpec
	Algo     sdk.AlgoSpec
	Updates  int // the learner's update count at the end
	Steps    int // environment steps, including StartStep
	Episodes int // episodes finished in this run
	Last     Progress
	Stopped  bool // a hook returned ErrStop
	Elapsed  time.Duration
}

// Run trains algo on a batch of cfg.TaskID environments opened from env
// until the learner reports its last update (AlgoSpec.TotalUpdates), the
// context ends, or a hook stops it.
func Run(ctx context.Context, env sdk.Environment, algo sdk.Algorithm, cfg Config, hooks Hooks) (Result, error) {
	t0 := time.Now()
	var res Result
	if cfg.NumEnvs < 1 {
		return res, fmt.Errorf("train: num_envs %d, want at least 1", cfg.NumEnvs)
	}
	h, spec, err := env.Open(ctx, sdk.EnvConfig{TaskID: cfg.TaskID, NumEnvs: cfg.NumEnvs, Seed: cfg.Seed, Options: cfg.EnvOptions})
	if err != nil {
		return res, fmt.Errorf("train: open %s: %w", cfg.TaskID, err)
	}
	defer env.Close(context.WithoutCancel(ctx), h)
	res.Env = spec
	obs, err := env.Reset(ctx, h, cfg.Seed)
	if err != nil {
		return res, fmt.Errorf("train: reset %s: %w", cfg.TaskID, err)
	}
	aspec, err := algo.Init(ctx, sdk.AlgoConfig{Env: spec, Seed: cfg.Seed, Hyper: cfg.Hyper})
	if err != nil {
		return res, fmt.Errorf("train: init learner: %w", err)
	}
	res.Algo = aspec
	if aspec.RolloutSteps < 1 || aspec.TotalUpdates < 1 {
		return res, fmt.Errorf("train: learner reports %d rollout steps and %d updates; both must be positive", aspec.RolloutSteps, aspec.TotalUpdates)
	}
	if cfg.Checkpoint != nil {
		if err := algo.Load(ctx, cfg.Checkpoint); err != nil {
			return res, fmt.Errorf("train: resume: %w", err)
		}
	}
	batch := spec.NumEnvs * aspec.RolloutSteps
	step, update := cfg.StartStep, cfg.StartStep/batch
	res.Steps, res.Updates = step, update
	if hooks.OnStart != nil {
		if err := hooks.OnStart(ctx, Start{Env: spec, Algo: aspec, EnvHandle: h, Step: step, Update: update}); err != nil {
			return res.stop(t0, fmt.Errorf("train: OnStart: %w", err))
		}
	}

	window := cfg.ReturnWindow
	if window <= 0 {
		window = 100
	}
	eps := newEpisodes(window)
	var prev *sdk.Outcome
	var out sdk.Outcome // reused: Act reads it before the next Step
	for update < aspec.TotalUpdates {
		if err := ctx.Err(); err != nil {
			return res.stop(t0, fmt.Errorf("train: stopped at step %d: %w", step, err))
		}
		act, err := algo.Act(ctx, sdk.ActRequest{Obs: obs, Prev: prev})
		if err != nil {
			return res.stop(t0, fmt.Errorf("train: act at step %d: %w", step, err))
		}
		if u := act.Update; u != nil {
			update = u.Update
			p := eps.progress(*u, aspec.TotalUpdates, time.Since(t0))
			res.Updates, res.Last = update, p
			if hooks.OnUpdate != nil {
				if err := hooks.OnUpdate(ctx, p); err != nil {
					return res.stop(t0, fmt.Errorf("train: OnUpdate at update %d: %w", update, err))
				}
			}
			if update >= aspec.TotalUpdates {
				break
			}
		}
		sr, err := env.Step(ctx, h, act.Actions)
		if err != nil {
			return res.stop(t0, fmt.Errorf("train: env step %d: %w", step, err))
		}
		step += spec.NumEnvs
		res.Steps = step
		for _, ep := range sr.Episodes {
			eps.add(ep)
			res.Episodes = eps.n
			if hooks.OnEpisode != nil {
				if err := hooks.OnEpisode(ctx, step, ep); err != nil {
					return res.stop(t0, fmt.Errorf("train: OnEpisode at step %d: %w", step, err))
				}
			}
		}
		obs = sr.Obs
		out = sdk.Outcome{Reward: sr.Reward, Terminated: sr.Terminated, Truncated: sr.Truncated, FinalObs: sr.FinalObs}
		prev = &out
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// stop finishes a run that a hook, the context or an error ended; a hook's
// ErrStop is a successful end.
func (r Result) stop(t0 time.Time, err error) (Result, error) {
	r.Elapsed = time.Since(t0)
	if errors.Is(err, ErrStop) {
		r.Stopped = true
		return r, nil
	}
	return r, err
}

// episodes keeps the returns and lengths of the last few episodes in a
// ring.
type episodes struct {
	ret, length []float64
	next, n     int
}

func newEpisodes(window int) *episodes {
	return &episodes{ret: make([]float64, 0, window), length: make([]float64, 0, window)}
}

func (e *episodes) add(ep sdk.EpisodeStat) {
	e.n++
	if len(e.ret) < cap(e.ret) {
		e.ret = append(e.ret, ep.Return)
		e.length = append(e.length, float64(ep.Length))
		return
	}
	e.ret[e.next], e.length[e.next] = ep.Return, float64(ep.Length)
	e.next = (e.next + 1) % len(e.ret)
}

func (e *episodes) progress(u sdk.UpdateStats, total int, el time.Duration) Progress {
	p := Progress{UpdateStats: u, TotalUpdates: total, Episodes: e.n, Elapsed: el,
		MeanReturn: math.NaN(), MeanLength: math.NaN()}
	k := len(e.ret)
	p.Recent = make([]float64, 0, k)
	var sr, sl float64
	for i := 0; i < k; i++ {
		j := (e.next + i) % k
		p.Recent = append(p.Recent, e.ret[j])
		sr += e.ret[j]
		sl += e.length[j]
	}
	if k > 0 {
		p.MeanReturn, p.MeanLength = sr/float64(k), sl/float64(k)
	}
	return p
}
