// Package ppo is Proximal Policy Optimisation for continuous actions, with
// every implementation detail of CleanRL's ppo_continuous_action: separate
// tanh actor and critic MLPs with orthogonal initialisation, a
// state-independent log standard deviation, Adam with linear learning-rate
// annealing, GAE, per-minibatch advantage normalisation, clipped surrogate
// and value losses, an entropy bonus, global gradient-norm clipping, an
// optional target-KL early stop, observation normalisation and reward
// scaling by the running deviation of the discounted return.
//
// Two things differ from CleanRL on purpose: a time-limit truncation is
// bootstrapped (the step's reward gets gamma * V(final observation)), and
// rewards are clipped to [-100, 100] as in the seed pipeline (clip_reward).
//
// PPO implements sdk.Algorithm, so it runs in process or, through sdk.Serve,
// as the nt-algo-ppo plugin.
package ppo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Version is the plugin's semantic version.
const Version = "0.1.0"

// PPO is a PPO learner. Its zero value is not ready: call Init (or Load).
// The methods are safe for concurrent use; they serialise on one mutex.
type PPO struct {
	mu sync.Mutex
	l  *learner // nil until Init or Load
}

// learner is the state of an initialised PPO.
type learner struct {
	cfg   Config
	hyper map[string]string
	spec  sdk.EnvSpec
	seed  int64

	nE, obsDim, actDim int
	batch, mbSize      int
	totalUpdates       int
	actLow, actHigh    []float64

	// theta holds every parameter: actor, log-std, critic. grad mirrors it.
	theta, grad     []float64
	nActor          int // actor parameters (without log-std)
	actor, critic   mlp
	logStd, gLogStd []float64
	opt             adam

	obsStat runningStat
	rews    returnScaler

	// The rollout, step-major (index t*nE + e), t steps filled.
	// Observations are stored normalised, actions unclipped (as sampled,
	// for their log-probs).
	t                             int
	bObs, bAct                    []float64
	bLogP, bVal, bRew, bAdv, bRet []float64
	bDone                         []bool
	// valPending says the critic's values of rollout step valT are still
	// to be computed (ActOverlapped leaves them to settle).
	valPending bool
	valT       int

	update, globalStep int
	// rng drives initialisation, sampling and shuffling; polRng only
	// Policy, so evaluation never changes training.
	rng, polRng *rand.PCG
	rnd, polRnd *rand.Rand
	// start and startStep time charts/SPS from the first Act.
	start     time.Time
	startStep int

	// Scratch, allocated once.
	actW, critW                      *work // Act: nE rows
	mbA, mbC                         *work // update: one minibatch
	actions, nextVal, mbAdv, dMu, dV []float64
	perm                             []int
}

// New returns an uninitialised learner, ready for Describe and Init.
func New() *PPO { return &PPO{} }

var _ sdk.Algorithm = (*PPO)(nil)

// Describe says what the plugin is.
func (a *PPO) Describe(ctx context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:        "ppo",
		Kind:        sdk.KindAlgo,
		Version:     Version,
		Protocol:    sdk.ProtocolVersion,
		Description: "PPO for continuous actions (CleanRL ppo_continuous_action), on gonum",
		Capabilities: map[string]string{
			"layers":       "actor/1,actor/2,critic/1,critic/2",
			"action_space": "box",
			"hyper":        "total_timesteps,learning_rate,num_steps,anneal_lr,gamma,gae_lambda,num_minibatches,update_epochs,norm_adv,clip_coef,clip_vloss,ent_coef,vf_coef,max_grad_norm,target_kl,hidden_size,clip_obs,clip_reward",
		},
		// The run's config keys reach Hyper on their own; these two have no
		// config key, so they are parameters (--algo-param clip_obs=5).
		Params: []sdk.ParamSpec{
			{Name: "clip_obs", Type: sdk.ParamFloat, Default: "10", Doc: "normalised observations are clipped to [-clip_obs, clip_obs]", Min: "0"},
			{Name: "clip_reward", Type: sdk.ParamFloat, Default: "100", Doc: "rewards are clipped to [-clip_reward, clip_reward] (the seed's pipeline)", Min: "0"},
		},
	}, nil
}

// Init builds a fresh learner for cfg.Env.
func (a *PPO) Init(ctx context.Context, cfg sdk.AlgoConfig) (sdk.AlgoSpec, error) {
	l, err := newLearner(cfg)
	if err != nil {
		return sdk.AlgoSpec{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.l = l
	return l.algoSpec(), nil
}

func (p *learner) algoSpec() sdk.AlgoSpec {
	return sdk.AlgoSpec{Layers: p.layerNames(), RolloutSteps: p.cfg.NumSteps, TotalUpdates: p.totalUpdates}
}

// Config returns the parsed hyperparameters (zero before Init).
func (a *PPO) Config() Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.l == nil {
		return Config{}
	}
	return a.l.cfg
}

// newLearner lays out every buffer and draws the initial weights.
func newLearner(cfg sdk.AlgoConfig) (*learner, error) {
	c, err := ParseConfig(cfg.Hyper)
	if err != nil {
		return nil, err
	}
	if err := loadGemm(); err != nil {
		return nil, err
	}
	env := cfg.Env
	if env.NumEnvs < 1 || env.ObsDim < 1 || env.ActDim < 1 {
		return nil, fmt.Errorf("ppo: env spec %q has %d envs, obs dim %d, action dim %d: each must be at least 1", env.TaskID, env.NumEnvs, env.ObsDim, env.ActDim)
	}
	// A config (or a forged checkpoint) naming networks or buffers the
	// machine cannot hold is refused before anything is allocated.
	if err := sdk.CheckMemory("ppo: networks and rollout buffer", memoryNeed(c, env)); err != nil {
		return nil, err
	}
	low, high, err := bounds(env)
	if err != nil {
		return nil, err
	}
	batch := env.NumEnvs * c.NumSteps
	if c.NumMinibatches > batch {
		return nil, fmt.Errorf("ppo: num_minibatches %d exceeds the batch of %d (num_envs %d x num_steps %d)", c.NumMinibatches, batch, env.NumEnvs, c.NumSteps)
	}
	total := c.TotalTimesteps / batch
	if total < 1 {
		return nil, fmt.Errorf("ppo: total_timesteps %d is less than one rollout of %d steps (num_envs %d x num_steps %d)", c.TotalTimesteps, batch, env.NumEnvs, c.NumSteps)
	}

	p := &learner{cfg: c, spec: env, seed: cfg.Seed, hyper: copyMap(cfg.Hyper)}
	p.nE, p.obsDim, p.actDim = env.NumEnvs, env.ObsDim, env.ActDim
	p.batch = batch
	// CleanRL's minibatch size (the seed used num_minibatches as the size).
	p.mbSize = batch / c.NumMinibatches
	p.totalUpdates = total
	p.actLow, p.actHigh = low, high

	aw := append(append([]int{p.obsDim}, c.Hidden...), p.actDim)
	cw := append(append([]int{p.obsDim}, c.Hidden...), 1)
	p.nActor = mlpSize(aw)
	n := p.nActor + p.actDim + mlpSize(cw)
	p.theta, p.grad = make([]float64, n), make([]float64, n)
	p.actor = newMLP(aw, p.theta[:p.nActor], p.grad[:p.nActor])
	p.logStd, p.gLogStd = p.theta[p.nActor:p.nActor+p.actDim], p.grad[p.nActor:p.nActor+p.actDim]
	p.critic = newMLP(cw, p.theta[p.nActor+p.actDim:], p.grad[p.nActor+p.actDim:])
	p.opt = newAdam(n, 1e-5)

	// Two streams from the seed: training (init, sampling, shuffling) and
	// Policy, so evaluating the policy never changes what training does.
	p.rng = rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)
	p.polRng = rand.NewPCG(uint64(cfg.Seed), 0xbf58476d1ce4e5b9)
	p.rnd, p.polRnd = rand.New(p.rng), rand.New(p.polRng)
	gains := func(nl int, out float64) []float64 {
		g := make([]float64, nl)
		for i := range g {
			g[i] = math.Sqrt2
		}
		g[nl-1] = out
		return g
	}
	p.critic.orthoInit(p.rnd, gains(len(p.critic.layers), 1.0))
	p.actor.orthoInit(p.rnd, gains(len(p.actor.layers), 0.01))

	p.obsStat = newRunningStat(p.obsDim)
	p.rews = newReturnScaler(p.nE)

	p.bObs = make([]float64, batch*p.obsDim)
	p.bAct = make([]float64, batch*p.actDim)
	p.bLogP, p.bVal, p.bRew = make([]float64, batch), make([]float64, batch), make([]float64, batch)
	p.bAdv, p.bRet = make([]float64, batch), make([]float64, batch)
	p.bDone = make([]bool, batch)

	p.actW, p.critW = newWork(p.actor, p.nE), newWork(p.critic, p.nE)
	p.mbA, p.mbC = newWork(p.actor, p.mbSize), newWork(p.critic, p.mbSize)
	p.actions = make([]float64, p.nE*p.actDim)
	p.nextVal = make([]float64, p.nE)
	p.mbAdv = make([]float64, p.mbSize)
	p.dMu = make([]float64, p.mbSize*p.actDim)
	p.dV = make([]float64, p.mbSize)
	p.perm = make([]int, batch)
	for i := range p.perm {
		p.perm[i] = i
	}
	return p, nil
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// bounds returns the action bounds, +-Inf where the spec gives none.
func bounds(env sdk.EnvSpec) (low, high []float64, err error) {
	low, high = make([]float64, env.ActDim), make([]float64, env.ActDim)
	for j := range low {
		low[j], high[j] = math.Inf(-1), math.Inf(1)
	}
	for _, b := range []struct {
		name string
		src  []float64
		dst  []float64
	}{{"ActLow", env.ActLow, low}, {"ActHigh", env.ActHigh, high}} {
		switch len(b.src) {
		case 0:
		case env.ActDim:
			copy(b.dst, b.src)
		default:
			return nil, nil, fmt.Errorf("ppo: env spec %q: %s has %d values for action dim %d", env.TaskID, b.name, len(b.src), env.ActDim)
		}
	}
	for j := range low {
		if math.IsNaN(low[j]) || math.IsNaN(high[j]) || low[j] > high[j] {
			return nil, nil, fmt.Errorf("ppo: env spec %q: action %d has bounds [%v, %v]", env.TaskID, j, low[j], high[j])
		}
	}
	return low, high, nil
}

func (p *learner) layerNames() []string {
	var names []string
	for _, net := range []string{"actor", "critic"} {
		for i := range p.cfg.Hidden {
			names = append(names, net+"/"+strconv.Itoa(i+1))
		}
	}
	return names
}

var errNotReady = errors.New("ppo: learner not initialised: call Init or Load first")

// Act records the outcome of the previous actions, updates the policy when
// that outcome completes the rollout, and returns actions for req.Obs.
//
// The returned Actions share storage with the learner and stay valid until
// the next call to Act.
//
// A request without Prev starts new episodes (the first call of a run, or
// the first after resuming from a checkpoint with fresh environments). If
// actions are still pending from before, their step is dropped and the
// step before it is treated as truncated, bootstrapped with its successor's
// stored value.
func (a *PPO) Act(ctx context.Context, req sdk.ActRequest) (sdk.ActResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.l == nil {
		return sdk.ActResult{}, errNotReady
	}
	return a.l.act(req, false)
}

// ActOverlapped is Act without the critic's value of the new
// observations, which Settle computes: the value does not shape the
// actions, so sdk.Drive has it computed while the environment plugin
// steps them (sdk.Overlapper). The results are Act's, bit for bit.
func (a *PPO) ActOverlapped(ctx context.Context, req sdk.ActRequest) (sdk.ActResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.l == nil {
		return sdk.ActResult{}, errNotReady
	}
	return a.l.act(req, true)
}

// Settle computes what the last ActOverlapped left.
func (a *PPO) Settle() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.l != nil {
		a.l.settle()
	}
}

// act answers Act; with overlap it leaves the critic's value of the new
// step to settle.
func (p *learner) act(req sdk.ActRequest, overlap bool) (sdk.ActResult, error) {
	// Everything below may read the value (abandonPending, learn).
	p.settle()
	if err := p.checkObs(req.Obs, p.nE, "Act"); err != nil {
		return sdk.ActResult{}, err
	}
	if p.start.IsZero() {
		p.start, p.startStep = time.Now(), p.globalStep
	}
	if req.Prev == nil {
		p.abandonPending()
	} else if err := p.record(req.Prev); err != nil {
		return sdk.ActResult{}, err
	}

	// Normalise the observations, updating the statistics, into the
	// rollout slot or, when the rollout is full, the Act scratch.
	var res sdk.ActResult
	p.obsStat.update(req.Obs.Data, p.nE)
	if p.t == p.cfg.NumSteps {
		x := p.critW.input(p.nE, p.obsDim)
		p.obsStat.normalize(x, req.Obs.Data, p.nE, p.cfg.ClipObs)
		p.critic.forward(p.critW, p.nE)
		copy(p.nextVal, p.critW.output(p.nE, p.critic))
		st := p.learn()
		res.Update = &st
		p.t = 0
	}
	slot := p.bObs[p.t*p.nE*p.obsDim : (p.t+1)*p.nE*p.obsDim]
	p.obsStat.normalize(slot, req.Obs.Data, p.nE, p.cfg.ClipObs)
	p.actStep(slot, overlap)
	res.Actions = sdk.Matrix{Rows: p.nE, Cols: p.actDim, Data: p.actions}
	return res, nil
}

// checkObs validates the shape and finiteness of a batch of observations.
func (p *learner) checkObs(m sdk.Matrix, rows int, call string) error {
	if rows >= 0 && m.Rows != rows || m.Cols != p.obsDim || len(m.Data) != m.Rows*m.Cols {
		want := strconv.Itoa(rows)
		if rows < 0 {
			want = "n"
		}
		return fmt.Errorf("ppo: %s: observations are %dx%d (%d values), want %sx%d", call, m.Rows, m.Cols, len(m.Data), want, p.obsDim)
	}
	for k, v := range m.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("ppo: %s: observation (%d,%d) is %v", call, k/p.obsDim, k%p.obsDim, v)
		}
	}
	return nil
}

// record stores the reward and episode ends of the pending step. It
// checks the whole outcome before changing anything, so a bad request
// leaves the learner as it was.
func (p *learner) record(o *sdk.Outcome) error {
	if err := p.checkOutcome(o); err != nil {
		return err
	}
	k0 := (p.t - 1) * p.nE
	rew := p.bRew[k0 : k0+p.nE]
	copy(rew, o.Reward)
	p.rews.scale(rew, o.Terminated, p.cfg.Gamma, p.cfg.ClipReward)

	// Bootstrap truncated (not terminated) episodes with the critic's value
	// of their final observation: the episode was cut, not over. The final
	// observation is normalised with the current statistics, not added to
	// them.
	nt := 0
	x := p.critW.input(p.nE, p.obsDim)
	for e := 0; e < p.nE; e++ {
		p.bDone[k0+e] = o.Terminated[e] || o.Truncated[e]
		if o.Truncated[e] && !o.Terminated[e] {
			p.obsStat.normalize(x[nt*p.obsDim:(nt+1)*p.obsDim], o.FinalObs.Row(e), 1, p.cfg.ClipObs)
			nt++
		}
	}
	if nt > 0 {
		p.critic.forward(p.critW, nt)
		v := p.critW.output(nt, p.critic)
		i := 0
		for e := 0; e < p.nE; e++ {
			if o.Truncated[e] && !o.Terminated[e] {
				rew[e] += p.cfg.Gamma * v[i]
				i++
			}
		}
	}
	p.globalStep += p.nE
	return nil
}

// checkOutcome validates an outcome's shapes and values.
func (p *learner) checkOutcome(o *sdk.Outcome) error {
	if p.t == 0 {
		return errors.New("ppo: Act got an outcome but no actions are pending: the first request of a run must have no Prev")
	}
	if len(o.Reward) != p.nE || len(o.Terminated) != p.nE || len(o.Truncated) != p.nE {
		return fmt.Errorf("ppo: outcome has %d rewards, %d terminated, %d truncated flags for %d envs", len(o.Reward), len(o.Terminated), len(o.Truncated), p.nE)
	}
	for e, r := range o.Reward {
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return fmt.Errorf("ppo: reward of env %d is %v", e, r)
		}
		if !o.Truncated[e] || o.Terminated[e] {
			continue
		}
		if o.FinalObs.Rows != p.nE || o.FinalObs.Cols != p.obsDim || len(o.FinalObs.Data) != p.nE*p.obsDim {
			return fmt.Errorf("ppo: env %d was truncated but FinalObs is %dx%d, want %dx%d", e, o.FinalObs.Rows, o.FinalObs.Cols, p.nE, p.obsDim)
		}
		for j, v := range o.FinalObs.Row(e) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("ppo: final observation (%d,%d) is %v", e, j, v)
			}
		}
	}
	return nil
}

// abandonPending drops actions whose outcome will never come (the host
// restarted the episodes) and cuts the step before them as a truncation.
func (p *learner) abandonPending() {
	for e := range p.rews.Ret {
		p.rews.Ret[e] = 0
	}
	if p.t == 0 {
		return
	}
	p.t--
	if p.t == 0 {
		return
	}
	k0, k1 := (p.t-1)*p.nE, p.t*p.nE
	for e := 0; e < p.nE; e++ {
		if !p.bDone[k0+e] {
			p.bDone[k0+e] = true
			p.bRew[k0+e] += p.cfg.Gamma * p.bVal[k1+e]
		}
	}
}

// actStep samples actions for the normalised observations in slot and
// stores them, their log-probs and the values in rollout step t.
func (p *learner) actStep(slot []float64, deferVal bool) {
	n := p.nE
	copy(p.actW.input(n, p.obsDim), slot)
	p.actor.forward(p.actW, n)
	p.valT, p.valPending = p.t, true
	if !deferVal {
		p.settle()
	}
	mu := p.actW.output(n, p.actor)
	k0 := p.t * n
	a := p.bAct[k0*p.actDim : (k0+n)*p.actDim]
	for e := 0; e < n; e++ {
		lp := 0.0
		for j := 0; j < p.actDim; j++ {
			z := p.rnd.NormFloat64()
			i := e*p.actDim + j
			a[i] = mu[i] + math.Exp(p.logStd[j])*z
			lp += -0.5*z*z - p.logStd[j] - halfLog2Pi
			p.actions[i] = math.Max(p.actLow[j], math.Min(p.actHigh[j], a[i]))
		}
		p.bLogP[k0+e] = lp
	}
	p.t++
}

// settle computes the critic's values of rollout step valT if they are
// pending. The step's normalised observations stay in the rollout and the
// critic changes only in learn, after a settle, so the values are those
// an undeferred Act computes.
func (p *learner) settle() {
	if !p.valPending {
		return
	}
	n := p.nE
	k0 := p.valT * n
	copy(p.critW.input(n, p.obsDim), p.bObs[k0*p.obsDim:(k0+n)*p.obsDim])
	p.critic.forward(p.critW, n)
	copy(p.bVal[k0:k0+n], p.critW.output(n, p.critic))
	p.valPending = false
}

// Policy returns actions for raw states: the mean if deterministic, else a
// sample from Policy's own random stream. It changes nothing that training
// depends on.
func (a *PPO) Policy(ctx context.Context, obs sdk.Matrix, deterministic bool) (sdk.Matrix, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.l == nil {
		return sdk.Matrix{}, errNotReady
	}
	return a.l.policy(obs, deterministic)
}

func (p *learner) policy(obs sdk.Matrix, deterministic bool) (sdk.Matrix, error) {
	if err := p.checkObs(obs, -1, "Policy"); err != nil {
		return sdk.Matrix{}, err
	}
	n := obs.Rows
	w := newWork(p.actor, n)
	p.obsStat.normalize(w.input(n, p.obsDim), obs.Data, n, p.cfg.ClipObs)
	p.actor.forward(w, n)
	mu := w.output(n, p.actor)
	out := sdk.NewMatrix(n, p.actDim)
	for i := 0; i < n; i++ {
		for j := 0; j < p.actDim; j++ {
			a := mu[i*p.actDim+j]
			if !deterministic {
				a += math.Exp(p.logStd[j]) * p.polRnd.NormFloat64()
			}
			out.Data[i*p.actDim+j] = math.Max(p.actLow[j], math.Min(p.actHigh[j], a))
		}
	}
	return out, nil
}

// Activations returns the post-tanh outputs of the named hidden layers
// ("actor/1", ..., "critic/2"; all if names is empty) for raw states,
// normalised with the current statistics, which it does not update.
func (a *PPO) Activations(ctx context.Context, states sdk.Matrix, names []string) ([]sdk.Layer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.l == nil {
		return nil, errNotReady
	}
	return a.l.activations(states, names)
}

func (p *learner) activations(states sdk.Matrix, names []string) ([]sdk.Layer, error) {
	if err := p.checkObs(states, -1, "Activations"); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		names = p.layerNames()
	}
	type ref struct {
		net *mlp
		l   int
	}
	refs := make([]ref, len(names))
	for i, name := range names {
		if name == sdk.NormalizedInputLayer {
			refs[i] = ref{nil, -1}
			continue
		}
		net, idx, ok := strings.Cut(name, "/")
		l, err := strconv.Atoi(idx)
		if !ok || err != nil || l < 1 || l > len(p.cfg.Hidden) || (net != "actor" && net != "critic") {
			return nil, fmt.Errorf("ppo: Activations: no layer %q (have %s)", name, strings.Join(p.layerNames(), ", "))
		}
		refs[i] = ref{&p.actor, l - 1}
		if net == "critic" {
			refs[i].net = &p.critic
		}
	}
	n := states.Rows
	aw, cw := newWork(p.actor, n), newWork(p.critic, n)
	p.obsStat.normalize(aw.input(n, p.obsDim), states.Data, n, p.cfg.ClipObs)
	copy(cw.input(n, p.obsDim), aw.input(n, p.obsDim))
	p.actor.forward(aw, n)
	p.critic.forward(cw, n)
	out := make([]sdk.Layer, len(names))
	for i, r := range refs {
		if r.net == nil {
			// The states as the networks see them: normalised and clipped.
			m := sdk.NewMatrix(n, p.obsDim)
			copy(m.Data, aw.input(n, p.obsDim))
			out[i] = sdk.Layer{Name: names[i], Values: m}
			continue
		}
		w := aw
		if r.net == &p.critic {
			w = cw
		}
		h := w.hidden(r.l, n, *r.net)
		m := sdk.NewMatrix(n, r.net.layers[r.l].out)
		copy(m.Data, h)
		out[i] = sdk.Layer{Name: names[i], Values: m}
	}
	return out, nil
}

// memoryNeed estimates the bytes a learner holds: actor and critic weights
// with their gradients and two Adam moments, and the rollout buffer.
func memoryNeed(c Config, env sdk.EnvSpec) float64 {
	layers := func(out float64) float64 {
		n, prev := 0.0, float64(env.ObsDim)
		for _, h := range c.Hidden {
			n += (prev + 1) * float64(h)
			prev = float64(h)
		}
		return n + (prev+1)*out
	}
	params := layers(float64(env.ActDim)) + layers(1) + float64(env.ActDim)
	rollout := float64(c.NumSteps) * float64(env.NumEnvs) * float64(env.ObsDim+env.ActDim+6)
	return 8 * (4*params + rollout)
}
