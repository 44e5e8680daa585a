// The MuJoCo and OSMesa entry points this package calls, resolved from
// the libraries with dlopen on first use instead of being linked in.
//
// Why: nthost links this package for --in-process runs, and a linked
// library is loaded (and its constructors run) at every start of the
// program, whatever the command. libOSMesa pulls in libLLVM-15, whose
// relocation alone touches about 45 MB: `nthost tda` on 20 points peaked
// at 85 MB resident, most of it these pages, though it never steps a
// physics model or renders a frame (docs/benchmarks.md, "`nthost tda`
// on point clouds"). Loaded here on demand, a program pays for MuJoCo when
// it loads a model and for OSMesa when it makes a renderer.
//
// Each wrapper has the name and signature mujoco.h (osmesa.h) declares,
// so the cgo code calls MuJoCo as before. They are hidden: an exported
// mj_step in the executable would be the definition libmujoco's own
// calls bind to.

#define MJ_STATIC // MJAPI expands to nothing: our definitions may be hidden
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mujoco/mujoco.h>

#pragma GCC visibility push(hidden)

enum { ntLibMujoco, ntLibOSMesa, ntLibs };

// The names each library is looked for under, in order: first the one
// the build's headers belong to (libmujoco.so.2.2.2 for mjVERSION_HEADER
// 222), then the development symlink, so that a packaged update of the
// library is still found. nt_lib_names is what errors name.
static const char* const nt_lib_names[ntLibs] = {"libmujoco.so", "libOSMesa.so.8"};
static const char* const nt_lib_fallback[ntLibs] = {"libmujoco.so", "libOSMesa.so"};

// OSMesa's GL types, declared here: osmesa.h marks its functions
// visibility("default"), which our hidden definitions must not inherit.
typedef struct osmesa_context* OSMesaContext;
typedef unsigned int GLenum;
typedef int GLint;
typedef int GLsizei;
typedef unsigned char GLboolean;

static void* nt_lib_handle[ntLibs];
static char nt_lib_err[ntLibs][512];
static pthread_once_t nt_lib_once[ntLibs] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

static void nt_open(int lib) {
	// RTLD_GLOBAL for OSMesa: MuJoCo finds the GL functions of the
	// current context by name (OSMesaGetProcAddress through dlsym).
	int mode = RTLD_LAZY | (lib == ntLibOSMesa ? RTLD_GLOBAL : RTLD_LOCAL);
	void* h = NULL;
	if (lib == ntLibMujoco) {
		char name[64];
		int v = mjVERSION_HEADER;
		snprintf(name, sizeof name, "libmujoco.so.%d.%d.%d", v / 100, v / 10 % 10, v % 10);
		h = dlopen(name, mode);
	} else {
		h = dlopen(nt_lib_names[lib], mode);
	}
	if (h == NULL) {
		h = dlopen(nt_lib_fallback[lib], mode);
	}
	if (h == NULL) {
		const char* e = dlerror();
		snprintf(nt_lib_err[lib], sizeof nt_lib_err[lib], "%s", e ? e : "dlopen failed");
		return;
	}
	__atomic_store_n(&nt_lib_handle[lib], h, __ATOMIC_RELEASE);
}

static void nt_open_mujoco(void) { nt_open(ntLibMujoco); }
static void nt_open_osmesa(void) { nt_open(ntLibOSMesa); }

// nt_lib_open loads library lib once; it returns 1 when it is loaded,
// else 0 with the loader's message in err.
int nt_lib_open(int lib, char* err, int errlen) {
	pthread_once(&nt_lib_once[lib], lib == ntLibMujoco ? nt_open_mujoco : nt_open_osmesa);
	if (__atomic_load_n(&nt_lib_handle[lib], __ATOMIC_ACQUIRE) != NULL) {
		return 1;
	}
	snprintf(err, errlen, "%s", nt_lib_err[lib]);
	return 0;
}

// nt_lib_sym returns symbol name of library lib, loading the library if
// needed. A missing library or symbol here is a bug of the caller (the
// Go side opens the library and reports its error first), so it stops
// the program with the reason rather than jumping to NULL.
void* nt_lib_sym(int lib, const char* name) {
	char err[512];
	if (!nt_lib_open(lib, err, sizeof err)) {
		fprintf(stderr, "mujoco: cannot load %s: %s\n", nt_lib_names[lib], err);
		abort();
	}
	void* p = dlsym(nt_lib_handle[lib], name);
	if (p == NULL) {
		fprintf(stderr, "mujoco: %s has no symbol %s\n", nt_lib_names[lib], name);
		abort();
	}
	return p;
}

// NT_FN defines function name with return type ret, parameters params
// and call arguments args, forwarding to the library's definition,
// which it looks up once.
#define NT_FN(lib, ret, name, params, args)                              \
	ret name params {                                                    \
		static ret(*fp) params;                                          \
		ret(*f) params = __atomic_load_n(&fp, __ATOMIC_ACQUIRE);         \
		if (f == NULL) {                                                 \
			f = (ret(*) params)nt_lib_sym(lib, #name);                   \
			__atomic_store_n(&fp, f, __ATOMIC_RELEASE);                  \
		}                                                                \
		return f args;                                                   \
	}

// NT_VOID is NT_FN for functions without a result.
#define NT_VOID(lib, name, params, args)                                 \
	void name params {                                                   \
		static void(*fp) params;                                         \
		void(*f) params = __atomic_load_n(&fp, __ATOMIC_ACQUIRE);        \
		if (f == NULL) {                                                 \
			f = (void(*) params)nt_lib_sym(lib, #name);                  \
			__atomic_store_n(&fp, f, __ATOMIC_RELEASE);                  \
		}                                                                \
		f args;                                                          \
	}

#define MJ ntLibMujoco

NT_FN(MJ, int, mj_version, (void), ())
NT_VOID(MJ, mj_defaultVFS, (mjVFS* vfs), (vfs))
NT_FN(MJ, int, mj_makeEmptyFileVFS, (mjVFS* vfs, const char* filename, int filesize), (vfs, filename, filesize))
NT_FN(MJ, int, mj_findFileVFS, (const mjVFS* vfs, const char* filename), (vfs, filename))
NT_VOID(MJ, mj_deleteVFS, (mjVFS* vfs), (vfs))
NT_FN(MJ, mjModel*, mj_loadXML, (const char* filename, const mjVFS* vfs, char* error, int error_sz), (filename, vfs, error, error_sz))
NT_FN(MJ, mjModel*, mj_copyModel, (mjModel* dest, const mjModel* src), (dest, src))
NT_VOID(MJ, mj_deleteModel, (mjModel* m), (m))
NT_FN(MJ, mjData*, mj_makeData, (const mjModel* m), (m))
NT_VOID(MJ, mj_resetData, (const mjModel* m, mjData* d), (m, d))
NT_VOID(MJ, mj_deleteData, (mjData* d), (d))
NT_VOID(MJ, mj_step, (const mjModel* m, mjData* d), (m, d))
NT_VOID(MJ, mj_forward, (const mjModel* m, mjData* d), (m, d))
NT_FN(MJ, int, mj_name2id, (const mjModel* m, int type, const char* name), (m, type, name))
NT_FN(MJ, const char*, mj_id2name, (const mjModel* m, int type, int id), (m, type, id))
NT_VOID(MJ, mjv_defaultCamera, (mjvCamera* cam), (cam))
NT_VOID(MJ, mjv_defaultOption, (mjvOption* opt), (opt))
NT_VOID(MJ, mjv_defaultScene, (mjvScene* scn), (scn))
NT_VOID(MJ, mjv_makeScene, (const mjModel* m, mjvScene* scn, int maxgeom), (m, scn, maxgeom))
NT_VOID(MJ, mjv_freeScene, (mjvScene* scn), (scn))
NT_VOID(MJ, mjv_updateScene, (const mjModel* m, mjData* d, const mjvOption* opt, const mjvPerturb* pert, mjvCamera* cam, int catmask, mjvScene* scn), (m, d, opt, pert, cam, catmask, scn))
NT_VOID(MJ, mjr_defaultContext, (mjrContext* con), (con))
NT_VOID(MJ, mjr_makeContext, (const mjModel* m, mjrContext* con, int fontscale), (m, con, fontscale))
NT_VOID(MJ, mjr_freeContext, (mjrContext* con), (con))
NT_VOID(MJ, mjr_setBuffer, (int framebuffer, mjrContext* con), (framebuffer, con))
NT_VOID(MJ, mjr_readPixels, (unsigned char* rgb, float* depth, mjrRect viewport, const mjrContext* con), (rgb, depth, viewport, con))
NT_VOID(MJ, mjr_render, (mjrRect viewport, mjvScene* scn, const mjrContext* con), (viewport, scn, con))

#define GL ntLibOSMesa

NT_FN(GL, OSMesaContext, OSMesaCreateContextExt, (GLenum format, GLint depthBits, GLint stencilBits, GLint accumBits, OSMesaContext sharelist), (format, depthBits, stencilBits, accumBits, sharelist))
NT_VOID(GL, OSMesaDestroyContext, (OSMesaContext ctx), (ctx))
NT_FN(GL, GLboolean, OSMesaMakeCurrent, (OSMesaContext ctx, void* buffer, GLenum type, GLsizei width, GLsizei height), (ctx, buffer, type, width, height))

#pragma GCC visibility pop
