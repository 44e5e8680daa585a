package plots

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/sdk"
)

var clouds = []struct {
	cloud, net string
	layer      int
}{{"input", "input", 0}, {"actor/1", "actor", 1}, {"actor/2", "actor", 2}, {"critic/1", "critic", 1}, {"critic/2", "critic", 2}}

// synthDiagrams makes diagrams whose Betti numbers change with the
// snapshot and layer, so every line has some shape.
func synthDiagrams(snap, layer int) []sdk.Diagram {
	d0 := [][2]float64{{0, math.Inf(1)}}
	for i := 0; i < 1+(snap+layer)%4; i++ {
		d0 = append(d0, [2]float64{0, 2.6 + float64(i)})
	}
	d1 := [][2]float64{{1, 1.5}}
	for i := 0; i < (snap*layer)%3; i++ {
		d1 = append(d1, [2]float64{2, 3 + float64(i)})
	}
	d2 := [][2]float64{}
	for i := 0; i < layer*(snap%2); i++ {
		d2 = append(d2, [2]float64{2.2, 2.9})
	}
	return []sdk.Diagram{{Dim: 0, Pairs: d0}, {Dim: 1, Pairs: d1}, {Dim: 2, Pairs: d2}}
}

func synthRun(name string, snaps int, shift float64) RunData {
	var run RunData
	run.Name = name
	for s := 1; s <= snaps; s++ {
		step := s * 20480
		for _, c := range clouds {
			run.Topology = append(run.Topology, summary.TopologyRecord{
				Step: step, Update: s * 10, Cloud: c.cloud, Net: c.net, Layer: c.layer, Points: 500, Dim: 64,
				Summary: summary.Summarize(synthDiagrams(s, c.layer), 8, summary.Options{}),
			})
		}
	}
	for u := 1; u <= snaps*10; u++ {
		v := map[string]float64{"losses/value_loss": 1 / float64(u), "charts/SPS": 900}
		if u%3 != 0 {
			v[LearningCurveScalar] = shift + 10*math.Sqrt(float64(u))
		} else {
			v[LearningCurveScalar] = math.NaN() // must be skipped, not break the plot
		}
		run.Scalars = append(run.Scalars, summary.ScalarRecord{Step: u * 2048, Update: u, Values: v})
	}
	return run
}

// checkPNG decodes path, checks its size in pixels, that it is not one
// flat colour, and that no temporary file was left beside it.
func checkPNG(t *testing.T, path string, wantW, wantH int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != wantW || b.Dy() != wantH {
		t.Errorf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), wantW, wantH)
	}
	colours := map[color.RGBA]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			colours[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	if len(colours) < 3 {
		t.Errorf("%s has %d colours: an empty picture", path, len(colours))
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	return img
}

// hasColour counts pixels of exactly c.
func hasColour(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == c {
				n++
			}
		}
	}
	return n
}

// outDir is a fresh temporary folder, or $NT_PLOTS_DIR/<test> when set,
// so a developer can look at the figures the tests draw.
func outDir(t *testing.T) string {
	if d := os.Getenv("NT_PLOTS_DIR"); d != "" {
		d = filepath.Join(d, t.Name())
		os.RemoveAll(d)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func in(w, h float64) (int, int) { return int(math.Round(w * DPI)), int(math.Round(h * DPI)) }

func TestBettiAcrossLayers(t *testing.T) {
	run := synthRun("a", 3, 0)
	dir := outDir(t)
	for _, net := range []string{"actor", "critic"} {
		p := filepath.Join(dir, "sub", net+".png")
		if err := BettiAcrossLayers(run.Topology, 2*20480, net, p); err != nil {
			t.Fatal(err)
		}
		w, h := in(10, 6)
		img := checkPNG(t, p, w, h)
		for k := 0; k < 3; k++ {
			if hasColour(img, palette[k]) < 50 {
				t.Errorf("%s: no line of beta_%d in its colour", net, k)
			}
		}
	}
	err := BettiAcrossLayers(run.Topology, 12345, "actor", filepath.Join(dir, "x.png"))
	if !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), "12345") {
		t.Errorf("missing step: error %v should name the step and wrap ErrNoData", err)
	}
	if err := BettiAcrossLayers(run.Topology, 20480, "policy", filepath.Join(dir, "x.png")); !errors.Is(err, ErrNoData) {
		t.Errorf("unknown net: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.png")); err == nil {
		t.Error("a failed plot left a file behind")
	}
}

func TestOverTraining(t *testing.T) {
	one := []RunData{synthRun("hopper", 6, 0)}
	two := []RunData{one[0], synthRun("walker", 4, 50)}
	dir := outDir(t)
	for _, runs := range [][]RunData{one, two} {
		tag := fmt.Sprint(len(runs))
		for _, net := range []string{"actor", "critic"} {
			p := filepath.Join(dir, tag+"betti_"+net+".png")
			if err := BettiOverTraining(runs, net, p); err != nil {
				t.Fatal(err)
			}
			w, h := in(18, 5.5)
			checkPNG(t, p, w, h)
			p = filepath.Join(dir, tag+"persistent_"+net+".png")
			if err := PersistentOverTraining(runs, net, p); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, p, w, h)
		}
		p := filepath.Join(dir, tag+"total.png")
		if err := TotalBetti(runs, p); err != nil {
			t.Fatal(err)
		}
		w, h := in(11, 6)
		img := checkPNG(t, p, w, h)
		if hasColour(img, palette[0]) < 50 || hasColour(img, palette[1]) < 50 {
			t.Error("total Betti: actor and critic (or both runs) not both drawn")
		}
		p = filepath.Join(dir, tag+"return.png")
		if err := LearningCurve(runs, p); err != nil {
			t.Fatal(err)
		}
		w, h = in(10, 6)
		checkPNG(t, p, w, h)
		p = filepath.Join(dir, tag+"scalars.png")
		if err := TrainingScalars(runs, []string{"losses/value_loss", "charts/SPS", "not/logged"}, p); err != nil {
			t.Fatal(err)
		}
		w, h = in(10, 3.6+0.5)
		checkPNG(t, p, w, h)
	}
}

func TestOverTrainingEmpty(t *testing.T) {
	dir := outDir(t)
	noTopo := []RunData{{Name: "x", Scalars: []summary.ScalarRecord{{Step: 1, Values: map[string]float64{"a": 1}}}}}
	cases := map[string]error{
		"betti":      BettiOverTraining(nil, "actor", filepath.Join(dir, "a.png")),
		"betti-net":  BettiOverTraining(noTopo, "actor", filepath.Join(dir, "a.png")),
		"persistent": PersistentOverTraining(noTopo, "critic", filepath.Join(dir, "a.png")),
		"total":      TotalBetti(noTopo, filepath.Join(dir, "a.png")),
		"return":     LearningCurve(noTopo, filepath.Join(dir, "a.png")),
		"scalars":    TrainingScalars(noTopo, []string{"b"}, filepath.Join(dir, "a.png")),
		"diagrams":   Diagrams(nil, "t", filepath.Join(dir, "a.png")),
	}
	for name, err := range cases {
		if !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), "a.png") {
			t.Errorf("%s: error %v should name the file and wrap ErrNoData", name, err)
		}
	}
}

func TestDiagrams(t *testing.T) {
	var cs []CloudDiagrams
	for _, c := range clouds {
		cs = append(cs, CloudDiagrams{Cloud: c.cloud, Diagrams: synthDiagrams(3, c.layer)})
	}
	cs = append(cs, CloudDiagrams{Cloud: "empty"}) // no pairs at all still draws axes
	dir := outDir(t)
	p := filepath.Join(dir, "dgm.png")
	if err := Diagrams(cs, "Persistence diagrams at step 61,440", p); err != nil {
		t.Fatal(err)
	}
	w, h := in(15, 2*4.8+0.5)
	img := checkPNG(t, p, w, h)
	if hasColour(img, palette[0]) == 0 || hasColour(img, palette[1]) == 0 || hasColour(img, palette[2]) == 0 {
		t.Error("H0, H1 and H2 points are not all drawn")
	}
	p = filepath.Join(dir, "one.png")
	if err := Diagram(cs[1], p); err != nil {
		t.Fatal(err)
	}
	w, h = in(7, 6.5)
	checkPNG(t, p, w, h)
}

func TestHumanSteps(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 500: "500", 20000: "20k", 1.5e6: "1.5M", 1e6: "1M"} {
		if got := humanSteps(v); got != want {
			t.Errorf("humanSteps(%v) = %q, want %q", v, got, want)
		}
	}
	if got := groupDigits(512000); got != "512,000" {
		t.Errorf("groupDigits = %q", got)
	}
}

func TestIntTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 5, []float64{0, 1, 2, 3, 4, 5}},
		{-0.2, 2.5, []float64{0, 1, 2}},
		{0, 40, []float64{0, 5, 10, 15, 20, 25, 30, 35, 40}},
		{3, 130, []float64{20, 40, 60, 80, 100, 120}},
	}
	for _, tc := range tests {
		ts := intTicks{}.Ticks(tc.lo, tc.hi)
		var got []float64
		for _, tk := range ts {
			got = append(got, tk.Value)
			if tk.Label != fmt.Sprint(tk.Value) {
				t.Errorf("tick %v labelled %q", tk.Value, tk.Label)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ticks on [%v, %v] = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestTotalBettiSums(t *testing.T) {
	// betti at 2.5: b0 counts bars alive at 2.5, b1 likewise.
	sum := func(b0, b1 int) summary.Summary {
		var p0, p1 [][2]float64
		for i := 0; i < b0; i++ {
			p0 = append(p0, [2]float64{0, 3})
		}
		for i := 0; i < b1; i++ {
			p1 = append(p1, [2]float64{1, 3})
		}
		return summary.Summarize([]sdk.Diagram{{Dim: 0, Pairs: p0}, {Dim: 1, Pairs: p1}}, 4, summary.Options{})
	}
	recs := []summary.TopologyRecord{
		{Step: 200, Cloud: "input", Net: "input", Layer: 0, Summary: sum(7, 7)}, // not part of any net
		{Step: 200, Cloud: "actor/1", Net: "actor", Layer: 1, Summary: sum(1, 2)},
		{Step: 200, Cloud: "actor/2", Net: "actor", Layer: 2, Summary: sum(3, 0)},
		{Step: 200, Cloud: "critic/1", Net: "critic", Layer: 1, Summary: sum(5, 5)},
		{Step: 100, Cloud: "actor/1", Net: "actor", Layer: 1, Summary: sum(2, 0)},
		{Step: 100, Cloud: "actor/1", Net: "actor", Layer: 1, Summary: sum(4, 0)}, // resumed: replaces the line above
	}
	xs, ys := totalBetti(recs, "actor")
	if fmt.Sprint(xs, ys) != "[100 200] [4 6]" {
		t.Errorf("actor total Betti = %v %v, want [100 200] [4 6]", xs, ys)
	}
}

func TestBettiCurves(t *testing.T) {
	run := synthRun("a", 2, 0)
	dir := outDir(t)
	p := filepath.Join(dir, "curves.png")
	if err := BettiCurves(run.Topology, 40960, p); err != nil {
		t.Fatal(err)
	}
	w, h := in(18, 5.5)
	img := checkPNG(t, p, w, h)
	for i := range clouds {
		if hasColour(img, palette[i]) < 30 {
			t.Errorf("cloud %s's curve is not drawn", clouds[i].cloud)
		}
	}
	if err := BettiCurves(run.Topology, 1, p); !errors.Is(err, ErrNoData) {
		t.Errorf("missing step: %v", err)
	}
}

func TestBands(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bands.png")
	x := []float64{0, 1000, 2000, 3000}
	err := Bands("sweep", []BandPanel{
		{Title: "total", YLabel: "Betti", Series: []Band{{Label: "actor", X: x, Mean: []float64{1, 2, 3, 4}, Lo: []float64{0, 1, 2, 3}, Hi: []float64{2, 3, 4, 5}}}},
		{Title: "return", YLabel: "return", Series: []Band{{Label: "return", X: x, Mean: []float64{5, 6, 7, 8}, Lo: []float64{5, 5, 6, 7}, Hi: []float64{6, 7, 8, 9}}}},
	}, path)
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 12*DPI, 5*DPI)
	if err := Bands("x", []BandPanel{{Title: "t", Series: []Band{{X: x, Mean: make([]float64, 4), Lo: make([]float64, 4), Hi: make([]float64, 4)}}}}, path); err != nil {
		t.Fatalf("flat series: %v", err)
	}
	nan := math.NaN()
	if err := Bands("x", []BandPanel{{Title: "t", Series: []Band{{X: x, Mean: []float64{nan, nan, nan, nan}, Lo: make([]float64, 4), Hi: make([]float64, 4)}}}}, path); err == nil {
		t.Fatal("a figure of NaNs must be an error")
	}
}

// TestBarcodes draws the barcodes of clouds of several sizes, among them
// one with more bars than a panel shows and one with no pairs at all.
func TestBarcodes(t *testing.T) {
	dir := t.TempDir()
	many := sdk.Diagram{Dim: 0}
	for i := range 300 {
		many.Pairs = append(many.Pairs, [2]float64{0, float64(i) / 100})
	}
	many.Pairs = append(many.Pairs, [2]float64{0, math.Inf(1)})
	clouds := []CloudDiagrams{
		{Cloud: "input", Diagrams: []sdk.Diagram{many, {Dim: 1, Pairs: [][2]float64{{1, 2}, {1.5, 1.7}}}}},
		{Cloud: "actor/1", Diagrams: []sdk.Diagram{{Dim: 0}, {Dim: 1}}},
	}
	p := filepath.Join(dir, "barcodes.png")
	if err := Barcodes(clouds, "Barcodes at step 1,024", p); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 1200, 660)
	if err := Barcodes(nil, "x", p); err == nil {
		t.Error("no clouds: no error")
	}
}
