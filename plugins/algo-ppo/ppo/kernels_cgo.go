//go:build cgo && !nocblas

package ppo

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
// cgo accepts only some flags from #cgo lines; these go in a pragma.
#pragma GCC optimize("fp-contract=off", "no-math-errno", "no-trapping-math")
#include <math.h>
#include <stdint.h>

// The update's element-wise loops, written so that GCC vectorises them,
// and compiled for three instruction sets (AVX-512, AVX2, SSE2), the
// best of which the loader picks for the CPU. Each computes exactly
// what its Go twin in kernels.go computes, operation for operation:
// -ffp-contract=off forbids fused multiply-adds and nothing is
// reassociated, so the results are the same bits on every CPU and in
// both languages (TestKernelsMatchGo).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

typedef union { double f; uint64_t u; int64_t i; } word;

// ntTanh is tanhGo: tab is expTable, the constants those of tanh.go.
CLONES static void ntTanh(double *restrict y, long n, const double *restrict tab,
	double invLn2N, double hi, double lo) {
	const double shift = 0x1.8p52;
	for (long i = 0; i < n; i++) {
		word v = {.f = y[i]};
		uint64_t sign = v.u & 0x8000000000000000ull;
		word a = {.u = v.u ^ sign};
		double x = -2 * (a.f <= 22 ? a.f : 22);
		word kd = {.f = x * invLn2N + shift};
		double kf = kd.f - shift;
		double r = x - kf * hi - kf * lo;
		double t = tab[kd.i & 255];
		double r2 = r * r;
		double p = r + r2 * (0.5 + r * (1.0 / 6)) + r2 * r2 * (1.0 / 24);
		word s = {.u = (uint64_t)((kd.i >> 8) + 1023) << 52};
		double e = s.f * (t + t * p);
		word q = {.f = (1 - e) / (1 + e)};
		q.u |= sign;
		y[i] = v.f != v.f ? v.f : q.f; // NaN stays NaN
	}
}

// adamScalar is adamGo on elements [i, n). GCC does not vectorise it:
// without -fno-math-errno, which cgo does not accept and which the pragma
// above does not reach, sqrt may set errno.
static void adamScalar(double *p, const double *g, double *m, double *v, long i, long n,
	double b1, double b2, double eps, double stepSize, double invSqrtBC2, double scale) {
	double c1 = 1 - b1, c2 = 1 - b2;
	for (; i < n; i++) {
		double gi = g[i] * scale;
		double mi = b1 * m[i] + c1 * gi;
		double vi = b2 * v[i] + c2 * gi * gi;
		m[i] = mi;
		v[i] = vi;
		p[i] -= stepSize * mi / (sqrt(vi) * invSqrtBC2 + eps);
	}
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>

// adam512 is adamScalar eight elements at a time, the same operations in
// the same order, on AVX-512.
__attribute__((target("avx512f"))) static void adam512(double *p, const double *g, double *m,
	double *v, long n, double b1, double b2, double eps, double stepSize, double invSqrtBC2,
	double scale) {
	const __m512d vb1 = _mm512_set1_pd(b1), vb2 = _mm512_set1_pd(b2);
	const __m512d vc1 = _mm512_set1_pd(1 - b1), vc2 = _mm512_set1_pd(1 - b2);
	const __m512d veps = _mm512_set1_pd(eps), vstep = _mm512_set1_pd(stepSize);
	const __m512d vinv = _mm512_set1_pd(invSqrtBC2), vscale = _mm512_set1_pd(scale);
	long i = 0;
	for (; i + 8 <= n; i += 8) {
		__m512d gi = _mm512_mul_pd(_mm512_loadu_pd(g + i), vscale);
		__m512d mi = _mm512_add_pd(_mm512_mul_pd(vb1, _mm512_loadu_pd(m + i)), _mm512_mul_pd(vc1, gi));
		__m512d vi = _mm512_add_pd(_mm512_mul_pd(vb2, _mm512_loadu_pd(v + i)),
			_mm512_mul_pd(_mm512_mul_pd(vc2, gi), gi));
		_mm512_storeu_pd(m + i, mi);
		_mm512_storeu_pd(v + i, vi);
		__m512d den = _mm512_add_pd(_mm512_mul_pd(_mm512_sqrt_pd(vi), vinv), veps);
		__m512d step = _mm512_div_pd(_mm512_mul_pd(vstep, mi), den);
		_mm512_storeu_pd(p + i, _mm512_sub_pd(_mm512_loadu_pd(p + i), step));
	}
	adamScalar(p, g, m, v, i, n, b1, b2, eps, stepSize, invSqrtBC2, scale);
}
#endif

// ntAdam is adamGo.
static void ntAdam(double *p, const double *g, double *m, double *v, long n, double b1,
	double b2, double eps, double stepSize, double invSqrtBC2, double scale) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
	if (__builtin_cpu_supports("avx512f")) {
		adam512(p, g, m, v, n, b1, b2, eps, stepSize, invSqrtBC2, scale);
		return;
	}
#endif
	adamScalar(p, g, m, v, 0, n, b1, b2, eps, stepSize, invSqrtBC2, scale);
}

// ntColSums is colSumsGo.
CLONES static void ntColSums(double *restrict gb, const double *restrict dz, long n, long cols) {
	for (long i = 0; i < n; i++) {
		for (long j = 0; j < cols; j++) {
			gb[j] += dz[i * cols + j];
		}
	}
}

// ntTanhGrad is tanhGradGo.
CLONES static void ntTanhGrad(double *restrict dh, const double *restrict h, long n) {
	for (long i = 0; i < n; i++) {
		dh[i] *= 1 - h[i] * h[i];
	}
}
*/
import "C"

func init() {
	tanhInPlace = cTanh
	adamKernel = cAdam
	colSums = cColSums
	tanhGrad = cTanhGrad
	kernelBackend = "c"
}

// The C twins take pointers to the first elements; every caller passes
// non-empty slices of the lengths given, which the wrappers check.

func cTanh(y []float64) {
	if len(y) == 0 {
		return
	}
	C.ntTanh((*C.double)(&y[0]), C.long(len(y)), (*C.double)(&expTable[0]), invLn2N, ln2NHi, ln2NLo)
}

func cAdam(p, g, m, v []float64, b1, b2, eps, stepSize, invSqrtBC2, scale float64) {
	n := len(p)
	if n == 0 {
		return
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	C.ntAdam((*C.double)(&p[0]), (*C.double)(&g[0]), (*C.double)(&m[0]), (*C.double)(&v[0]), C.long(n),
		C.double(b1), C.double(b2), C.double(eps), C.double(stepSize), C.double(invSqrtBC2), C.double(scale))
}

func cColSums(gb, dz []float64, n int) {
	cols := len(gb)
	if n == 0 || cols == 0 {
		return
	}
	_ = dz[n*cols-1]
	C.ntColSums((*C.double)(&gb[0]), (*C.double)(&dz[0]), C.long(n), C.long(cols))
}

func cTanhGrad(dh, h []float64) {
	if len(dh) == 0 {
		return
	}
	_ = h[len(dh)-1]
	C.ntTanhGrad((*C.double)(&dh[0]), (*C.double)(&h[0]), C.long(len(dh)))
}
