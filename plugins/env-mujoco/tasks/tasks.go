// Package tasks defines the MuJoCo control tasks with Gymnasium v4
// semantics (SPEC.md): the model, the frame
// skip, the reset noise, the observation layout, the reward terms and the
// healthy rule of each. It knows nothing about batching or plugins; mjenv
// does that.
package tasks

import (
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mujoco"
)

var (
	//go:embed mjcf/hopper.xml
	hopperXML string
	//go:embed mjcf/walker2d.xml
	walkerXML string
	//go:embed mjcf/inverted_pendulum.xml
	pendulumXML string
)

// MaxEpisodeSteps is the Gymnasium time limit shared by the three tasks.
const MaxEpisodeSteps = 1000

// Info keys every task reports each step.
const (
	InfoXPosition     = "x_position"
	InfoXVelocity     = "x_velocity"
	InfoRewardForward = "reward_forward"
	InfoRewardCtrl    = "reward_ctrl"
	InfoRewardSurvive = "reward_survive"
)

// Outcome is what one environment step produced, apart from the
// observation.
type Outcome struct {
	Reward     float64
	Terminated bool
	// Info values in the order of Task.InfoKeys.
	Info []float64
}

// Task is one task: its model text and the rules Gymnasium v4 gives it.
type Task struct {
	ID         string
	XML        string
	FrameSkip  int     // mj_step calls per environment step
	ResetNoise float64 // half-width s of the uniform reset noise U(-s, s)
	ObsDim     int
	InfoKeys   []string
	// View is the camera Render uses.
	View View
	// StepMicros is the rough CPU cost of one environment step in
	// microseconds (envbench, one x86 core). It only decides how many
	// goroutines a batch is worth: waking one costs a few microseconds.
	StepMicros float64

	// observe writes the observation of d into obs (len ObsDim).
	observe func(d *mujoco.Data, obs []float64)
	// outcome scores a step given the root x position before it, the
	// (clipped) action applied, the step duration and the new state.
	outcome func(xBefore float64, action []float64, dt float64, d *mujoco.Data, out *Outcome)
}

// View is a task's camera: it looks at Lookat from Distance away at
// Azimuth and Elevation degrees; if Track names a body, the camera follows
// that body's x position (so the floor stays in view while it moves).
type View struct {
	Track                        string
	Lookat                       [3]float64
	Distance, Azimuth, Elevation float64
}

// sideView watches a walker from its left side, centred at mid height.
var sideView = View{Track: "torso", Lookat: [3]float64{0, 0, 0.9}, Distance: 3.5, Azimuth: 90, Elevation: -10}

// Observe writes the observation of state d into obs, which must have
// length ObsDim.
func (t *Task) Observe(d *mujoco.Data, obs []float64) { t.observe(d, obs) }

// Score fills out for a step that started at root x position xBefore,
// applied action (already clipped) for dt seconds and ended in state d.
// out.Info must have len(InfoKeys).
func (t *Task) Score(xBefore float64, action []float64, dt float64, d *mujoco.Data, out *Outcome) {
	t.outcome(xBefore, action, dt, d, out)
}

// registry holds every task by id.
var registry = map[string]*Task{
	"Hopper-v4":           hopper(),
	"Walker2d-v4":         walker(),
	"InvertedPendulum-v4": pendulum(),
}

// IDs returns the known task ids, sorted.
func IDs() []string {
	ids := make([]string, 0, len(registry))
	for id := range registry {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Lookup returns the task named id, or an error listing the valid ids.
func Lookup(id string) (*Task, error) {
	t, ok := registry[id]
	if !ok {
		return nil, fmt.Errorf("unknown MuJoCo task %q (valid: %s)", id, strings.Join(IDs(), ", "))
	}
	return t, nil
}

// walkerInfo are the info keys of the locomotion tasks.
var walkerInfo = []string{InfoXPosition, InfoXVelocity, InfoRewardForward, InfoRewardCtrl, InfoRewardSurvive}

// Gymnasium v4 locomotion weights (Hopper and Walker2d share them).
const (
	forwardWeight = 1.0
	healthyReward = 1.0
	ctrlWeight    = 1e-3
	velocityClip  = 10.0
)

// locomotionObs is qpos[1:] then clip(qvel, -10, 10): the root x is left
// out so the policy cannot depend on where it is.
func locomotionObs(d *mujoco.Data, obs []float64) {
	qpos, qvel := d.Qpos(), d.Qvel()
	n := copy(obs, qpos[1:])
	for i, v := range qvel {
		obs[n+i] = math.Max(-velocityClip, math.Min(velocityClip, v))
	}
}

// locomotionReward fills the reward terms common to Hopper and Walker2d;
// healthy decides termination. In v4 the healthy reward is paid on every
// step, including the terminating one, because terminate_when_unhealthy
// is on.
func locomotionReward(xBefore float64, action []float64, dt float64, d *mujoco.Data, out *Outcome, healthy bool) {
	x := d.Qpos()[0]
	vel := (x - xBefore) / dt
	ctrl := 0.0
	for _, a := range action {
		ctrl += a * a
	}
	ctrl *= ctrlWeight
	forward := forwardWeight * vel
	out.Reward = forward + healthyReward - ctrl
	out.Terminated = !healthy
	out.Info[0], out.Info[1], out.Info[2], out.Info[3], out.Info[4] = x, vel, forward, -ctrl, healthyReward
}

func hopper() *Task {
	return &Task{
		ID: "Hopper-v4", XML: hopperXML, FrameSkip: 4, ResetNoise: 5e-3, ObsDim: 11, StepMicros: 65,
		InfoKeys: walkerInfo,
		View:     sideView,
		observe:  locomotionObs,
		outcome: func(xBefore float64, action []float64, dt float64, d *mujoco.Data, out *Outcome) {
			locomotionReward(xBefore, action, dt, d, out, HopperHealthy(d.Qpos(), d.Qvel()))
		},
	}
}

// HopperHealthy is Hopper-v4's rule: every element of qpos[2:] and qvel
// strictly inside (-100, 100), height qpos[1] > 0.7, and torso angle
// qpos[2] strictly inside (-0.2, 0.2). NaN fails every comparison, so a
// blown-up state is unhealthy.
func HopperHealthy(qpos, qvel []float64) bool {
	in := func(v, lo, hi float64) bool { return lo < v && v < hi }
	for _, v := range qpos[2:] {
		if !in(v, -100, 100) {
			return false
		}
	}
	for _, v := range qvel {
		if !in(v, -100, 100) {
			return false
		}
	}
	return in(qpos[1], 0.7, math.Inf(1)) && in(qpos[2], -0.2, 0.2)
}

func walker() *Task {
	return &Task{
		ID: "Walker2d-v4", XML: walkerXML, FrameSkip: 4, ResetNoise: 5e-3, ObsDim: 17, StepMicros: 90,
		InfoKeys: walkerInfo,
		View:     sideView,
		observe:  locomotionObs,
		outcome: func(xBefore float64, action []float64, dt float64, d *mujoco.Data, out *Outcome) {
			locomotionReward(xBefore, action, dt, d, out, WalkerHealthy(d.Qpos()))
		},
	}
}

// WalkerHealthy is Walker2d-v4's rule: height qpos[1] strictly inside
// (0.8, 2.0) and torso angle qpos[2] strictly inside (-1, 1).
func WalkerHealthy(qpos []float64) bool {
	z, a := qpos[1], qpos[2]
	return 0.8 < z && z < 2.0 && -1 < a && a < 1
}

// pendulumMaxAngle is the |pole angle| beyond which the episode ends.
const pendulumMaxAngle = 0.2

func pendulum() *Task {
	return &Task{
		ID: "InvertedPendulum-v4", XML: pendulumXML, FrameSkip: 2, ResetNoise: 0.01, ObsDim: 4, StepMicros: 11,
		InfoKeys: []string{InfoXPosition, InfoXVelocity, InfoRewardSurvive},
		View:     View{Lookat: [3]float64{0, 0, 0.15}, Distance: 2.6, Azimuth: 90, Elevation: -12},
		observe: func(d *mujoco.Data, obs []float64) {
			n := copy(obs, d.Qpos())
			copy(obs[n:], d.Qvel())
		},
		outcome: func(_ float64, _ []float64, _ float64, d *mujoco.Data, out *Outcome) {
			qpos, qvel := d.Qpos(), d.Qvel()
			out.Reward = 1
			out.Terminated = !PendulumHealthy(qpos, qvel)
			out.Info[0], out.Info[1], out.Info[2] = qpos[0], qvel[0], 1
		},
	}
}

// PendulumHealthy is InvertedPendulum-v4's rule: every observation finite
// and |pole angle| <= 0.2.
func PendulumHealthy(qpos, qvel []float64) bool {
	for _, v := range qpos {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	for _, v := range qvel {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return math.Abs(qpos[1]) <= pendulumMaxAngle
}
