package ppo

import (
	"context"
	"fmt"
	"sort"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/statebin"
)

// checkpointMagic and checkpointVersion identify a checkpoint's format.
const (
	checkpointMagic   = "nt-algo-ppo checkpoint"
	checkpointVersion = 2 // 2: statebin instead of gob, so equal states give equal bytes
)

// checkpoint is everything a learner needs to continue bit for bit: the
// configuration it was built from, the weights, the optimiser, both
// normalisers, the partial rollout (including actions whose outcome is
// pending), the counters and both random streams.
type checkpoint struct {
	Magic   string
	Version int

	// Hyper is sorted by key: a map would make gob's bytes depend on map
	// iteration order, and equal states must give equal checkpoints.
	Hyper [][2]string
	Spec  sdk.EnvSpec
	Seed  int64

	Theta   []float64
	Adam    adam
	ObsStat runningStat
	Rews    returnScaler

	T                        int
	Obs, Act, LogP, Val, Rew []float64
	Done                     []bool
	Update, GlobalStep       int
	RNG, PolicyRNG           []byte
}

// Save serialises the learner's complete state. Loading it into any PPO
// value and repeating the same Act requests reproduces the same actions,
// statistics and weights.
func (a *PPO) Save(ctx context.Context) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.l == nil {
		return nil, errNotReady
	}
	return a.l.save()
}

func (p *learner) save() ([]byte, error) {
	p.settle()
	rng, err := p.rng.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("ppo: save random stream: %w", err)
	}
	prng, err := p.polRng.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("ppo: save policy random stream: %w", err)
	}
	ck := checkpoint{
		Magic: checkpointMagic, Version: checkpointVersion,
		Hyper: sortedPairs(p.hyper), Spec: p.spec, Seed: p.seed,
		Theta: p.theta, Adam: p.opt, ObsStat: p.obsStat, Rews: p.rews,
		T: p.t, Obs: p.bObs, Act: p.bAct, LogP: p.bLogP, Val: p.bVal, Rew: p.bRew, Done: p.bDone,
		Update: p.update, GlobalStep: p.globalStep, RNG: rng, PolicyRNG: prng,
	}
	b, err := statebin.Marshal(&ck)
	if err != nil {
		return nil, fmt.Errorf("ppo: encode checkpoint: %w", err)
	}
	return b, nil
}

// Load replaces the learner's state with a checkpoint made by Save. The
// learner need not be initialised: the checkpoint carries its config.
func (a *PPO) Load(ctx context.Context, data []byte) error {
	l, err := loadLearner(data)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.l = l
	return nil
}

// loadLearner builds a learner from a checkpoint.
func loadLearner(data []byte) (*learner, error) {
	var ck checkpoint
	if err := statebin.Unmarshal(data, &ck); err != nil {
		return nil, fmt.Errorf("ppo: checkpoint is not readable: %w", err)
	}
	if ck.Magic != checkpointMagic {
		return nil, fmt.Errorf("ppo: not a PPO checkpoint (magic %q)", ck.Magic)
	}
	if ck.Version != checkpointVersion {
		return nil, fmt.Errorf("ppo: checkpoint format %d, this build reads %d", ck.Version, checkpointVersion)
	}
	hyper := make(map[string]string, len(ck.Hyper))
	for _, kv := range ck.Hyper {
		hyper[kv[0]] = kv[1]
	}
	q, err := newLearner(sdk.AlgoConfig{Env: ck.Spec, Seed: ck.Seed, Hyper: hyper})
	if err != nil {
		return nil, fmt.Errorf("ppo: checkpoint config: %w", err)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"weights", len(ck.Theta), len(q.theta)},
		{"adam first moments", len(ck.Adam.M), len(q.theta)},
		{"adam second moments", len(ck.Adam.V), len(q.theta)},
		{"observation mean", len(ck.ObsStat.Mean), q.obsDim},
		{"observation variance", len(ck.ObsStat.Var), q.obsDim},
		{"return accumulators", len(ck.Rews.Ret), q.nE},
		{"return variance", len(ck.Rews.Stat.Var), 1},
		{"rollout observations", len(ck.Obs), len(q.bObs)},
		{"rollout actions", len(ck.Act), len(q.bAct)},
		{"rollout log-probs", len(ck.LogP), q.batch},
		{"rollout values", len(ck.Val), q.batch},
		{"rollout rewards", len(ck.Rew), q.batch},
		{"rollout episode ends", len(ck.Done), q.batch},
	} {
		if c.got != c.want {
			return nil, fmt.Errorf("ppo: checkpoint has %d %s, its config needs %d", c.got, c.name, c.want)
		}
	}
	if ck.T < 0 || ck.T > q.cfg.NumSteps {
		return nil, fmt.Errorf("ppo: checkpoint rollout position %d outside 0..%d", ck.T, q.cfg.NumSteps)
	}
	if err := q.rng.UnmarshalBinary(ck.RNG); err != nil {
		return nil, fmt.Errorf("ppo: checkpoint random stream: %w", err)
	}
	if err := q.polRng.UnmarshalBinary(ck.PolicyRNG); err != nil {
		return nil, fmt.Errorf("ppo: checkpoint policy random stream: %w", err)
	}
	copy(q.theta, ck.Theta)
	q.opt.Step = ck.Adam.Step
	copy(q.opt.M, ck.Adam.M)
	copy(q.opt.V, ck.Adam.V)
	copy(q.obsStat.Mean, ck.ObsStat.Mean)
	copy(q.obsStat.Var, ck.ObsStat.Var)
	q.obsStat.Count = ck.ObsStat.Count
	copy(q.rews.Ret, ck.Rews.Ret)
	copy(q.rews.Stat.Mean, ck.Rews.Stat.Mean)
	copy(q.rews.Stat.Var, ck.Rews.Stat.Var)
	q.rews.Stat.Count = ck.Rews.Stat.Count
	q.t = ck.T
	copy(q.bObs, ck.Obs)
	copy(q.bAct, ck.Act)
	copy(q.bLogP, ck.LogP)
	copy(q.bVal, ck.Val)
	copy(q.bRew, ck.Rew)
	copy(q.bDone, ck.Done)
	q.update, q.globalStep = ck.Update, ck.GlobalStep
	return q, nil
}

// sortedPairs returns m's entries sorted by key.
func sortedPairs(m map[string]string) [][2]string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, len(keys))
	for i, k := range keys {
		out[i] = [2]string{k, m[k]}
	}
	return out
}
