package mjenv

import (
	"context"
	"fmt"
	"math"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mujoco"
	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/statebin"
)

// stateMagic and stateVersion identify a saved batch state's format.
const (
	stateMagic   = "nt-env-mujoco state"
	stateVersion = 1
)

// The state is encoded with statebin, not gob: equal states must give
// equal bytes, which gob's per-process type numbering does not promise.

// batchState is a batch as SaveState writes it: what identifies the batch
// (so a state is never loaded into a different one), then each env.
type batchState struct {
	Magic      string
	Version    int
	Task       string
	NumEnvs    int
	ResetNoise float64
	Envs       []envState
}

// envState is one env: the physics, its random stream, its episode
// counters and the observation a caller was last given, which LoadState
// checks against the restored physics.
type envState struct {
	Physics mujoco.State
	RNG     []byte
	Steps   int
	Return  float64
	Warned  int
	Obs     []float64
}

// SaveState returns the complete state of batch handle: physics (qpos,
// qvel, act, time, solver warm start, ...), random streams, step counters
// and current observations. LoadState of it into a batch opened with the
// same task, size and options continues bit for bit as this one would.
func (e *Env) SaveState(ctx context.Context, handle int) ([]byte, error) {
	b, err := e.get(handle)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.model == nil {
		return nil, fmt.Errorf("mujoco: batch %d is closed", handle)
	}
	st := batchState{Magic: stateMagic, Version: stateVersion, Task: b.task.ID,
		NumEnvs: len(b.envs), ResetNoise: b.opts.resetNoise, Envs: make([]envState, len(b.envs))}
	for i := range b.envs {
		in := &b.envs[i]
		rng, err := in.src.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("mujoco: save env %d random stream: %w", i, err)
		}
		obs := make([]float64, b.task.ObsDim)
		b.task.Observe(in.data, obs)
		st.Envs[i] = envState{Physics: in.data.State(), RNG: rng, Steps: in.steps, Return: in.ret, Warned: in.warned, Obs: obs}
	}
	out, err := statebin.Marshal(&st)
	if err != nil {
		return nil, fmt.Errorf("mujoco: encode state: %w", err)
	}
	return out, nil
}

// LoadState replaces the state of batch handle with one SaveState made
// and returns the current observations, as Reset would. A state of
// another task, batch size or option set is refused and the batch left
// as it was.
func (e *Env) LoadState(ctx context.Context, handle int, data []byte) (sdk.Matrix, error) {
	b, err := e.get(handle)
	if err != nil {
		return sdk.Matrix{}, err
	}
	var st batchState
	if err := statebin.Unmarshal(data, &st); err != nil {
		return sdk.Matrix{}, fmt.Errorf("mujoco: state is not readable: %w", err)
	}
	if st.Magic != stateMagic || st.Version != stateVersion {
		return sdk.Matrix{}, fmt.Errorf("mujoco: not an nt-env-mujoco state of format %d (magic %q, format %d)", stateVersion, st.Magic, st.Version)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.model == nil {
		return sdk.Matrix{}, fmt.Errorf("mujoco: batch %d is closed", handle)
	}
	if st.Task != b.task.ID || st.NumEnvs != len(b.envs) || len(st.Envs) != len(b.envs) || st.ResetNoise != b.opts.resetNoise {
		return sdk.Matrix{}, fmt.Errorf("mujoco: state of %d %s envs (reset noise %v) does not fit batch %d of %d %s envs (reset noise %v)",
			st.NumEnvs, st.Task, st.ResetNoise, handle, len(b.envs), b.task.ID, b.opts.resetNoise)
	}
	// Check everything before changing anything, so a bad state leaves
	// the batch usable.
	for i, es := range st.Envs {
		if len(es.Obs) != b.task.ObsDim || es.Steps < 0 || es.Steps >= b.spec.MaxEpisodeSteps {
			return sdk.Matrix{}, fmt.Errorf("mujoco: state of env %d is malformed (%d observations, step %d)", i, len(es.Obs), es.Steps)
		}
		if err := b.envs[i].data.CheckState(es.Physics); err != nil {
			return sdk.Matrix{}, fmt.Errorf("env %d: %w", i, err)
		}
	}
	obs := sdk.NewMatrix(len(b.envs), b.task.ObsDim)
	for i, es := range st.Envs {
		in := &b.envs[i]
		if err := in.src.UnmarshalBinary(es.RNG); err != nil {
			return sdk.Matrix{}, fmt.Errorf("mujoco: env %d random stream: %w", i, err)
		}
		if err := in.data.SetState(es.Physics); err != nil {
			return sdk.Matrix{}, fmt.Errorf("env %d: %w", i, err)
		}
		in.steps, in.ret, in.warned = es.Steps, es.Return, es.Warned
		row := obs.Row(i)
		b.task.Observe(in.data, row)
		for j := range row {
			if math.Float64bits(row[j]) != math.Float64bits(es.Obs[j]) {
				return sdk.Matrix{}, fmt.Errorf("mujoco: env %d restored observation %d is %v, saved %v", i, j, row[j], es.Obs[j])
			}
		}
	}
	return obs, nil
}
