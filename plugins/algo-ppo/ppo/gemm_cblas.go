//go:build cgo && !nocblas

package ppo

/*
#cgo LDFLAGS: -lopenblas
// The two OpenBLAS entry points used, declared here rather than through
// cblas.h, whose location differs between Debian's BLAS alternatives.
void cblas_dgemm(int order, int transA, int transB, int M, int N, int K,
	double alpha, const double *A, int lda, const double *B, int ldb,
	double beta, double *C, int ldc);
void openblas_set_num_threads(int n);
char *openblas_get_corename(void);
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
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// cblasGemm is blas64.Gemm through OpenBLAS: c = alpha op(a) op(b) + beta c.
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
	C.cblas_dgemm(cblasRowMajor, ta, tb, C.int(c.Rows), C.int(c.Cols), C.int(k),
		C.double(alpha), (*C.double)(&a.Data[0]), C.int(a.Stride),
		(*C.double)(&b.Data[0]), C.int(b.Stride),
		C.double(beta), (*C.double)(&c.Data[0]), C.int(c.Stride))
}
