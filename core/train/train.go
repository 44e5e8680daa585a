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
//
// A learner that is an sdk.Driver linked to the environment (an
// algorithm plugin in the direct mode, see sdk/direct.go) runs the same
// cycle itself, from one update to the next: the loop then hands it the
// pending actions and gets back the last Act's result and the episodes,
// and calls the hooks as it would have step by step. Every Drive ends
// right after an Act, where State is defined, so checkpoints and Stop
// are exact; Stop is honoured between Drives, at most Config.DriveSteps
// steps late.
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

	// Resume, if not nil, continues a run from the state a previous Run
	// captured (Progress.Save or Result.State) instead of starting fresh.
	// With the environment's state in it, the continuation is exactly the
	// run that was never interrupted; without (an environment that is not
	// an sdk.EnvStater), the environments start fresh episodes.
	Resume *State
	// Stop, when closed, ends the run after the next Act with its state
	// captured in Result.State, so it can be resumed without losing the
	// steps since the last update.
	Stop <-chan struct{}

	// ReturnWindow is how many recent episodes Progress averages (100
	// if 0, as CleanRL's benchmarks report).
	ReturnWindow int

	// DriveSteps bounds the Steps of one Drive when the learner is an
	// sdk.Driver (0: the learner's RolloutSteps, so a Drive never spans
	// more than an update); it is how late Stop may be honoured.
	DriveSteps int
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
	Episodes     int       // episodes finished in the run so far
	Recent       []float64 // returns of the last ReturnWindow episodes, oldest first
	MeanReturn   float64   // mean of Recent; NaN before the first episode ends
	MeanLength   float64   // mean length of the same episodes
	Elapsed      time.Duration
	// Save captures the loop's complete state for Config.Resume; it is
	// valid only during the OnUpdate call that received it.
	Save func(ctx context.Context) (*State, error)
}

// State is where a training loop stands between an Act and the Step of
// the actions it returned: everything Run needs to continue exactly.
type State struct {
	Step   int    // environment steps made, summed over the batch
	Update int    // updates the learner has made
	Algo   []byte // the learner's checkpoint (sdk.Algorithm.Save)
	// Env is the training batch's state (sdk.EnvStater.SaveState); nil if
	// the environment cannot save it.
	Env []byte
	// Pending holds the actions the last Act returned, not yet stepped.
	Pending sdk.Matrix
	// Episodes finished so far, and the returns and lengths of the last
	// ReturnWindow of them, oldest first.
	Episodes        int
	Returns, Length []float64
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
	Steps    int // environment steps, including those before a resume
	Episodes int // episodes finished, including those before a resume
	Last     Progress
	Stopped  bool // a hook returned ErrStop, or Config.Stop was closed
	// State is the loop's state when Config.Stop ended the run.
	State   *State
	Elapsed time.Duration
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
	batch := spec.NumEnvs * aspec.RolloutSteps
	step, update := 0, 0
	window := cfg.ReturnWindow
	if window <= 0 {
		window = 100
	}
	eps := newEpisodes(window)
	var act sdk.ActResult // the last Act's result; its actions are stepped next
	pending := false      // act holds actions restored from cfg.Resume
	if r := cfg.Resume; r != nil {
		if err := algo.Load(ctx, r.Algo); err != nil {
			return res, fmt.Errorf("train: resume: %w", err)
		}
		if r.Update < 0 || r.Update > aspec.TotalUpdates || r.Step < r.Update*batch || r.Step >= (r.Update+1)*batch {
			return res, fmt.Errorf("train: resume: step %d and update %d do not fit %d steps per update and %d updates", r.Step, r.Update, batch, aspec.TotalUpdates)
		}
		step, update = r.Step, r.Update
		eps.restore(r.Episodes, r.Returns, r.Length)
		if r.Env != nil {
			st, ok := env.(sdk.EnvStater)
			if !ok {
				return res, fmt.Errorf("train: resume: the checkpoint holds the environment's state but %s cannot load it", cfg.TaskID)
			}
			if obs, err = st.LoadState(ctx, h, r.Env); err != nil {
				return res, fmt.Errorf("train: resume: %w", err)
			}
			if r.Pending.Rows != spec.NumEnvs || r.Pending.Cols != spec.ActDim || r.Pending.Validate(true) != nil {
				return res, fmt.Errorf("train: resume: pending actions are %dx%d, want %dx%d finite values", r.Pending.Rows, r.Pending.Cols, spec.NumEnvs, spec.ActDim)
			}
			act, pending = sdk.ActResult{Actions: r.Pending}, true
		}
	}
	res.Steps, res.Updates, res.Episodes = step, update, eps.n
	if hooks.OnStart != nil {
		if err := hooks.OnStart(ctx, Start{Env: spec, Algo: aspec, EnvHandle: h, Step: step, Update: update}); err != nil {
			return res.stop(t0, fmt.Errorf("train: OnStart: %w", err))
		}
	}

	// save captures the state between an Act and its Step.
	save := func(ctx context.Context) (*State, error) {
		a, err := algo.Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("train: save learner: %w", err)
		}
		var e []byte
		if st, ok := env.(sdk.EnvStater); ok {
			e, err = st.SaveState(ctx, h)
			if errors.Is(err, sdk.ErrStateUnsupported) {
				e, err = nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("train: save environment: %w", err)
			}
		}
		ret, length := eps.ordered()
		return &State{Step: step, Update: update, Algo: a, Env: e,
			Pending:  sdk.Matrix{Rows: act.Actions.Rows, Cols: act.Actions.Cols, Data: append([]float64(nil), act.Actions.Data...)},
			Episodes: eps.n, Returns: ret, Length: length}, nil
	}
	// driver, if not nil, runs Step-then-Act itself; the loop then makes
	// only the run's first Act.
	var driver sdk.Driver
	if d, ok := algo.(sdk.Driver); ok && d.Drives(env) {
		driver = d
	}
	driveSteps := cfg.DriveSteps
	if driveSteps <= 0 {
		driveSteps = aspec.RolloutSteps
	}
	driven := false // act holds a Drive's last Act, whose update is not yet seen
	var prev *sdk.Outcome
	var out sdk.Outcome // reused: Act reads it before the next Step
	for update < aspec.TotalUpdates {
		if err := ctx.Err(); err != nil {
			return res.stop(t0, fmt.Errorf("train: stopped at step %d: %w", step, err))
		}
		if !pending {
			if !driven {
				act, err = algo.Act(ctx, sdk.ActRequest{Obs: obs, Prev: prev})
			}
			driven = false
			if err != nil {
				return res.stop(t0, fmt.Errorf("train: act at step %d: %w", step, err))
			}
			if u := act.Update; u != nil {
				update = u.Update
				p := eps.progress(*u, aspec.TotalUpdates, time.Since(t0))
				p.Save = save
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
		}
		pending = false
		if stopped(cfg.Stop) {
			st, err := save(ctx)
			if err != nil {
				return res.stop(t0, err)
			}
			res.State, res.Stopped = st, true
			res.Elapsed = time.Since(t0)
			return res, nil
		}
		if driver != nil {
			dr, err := driver.Drive(ctx, sdk.DriveRequest{Handle: h, Actions: act.Actions, MaxSteps: driveSteps})
			if err != nil {
				if ctx.Err() != nil {
					return res.stop(t0, fmt.Errorf("train: stopped at step %d: %w", step, ctx.Err()))
				}
				return res.stop(t0, fmt.Errorf("train: drive from step %d: %w", step, err))
			}
			if err := checkDrive(dr, driveSteps, spec); err != nil {
				return res.stop(t0, fmt.Errorf("train: drive from step %d: %w", step, err))
			}
			for _, ep := range dr.Episodes {
				eps.add(ep.EpisodeStat)
				res.Episodes = eps.n
				if hooks.OnEpisode != nil {
					at := step + ep.AfterStep*spec.NumEnvs
					if err := hooks.OnEpisode(ctx, at, ep.EpisodeStat); err != nil {
						return res.stop(t0, fmt.Errorf("train: OnEpisode at step %d: %w", at, err))
					}
				}
			}
			step += dr.Steps * spec.NumEnvs
			res.Steps = step
			act, driven = dr.Last, true
			continue
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

// checkDrive refuses a Drive's reply that cannot be what was asked: a
// learner's mistake here would otherwise shift every later step.
func checkDrive(dr sdk.DriveResult, limit int, spec sdk.EnvSpec) error {
	if dr.Steps < 1 || dr.Steps > limit {
		return fmt.Errorf("the learner made %d steps, want 1 to %d", dr.Steps, limit)
	}
	if dr.Steps < limit && dr.Last.Update == nil {
		return fmt.Errorf("the learner stopped after %d of %d steps without an update", dr.Steps, limit)
	}
	if a := dr.Last.Actions; a.Rows != spec.NumEnvs || a.Cols != spec.ActDim || len(a.Data) != a.Rows*a.Cols {
		return fmt.Errorf("the learner's last actions are %dx%d, want %dx%d", a.Rows, a.Cols, spec.NumEnvs, spec.ActDim)
	}
	last := 0
	for _, ep := range dr.Episodes {
		if ep.AfterStep < max(last, 1) || ep.AfterStep > dr.Steps {
			return fmt.Errorf("an episode ended after step %d of %d, out of order", ep.AfterStep, dr.Steps)
		}
		last = ep.AfterStep
	}
	return nil
}

// stopped reports whether c is closed; a nil c never is.
func stopped(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
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

// ordered returns the kept returns and lengths, oldest first.
func (e *episodes) ordered() (ret, length []float64) {
	k := len(e.ret)
	ret, length = make([]float64, k), make([]float64, k)
	for i := 0; i < k; i++ {
		j := (e.next + i) % k
		ret[i], length[i] = e.ret[j], e.length[j]
	}
	return ret, length
}

// restore sets the ring to n episodes seen, the last of them with the
// given returns and lengths (oldest first); extra old ones beyond the
// window are dropped.
func (e *episodes) restore(n int, ret, length []float64) {
	k := min(len(ret), len(length), cap(e.ret))
	e.ret = append(e.ret[:0], ret[len(ret)-k:]...)
	e.length = append(e.length[:0], length[len(length)-k:]...)
	e.n, e.next = n, 0
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
