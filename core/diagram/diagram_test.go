package diagram

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk"
)

var inf = math.Inf(1)

func sample() []sdk.Diagram {
	return []sdk.Diagram{
		{Dim: 1, Pairs: [][2]float64{{0.5, 0.75}, {0.25, 2}}},
		{Dim: 0, Pairs: [][2]float64{{0, inf}, {0, 0.125}, {0, 0.5}}},
		{Dim: 2, Pairs: nil},
	}
}

func TestSortedOrdersByDimThenDeath(t *testing.T) {
	got := Sorted(sample())
	want := []sdk.Diagram{
		{Dim: 0, Pairs: [][2]float64{{0, 0.125}, {0, 0.5}, {0, inf}}},
		{Dim: 1, Pairs: [][2]float64{{0.5, 0.75}, {0.25, 2}}},
		{Dim: 2, Pairs: [][2]float64{}},
	}
	for i := range want {
		if got[i].Dim != want[i].Dim || len(got[i].Pairs) != len(want[i].Pairs) || (len(want[i].Pairs) > 0 && !reflect.DeepEqual(got[i].Pairs, want[i].Pairs)) {
			t.Fatalf("Sorted = %v, want %v", got, want)
		}
	}
}

func TestJSONRoundTripMarksInfinityNull(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "null") || strings.Contains(b.String(), "Inf") {
		t.Fatalf("an infinite death must be null in JSON:\n%s", b.String())
	}
	back, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pairsByDim(back), pairsByDim(sample())) {
		t.Fatalf("round trip changed the diagrams: %v", back)
	}
	if _, err := ReadJSON(strings.NewReader(`{"diagrams":[{"dim":0,"pairs":[[null,1]]}]}`)); err == nil {
		t.Fatal("a pair without a birth must be an error")
	}
}

func TestRipserTextMatchesRipsersLayout(t *testing.T) {
	var b bytes.Buffer
	if err := WriteRipserText(&b, []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 1.2345678}, {0, inf}}}}); err != nil {
		t.Fatal(err)
	}
	// The layout Debian's ripser 1.2.1 prints (6 significant digits).
	want := "persistence intervals in dim 0:\n [0,1.23457)\n [0, )\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	text := "value range: [1,2]\ndistance matrix with 3 points\npersistence intervals in dim 0:\n [0,1)\n [0, )\npersistence intervals in dim 1:\n [1.5,2)\n"
	ds, err := ParseRipserText(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || len(ds[0].Pairs) != 2 || !math.IsInf(ds[0].Pairs[1][1], 1) || ds[1].Pairs[0] != [2]float64{1.5, 2} {
		t.Fatalf("parsed %v", ds)
	}
	for _, bad := range []string{" [0,1)\n", "persistence intervals in dim x:\n", "persistence intervals in dim 0:\n [a,1)\n"} {
		if _, err := ParseRipserText(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestNPZRoundTripLikeRipserPy(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "d.npz")
	if err := WriteNPZ(p, sample()); err != nil {
		t.Fatal(err)
	}
	back, err := ReadNPZ(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 3 || back[2].Dim != 2 || len(back[2].Pairs) != 0 {
		t.Fatalf("want dgm0..dgm2 with an empty dgm2, got %v", back)
	}
	if !reflect.DeepEqual(pairsByDim(back), pairsByDim(sample())) {
		t.Fatalf("round trip changed the diagrams: %v", back)
	}
}

// pairsByDim is a diagram set as a comparable value: sorted pairs per
// dimension, empty dimensions dropped.
func pairsByDim(ds []sdk.Diagram) map[int][][2]float64 {
	m := map[int][][2]float64{}
	for _, d := range Sorted(ds) {
		if len(d.Pairs) > 0 {
			m[d.Dim] = append(m[d.Dim], d.Pairs...)
		}
	}
	return m
}

// np.savez(f, *dgms) names ripser.py's diagrams arr_0, arr_1, ...: they
// read as dimensions 0, 1, ...; a file mixing both namings is refused.
func TestNPZReadsSavezPositionalArrays(t *testing.T) {
	dir := t.TempDir()
	h0 := sdk.Matrix{Rows: 2, Cols: 2, Data: []float64{0, 1, 0, math.Inf(1)}}
	h1 := sdk.Matrix{Rows: 1, Cols: 2, Data: []float64{0.5, 1.5}}
	path := filepath.Join(dir, "savez.npz")
	if err := matio.WriteNPZ(path, []matio.NamedArray{{Name: "arr_0", Matrix: h0}, {Name: "arr_1", Matrix: h1}}); err != nil {
		t.Fatal(err)
	}
	ds, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Dim != 0 || len(ds[0].Pairs) != 2 || ds[1].Dim != 1 || ds[1].Pairs[0] != [2]float64{0.5, 1.5} {
		t.Fatalf("read %+v", ds)
	}
	mixed := filepath.Join(dir, "mixed.npz")
	if err := matio.WriteNPZ(mixed, []matio.NamedArray{{Name: "dgm0", Matrix: h0}, {Name: "arr_1", Matrix: h1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadNPZ(mixed); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("mixed namings: %v, want a refusal", err)
	}
}

// TestReadFileFormats reads one diagram saved in each format ReadFile
// takes, and an .npz as np.savez(f, *dgms) names its arrays.
func TestReadFileFormats(t *testing.T) {
	dir := t.TempDir()
	ds := []sdk.Diagram{
		{Dim: 0, Pairs: [][2]float64{{0, 0.5}, {0, math.Inf(1)}}},
		{Dim: 1, Pairs: [][2]float64{{0.25, 0.75}}},
	}
	npz := filepath.Join(dir, "d.npz")
	if err := WriteNPZ(npz, ds); err != nil {
		t.Fatal(err)
	}
	var js, txt bytes.Buffer
	if err := WriteJSON(&js, ds); err != nil {
		t.Fatal(err)
	}
	if err := WriteRipserText(&txt, ds); err != nil {
		t.Fatal(err)
	}
	arrs := NPZArrays(ds)
	for i := range arrs {
		arrs[i].Name = fmt.Sprintf("arr_%d", i)
	}
	positional := filepath.Join(dir, "savez.npz")
	if err := matio.WriteNPZ(positional, arrs); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"d.json": js.Bytes(), "d.txt": txt.Bytes(), "junk.txt": []byte("hello\n")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"d.npz", "savez.npz", "d.json", "d.txt"} {
		got, err := ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 2 || len(got[0].Pairs) != 2 || got[1].Pairs[0] != [2]float64{0.25, 0.75} || !math.IsInf(got[0].Pairs[1][1], 1) {
			t.Errorf("%s read as %v", name, got)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "junk.txt")); err == nil || !strings.Contains(err.Error(), "junk.txt") {
		t.Errorf("junk: %v", err)
	}
}
