package mujoco

import (
	"math"
	"strings"
	"testing"
)

const ball = `<mujoco>
  <option timestep="0.01"/>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 0.1"/>
    <body name="ball" pos="0 0 1">
      <joint name="free" type="free"/>
      <geom name="ball" type="sphere" size="0.1"/>
    </body>
  </worldbody>
</mujoco>`

func TestLoadErrorCarriesMuJoCoText(t *testing.T) {
	for _, c := range []struct{ xml, want string }{
		{"", "empty"},
		{"<mujoco><worldbody><bogus/></worldbody></mujoco>", "bogus"},
		{"<mujoco><worldbody><geom type='sphere' size='-1'/></worldbody>", "XML"},
	} {
		_, err := LoadXML(c.xml)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadXML(%q): error %v, want one mentioning %q", c.xml, err, c.want)
		}
	}
}

func TestFallingBall(t *testing.T) {
	m, err := LoadXML(ball)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Nq() != 7 || m.Nv() != 6 || m.Nbody() != 2 || m.Ngeom() != 2 || m.ID(ObjBody, "ball") != 1 || m.Name(ObjGeom, 0) != "floor" {
		t.Fatalf("sizes nq %d nv %d nbody %d ngeom %d", m.Nq(), m.Nv(), m.Nbody(), m.Ngeom())
	}
	d, err := NewData(m)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// 0.2 s of free fall from rest: z drops by g t^2 / 2 (semi-implicit
	// Euler is within a step's worth of that).
	d.Step(20)
	if !near(d.Time(), 0.2) {
		t.Errorf("time %v after 20 steps of 0.01", d.Time())
	}
	drop := 1 - d.Qpos()[2]
	if want := 9.81 * 0.2 * 0.2 / 2; math.Abs(drop-want) > 0.02 {
		t.Errorf("ball dropped %v in 0.2 s, want about %v", drop, want)
	}
	// Step leaves derived quantities at the start of the last step;
	// Forward brings them up to date.
	d.Forward()
	if z := d.Xpos()[5]; z != d.Qpos()[2] {
		t.Errorf("body z %v differs from qpos z %v", z, d.Qpos()[2])
	}
	d.Step(200) // lands and rests on the floor
	if z := d.Qpos()[2]; math.Abs(z-0.1) > 0.01 || d.Ncon() == 0 {
		t.Errorf("resting ball at z %v with %d contacts, want 0.1 and a contact", z, d.Ncon())
	}
	if d.WarningTotal() != 0 {
		t.Errorf("warnings %v on a calm simulation", d.Warnings())
	}
	d.Qvel()[0] = math.Inf(1)
	d.Step(1)
	if d.WarningTotal() == 0 {
		t.Errorf("an infinite velocity raised no warning")
	}
	if msg, n := LastWarning(); n == 0 || msg == "" {
		t.Errorf("LastWarning = %q, %d", msg, n)
	}
	d.Reset()
	if d.WarningTotal() != 0 || d.Qpos()[2] != 1 {
		t.Errorf("Reset left warnings %v, z %v", d.Warnings(), d.Qpos()[2])
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
