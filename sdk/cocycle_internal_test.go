package sdk

import (
	"reflect"
	"testing"
)

// TestDiagramCocyclesCrossTheWire: cocycles survive the protobuf form
// the plugin boundary uses, each with its pair; a diagram without them
// comes back without them.
func TestDiagramCocyclesCrossTheWire(t *testing.T) {
	in := []Diagram{
		{Dim: 0, Pairs: [][2]float64{{0, 1}}},
		{Dim: 1, Pairs: [][2]float64{{0.5, 2}, {0.7, 0.9}}, Cocycles: []Cocycle{
			{I: []int32{0, 1}, J: []int32{3, 2}, V: []int32{1, 46}},
			{I: []int32{4}, J: []int32{5}, V: []int32{2}},
		}},
	}
	out, err := fromPBDiagrams(toPBDiagrams(in))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n%+v\nwant\n%+v", out, in)
	}
}
