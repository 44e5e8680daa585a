package ppo

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// TestGemmMatchesLoops checks the matrix product in use against a plain
// triple loop, for every shape the networks produce (widths that are and
// are not multiples of 16, row counts that are and are not multiples of
// 4, both transposes, beta 0 and 1).
func TestGemmMatchesLoops(t *testing.T) {
	if err := loadGemm(); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	randGeneral := func(r, c int) blas64.General {
		g := general(r, c, make([]float64, r*c))
		for i := range g.Data {
			g.Data[i] = rnd.NormFloat64()
		}
		return g
	}
	at := func(g blas64.General, tr blas.Transpose, i, j int) float64 {
		if tr != blas.NoTrans {
			i, j = j, i
		}
		return g.Data[i*g.Stride+j]
	}
	for _, s := range [][3]int{{64, 64, 64}, {64, 64, 11}, {64, 3, 64}, {64, 64, 3}, {11, 64, 64}, {1, 64, 11}, {7, 32, 5}, {64, 1, 64}} {
		m, n, k := s[0], s[1], s[2]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, beta := range []float64{0, 1} {
					a, b := randGeneral(m, k), randGeneral(k, n)
					if tA != blas.NoTrans {
						a = randGeneral(k, m)
					}
					if tB != blas.NoTrans {
						b = randGeneral(n, k)
					}
					c := randGeneral(m, n)
					want := make([]float64, m*n)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							sum := beta * c.Data[i*n+j]
							for p := 0; p < k; p++ {
								sum += at(a, tA, i, p) * at(b, tB, p, j)
							}
							want[i*n+j] = sum
						}
					}
					gemm(tA, tB, 1, a, b, beta, c)
					for i, w := range want {
						if math.Abs(c.Data[i]-w) > 1e-12*(1+math.Abs(w)) {
							t.Fatalf("%s: %dx%dx%d tA=%c tB=%c beta=%v: element %d is %v, want %v", gemmBackend, m, n, k, tA, tB, beta, i, c.Data[i], w)
						}
					}
				}
			}
		}
	}
}
