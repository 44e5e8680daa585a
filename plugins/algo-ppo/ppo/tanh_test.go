package ppo

import (
	"math"
	"testing"
)

func TestFastTanhAgreesWithMath(t *testing.T) {
	var worst, worstX float64
	for x := -30.0; x <= 30; x += 0.000731 {
		y := []float64{x}
		tanhInPlace(y)
		if d := math.Abs(y[0] - math.Tanh(x)); d > worst {
			worst, worstX = d, x
		}
	}
	if worst > 3e-16 {
		t.Fatalf("largest absolute error %g at x = %v", worst, worstX)
	}
	for x := -45.0; x <= 0; x += 0.0173 {
		if got, want := expNeg(x), math.Exp(x); math.Abs(got-want) > 4e-16*want {
			t.Fatalf("exp(%v) = %v, want %v", x, got, want)
		}
	}
	y := []float64{math.Inf(1), math.Inf(-1), math.NaN(), 0, math.Copysign(0, -1)}
	tanhInPlace(y)
	if y[0] != 1 || y[1] != -1 || !math.IsNaN(y[2]) || y[3] != 0 || !math.Signbit(y[4]) {
		t.Fatalf("special values: %v", y)
	}
}

func BenchmarkTanh(b *testing.B) {
	y := make([]float64, 4096)
	for i := 0; i < b.N; i++ {
		for j := range y {
			y[j] = float64(j-2048) / 500
		}
		tanhInPlace(y)
	}
}

func BenchmarkMathTanh(b *testing.B) {
	y := make([]float64, 4096)
	for i := 0; i < b.N; i++ {
		for j := range y {
			y[j] = math.Tanh(float64(j-2048) / 500)
		}
	}
}
