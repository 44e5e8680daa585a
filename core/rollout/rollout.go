// Package rollout runs a fixed policy in any sdk.Environment for a number
// of steps and records what happened: one JSON line per step and,
// optionally, an animated GIF of the first environment. It works the same
// on an in-process environment and on a plugin reached over gRPC, since it
// only uses the sdk interface.
package rollout

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// The policies Run knows.
const (
	PolicyRandom = "random" // uniform in the action bounds
	PolicyZero   = "zero"   // all-zero actions
	// PolicyTrained is a trained learner's, given as Options.NewActor.
	PolicyTrained = "trained"
)

// Actor maps a batch of observations to actions: a trained policy.
type Actor func(ctx context.Context, obs sdk.Matrix) (sdk.Matrix, error)

// Options configure a rollout.
type Options struct {
	TaskID     string
	Steps      int
	Seed       int64             // seeds the environment and the random policy
	Policy     string            // PolicyRandom (default) or PolicyZero; PolicyTrained with NewActor
	EnvOptions map[string]string // passed to the environment's Open
	// NewActor, if set, makes the policy from the opened environment's
	// spec (a learner loaded from a checkpoint); Policy is then
	// PolicyTrained.
	NewActor func(ctx context.Context, spec sdk.EnvSpec) (Actor, error)
	// Stop, once closed, ends the rollout after the step under way: what
	// was done is written (records and GIF) and Summary.Stopped is set.
	Stop <-chan struct{}

	// GIF, if not empty, is the path of an animated GIF of the rollout.
	// It is written to a temporary name beside it and renamed at the end,
	// so a failed run never leaves half a file under that name.
	GIF           string
	Width, Height int // frame size; 0 means 320x240
	FrameEvery    int // render every k-th step; 0 means 1
}

// Summary describes a finished rollout.
type Summary struct {
	TaskID   string
	Steps    int
	Return   float64 // sum of all rewards
	Episodes []sdk.EpisodeStat
	Frames   int  // frames in the GIF (0 without one)
	Stopped  bool // Options.Stop ended it before Options.Steps
}

// Record is one step of the trajectory as written to the JSON lines.
type Record struct {
	Step       int                `json:"step"`
	Obs        []float64          `json:"obs"` // the observation the action was chosen from
	Action     []float64          `json:"action"`
	Reward     float64            `json:"reward"`
	Terminated bool               `json:"terminated"`
	Truncated  bool               `json:"truncated"`
	Info       map[string]float64 `json:"info"`
	// FinalObs is the last observation of an episode that ended at this
	// step; the next record's Obs starts the new episode.
	FinalObs []float64 `json:"final_obs,omitempty"`
}

// Run opens a batch of one environment, resets it with opts.Seed, and
// takes opts.Steps steps with the chosen policy, writing one Record per
// step to w (w may be nil to write nothing).
func Run(ctx context.Context, env sdk.Environment, opts Options, w io.Writer) (Summary, error) {
	sum := Summary{TaskID: opts.TaskID}
	if opts.Steps < 1 {
		return sum, fmt.Errorf("rollout: steps %d, want at least 1", opts.Steps)
	}
	switch {
	case opts.NewActor != nil:
		opts.Policy = PolicyTrained
	case opts.Policy == "":
		opts.Policy = PolicyRandom
	case opts.Policy == PolicyRandom || opts.Policy == PolicyZero:
	default:
		return sum, fmt.Errorf("rollout: unknown policy %q (valid: %s, %s)", opts.Policy, PolicyRandom, PolicyZero)
	}
	if opts.Width == 0 && opts.Height == 0 {
		opts.Width, opts.Height = 320, 240
	}
	if opts.FrameEvery < 1 {
		opts.FrameEvery = 1
	}

	h, spec, err := env.Open(ctx, sdk.EnvConfig{TaskID: opts.TaskID, NumEnvs: 1, Seed: opts.Seed, Options: opts.EnvOptions})
	if err != nil {
		return sum, fmt.Errorf("rollout: open %s: %w", opts.TaskID, err)
	}
	defer env.Close(context.WithoutCancel(ctx), h)
	var pol Actor
	if opts.NewActor != nil {
		pol, err = opts.NewActor(ctx, spec)
	} else {
		pol, err = newPolicy(opts.Policy, spec, opts.Seed)
	}
	if err != nil {
		return sum, err
	}
	obs, err := env.Reset(ctx, h, opts.Seed)
	if err != nil {
		return sum, fmt.Errorf("rollout: reset: %w", err)
	}

	var gifw *gifFile
	if opts.GIF != "" {
		gifw, err = createGIF(opts.GIF, delay(spec.DT*float64(opts.FrameEvery)))
		if err != nil {
			return sum, err
		}
	}
	frame := func() error {
		f, err := env.Render(ctx, h, 0, opts.Width, opts.Height)
		if err != nil {
			return fmt.Errorf("rollout: render: %w", err)
		}
		return gifw.add(f)
	}
	if gifw != nil {
		if err := frame(); err != nil {
			return sum, err
		}
	}

	var bw *bufio.Writer
	var enc *json.Encoder
	if w != nil {
		bw = bufio.NewWriter(w)
		enc = json.NewEncoder(bw)
	}
	keys := append([]string(nil), spec.InfoKeys...)
	sort.Strings(keys)
	cur := append([]float64(nil), obs.Row(0)...)
	for step := range opts.Steps {
		select {
		case <-opts.Stop:
			sum.Stopped = true
		default:
		}
		if sum.Stopped {
			break
		}
		act, err := pol(ctx, obs)
		if err != nil {
			return sum, fmt.Errorf("rollout: policy at step %d: %w", step, err)
		}
		if act.Rows != 1 || act.Cols != spec.ActDim {
			return sum, fmt.Errorf("rollout: policy gave a %dx%d action, want 1x%d", act.Rows, act.Cols, spec.ActDim)
		}
		res, err := env.Step(ctx, h, act)
		if err != nil {
			return sum, fmt.Errorf("rollout: step %d: %w", step, err)
		}
		rec := Record{
			Step: step, Obs: cur, Action: act.Row(0),
			Reward: res.Reward[0], Terminated: res.Terminated[0], Truncated: res.Truncated[0],
			Info: make(map[string]float64, len(keys)),
		}
		for k, v := range res.Info {
			if len(v) > 0 {
				rec.Info[k] = jsonSafe(v[0])
			}
		}
		if rec.Terminated || rec.Truncated {
			rec.FinalObs = res.FinalObs.Row(0)
		}
		if enc != nil {
			if err := enc.Encode(rec); err != nil {
				return sum, fmt.Errorf("rollout: write step %d: %w", step, err)
			}
		}
		sum.Steps++
		sum.Return += rec.Reward
		sum.Episodes = append(sum.Episodes, res.Episodes...)
		cur = append([]float64(nil), res.Obs.Row(0)...)
		obs = res.Obs
		if gifw != nil && (step+1)%opts.FrameEvery == 0 {
			if err := frame(); err != nil {
				return sum, err
			}
		}
	}
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return sum, fmt.Errorf("rollout: write: %w", err)
		}
	}
	if gifw != nil {
		sum.Frames = gifw.Len()
		if err := gifw.commit(); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// jsonSafe maps the values JSON cannot carry to null-free stand-ins:
// encoding/json refuses NaN and infinities.
func jsonSafe(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case math.IsInf(v, 1):
		return math.MaxFloat64
	case math.IsInf(v, -1):
		return -math.MaxFloat64
	}
	return v
}

// newPolicy returns a fixed policy giving the next 1 x ActDim action.
func newPolicy(name string, spec sdk.EnvSpec, seed int64) (Actor, error) {
	if name == PolicyZero {
		return func(context.Context, sdk.Matrix) (sdk.Matrix, error) { return sdk.NewMatrix(1, spec.ActDim), nil }, nil
	}
	if len(spec.ActLow) != spec.ActDim || len(spec.ActHigh) != spec.ActDim {
		return nil, errors.New("rollout: environment spec has no action bounds for the random policy")
	}
	for j := range spec.ActDim {
		lo, hi := spec.ActLow[j], spec.ActHigh[j]
		if math.IsInf(lo, 0) || math.IsInf(hi, 0) || !(lo <= hi) {
			return nil, fmt.Errorf("rollout: action %d bounds [%v, %v] are not finite: the random policy needs a box", j, lo, hi)
		}
	}
	// Its own stream, apart from the environment's, so that changing the
	// policy does not change the reset noise.
	r := rand.New(rand.NewPCG(uint64(seed), 0x706f6c696379))
	return func(context.Context, sdk.Matrix) (sdk.Matrix, error) {
		a := sdk.NewMatrix(1, spec.ActDim)
		for j := range a.Data {
			a.Data[j] = spec.ActLow[j] + (spec.ActHigh[j]-spec.ActLow[j])*r.Float64()
		}
		return a, nil
	}, nil
}

// delay converts seconds per frame to GIF hundredths, at least 2 because
// viewers slow down anything faster.
func delay(sec float64) int { return max(2, int(math.Round(sec*100))) }
