//go:build cgo && !nocblas

package ppo

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lopenblas
#include <stdlib.h>

// The OpenBLAS entry points used, declared here rather than through
// cblas.h, whose location differs between Debian's BLAS alternatives.
void cblas_dgemm(int order, int transA, int transB, int M, int N, int K,
	double alpha, const double *A, int lda, const double *B, int ldb,
	double beta, double *C, int ldc);
void openblas_set_num_threads(int n);
char *openblas_get_corename(void);

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
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The networks' matrices are small (64 x 64 blocks): OpenBLAS's AVX2/AVX-512
// kernels do them several times faster than gonum's pure-Go Dgemm, and the
// learner already runs actor and critic on separate goroutines, so OpenBLAS
// itself stays single-threaded.
//
// OpenBLAS picks its kernels by CPU when it is loaded, unless
// OPENBLAS_CORETYPE names them; gemmBackend records which, since it
// decides the speed (docs/benchmarks.md) and the rounding.
func init() {
	C.openblas_set_num_threads(1)
	gemm = cblasGemm
	gemmBackend = "openblas " + C.GoString(C.openblas_get_corename())
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
