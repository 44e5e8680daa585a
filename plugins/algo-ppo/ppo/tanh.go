package ppo

import "math"

// tanh is the networks' activation and the hot spot of a forward pass
// (about five million evaluations per update at the default sizes).
// math.Tanh spends most of its time in a general-purpose math.Exp; here
// exp(-2|x|) comes from a 256-entry table of 2^(j/256) and a degree-4
// polynomial on |r| <= ln2/512 (truncation error below 4e-17), evaluated
// in Estrin's form for a short dependency chain.
// The result's absolute error is about 1e-16 (it is computed as
// (1-e)/(1+e), so near 0 the error is absolute, not relative), which is
// far below anything the learner can see.

const (
	expTableBits = 8
	expTableSize = 1 << expTableBits
	// invLn2N is N/ln 2; ln2NHi + ln2NLo is ln 2/N split as fdlibm
	// splits ln 2, the high part with 21 trailing zero bits so that
	// k*ln2NHi is exact for the k that occur.
	invLn2N = expTableSize / math.Ln2
	ln2NHi  = 6.93147180369123816490e-01 / expTableSize
	ln2NLo  = 1.90821492927058770002e-10 / expTableSize
	// roundShift rounds a float64 of moderate size to an integer when
	// added and subtracted (1.5 * 2^52).
	roundShift = 0x1.8p52
)

// expTable[j] = 2^(j/N), N = expTableSize.
var expTable = func() (t [expTableSize]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / expTableSize)
	}
	return t
}()

// expNeg returns e^x for -45 <= x <= 0 (the range tanh needs).
func expNeg(x float64) float64 {
	kd := x*invLn2N + roundShift
	k := int64(math.Float64bits(kd)) // low bits hold round(x * N/ln2)
	kd -= roundShift
	r := x - kd*ln2NHi - kd*ln2NLo
	j := k & (expTableSize - 1)
	m := k >> expTableBits // arithmetic shift: floor division by N
	r2 := r * r
	p := r + r2*(0.5+r*(1.0/6)) + r2*r2*(1.0/24)
	scale := math.Float64frombits(uint64(m+1023) << 52)
	return scale * (expTable[j] + expTable[j]*p)
}

// tanhGo is tanhInPlace in Go. expNeg is written out in the loop so the
// compiler keeps it branch-light.
func tanhGo(y []float64) {
	for i, v := range y {
		bits := math.Float64bits(v)
		sign := bits & (1 << 63)
		a := math.Float64frombits(bits &^ (1 << 63))
		if !(a <= 22) { // tanh(22) rounds to 1
			if a != a {
				continue // NaN stays NaN
			}
			a = 22
		}
		x := -2 * a
		kd := x*invLn2N + roundShift
		k := int64(math.Float64bits(kd))
		kd -= roundShift
		r := x - kd*ln2NHi - kd*ln2NLo
		t := expTable[k&(expTableSize-1)]
		r2 := r * r
		p := r + r2*(0.5+r*(1.0/6)) + r2*r2*(1.0/24)
		e := math.Float64frombits(uint64(k>>expTableBits+1023)<<52) * (t + t*p)
		y[i] = math.Float64frombits(math.Float64bits((1-e)/(1+e)) | sign)
	}
}
