// Package mujoco is a small cgo binding to the MuJoCo physics library as
// Debian ships it (libmujoco-dev 2.2.2): load a model from MJCF text,
// allocate simulation state, step it, and read the arrays an environment
// needs. It wraps only what this project uses; everything else stays in C.
//
// A Model is immutable after loading and may be shared by many goroutines;
// each Data belongs to one goroutine at a time. Both hold C memory: call
// Close when done (a cleanup frees them if you forget, but later).
package mujoco

/*
// libmujoco is opened with dlopen on first use (lazy.c), not linked.
#cgo LDFLAGS: -ldl
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <mujoco/mujoco.h>

// MuJoCo's default handlers print to stdout (which carries the go-plugin
// handshake) and append to MUJOCO_LOG.TXT in the working directory. Ours
// keep the last warning text for the Go side and send errors to stderr.
static pthread_mutex_t nt_warn_mu = PTHREAD_MUTEX_INITIALIZER;
static char nt_warn_text[512];
static long nt_warn_count;

static void nt_warning(const char* msg) {
	pthread_mutex_lock(&nt_warn_mu);
	strncpy(nt_warn_text, msg, sizeof nt_warn_text - 1);
	nt_warn_count++;
	pthread_mutex_unlock(&nt_warn_mu);
}

static void nt_error(const char* msg) {
	fprintf(stderr, "mujoco: fatal error: %s\n", msg);
	fflush(stderr);
	exit(1);
}

// lazy.c
int nt_lib_open(int lib, char* err, int errlen);
void* nt_lib_sym(int lib, const char* name);

// nt_install_handlers sets libmujoco's handler variables, which it
// looks up by name as the library is not linked.
static void nt_install_handlers(void) {
	*(void (**)(const char*))nt_lib_sym(0, "mju_user_warning") = nt_warning;
	*(void (**)(const char*))nt_lib_sym(0, "mju_user_error") = nt_error;
}

static long nt_last_warning(char* buf, int n) {
	pthread_mutex_lock(&nt_warn_mu);
	strncpy(buf, nt_warn_text, n - 1);
	buf[n - 1] = 0;
	long c = nt_warn_count;
	pthread_mutex_unlock(&nt_warn_mu);
	return c;
}

// nt_load parses MJCF text through a one-file virtual file system, so no
// temporary file is needed.
static mjModel* nt_load(const char* xml, int len, char* err, int errlen) {
	mjVFS* vfs = (mjVFS*)malloc(sizeof(mjVFS));
	if (!vfs) {
		snprintf(err, errlen, "out of memory allocating the VFS");
		return NULL;
	}
	mj_defaultVFS(vfs);
	if (mj_makeEmptyFileVFS(vfs, "model.xml", len) != 0) {
		snprintf(err, errlen, "cannot create the in-memory model file");
		free(vfs);
		return NULL;
	}
	int i = mj_findFileVFS(vfs, "model.xml");
	memcpy(vfs->filedata[i], xml, len);
	mjModel* m = mj_loadXML("model.xml", vfs, err, errlen);
	mj_deleteVFS(vfs);
	free(vfs);
	return m;
}

static int nt_warning_total(const mjData* d) {
	int s = 0;
	for (int i = 0; i < mjNWARNING; i++) {
		s += d->warning[i].number;
	}
	return s;
}

// nt_step runs n physics steps and counts the warnings, in one cgo call.
static int nt_step(const mjModel* m, mjData* d, int n) {
	for (int i = 0; i < n; i++) {
		mj_step(m, d);
	}
	return nt_warning_total(d);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// The libraries lazy.c opens: the C enum's values.
const (
	libMujoco = 0
	libOSMesa = 1
)

var (
	loadOnce sync.Once
	loadErr  error
)

// Load opens libmujoco (once) and installs this package's warning and
// error handlers. Every way into the library (LoadXML, Version) calls
// it, so a program that links this package but never simulates does
// not load MuJoCo at all; calling it early only moves the cost.
func Load() error {
	loadOnce.Do(func() {
		if err := openLib(libMujoco); err != nil {
			loadErr = fmt.Errorf("mujoco: cannot load the MuJoCo library (Debian package libmujoco2.2.2): %w", err)
			return
		}
		// The fallback name may find another release than the headers':
		// its structs would not match ours.
		if v := int(C.mj_version()); v != int(C.mjVERSION_HEADER) {
			loadErr = fmt.Errorf("mujoco: the MuJoCo library is version %d, this program was built against the headers of %d: rebuild it (make build)", v, int(C.mjVERSION_HEADER))
			return
		}
		C.nt_install_handlers()
	})
	return loadErr
}

// openLib opens library lib of lazy.c.
func openLib(lib int) error {
	var buf [512]C.char
	if C.nt_lib_open(C.int(lib), &buf[0], C.int(len(buf))) == 0 {
		return errors.New(C.GoString(&buf[0]))
	}
	return nil
}

// Version returns the MuJoCo library version, e.g. 222 for 2.2.2, or 0
// when the library cannot be loaded (Load says why).
func Version() int {
	if Load() != nil {
		return 0
	}
	return int(C.mj_version())
}

// ObjType names a kind of model element, for Name and ID.
type ObjType int

// The element kinds this package looks up by name.
const (
	ObjBody     ObjType = C.mjOBJ_BODY
	ObjJoint    ObjType = C.mjOBJ_JOINT
	ObjGeom     ObjType = C.mjOBJ_GEOM
	ObjActuator ObjType = C.mjOBJ_ACTUATOR
)

// JointType is MuJoCo's mjtJoint.
type JointType int

// The joint types.
const (
	JointFree  JointType = C.mjJNT_FREE
	JointBall  JointType = C.mjJNT_BALL
	JointSlide JointType = C.mjJNT_SLIDE
	JointHinge JointType = C.mjJNT_HINGE
)

// GeomType is MuJoCo's mjtGeom.
type GeomType int

// The geom types the tasks use.
const (
	GeomPlane    GeomType = C.mjGEOM_PLANE
	GeomSphere   GeomType = C.mjGEOM_SPHERE
	GeomCapsule  GeomType = C.mjGEOM_CAPSULE
	GeomCylinder GeomType = C.mjGEOM_CYLINDER
	GeomBox      GeomType = C.mjGEOM_BOX
)

// Integrator is MuJoCo's mjtIntegrator.
type Integrator int

// The integrators.
const (
	IntegratorEuler Integrator = C.mjINT_EULER
	IntegratorRK4   Integrator = C.mjINT_RK4
)

// NumWarnings is the number of warning kinds MuJoCo counts per Data.
const NumWarnings = int(C.mjNWARNING)

// warningNames follow mjtWarning's order.
var warningNames = [...]string{"inertia", "contact_full", "constraint_full", "vgeom_full", "bad_qpos", "bad_qvel", "bad_qacc", "bad_ctrl"}

// WarningName names warning kind i (0 <= i < NumWarnings).
func WarningName(i int) string {
	if i >= 0 && i < len(warningNames) {
		return warningNames[i]
	}
	return fmt.Sprintf("warning%d", i)
}

// LastWarning returns the text of the most recent MuJoCo warning in this
// process and how many warnings have been raised so far.
func LastWarning() (string, int) {
	var buf [512]C.char
	n := C.nt_last_warning(&buf[0], C.int(len(buf)))
	return C.GoString(&buf[0]), int(n)
}

// loadMu serialises mj_loadXML: MuJoCo's XML compiler is not documented as
// thread-safe.
var loadMu sync.Mutex

// Model is a compiled MuJoCo model (mjModel).
type Model struct {
	p       *C.mjModel
	cleanup runtime.Cleanup
}

// LoadXML compiles MJCF text. A parse or compile error carries MuJoCo's
// own message.
func LoadXML(xml string) (*Model, error) {
	if xml == "" {
		return nil, errors.New("mujoco: empty model XML")
	}
	if err := Load(); err != nil {
		return nil, err
	}
	cxml := C.CString(xml)
	defer C.free(unsafe.Pointer(cxml))
	var errbuf [1000]C.char
	loadMu.Lock()
	p := C.nt_load(cxml, C.int(len(xml)), &errbuf[0], C.int(len(errbuf)))
	loadMu.Unlock()
	if p == nil {
		msg := strings.TrimSpace(C.GoString(&errbuf[0]))
		if msg == "" {
			msg = "unknown error"
		}
		return nil, fmt.Errorf("mujoco: load model: %s", strings.ReplaceAll(msg, "\n", "; "))
	}
	m := &Model{p: p}
	m.cleanup = runtime.AddCleanup(m, func(p *C.mjModel) { C.mj_deleteModel(p) }, p)
	return m, nil
}

// Close frees the model. Every Data made from it must be closed first.
func (m *Model) Close() {
	if m.p == nil {
		return
	}
	m.cleanup.Stop()
	C.mj_deleteModel(m.p)
	m.p = nil
}

// Nq is the number of position coordinates.
func (m *Model) Nq() int { return int(m.p.nq) }

// Nv is the number of degrees of freedom.
func (m *Model) Nv() int { return int(m.p.nv) }

// Nu is the number of actuators.
func (m *Model) Nu() int { return int(m.p.nu) }

// Nbody is the number of bodies, including the world body 0.
func (m *Model) Nbody() int { return int(m.p.nbody) }

// Njnt is the number of joints.
func (m *Model) Njnt() int { return int(m.p.njnt) }

// Ngeom is the number of geoms.
func (m *Model) Ngeom() int { return int(m.p.ngeom) }

// Timestep is the physics step in seconds.
func (m *Model) Timestep() float64 { return float64(m.p.opt.timestep) }

// Integrator is the numerical integrator.
func (m *Model) Integrator() Integrator { return Integrator(m.p.opt.integrator) }

// Gravity is the gravity vector.
func (m *Model) Gravity() [3]float64 {
	g := m.p.opt.gravity
	return [3]float64{float64(g[0]), float64(g[1]), float64(g[2])}
}

// Qpos0 returns a copy of the default pose (the model's init_qpos).
func (m *Model) Qpos0() []float64 {
	return append([]float64(nil), nums(m.p.qpos0, m.Nq())...)
}

// Name returns the name of element id of the given kind ("" if unnamed).
func (m *Model) Name(t ObjType, id int) string {
	s := C.mj_id2name(m.p, C.int(t), C.int(id))
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// ID returns the id of the named element, or -1.
func (m *Model) ID(t ObjType, name string) int {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return int(C.mj_name2id(m.p, C.int(t), cs))
}

// Joint describes one joint as compiled (angles in radians).
type Joint struct {
	Name              string
	Type              JointType
	Body              int
	QposAdr, DofAdr   int
	Pos, Axis         [3]float64 // in the body frame
	Limited           bool
	Range             [2]float64
	Armature, Damping float64 // of its first dof
}

// Joint returns joint id.
func (m *Model) Joint(id int) Joint {
	p := m.p
	j := Joint{
		Name:    m.Name(ObjJoint, id),
		Type:    JointType(idx(p.jnt_type, id)),
		Body:    int(idx(p.jnt_bodyid, id)),
		QposAdr: int(idx(p.jnt_qposadr, id)),
		DofAdr:  int(idx(p.jnt_dofadr, id)),
		Limited: idx(p.jnt_limited, id) != 0,
	}
	copy(j.Pos[:], nums(p.jnt_pos, 3*(id+1))[3*id:])
	copy(j.Axis[:], nums(p.jnt_axis, 3*(id+1))[3*id:])
	copy(j.Range[:], nums(p.jnt_range, 2*(id+1))[2*id:])
	j.Armature = float64(idx(p.dof_armature, j.DofAdr))
	j.Damping = float64(idx(p.dof_damping, j.DofAdr))
	return j
}

// Actuator describes one actuator as compiled.
type Actuator struct {
	Name        string
	Joint       int // transmission target (a joint id for motors on joints)
	Gear        float64
	CtrlLimited bool
	CtrlRange   [2]float64
}

// Actuator returns actuator id.
func (m *Model) Actuator(id int) Actuator {
	p := m.p
	a := Actuator{
		Name:        m.Name(ObjActuator, id),
		Joint:       int(idx(p.actuator_trnid, 2*id)),
		Gear:        float64(idx(p.actuator_gear, 6*id)),
		CtrlLimited: idx(p.actuator_ctrllimited, id) != 0,
	}
	copy(a.CtrlRange[:], nums(p.actuator_ctrlrange, 2*(id+1))[2*id:])
	return a
}

// Geom describes one geom as compiled.
type Geom struct {
	Name                         string
	Type                         GeomType
	Body                         int
	Size                         [3]float64 // capsule: radius, half-length
	Friction                     [3]float64 // slide, spin, roll
	Condim, Contype, Conaffinity int
	Margin                       float64
	Solref                       [2]float64
	Solimp                       [3]float64
	RGBA                         [4]float32
}

// Geom returns geom id.
func (m *Model) Geom(id int) Geom {
	p := m.p
	g := Geom{
		Name:        m.Name(ObjGeom, id),
		Type:        GeomType(idx(p.geom_type, id)),
		Body:        int(idx(p.geom_bodyid, id)),
		Condim:      int(idx(p.geom_condim, id)),
		Contype:     int(idx(p.geom_contype, id)),
		Conaffinity: int(idx(p.geom_conaffinity, id)),
		Margin:      float64(idx(p.geom_margin, id)),
	}
	copy(g.Size[:], nums(p.geom_size, 3*(id+1))[3*id:])
	copy(g.Friction[:], nums(p.geom_friction, 3*(id+1))[3*id:])
	nref, nimp := int(C.mjNREF), int(C.mjNIMP)
	copy(g.Solref[:], nums(p.geom_solref, nref*(id+1))[nref*id:])
	copy(g.Solimp[:], nums(p.geom_solimp, nimp*(id+1))[nimp*id:])
	rgba := unsafe.Slice((*float32)(unsafe.Pointer(p.geom_rgba)), 4*(id+1))[4*id:]
	copy(g.RGBA[:], rgba)
	return g
}

// BodyMass returns the mass of body id.
func (m *Model) BodyMass(id int) float64 { return float64(idx(m.p.body_mass, id)) }

// Data is the simulation state of one model instance (mjData).
type Data struct {
	m       *Model
	p       *C.mjData
	cleanup runtime.Cleanup
}

// NewData allocates a state for m at its default pose.
func NewData(m *Model) (*Data, error) {
	if m == nil || m.p == nil {
		return nil, errors.New("mujoco: NewData on a closed model")
	}
	p := C.mj_makeData(m.p)
	if p == nil {
		return nil, errors.New("mujoco: mj_makeData failed (out of memory?)")
	}
	d := &Data{m: m, p: p}
	d.cleanup = runtime.AddCleanup(d, func(p *C.mjData) { C.mj_deleteData(p) }, p)
	return d, nil
}

// Close frees the state. Slices returned by its accessors become invalid.
func (d *Data) Close() {
	if d.p == nil {
		return
	}
	d.cleanup.Stop()
	C.mj_deleteData(d.p)
	d.p = nil
}

// Model returns the model d was made from.
func (d *Data) Model() *Model { return d.m }

// Step advances the simulation by n physics steps with the controls held.
// It returns WarningTotal afterwards, saving a second cgo call per step
// to a caller watching for instabilities.
func (d *Data) Step(n int) (warnings int) { return int(C.nt_step(d.m.p, d.p, C.int(n))) }

// Forward computes the derived quantities (positions, contacts, forces) of
// the current state without advancing time.
func (d *Data) Forward() { C.mj_forward(d.m.p, d.p) }

// Reset puts the state back to the model's defaults (qpos0, zero
// velocity, time 0, warnings cleared).
func (d *Data) Reset() { C.mj_resetData(d.m.p, d.p) }

// Time is the simulated time in seconds.
func (d *Data) Time() float64 { return float64(d.p.time) }

// The accessors below return slices that alias MuJoCo's own arrays: writes
// go straight into the simulation state, and they are valid until Close.

// Qpos is the position vector (nq).
func (d *Data) Qpos() []float64 { return nums(d.p.qpos, d.m.Nq()) }

// Qvel is the velocity vector (nv).
func (d *Data) Qvel() []float64 { return nums(d.p.qvel, d.m.Nv()) }

// Ctrl is the control vector (nu).
func (d *Data) Ctrl() []float64 { return nums(d.p.ctrl, d.m.Nu()) }

// Xpos holds the Cartesian body positions (nbody x 3).
func (d *Data) Xpos() []float64 { return nums(d.p.xpos, 3*d.m.Nbody()) }

// GeomXpos holds the Cartesian geom positions (ngeom x 3).
func (d *Data) GeomXpos() []float64 { return nums(d.p.geom_xpos, 3*d.m.Ngeom()) }

// GeomXmat holds the geom orientations as row-major 3x3 matrices
// (ngeom x 9).
func (d *Data) GeomXmat() []float64 { return nums(d.p.geom_xmat, 9*d.m.Ngeom()) }

// Xanchor holds the Cartesian joint anchors (njnt x 3).
func (d *Data) Xanchor() []float64 { return nums(d.p.xanchor, 3*d.m.Njnt()) }

// MaxUse reports the most contacts and constraint rows any step used
// since the last Reset, to size njmax/nconmax with headroom.
func (d *Data) MaxUse() (con, efc int) { return int(d.p.maxuse_con), int(d.p.maxuse_efc) }

// Ncon is the number of contacts found by the last step or forward.
func (d *Data) Ncon() int { return int(d.p.ncon) }

// Warnings returns how many times each warning kind was raised since the
// last Reset.
func (d *Data) Warnings() [NumWarnings]int {
	var w [NumWarnings]int
	for i := range w {
		w[i] = int(d.p.warning[i].number)
	}
	return w
}

// WarningTotal is the sum of Warnings, cheap enough to poll every step.
func (d *Data) WarningTotal() int { return int(C.nt_warning_total(d.p)) }

// nums views n mjtNum values at p as a Go slice.
func nums(p *C.mjtNum, n int) []float64 {
	if n == 0 || p == nil {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(p)), n)
}

// idx reads element i of a C array.
func idx[T any](p *T, i int) T {
	return *(*T)(unsafe.Add(unsafe.Pointer(p), uintptr(i)*unsafe.Sizeof(*p)))
}
