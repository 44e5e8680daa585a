package mujoco

/*
// libmujoco and libOSMesa are opened with dlopen on first use (lazy.c):
// libOSMesa brings libLLVM, tens of megabytes only rendering needs.
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include <string.h>
#include <GL/osmesa.h>
#include <mujoco/mujoco.h>

// nt_renderer is everything one offscreen renderer owns: a software GL
// context (Mesa's OSMesa, no display needed), MuJoCo's GPU-side context
// and scene, and a private copy of the model and of a state to draw.
typedef struct {
	OSMesaContext gl;
	unsigned char winbuf[16 * 16 * 4]; // OSMesa needs a default buffer; MuJoCo draws into its own FBO
	mjModel* m;
	mjData* d;
	mjvScene scn;
	mjvOption opt;
	mjrContext con;
} nt_renderer;

static int nt_current(nt_renderer* r) {
	return OSMesaMakeCurrent(r->gl, r->winbuf, GL_UNSIGNED_BYTE, 16, 16);
}

static void nt_release(void) { OSMesaMakeCurrent(NULL, NULL, 0, 0, 0); }

static nt_renderer* nt_renderer_new(const mjModel* src, int w, int h, char* err, int errlen) {
	nt_renderer* r = calloc(1, sizeof(nt_renderer));
	if (!r) {
		strncpy(err, "out of memory", errlen);
		return NULL;
	}
	r->gl = OSMesaCreateContextExt(OSMESA_RGBA, 24, 8, 0, NULL);
	if (!r->gl) {
		strncpy(err, "OSMesaCreateContextExt failed", errlen);
		free(r);
		return NULL;
	}
	if (!nt_current(r)) {
		strncpy(err, "OSMesaMakeCurrent failed", errlen);
		OSMesaDestroyContext(r->gl);
		free(r);
		return NULL;
	}
	r->m = mj_copyModel(NULL, src);
	// The offscreen buffer is sized from the model; our copy asks for the
	// largest frame this renderer will draw.
	r->m->vis.global.offwidth = w;
	r->m->vis.global.offheight = h;
	r->d = mj_makeData(r->m);
	mjv_defaultScene(&r->scn);
	mjv_defaultOption(&r->opt);
	mjr_defaultContext(&r->con);
	mjv_makeScene(r->m, &r->scn, 1000);
	mjr_makeContext(r->m, &r->con, mjFONTSCALE_100);
	mjr_setBuffer(mjFB_OFFSCREEN, &r->con);
	int ok = r->con.offFBO != 0 && r->con.offWidth >= w && r->con.offHeight >= h;
	nt_release();
	if (!ok) {
		strncpy(err, "MuJoCo could not create an offscreen framebuffer in the OSMesa context", errlen);
		return r; // caller frees
	}
	return r;
}

static void nt_renderer_free(nt_renderer* r) {
	if (nt_current(r)) {
		mjr_freeContext(&r->con);
	}
	nt_release();
	mjv_freeScene(&r->scn);
	mj_deleteData(r->d);
	mj_deleteModel(r->m);
	OSMesaDestroyContext(r->gl);
	free(r);
}

// nt_render draws state (qpos, qvel) of src into rgb (w*h*3, bottom row
// first as OpenGL reads it). All GL work happens inside this one call, so
// the context is current on the calling thread for exactly its duration.
static int nt_render(nt_renderer* r, const mjData* src, int track,
		double lx, double ly, double lz, double dist, double az, double el,
		int w, int h, unsigned char* rgb) {
	mjModel* m = r->m;
	mjData* d = r->d;
	d->time = src->time;
	memcpy(d->qpos, src->qpos, sizeof(mjtNum) * m->nq);
	memcpy(d->qvel, src->qvel, sizeof(mjtNum) * m->nv);
	memcpy(d->ctrl, src->ctrl, sizeof(mjtNum) * m->nu);
	mj_forward(m, d);
	mjvCamera cam;
	mjv_defaultCamera(&cam);
	cam.type = mjCAMERA_FREE;
	cam.lookat[0] = lx;
	cam.lookat[1] = ly;
	cam.lookat[2] = lz;
	if (track >= 0 && track < m->nbody) {
		cam.lookat[0] += d->xpos[3 * track];
	}
	cam.distance = dist;
	cam.azimuth = az;
	cam.elevation = el;
	if (!nt_current(r)) {
		return 0;
	}
	mjv_updateScene(m, d, &r->opt, NULL, &cam, mjCAT_ALL, &r->scn);
	mjrRect vp = {0, 0, w, h};
	mjr_render(vp, &r->scn, &r->con);
	mjr_readPixels(rgb, NULL, vp, &r->con);
	nt_release();
	return 1;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Camera places a free camera: it looks at Lookat from Distance away, at
// Azimuth and Elevation degrees (azimuth 90 looks along +y, so +x runs to
// the right of the image). If TrackBody >= 0, that body's current x
// position is added to Lookat's x, so the camera follows it along the
// ground without bobbing with it.
type Camera struct {
	Lookat                       [3]float64
	Distance, Azimuth, Elevation float64
	TrackBody                    int
}

// Renderer draws states of one model with MuJoCo's own OpenGL renderer in
// a software (OSMesa) context, so it works without a display or GPU. A
// Renderer serialises its calls; use one per goroutine for parallelism.
type Renderer struct {
	mu         sync.Mutex
	r          *C.nt_renderer
	cleanup    runtime.Cleanup
	maxW, maxH int
	nq         int
}

// NewRenderer prepares to draw m at up to maxW x maxH pixels. It copies
// the model, so m may keep stepping elsewhere.
func NewRenderer(m *Model, maxW, maxH int) (*Renderer, error) {
	if maxW < 1 || maxH < 1 {
		return nil, fmt.Errorf("mujoco: renderer size %dx%d", maxW, maxH)
	}
	if err := openLib(libOSMesa); err != nil {
		return nil, fmt.Errorf("mujoco: renderer: cannot load OSMesa (Debian package libosmesa6): %w", err)
	}
	var errbuf [256]C.char
	r := C.nt_renderer_new(m.p, C.int(maxW), C.int(maxH), &errbuf[0], C.int(len(errbuf)))
	if msg := C.GoString(&errbuf[0]); msg != "" {
		if r != nil {
			C.nt_renderer_free(r)
		}
		return nil, fmt.Errorf("mujoco: renderer: %s", msg)
	}
	rr := &Renderer{r: r, maxW: maxW, maxH: maxH, nq: m.Nq()}
	// Every GL call of a free happens inside one C call, so the cleanup
	// may run on any thread.
	rr.cleanup = runtime.AddCleanup(rr, func(p *C.nt_renderer) { C.nt_renderer_free(p) }, r)
	return rr, nil
}

// Render draws state d (of the renderer's model) seen by cam as a w x h
// RGB image, top row first.
func (r *Renderer) Render(d *Data, cam Camera, w, h int) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.r == nil {
		return nil, errors.New("mujoco: render on a closed renderer")
	}
	if w < 1 || h < 1 || w > r.maxW || h > r.maxH {
		return nil, fmt.Errorf("mujoco: render size %dx%d outside 1x1..%dx%d", w, h, r.maxW, r.maxH)
	}
	if d.m.Nq() != r.nq {
		return nil, fmt.Errorf("mujoco: render: state has nq %d, renderer's model %d", d.m.Nq(), r.nq)
	}
	buf := C.malloc(C.size_t(3 * w * h))
	defer C.free(buf)
	ok := C.nt_render(r.r, d.p, C.int(cam.TrackBody),
		C.double(cam.Lookat[0]), C.double(cam.Lookat[1]), C.double(cam.Lookat[2]),
		C.double(cam.Distance), C.double(cam.Azimuth), C.double(cam.Elevation),
		C.int(w), C.int(h), (*C.uchar)(buf))
	if ok == 0 {
		return nil, errors.New("mujoco: render: cannot make the OSMesa context current")
	}
	// OpenGL returns the bottom row first; flip to the usual top-down order.
	src := unsafe.Slice((*byte)(buf), 3*w*h)
	out := make([]byte, 3*w*h)
	row := 3 * w
	for y := range h {
		copy(out[y*row:(y+1)*row], src[(h-1-y)*row:(h-y)*row])
	}
	return out, nil
}

// Close frees the GL context and the model copy.
func (r *Renderer) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.r != nil {
		r.cleanup.Stop()
		C.nt_renderer_free(r.r)
		r.r = nil
	}
}
