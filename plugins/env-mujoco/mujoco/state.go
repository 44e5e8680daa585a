package mujoco

/*
#include <mujoco/mujoco.h>
*/
import "C"

import "fmt"

// State is what one physics step carries over to the next: everything
// mj_step reads besides the model. Restoring it into a Data of the same
// model and stepping gives the same trajectory bit for bit as the Data it
// was taken from. Quantities mj_forward derives from it (positions of
// bodies, contacts, forces) are recomputed on restore.
type State struct {
	Time float64
	Qpos []float64 // nq
	Qvel []float64 // nv
	Act  []float64 // na
	Ctrl []float64 // nu
	// QaccWarmstart seeds the constraint solver of the next step; without
	// it a restored state's first step differs in the last bits whenever
	// there are contacts.
	QaccWarmstart []float64 // nv
	QfrcApplied   []float64 // nv
	XfrcApplied   []float64 // nbody x 6
	MocapPos      []float64 // nmocap x 3
	MocapQuat     []float64 // nmocap x 4
	Userdata      []float64 // nuserdata
	// Warnings holds each warning kind's count and last info; callers
	// compare counts across steps to notice instabilities.
	Warnings [NumWarnings][2]int
}

// Na is the number of activation states.
func (m *Model) Na() int { return int(m.p.na) }

// Nmocap is the number of mocap bodies.
func (m *Model) Nmocap() int { return int(m.p.nmocap) }

// Nuserdata is the number of user data fields in a Data.
func (m *Model) Nuserdata() int { return int(m.p.nuserdata) }

// fields pairs each array of a State with its place in d, in one order
// used by both State and SetState.
func (d *Data) fields(s *State) []struct {
	name string
	dst  *[]float64
	src  []float64
} {
	m := d.m
	p := d.p
	return []struct {
		name string
		dst  *[]float64
		src  []float64
	}{
		{"qpos", &s.Qpos, nums(p.qpos, m.Nq())},
		{"qvel", &s.Qvel, nums(p.qvel, m.Nv())},
		{"act", &s.Act, nums(p.act, m.Na())},
		{"ctrl", &s.Ctrl, nums(p.ctrl, m.Nu())},
		{"qacc_warmstart", &s.QaccWarmstart, nums(p.qacc_warmstart, m.Nv())},
		{"qfrc_applied", &s.QfrcApplied, nums(p.qfrc_applied, m.Nv())},
		{"xfrc_applied", &s.XfrcApplied, nums(p.xfrc_applied, 6*m.Nbody())},
		{"mocap_pos", &s.MocapPos, nums(p.mocap_pos, 3*m.Nmocap())},
		{"mocap_quat", &s.MocapQuat, nums(p.mocap_quat, 4*m.Nmocap())},
		{"userdata", &s.Userdata, nums(p.userdata, m.Nuserdata())},
	}
}

// State copies d's carried-over state.
func (d *Data) State() State {
	s := State{Time: float64(d.p.time)}
	for _, f := range d.fields(&s) {
		*f.dst = append([]float64(nil), f.src...)
	}
	for i := range s.Warnings {
		s.Warnings[i] = [2]int{int(d.p.warning[i].number), int(d.p.warning[i].lastinfo)}
	}
	return s
}

// CheckState reports whether s fits d's model: every array of the
// model's size.
func (d *Data) CheckState(s State) error {
	for _, f := range d.fields(&s) {
		if len(*f.dst) != len(f.src) {
			return fmt.Errorf("mujoco: state has %d %s values, the model has %d", len(*f.dst), f.name, len(f.src))
		}
	}
	return nil
}

// SetState makes d continue exactly as the Data s was taken from. It
// refuses a state that does not fit d's model (CheckState), leaving d as
// it was.
func (d *Data) SetState(s State) error {
	if err := d.CheckState(s); err != nil {
		return err
	}
	fs := d.fields(&s)
	d.p.time = C.mjtNum(s.Time)
	for _, f := range fs {
		copy(f.src, *f.dst)
	}
	// mj_forward recomputes the derived quantities (for rendering and
	// observers), but in MuJoCo 2.2 it also overwrites the warm start and
	// may raise warnings, so both are put back after it.
	C.mj_forward(d.m.p, d.p)
	copy(nums(d.p.qacc_warmstart, d.m.Nv()), s.QaccWarmstart)
	for i := range s.Warnings {
		d.p.warning[i].number = C.int(s.Warnings[i][0])
		d.p.warning[i].lastinfo = C.int(s.Warnings[i][1])
	}
	return nil
}
