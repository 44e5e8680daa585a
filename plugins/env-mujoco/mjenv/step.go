package mjenv

import (
	"context"
	"fmt"
	"math"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mujoco"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// stepRange steps envs lo..hi-1 and writes their rows of res. Different
// ranges touch disjoint rows, so workers need no locking.
func (b *batch) stepRange(lo, hi int, actions sdk.Matrix, res *sdk.StepResult, ended []bool) {
	t := b.task
	nk := len(t.InfoKeys)
	unstable := b.cols[len(b.cols)-1]
	for i := lo; i < hi; i++ {
		in := &b.envs[i]
		d := in.data
		a := actions.Row(i)
		ctrl := d.Ctrl()
		for j, v := range a {
			v = math.Max(b.ctrlLo[j], math.Min(b.ctrlHi[j], v))
			in.act[j], ctrl[j] = v, v
		}
		xBefore := d.Qpos()[0]
		warnings := d.Step(t.FrameSkip)

		t.Score(xBefore, in.act, b.dt, d, &in.out)
		for k := range nk {
			b.cols[k][i] = in.out.Info[k]
		}
		obs := res.Obs.Row(i)
		t.Observe(d, obs)
		term := in.out.Terminated
		if warnings != in.warned || !finite(d.Qpos()) || !finite(d.Qvel()) {
			// MuJoCo resets a state whose acceleration blew up and only
			// warns, so the warning count is the reliable signal.
			in.warned = warnings
			unstable[i] = 1
			term = true
			b.logInstability(i, d)
		}
		in.steps++
		in.ret += in.out.Reward
		res.Reward[i] = in.out.Reward
		res.Terminated[i] = term
		// As Gymnasium's TimeLimit: the limit truncates even a step that
		// also terminated.
		res.Truncated[i] = in.steps >= b.spec.MaxEpisodeSteps
		if term || res.Truncated[i] {
			copy(res.FinalObs.Row(i), obs)
			in.lastRet, in.lastLen = in.ret, in.steps
			ended[i] = true
			b.resetEnv(i)
			t.Observe(d, obs)
		}
	}
}

func finite(xs []float64) bool {
	for _, v := range xs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func (b *batch) logInstability(i int, d *mujoco.Data) {
	if b.logf == nil {
		return
	}
	msg, _ := mujoco.LastWarning()
	b.logf("%s env %d: physics unstable at t=%.3f (warnings %v, last %q); episode terminated", b.task.ID, i, d.Time(), d.Warnings(), msg)
}

// Render draws env i of the batch as it is now.
func (e *Env) Render(ctx context.Context, handle, i, width, height int) (sdk.Frame, error) {
	b, err := e.get(handle)
	if err != nil {
		return sdk.Frame{}, err
	}
	if i < 0 || i >= len(b.envs) {
		return sdk.Frame{}, fmt.Errorf("%s: render env %d out of range 0..%d", b.task.ID, i, len(b.envs)-1)
	}
	if width < 16 || height < 16 || width > 2048 || height > 2048 {
		return sdk.Frame{}, fmt.Errorf("%s: render size %dx%d out of range 16..2048", b.task.ID, width, height)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.model == nil {
		return sdk.Frame{}, fmt.Errorf("mujoco: batch %d is closed", handle)
	}
	return b.renderFrame(b.envs[i].data, width, height)
}

// Close frees a batch and its simulation states.
func (e *Env) Close(ctx context.Context, handle int) error {
	e.mu.Lock()
	b, ok := e.batches[handle]
	delete(e.batches, handle)
	e.mu.Unlock()
	if !ok {
		return fmt.Errorf("mujoco: no open batch with handle %d", handle)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.close()
	return nil
}
