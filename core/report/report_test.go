package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/sdk"
)

var cloudList = []struct {
	cloud, net string
	layer      int
}{{"input", "input", 0}, {"actor/1", "actor", 1}, {"actor/2", "actor", 2}, {"critic/1", "critic", 1}, {"critic/2", "critic", 2}}

func diagramsFor(snap, layer int) []sdk.Diagram {
	d0 := [][2]float64{{0, math.Inf(1)}}
	for i := 0; i <= (snap+layer)%3; i++ {
		d0 = append(d0, [2]float64{0, 2 + float64(i)})
	}
	return []sdk.Diagram{
		{Dim: 0, Pairs: d0},
		{Dim: 1, Pairs: [][2]float64{{1, 1.5 + float64(layer)}}},
		{Dim: 2, Pairs: [][2]float64{}},
	}
}

const configYAML = "env_id: Hopper-v4\nseed: 1\ntotal_timesteps: 1000000\ntopology_analysis_interval: 10\n"

// makeRun writes a synthetic run directory: config, timings, records of
// `snaps` snapshots, scalars, and the diagrams of the first and the last
// snapshot except for the clouds in skipNPZ.
func makeRun(t testing.TB, dir string, snaps int, skipNPZ map[string]bool) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.yaml", configYAML)
	write("timings.json", `{"ppo_seconds": 12.5, "homology_seconds": 40.25}`)
	var topo, sc bytes.Buffer
	for s := 1; s <= snaps; s++ {
		step := s * 20480
		for _, c := range cloudList {
			ds := diagramsFor(s, c.layer)
			rec := summary.TopologyRecord{Step: step, Update: s * 10, Cloud: c.cloud, Net: c.net, Layer: c.layer,
				Points: 500, Dim: 64, Metric: "geodesic k=15", Summary: summary.Summarize(ds, 6, summary.Options{}), Seconds: 1.25}
			if err := summary.AppendLine(&topo, rec); err != nil {
				t.Fatal(err)
			}
			if (s == 1 || s == snaps) && !skipNPZ[c.cloud] {
				p := filepath.Join(dir, "diagrams", fmt.Sprintf("step_%d", step), strings.ReplaceAll(c.cloud, "/", "_")+".npz")
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := diagram.WriteNPZ(p, ds); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for u := 1; u <= snaps*10; u++ {
		v := map[string]float64{"losses/value_loss": 1 / float64(u), "charts/SPS": 1000, "losses/explained_variance": math.NaN()}
		// Four episodes per update, returns 4u .. 4u+3: the last 100
		// are those of updates 26..50, whose mean is 153.5.
		var eps []summary.Episode
		for k := range 4 {
			eps = append(eps, summary.Episode{Step: u*2048 - 500*k, Return: float64(4*u + k), Length: 500})
		}
		v[summary.ReturnMean] = float64(4*u) + 1.5
		if err := summary.AppendLine(&sc, summary.ScalarRecord{Step: u * 2048, Update: u, Values: v, Episodes: eps}); err != nil {
			t.Fatal(err)
		}
	}
	write("topology.jsonl", topo.String())
	write("scalars.jsonl", sc.String()+`{"step": 999, "upd`) // a run killed mid-line
}

// voidElements need no end tag.
var voidElements = map[string]bool{"meta": true, "img": true, "br": true, "hr": true, "link": true, "input": true}

// parseReport checks that every element is closed in order, that every
// img is an embedded PNG, and that nothing points outside the page. It
// returns the text content and the decoded image sizes.
func parseReport(t *testing.T, path string) (string, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Error("no doctype")
	}
	z := html.NewTokenizer(bytes.NewReader(b))
	var stack []string
	var text strings.Builder
	var imgs []string
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Fatalf("tokenizer: %v", z.Err())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			for _, a := range tok.Attr {
				if (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "data:") && !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s %s=%q> needs a file or network", tok.Data, a.Key, a.Val)
				}
				if tok.Data == "img" && a.Key == "src" {
					const pngPre, gifPre = "data:image/png;base64,", "data:image/gif;base64,"
					decode, pre := png.DecodeConfig, pngPre
					if strings.HasPrefix(a.Val, gifPre) {
						decode, pre = gif.DecodeConfig, gifPre
					}
					if !strings.HasPrefix(a.Val, pre) {
						t.Errorf("img src is not a PNG or GIF data URI: %.40s", a.Val)
						continue
					}
					raw, err := base64.StdEncoding.DecodeString(a.Val[len(pre):])
					if err != nil {
						t.Errorf("img data is not base64: %v", err)
						continue
					}
					cfg, err := decode(bytes.NewReader(raw))
					if err != nil {
						t.Errorf("img data is not a %s: %v", pre, err)
						continue
					}
					imgs = append(imgs, fmt.Sprintf("%s%dx%d", pre[11:14], cfg.Width, cfg.Height))
				}
			}
			if tt == html.StartTagToken && !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Fatalf("</%s> closes %v", tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
		case html.TextToken:
			text.WriteString(tok.Data)
		}
	}
	if len(stack) != 0 {
		t.Errorf("unclosed elements %v", stack)
	}
	return text.String(), imgs
}

// tempRoot is a fresh temporary folder, or $NT_REPORT_DIR/<test> when
// set, so a developer can open the reports the tests build.
func tempRoot(t *testing.T) string {
	if d := os.Getenv("NT_REPORT_DIR"); d != "" {
		d = filepath.Join(d, t.Name())
		os.RemoveAll(d)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func TestBuildOneRun(t *testing.T) {
	dir := filepath.Join(tempRoot(t), "Hopper-v4__ppo__1")
	makeRun(t, dir, 5, map[string]bool{"critic/2": true})
	writeGIF(t, filepath.Join(dir, PolicyGIF))
	out := filepath.Join(dir, "report.html")
	if err := Build([]string{dir}, out); err != nil {
		t.Fatal(err)
	}
	text, imgs := parseReport(t, out)
	// learning curve, scalars grid, total Betti, 2 nets x 2 over-training,
	// 3 snapshots x 2 nets, diagrams and barcodes of the first and the
	// last snapshot, Betti curves, the GIF.
	if want := 2 + 1 + 4 + 6 + 4 + 1 + 1; len(imgs) != want {
		t.Errorf("%d images, want %d", len(imgs), want)
	}
	if imgs[len(imgs)-1] != "gif8x6" {
		t.Errorf("policy animation embedded as %s, want the 8x6 gif", imgs[len(imgs)-1])
	}
	for _, c := range cloudList {
		if !strings.Contains(text, c.cloud) {
			t.Errorf("report never names cloud %s", c.cloud)
		}
	}
	for _, want := range []string{
		"total_timesteps: 1000000", "Hopper-v4", // the config, verbatim
		"homology_seconds", "40.250", // timings
		"step 20,480", "step 61,440", "step 102,400", // first, middle, last snapshot
		"critic/2: no diagram file", // the missing .npz is said, not hidden
		"Persistence diagrams at step 102,400", "Persistence diagrams at step 20,480",
		"Barcodes at step 102,400", "Barcodes at step 20,480",
		"153.5", // final return: mean of the last 100 episodes' returns
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, PlotsDir, "*.png"))
	if len(pngs) != len(imgs)-1 {
		t.Errorf("%d PNG files in %s, %d embedded", len(pngs), PlotsDir, len(imgs))
	}
}

func TestBuildSeveralRuns(t *testing.T) {
	root := tempRoot(t)
	a := filepath.Join(root, "a", "seed1")
	b := filepath.Join(root, "b", "seed1")
	makeRun(t, a, 3, nil)
	makeRun(t, b, 2, nil)
	out := filepath.Join(root, "cmp", "report.html")
	if err := Build([]string{a, b}, out); err != nil {
		t.Fatal(err)
	}
	text, imgs := parseReport(t, out)
	if want := 2 + 1 + 4; len(imgs) != want {
		t.Errorf("%d images, want %d overlays", len(imgs), want)
	}
	for _, want := range []string{"seed1 (1)", "seed1 (2)", "61,440", "40,960", a, b} {
		if !strings.Contains(text, want) {
			t.Errorf("runs table lacks %q", want)
		}
	}
	if pngs, _ := filepath.Glob(filepath.Join(root, "cmp", PlotsDir, "*.png")); len(pngs) != len(imgs) {
		t.Errorf("%d PNGs beside the report, want %d", len(pngs), len(imgs))
	}
}

func TestBuildEmptyRun(t *testing.T) {
	// A run that has written only its config: the report says what is
	// missing instead of failing.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(configYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report.html")
	if err := Build([]string{dir}, out); err != nil {
		t.Fatal(err)
	}
	text, imgs := parseReport(t, out)
	if len(imgs) != 0 {
		t.Errorf("%d images from no data", len(imgs))
	}
	for _, want := range []string{"no topology.jsonl", "no scalars.jsonl", "not drawn", "No topology snapshot"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	root := t.TempDir()
	if err := Build(nil, filepath.Join(root, "r.html")); err == nil {
		t.Error("no runs: no error")
	}
	missing := filepath.Join(root, "nope")
	if err := Build([]string{missing}, filepath.Join(root, "r.html")); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing dir: error %v should name it", err)
	}
	bad := filepath.Join(root, "bad")
	makeRun(t, bad, 2, nil)
	p := filepath.Join(bad, "topology.jsonl")
	b, _ := os.ReadFile(p)
	lines := strings.SplitN(string(b), "\n", 3)
	if err := os.WriteFile(p, []byte(lines[0]+"\n{broken\n"+lines[2]), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Build([]string{bad}, filepath.Join(root, "r.html"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("corrupt topology: error %v should name line 2", err)
	}
	if _, err := os.Stat(filepath.Join(root, "r.html")); err == nil {
		t.Error("a failed build left a report")
	}
}

func writeGIF(t *testing.T, path string) {
	t.Helper()
	pal := color.Palette{color.Black, color.White}
	g := &gif.GIF{}
	for i := 0; i < 2; i++ {
		fr := image.NewPaletted(image.Rect(0, 0, 8, 6), pal)
		fr.SetColorIndex(i, i, 1)
		g.Image = append(g.Image, fr)
		g.Delay = append(g.Delay, 10)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := gif.EncodeAll(f, g); err != nil {
		t.Fatal(err)
	}
}

// TestReportSteps: --steps and --updates choose the snapshots whose
// diagrams and barcodes are shown, each the nearest one.
func TestReportSteps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	makeRun(t, dir, 5, nil)
	for _, tc := range []struct {
		opt        Options
		want, not_ string
	}{
		{Options{Steps: []int{100000}}, "Barcodes at step 102,400", "Barcodes at step 20,480"},
		{Options{Updates: []int{11}}, "Barcodes at step 20,480", "Barcodes at step 102,400"},
		{Options{Updates: []int{30}}, "step 61,440", "Barcodes at step 102,400"},
	} {
		out := filepath.Join(dir, "r.html")
		if err := BuildWith([]string{dir}, out, tc.opt); err != nil {
			t.Fatal(err)
		}
		text, _ := parseReport(t, out)
		if !strings.Contains(text, tc.want) || strings.Contains(text, tc.not_) {
			t.Errorf("%+v: report holds %q: %v, %q: %v", tc.opt, tc.want, strings.Contains(text, tc.want), tc.not_, strings.Contains(text, tc.not_))
		}
	}
}
