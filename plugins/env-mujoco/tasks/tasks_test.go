package tasks

import (
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mujoco"
)

// The expectations below are typed in from SPEC.md (degrees and global
// coordinates as it gives them), not from our MJCF.

type wantJoint struct {
	name              string
	typ               mujoco.JointType
	axis              [3]float64
	limited           bool
	rangeDeg          [2]float64
	armature, damping float64
	anchorZ           float64 // global anchor height at qpos0 (NaN: not checked)
}

type wantGeom struct {
	name     string
	from, to [3]float64 // global capsule end points at qpos0
	radius   float64
	friction float64
}

type wantModel struct {
	task       string
	timestep   float64
	frameSkip  int
	resetNoise float64
	obsDim     int
	joints     []wantJoint
	gear       float64
	ctrl       [2]float64
	actuated   []string // joints with a motor; nil: every limited joint
	geoms      []wantGeom
	// checkGeom checks per-task contact parameters of body geom g.
	checkGeom func(t *testing.T, g mujoco.Geom)
	floor     func(t *testing.T, g mujoco.Geom)
}

var nan = math.NaN()

func rootJoints() []wantJoint {
	return []wantJoint{
		{"rootx", mujoco.JointSlide, [3]float64{1, 0, 0}, false, [2]float64{}, 0, 0, nan},
		{"rootz", mujoco.JointSlide, [3]float64{0, 0, 1}, false, [2]float64{}, 0, 0, nan},
		{"rooty", mujoco.JointHinge, [3]float64{0, 1, 0}, false, [2]float64{}, 0, 0, 1.25},
	}
}

func legJoints(suffix string, armature, damping float64) []wantJoint {
	down := [3]float64{0, -1, 0}
	return []wantJoint{
		{"thigh" + suffix + "_joint", mujoco.JointHinge, down, true, [2]float64{-150, 0}, armature, damping, 1.05},
		{"leg" + suffix + "_joint", mujoco.JointHinge, down, true, [2]float64{-150, 0}, armature, damping, 0.6},
		{"foot" + suffix + "_joint", mujoco.JointHinge, down, true, [2]float64{-45, 45}, armature, damping, 0.1},
	}
}

var models = []wantModel{
	{
		task: "Hopper-v4", timestep: 0.002, frameSkip: 4, resetNoise: 0.005, obsDim: 11,
		joints: append(rootJoints(), legJoints("", 1, 1)...),
		gear:   200, ctrl: [2]float64{-1, 1},
		geoms: []wantGeom{
			{"torso_geom", [3]float64{0, 0, 1.45}, [3]float64{0, 0, 1.05}, 0.05, 0.9},
			{"thigh_geom", [3]float64{0, 0, 1.05}, [3]float64{0, 0, 0.6}, 0.05, 0.9},
			{"leg_geom", [3]float64{0, 0, 0.6}, [3]float64{0, 0, 0.1}, 0.04, 0.9},
			{"foot_geom", [3]float64{-0.13, 0, 0.1}, [3]float64{0.26, 0, 0.1}, 0.06, 2.0},
		},
		checkGeom: func(t *testing.T, g mujoco.Geom) {
			if g.Condim != 1 || g.Margin != 0.001 || g.Solimp != [3]float64{0.8, 0.8, 0.01} || g.Solref != [2]float64{0.02, 1} {
				t.Errorf("%s: condim %d margin %v solimp %v solref %v, want 1, 0.001, (0.8 0.8 0.01), (0.02 1)", g.Name, g.Condim, g.Margin, g.Solimp, g.Solref)
			}
		},
		floor: func(t *testing.T, g mujoco.Geom) {
			if g.Type != mujoco.GeomPlane || g.Condim != 3 {
				t.Errorf("floor: type %d condim %d, want plane with condim 3", g.Type, g.Condim)
			}
		},
	},
	{
		task: "Walker2d-v4", timestep: 0.002, frameSkip: 4, resetNoise: 0.005, obsDim: 17,
		joints: append(append(rootJoints(), legJoints("", 0.01, 0.1)...), legJoints("_left", 0.01, 0.1)...),
		gear:   100, ctrl: [2]float64{-1, 1},
		geoms: []wantGeom{
			{"torso_geom", [3]float64{0, 0, 1.45}, [3]float64{0, 0, 1.05}, 0.05, 0.9},
			{"thigh_geom", [3]float64{0, 0, 1.05}, [3]float64{0, 0, 0.6}, 0.05, 0.9},
			{"leg_geom", [3]float64{0, 0, 0.6}, [3]float64{0, 0, 0.1}, 0.04, 0.9},
			{"foot_geom", [3]float64{0, 0, 0.1}, [3]float64{0.2, 0, 0.1}, 0.06, 0.9},
			{"thigh_left_geom", [3]float64{0, 0, 1.05}, [3]float64{0, 0, 0.6}, 0.05, 0.9},
			{"leg_left_geom", [3]float64{0, 0, 0.6}, [3]float64{0, 0, 0.1}, 0.04, 0.9},
			// v4's left foot quirk: friction 1.9.
			{"foot_left_geom", [3]float64{0, 0, 0.1}, [3]float64{0.2, 0, 0.1}, 0.06, 1.9},
		},
		checkGeom: func(t *testing.T, g mujoco.Geom) {
			if g.Condim != 3 || g.Contype != 1 || g.Conaffinity != 0 {
				t.Errorf("%s: condim %d contype %d conaffinity %d, want 3 1 0", g.Name, g.Condim, g.Contype, g.Conaffinity)
			}
		},
		floor: func(t *testing.T, g mujoco.Geom) {
			if g.Type != mujoco.GeomPlane || g.Condim != 3 || g.Conaffinity != 1 {
				t.Errorf("floor: type %d condim %d conaffinity %d, want plane, 3, 1", g.Type, g.Condim, g.Conaffinity)
			}
		},
	},
	{
		task: "InvertedPendulum-v4", timestep: 0.02, frameSkip: 2, resetNoise: 0.01, obsDim: 4,
		joints: []wantJoint{
			{"slider", mujoco.JointSlide, [3]float64{1, 0, 0}, true, [2]float64{}, 0, 1, nan},
			{"hinge", mujoco.JointHinge, [3]float64{0, 1, 0}, true, [2]float64{-90, 90}, 0, 1, 0},
		},
		gear: 100, ctrl: [2]float64{-3, 3}, actuated: []string{"slider"},
		geoms: []wantGeom{
			{"cart", [3]float64{-0.1, 0, 0}, [3]float64{0.1, 0, 0}, 0.1, nan},
			{"cpole", [3]float64{0, 0, 0}, [3]float64{0.001, 0, 0.6}, 0.049, nan},
		},
		checkGeom: func(t *testing.T, g mujoco.Geom) {
			if g.Contype != 0 {
				t.Errorf("%s: contype %d, want 0 (no contacts)", g.Name, g.Contype)
			}
		},
	},
}

func TestModelsMatchFacts(t *testing.T) {
	for _, w := range models {
		t.Run(w.task, func(t *testing.T) {
			task, err := Lookup(w.task)
			if err != nil {
				t.Fatal(err)
			}
			if task.FrameSkip != w.frameSkip || task.ResetNoise != w.resetNoise || task.ObsDim != w.obsDim {
				t.Errorf("frame skip %d noise %v obs %d, want %d %v %d", task.FrameSkip, task.ResetNoise, task.ObsDim, w.frameSkip, w.resetNoise, w.obsDim)
			}
			m, err := mujoco.LoadXML(task.XML)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Timestep() != w.timestep || m.Integrator() != mujoco.IntegratorRK4 {
				t.Errorf("timestep %v integrator %d, want %v RK4", m.Timestep(), m.Integrator(), w.timestep)
			}
			d, err := mujoco.NewData(m)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.Forward()
			checkJoints(t, m, d, w.joints)
			checkActuators(t, m, w)
			checkGeoms(t, m, d, w)
		})
	}
}

func checkJoints(t *testing.T, m *mujoco.Model, d *mujoco.Data, want []wantJoint) {
	t.Helper()
	if m.Njnt() != len(want) || m.Nq() != len(want) {
		t.Fatalf("%d joints, nq %d; want %d", m.Njnt(), m.Nq(), len(want))
	}
	anchors := d.Xanchor()
	for i, wj := range want {
		j := m.Joint(i)
		if j.Name != wj.name || j.Type != wj.typ || j.Axis != wj.axis || j.Limited != wj.limited {
			t.Errorf("joint %d: %s type %d axis %v limited %v; want %s type %d axis %v limited %v",
				i, j.Name, j.Type, j.Axis, j.Limited, wj.name, wj.typ, wj.axis, wj.limited)
		}
		if wj.limited {
			want := wj.rangeDeg
			if wj.typ == mujoco.JointHinge {
				want = [2]float64{want[0] * math.Pi / 180, want[1] * math.Pi / 180}
			} else {
				want = [2]float64{-1, 1} // the only limited slide: the cart
			}
			if !near(j.Range[0], want[0], 1e-12) || !near(j.Range[1], want[1], 1e-12) {
				t.Errorf("joint %s range %v (rad), want %v", j.Name, j.Range, want)
			}
		}
		if j.Armature != wj.armature || j.Damping != wj.damping {
			t.Errorf("joint %s armature %v damping %v, want %v %v", j.Name, j.Armature, j.Damping, wj.armature, wj.damping)
		}
		if !math.IsNaN(wj.anchorZ) {
			a := anchors[3*i : 3*i+3]
			if !near(a[0], 0, 1e-12) || !near(a[2], wj.anchorZ, 1e-12) {
				t.Errorf("joint %s anchor %v, want z %v", j.Name, a, wj.anchorZ)
			}
		}
	}
	if qpos0 := m.Qpos0(); len(qpos0) > 1 && want[1].name == "rootz" && qpos0[1] != 1.25 {
		t.Errorf("rootz qpos0 %v, want 1.25 (ref)", qpos0[1])
	}
}

func checkActuators(t *testing.T, m *mujoco.Model, w wantModel) {
	t.Helper()
	driven := w.actuated
	for _, j := range w.joints {
		if j.limited && w.actuated == nil {
			driven = append(driven, j.name)
		}
	}
	if m.Nu() != len(driven) {
		t.Fatalf("%d actuators, want %d", m.Nu(), len(driven))
	}
	for i, name := range driven {
		a := m.Actuator(i)
		if got := m.Name(mujoco.ObjJoint, a.Joint); got != name {
			t.Errorf("actuator %d drives %s, want %s", i, got, name)
		}
		if a.Gear != w.gear || !a.CtrlLimited || a.CtrlRange != w.ctrl {
			t.Errorf("actuator %s gear %v limited %v range %v, want %v true %v", a.Name, a.Gear, a.CtrlLimited, a.CtrlRange, w.gear, w.ctrl)
		}
	}
}

func checkGeoms(t *testing.T, m *mujoco.Model, d *mujoco.Data, w wantModel) {
	t.Helper()
	xpos, xmat := d.GeomXpos(), d.GeomXmat()
	for _, wg := range w.geoms {
		id := m.ID(mujoco.ObjGeom, wg.name)
		if id < 0 {
			t.Errorf("no geom %s", wg.name)
			continue
		}
		g := m.Geom(id)
		if g.Type != mujoco.GeomCapsule || !near(g.Size[0], wg.radius, 1e-12) {
			t.Errorf("%s: type %d radius %v, want capsule radius %v", g.Name, g.Type, g.Size[0], wg.radius)
		}
		// End points: centre +- half-length along the geom's z axis.
		c, h := xpos[3*id:3*id+3], g.Size[1]
		ax := [3]float64{xmat[9*id+2], xmat[9*id+5], xmat[9*id+8]}
		var p, q [3]float64
		for k := range 3 {
			p[k], q[k] = c[k]+h*ax[k], c[k]-h*ax[k]
		}
		if !(nearVec(p, wg.from) && nearVec(q, wg.to)) && !(nearVec(p, wg.to) && nearVec(q, wg.from)) {
			t.Errorf("%s: ends %v %v, want %v %v", g.Name, p, q, wg.from, wg.to)
		}
		if !math.IsNaN(wg.friction) && g.Friction[0] != wg.friction {
			t.Errorf("%s: friction %v, want %v", g.Name, g.Friction[0], wg.friction)
		}
		w.checkGeom(t, g)
	}
	if w.floor != nil {
		w.floor(t, m.Geom(m.ID(mujoco.ObjGeom, "floor")))
	}
	// Inertia comes from the geoms at density 1000: the torso (or the
	// cart) is one capsule, so its mass is 1000 * volume.
	g := m.Geom(m.ID(mujoco.ObjGeom, w.geoms[0].name))
	r, h := g.Size[0], g.Size[1]
	vol := math.Pi*r*r*2*h + 4.0/3*math.Pi*r*r*r
	if got := m.BodyMass(g.Body); !near(got, 1000*vol, 1e-9) {
		t.Errorf("%s body mass %v, want %v (density 1000)", g.Name, got, 1000*vol)
	}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func nearVec(a, b [3]float64) bool {
	for k := range a {
		if !near(a[k], b[k], 1e-9) {
			return false
		}
	}
	return true
}

func TestLookupUnknown(t *testing.T) {
	_, err := Lookup("HalfCheetah-v4")
	if err == nil {
		t.Fatal("unknown task gave no error")
	}
	for _, id := range []string{"HalfCheetah-v4", "Hopper-v4", "Walker2d-v4", "InvertedPendulum-v4"} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not mention %s", err, id)
		}
	}
}

func TestHealthyRules(t *testing.T) {
	zeros := func(n int) []float64 { return make([]float64, n) }
	hop := func(z, a, joint, vel float64) bool {
		qpos := []float64{0, z, a, joint, 0, 0}
		qvel := zeros(6)
		qvel[4] = vel
		return HopperHealthy(qpos, qvel)
	}
	cases := []struct {
		name string
		got  bool
		want bool
	}{
		{"hopper upright", hop(1.25, 0, 0, 0), true},
		{"hopper z at 0.7 is out (strict)", hop(0.7, 0, 0, 0), false},
		{"hopper z just above 0.7", hop(0.7000001, 0, 0, 0), true},
		{"hopper angle 0.2 is out", hop(1.2, 0.2, 0, 0), false},
		{"hopper angle -0.1999", hop(1.2, -0.1999, 0, 0), true},
		{"hopper joint 100 is out", hop(1.2, 0, 100, 0), false},
		{"hopper velocity -100 is out", hop(1.2, 0, 0, -100), false},
		{"hopper velocity 99", hop(1.2, 0, 0, 99), true},
		{"hopper NaN", hop(math.NaN(), 0, 0, 0), false},
		{"walker upright", WalkerHealthy([]float64{5, 1.25, 0.5}), true},
		{"walker z 0.8 out", WalkerHealthy([]float64{0, 0.8, 0}), false},
		{"walker z 2.0 out", WalkerHealthy([]float64{0, 2.0, 0}), false},
		{"walker angle -1 out", WalkerHealthy([]float64{0, 1, -1}), false},
		{"walker angle 0.999", WalkerHealthy([]float64{0, 1, 0.999}), true},
		{"pendulum 0.2 in", PendulumHealthy([]float64{0, 0.2}, zeros(2)), true},
		{"pendulum -0.2001 out", PendulumHealthy([]float64{0, -0.2001}, zeros(2)), false},
		{"pendulum inf velocity", PendulumHealthy([]float64{0, 0}, []float64{math.Inf(1), 0}), false},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: healthy %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestSizeLimitsChangeNothing: our MJCF caps njmax/nconmax to keep resets
// cheap. Against the same model with MuJoCo's default sizes, a random
// rollout must match bit for bit, and it must use well under the caps.
func TestSizeLimitsChangeNothing(t *testing.T) {
	sizeTag := regexp.MustCompile(`<size [^>]*/>`)
	for _, id := range IDs() {
		tk, _ := Lookup(id)
		if !sizeTag.MatchString(tk.XML) {
			t.Fatalf("%s: no <size> element", id)
		}
		var states [2][]float64
		var maxEfc int
		for k, xml := range []string{tk.XML, sizeTag.ReplaceAllString(tk.XML, "")} {
			m, err := mujoco.LoadXML(xml)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := mujoco.NewData(m)
			r := rand.New(rand.NewPCG(3, 3))
			for range 1500 {
				for i := range d.Ctrl() {
					d.Ctrl()[i] = 4*r.Float64() - 2
				}
				d.Step(tk.FrameSkip)
				states[k] = append(append(states[k], d.Qpos()...), d.Qvel()...)
			}
			if k == 0 {
				_, maxEfc = d.MaxUse()
			}
			if d.WarningTotal() != 0 {
				t.Errorf("%s: warnings %v", id, d.Warnings())
			}
			d.Close()
			m.Close()
		}
		for i := range states[0] {
			if math.Float64bits(states[0][i]) != math.Float64bits(states[1][i]) {
				t.Fatalf("%s: capped and default sizes diverge at value %d", id, i)
			}
		}
		if njmax := 200; id == "InvertedPendulum-v4" && maxEfc > 5 || maxEfc > njmax/4 {
			t.Errorf("%s: used %d constraint rows, too close to the cap", id, maxEfc)
		}
	}
}
