package tbevents

import (
	"fmt"
	"testing"
)

// BenchmarkScalars writes one event of 40 scalars, the size of one
// snapshot's topology scalars, per op.
func BenchmarkScalars(b *testing.B) {
	w, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	vals := map[string]float64{}
	for i := 0; i < 40; i++ {
		vals[fmt.Sprintf("topology/actor/%d/betti_%d", i/4, i%4)] = float64(i)
	}
	b.ReportAllocs()
	step := int64(0)
	for b.Loop() {
		step++
		if err := w.Scalars(step, vals); err != nil {
			b.Fatal(err)
		}
	}
}
