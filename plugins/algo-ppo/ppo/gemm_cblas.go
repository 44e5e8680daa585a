//go:build cgo && !nocblas

package ppo

/*
#cgo CFLAGS: -O3
// libopenblas is opened with dlopen on first use, not linked: a linked
// OpenBLAS runs its constructor at every start of every program that
// links this package (nthost does, for --in-process), and that
// constructor allocates its buffers and starts a thread pool whose
// threads spin on sched_yield. See ntBlasLoad.
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The OpenBLAS entry points used, with cblas.h's signatures (not
// included: its location differs between Debian's BLAS alternatives).
static void (*nt_cblas_dgemm)(int order, int transA, int transB, int M, int N, int K,
	double alpha, const double *A, int lda, const double *B, int ldb,
	double beta, double *C, int ldc);
static char *(*nt_openblas_get_corename)(void);

static pthread_once_t nt_blas_once = PTHREAD_ONCE_INIT;
static char nt_blas_err[512];

// nt_blas_load_once opens OpenBLAS with OPENBLAS_NUM_THREADS=1 in the
// environment its constructor reads, so it starts no worker threads at
// all (openblas_set_num_threads(1) after loading, as this package did,
// still leaves the pool's threads spinning for a while: some 13,000
// sched_yield calls in the first second of a run). The learner runs
// actor and critic on goroutines of their own and wants single-threaded
// products. The variable is restored right after, so nothing else
// sees it.
static void nt_blas_load_once(void) {
	const char *old = getenv("OPENBLAS_NUM_THREADS");
	char *saved = old ? strdup(old) : NULL;
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
	if (saved) {
		setenv("OPENBLAS_NUM_THREADS", saved, 1);
		free(saved);
	} else {
		unsetenv("OPENBLAS_NUM_THREADS");
	}
	if (h == NULL) {
		const char *e = dlerror();
		snprintf(nt_blas_err, sizeof nt_blas_err, "%s", e ? e : "dlopen failed");
		return;
	}
	void (*setThreads)(int) = (void (*)(int))dlsym(h, "openblas_set_num_threads");
	nt_openblas_get_corename = (char *(*)(void))dlsym(h, "openblas_get_corename");
	void *gemm = dlsym(h, "cblas_dgemm");
	if (gemm == NULL || setThreads == NULL || nt_openblas_get_corename == NULL) {
		snprintf(nt_blas_err, sizeof nt_blas_err, "libopenblas.so.0 lacks cblas_dgemm, openblas_set_num_threads or openblas_get_corename");
		return;
	}
	// Also when the environment asked for more threads: see above.
	setThreads(1);
	__atomic_store_n(&nt_cblas_dgemm, (void (*)(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int))gemm, __ATOMIC_RELEASE);
}

// ntBlasLoad loads OpenBLAS once; it returns 1 when it is usable, else
// 0 with the reason in err.
static int ntBlasLoad(char *err, int errlen) {
	pthread_once(&nt_blas_once, nt_blas_load_once);
	if (__atomic_load_n(&nt_cblas_dgemm, __ATOMIC_ACQUIRE) != NULL) {
		return 1;
	}
	snprintf(err, errlen, "%s", nt_blas_err);
	return 0;
}

static const char *ntBlasCorename(void) { return nt_openblas_get_corename(); }

// cblas_dgemm calls OpenBLAS's, loading it first if the Go side has not
// (it always has: newLearner loads it and reports failure; a failure
// here stops the program with the reason rather than jumping to NULL).
static void cblas_dgemm(int order, int transA, int transB, int M, int N, int K,
	double alpha, const double *A, int lda, const double *B, int ldb,
	double beta, double *C, int ldc) {
	void (*f)(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int) =
		__atomic_load_n(&nt_cblas_dgemm, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		char err[512];
		if (!ntBlasLoad(err, sizeof err)) {
			fprintf(stderr, "ppo: cannot load OpenBLAS: %s\n", err);
			abort();
		}
		f = nt_cblas_dgemm;
	}
	f(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

enum { rowMajor = 101, noTrans = 111, trans = 112 };

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HAVE_SMALL_GEMM 1
typedef double v8 __attribute__((vector_size(64), aligned(8)));

// smallGemm is c = beta c + a b for row-major a (m x k), b (k x n) and c
// (m x n), beta 0 or 1, n a multiple of 16: the products of the networks'
// 64-wide layers. A 4 x 16 block of c stays in eight AVX-512 registers
// while k rank-one updates go through it. It has no packing or dispatch,
// which is most of what OpenBLAS spends on matrices this small: the
// update's products take about 0.6x the time of OpenBLAS's Haswell
// kernels (docs/benchmarks.md).
__attribute__((target("avx512f,fma"))) static void smallGemm(int m, int n, int k,
	const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc) {
	int i = 0;
	for (; i + 4 <= m; i += 4) {
		const double *a0 = a + (long)i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
		for (int j = 0; j < n; j += 16) {
			v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
			for (int p = 0; p < k; p++) {
				const double *bp = b + (long)p * ldb + j;
				v8 b0 = *(const v8 *)bp, b1 = *(const v8 *)(bp + 8);
				c00 += a0[p] * b0;
				c01 += a0[p] * b1;
				c10 += a1[p] * b0;
				c11 += a1[p] * b1;
				c20 += a2[p] * b0;
				c21 += a2[p] * b1;
				c30 += a3[p] * b0;
				c31 += a3[p] * b1;
			}
			v8 *r0 = (v8 *)(c + (long)i * ldc + j), *r1 = (v8 *)((double *)r0 + ldc);
			v8 *r2 = (v8 *)((double *)r1 + ldc), *r3 = (v8 *)((double *)r2 + ldc);
			if (beta != 0) {
				c00 += r0[0], c01 += r0[1], c10 += r1[0], c11 += r1[1];
				c20 += r2[0], c21 += r2[1], c30 += r3[0], c31 += r3[1];
			}
			r0[0] = c00, r0[1] = c01, r1[0] = c10, r1[1] = c11;
			r2[0] = c20, r2[1] = c21, r3[0] = c30, r3[1] = c31;
		}
	}
	for (; i < m; i++) {
		const double *a0 = a + (long)i * lda;
		for (int j = 0; j < n; j += 16) {
			v8 c0 = {0}, c1 = {0};
			for (int p = 0; p < k; p++) {
				const double *bp = b + (long)p * ldb + j;
				c0 += a0[p] * *(const v8 *)bp;
				c1 += a0[p] * *(const v8 *)(bp + 8);
			}
			v8 *r = (v8 *)(c + (long)i * ldc + j);
			if (beta != 0) {
				c0 += r[0], c1 += r[1];
			}
			r[0] = c0, r[1] = c1;
		}
	}
}

// transposed returns the transpose of the rows x cols matrix x (stride
// ld) in buf, a per-thread buffer grown as needed: the two goroutines of
// an update multiply at the same time on their own threads.
static __thread double *tbuf[2];
static __thread long tcap[2];
static const double *transposed(int which, int rows, int cols, const double *x, int ld) {
	long need = (long)rows * cols;
	if (tcap[which] < need) {
		double *nb = realloc(tbuf[which], need * sizeof(double));
		if (nb == NULL) {
			return NULL;
		}
		tbuf[which] = nb;
		tcap[which] = need;
	}
	double *t = tbuf[which];
	for (int r = 0; r < rows; r++) {
		for (int c = 0; c < cols; c++) {
			t[(long)c * rows + r] = x[(long)r * ld + c];
		}
	}
	return t;
}
#endif

// ntGemm is cblas_dgemm (row-major) that sends the products smallGemm
// can do to it on CPUs with AVX-512, transposing an operand first where
// needed (a 64 x 64 copy costs far less than the product).
static void ntGemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
	const double *b, int ldb, double beta, double *c, int ldc) {
#ifdef HAVE_SMALL_GEMM
	if (alpha == 1 && (beta == 0 || beta == 1) && n % 16 == 0 && __builtin_cpu_supports("avx512f")) {
		const double *aa = a, *bb = b;
		int la = lda, lb = ldb;
		if (ta == trans) {
			aa = transposed(0, k, m, a, lda);
			la = k;
		}
		if (tb == trans) {
			bb = transposed(1, n, k, b, ldb);
			lb = n;
		}
		if (aa != NULL && bb != NULL) {
			smallGemm(m, n, k, aa, la, bb, lb, beta, c, ldc);
			return;
		}
	}
#endif
	cblas_dgemm(rowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
*/
import "C"

import (
	"fmt"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The networks' matrices are small (64 x 64 blocks): OpenBLAS's AVX2/AVX-512
// kernels do them several times faster than gonum's pure-Go Dgemm, and the
// learner already runs actor and critic on separate goroutines, so OpenBLAS
// itself stays single-threaded.
//
// Loading OpenBLAS waits for the first learner (loadGemm), so programs
// that link this package without training never load it.
func init() {
	gemm = cblasGemm
	loadGemm = loadOpenBLAS
}

var (
	blasOnce sync.Once
	blasErr  error
)

// loadOpenBLAS opens OpenBLAS once. OpenBLAS picks its kernels by CPU
// when it is loaded, unless OPENBLAS_CORETYPE names them; gemmBackend
// records which, since it decides the speed (docs/benchmarks.md) and
// the rounding.
func loadOpenBLAS() error {
	blasOnce.Do(func() {
		var buf [512]C.char
		if C.ntBlasLoad(&buf[0], C.int(len(buf))) == 0 {
			blasErr = fmt.Errorf("ppo: cannot load OpenBLAS (Debian package libopenblas0; or build with -tags nocblas for gonum's products): %s", C.GoString(&buf[0]))
			return
		}
		gemmBackend = "openblas " + C.GoString(C.ntBlasCorename())
	})
	return blasErr
}

const (
	cblasNoTrans = 111
	cblasTrans   = 112
)

// cblasGemm is blas64.Gemm through OpenBLAS (or smallGemm): c = alpha
// op(a) op(b) + beta c.
func cblasGemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) {
	ta, k := C.int(cblasNoTrans), a.Cols
	if tA != blas.NoTrans {
		ta, k = cblasTrans, a.Rows
	}
	tb := C.int(cblasNoTrans)
	if tB != blas.NoTrans {
		tb = cblasTrans
	}
	if c.Rows == 0 || c.Cols == 0 || k == 0 {
		// Nothing to multiply (and no element to point at).
		if k == 0 && beta != 1 {
			for i := 0; i < c.Rows; i++ {
				row := c.Data[i*c.Stride : i*c.Stride+c.Cols]
				for j := range row {
					row[j] *= beta
				}
			}
		}
		return
	}
	C.ntGemm(ta, tb, C.int(c.Rows), C.int(c.Cols), C.int(k),
		C.double(alpha), (*C.double)(&a.Data[0]), C.int(a.Stride),
		(*C.double)(&b.Data[0]), C.int(b.Stride),
		C.double(beta), (*C.double)(&c.Data[0]), C.int(c.Stride))
}
