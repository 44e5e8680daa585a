package statebin

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Name string
	Vals []float64
	hid  int
}

type sample struct {
	Magic   string
	N       int
	Neg     int64
	U       uint64
	Ok      bool
	Raw     []byte
	Grid    [3][2]int
	Pairs   [][2]string
	Inner   inner
	Many    []inner
	Special []float64
	Flags   []bool
}

func value() sample {
	return sample{
		Magic: "x", N: 1 << 40, Neg: -7, U: math.MaxUint64, Ok: true, Raw: []byte{0, 255},
		Grid: [3][2]int{{1, 2}, {3, 4}, {-5, 6}}, Pairs: [][2]string{{"a", "b"}},
		Inner: inner{Name: "in", Vals: []float64{1.5}, hid: 9}, Many: []inner{{Name: "m"}, {Vals: []float64{2}}},
		Special: []float64{math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.Float64frombits(0x7ff8000000000001)},
		Flags:   []bool{true, false},
	}
}

// TestRoundTripIsExact encodes and decodes a value of every supported
// kind; floats keep their bits (negative zero, NaN payloads, infinities)
// and unexported fields are skipped.
func TestRoundTripIsExact(t *testing.T) {
	in := value()
	b, err := Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var out sample
	if err := Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Inner.hid != 0 {
		t.Fatal("an unexported field was encoded")
	}
	in.Inner.hid = 0
	for i := range in.Special {
		if math.Float64bits(in.Special[i]) != math.Float64bits(out.Special[i]) {
			t.Fatalf("float %d: bits %x, want %x", i, math.Float64bits(out.Special[i]), math.Float64bits(in.Special[i]))
		}
	}
	in.Special, out.Special = nil, nil
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got  %+v\n want %+v", out, in)
	}
	// Equal values, equal bytes: encoding again gives the same.
	again, _ := Marshal(value())
	if string(again) != string(b) {
		t.Fatal("two encodings of equal values differ")
	}
}

// TestDamageIsAnError decodes every truncation of a valid encoding and a
// forged huge length: each is an error, none panics or allocates more
// than the input.
func TestDamageIsAnError(t *testing.T) {
	b, _ := Marshal(value())
	for n := 0; n < len(b); n++ {
		var out sample
		if err := Unmarshal(b[:n], &out); err == nil {
			t.Fatalf("truncation to %d of %d bytes decoded without error", n, len(b))
		}
	}
	var out sample
	if err := Unmarshal(append(b, 0), &out); err == nil || !strings.Contains(err.Error(), "left") {
		t.Fatalf("trailing byte: %v", err)
	}
	forged := []byte{1, 'x', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}
	var s struct {
		A string
		B []float64
	}
	if err := Unmarshal(forged, &s); err == nil {
		t.Fatal("a forged length was accepted")
	}
	if err := Unmarshal(b, out); err == nil {
		t.Fatal("Unmarshal into a non-pointer succeeded")
	}
	if _, err := Marshal(map[string]int{"a": 1}); err == nil {
		t.Fatal("a map was encoded: map order would make bytes differ")
	}
}
