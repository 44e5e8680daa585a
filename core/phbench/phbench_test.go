package phbench

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  string
)

// plugins builds nt-ph-rips, nt-ph-ripser, nt-ph-gudhi and the crashing
// test plugin once for the package's tests.
func plugins(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "phbench-bin-")
		if err != nil {
			buildErr = err.Error()
			return
		}
		binDir = dir
		for pkg, name := range map[string]string{
			"../../plugins/ph-rips":   "nt-ph-rips",
			"../../plugins/ph-ripser": "nt-ph-ripser",
			"./testdata/nt-ph-crash":  "nt-ph-crash",
			"./testdata/nt-ph-hog":    "nt-ph-hog",
		} {
			if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput(); err != nil {
				buildErr = "building " + pkg + ": " + err.Error() + "\n" + string(out)
				return
			}
		}
		if out, err := exec.Command("sh", "../../plugins/ph-gudhi/build.sh", dir).CombinedOutput(); err != nil {
			buildErr = "ph-gudhi build.sh: " + err.Error() + "\n" + string(out)
		}
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func cloud(n, d int, seed uint64) sdk.Matrix {
	r := rand.New(rand.NewPCG(seed, 3))
	m := sdk.NewMatrix(n, d)
	for i := range m.Data {
		m.Data[i] = r.NormFloat64()
	}
	return m
}

func input(t *testing.T, name string, n, d int, seed uint64) Input {
	t.Helper()
	m, err := Euclidean(cloud(n, d, seed))
	if err != nil {
		t.Fatal(err)
	}
	return Input{Name: name, Distances: m}
}

func TestThreeBackendsAgree(t *testing.T) {
	dir := plugins(t)
	cfg := Config{
		Backends: []string{filepath.Join(dir, "nt-ph-rips"), filepath.Join(dir, "nt-ph-ripser"), filepath.Join(dir, "nt-ph-gudhi")},
		Inputs:   []Input{input(t, "a", 60, 3, 1), input(t, "b", 40, 4, 2)},
		Repeat:   2,
		MaxDim:   2,
		Timeout:  time.Minute,
	}
	var seen int
	cfg.Progress = func(Row) { seen++ }
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 6 || seen != 6 {
		t.Fatalf("got %d rows (%d reported), want 6", len(res.Rows), seen)
	}
	for i, row := range res.Rows {
		if row.Error != "" {
			t.Fatalf("%s on %s: %s", row.Backend, row.Input, row.Error)
		}
		want := []string{"rips", "ripser", "gudhi"}[i%3]
		if row.Backend != want {
			t.Errorf("row %d backend %q, want %q", i, row.Backend, want)
		}
		if row.Runs != 2 || !(row.Min > 0 && row.Min <= row.Median && row.Median <= row.Max) {
			t.Errorf("%s/%s: runs %d, times min %v median %v max %v", row.Backend, row.Input, row.Runs, row.Min, row.Median, row.Max)
		}
		if row.PeakMemBytes < 1<<20 {
			t.Errorf("%s/%s: peak memory %d bytes is not plausible", row.Backend, row.Input, row.PeakMemBytes)
		}
		if len(row.Pairs) != 3 || row.Pairs[0] != row.Points {
			t.Errorf("%s/%s: pairs %v, want %d in H0", row.Backend, row.Input, row.Pairs, row.Points)
		}
		if i%3 == 0 {
			if row.Reference != "" || row.Bottleneck != nil {
				t.Errorf("the reference row must not be compared: %+v", row)
			}
			continue
		}
		if row.Reference != "rips" || len(row.Bottleneck) != 3 || row.MaxBottleneck() > 1e-6 {
			t.Errorf("%s/%s: vs %q bottleneck %v, want < 1e-6 against rips", row.Backend, row.Input, row.Reference, row.Bottleneck)
		}
	}
}

func TestFailuresAreRows(t *testing.T) {
	dir := plugins(t)
	cfg := Config{
		Backends: []string{
			filepath.Join(dir, "nt-ph-missing"),
			filepath.Join(dir, "nt-ph-crash"),
			filepath.Join(dir, "nt-ph-ripser"),
		},
		// H2 of the first takes ripser tens of seconds, of the second
		// milliseconds.
		Inputs:  []Input{input(t, "heavy", 500, 8, 5), input(t, "tiny", 6, 2, 1)},
		Repeat:  1,
		MaxDim:  2,
		Timeout: time.Second,
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 6 {
		t.Fatalf("got %d rows, want one per backend and input", len(res.Rows))
	}
	checks := []struct{ backend, reason string }{
		{"missing", "start"},
		{"crash", "crashed"},
		{"ripser", "timeout after 1s"},
		{"missing", "start"},
		{"crash", "crashed"},
	}
	for i, c := range checks {
		row := res.Rows[i]
		if row.Backend != c.backend || !strings.Contains(row.Error, c.reason) || row.Runs != 0 {
			t.Errorf("row %d: backend %q error %q runs %d, want %q failing with %q", i, row.Backend, row.Error, row.Runs, c.backend, c.reason)
		}
		if strings.Contains(row.Error, "\n") {
			t.Errorf("row %d: the reason must be one line: %q", i, row.Error)
		}
	}
	// The bench went on after the failures; as the first backend to
	// succeed on "tiny", ripser is its reference.
	if last := res.Rows[5]; last.Backend != "ripser" || last.Error != "" || last.Runs != 1 || last.Reference != "" || last.Pairs[0] != 6 {
		t.Errorf("after the failures: %+v", last)
	}
	var table bytes.Buffer
	if err := res.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "crash on heavy failed: ") {
		t.Errorf("the table must list the reasons:\n%s", table.String())
	}
}

func TestMemoryLimit(t *testing.T) {
	dir := plugins(t)
	// hog reserves address space until it fails; under a 4 GiB limit the
	// Go runtime dies ("fatal error: runtime: out of memory", though the
	// goroutine dump after it pushes that line out of the few kB of
	// stderr the sdk keeps) and the bench goes on.
	cfg := Config{
		Backends:    []string{filepath.Join(dir, "nt-ph-hog"), filepath.Join(dir, "nt-ph-rips")},
		Inputs:      []Input{input(t, "small", 30, 3, 3)},
		Repeat:      1,
		MaxDim:      1,
		MemoryLimit: 4 << 30,
		Timeout:     time.Minute,
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Rows[0]; r.Backend != "hog" || !strings.Contains(r.Error, "crashed") || r.Runs != 0 {
		t.Errorf("hog under a 4 GiB limit: %+v, want a crash row", r)
	}
	if r := res.Rows[1]; r.Backend != "rips" || r.Error != "" || r.Runs != 1 {
		t.Errorf("rips under a 4 GiB limit after the hog: %+v", r)
	}
}

func TestLimitMemorySetsRlimit(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if err := limitMemory(cmd.Process.Pid, 3<<30); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/limits")
	if err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(3 << 30)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Max address space") {
			if f := strings.Fields(l); len(f) < 5 || f[3] != want || f[4] != want {
				t.Errorf("limits line %q, want soft and hard %s", l, want)
			}
			return
		}
	}
	t.Errorf("no address space line in /proc/<pid>/limits:\n%s", b)
}

func TestWriters(t *testing.T) {
	res := Result{MaxDim: 1, Repeat: 3, Rows: []Row{
		{Backend: "rips", Input: "x", Points: 10, Runs: 3, Median: 0.5, Min: 0.4, Max: 0.7, PeakMemBytes: 5 << 20, Pairs: []int{10, 2}},
		{Backend: "gudhi", Input: "x", Points: 10, Runs: 3, Median: 1.5, Min: 1.4, Max: 1.7, PeakMemBytes: 50 << 20, Pairs: []int{10, 2},
			Reference: "rips", Bottleneck: []float64{0, math.Inf(1)}},
		{Backend: "ripser", Input: "x", Points: 10, Error: "timeout after 1s"},
	}}
	var b bytes.Buffer
	if err := res.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || len(recs[0]) != len(CSVHeader) || recs[2][1] != "gudhi" || recs[2][13] != "0/+Inf" || recs[3][14] != "timeout after 1s" {
		t.Errorf("csv: %q", recs)
	}

	b.Reset()
	if err := res.WriteJSON(&b); err != nil {
		t.Fatalf("json: %v", err)
	}
	var back struct {
		MaxDim int `json:"max_dim"`
		Rows   []struct {
			Backend    string     `json:"backend"`
			Median     float64    `json:"median_s"`
			Bottleneck []*float64 `json:"bottleneck"`
			Error      string     `json:"error"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("json does not parse back: %v\n%s", err, b.String())
	}
	if back.MaxDim != 1 || len(back.Rows) != 3 || back.Rows[1].Median != 1.5 ||
		len(back.Rows[1].Bottleneck) != 2 || back.Rows[1].Bottleneck[1] != nil || back.Rows[2].Error == "" {
		t.Errorf("json round trip: %+v", back)
	}

	png := filepath.Join(t.TempDir(), "bench.png")
	if err := res.WritePNG(png); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 8)
	f, err := os.Open(png)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Read(head); err != nil || string(head[1:4]) != "PNG" {
		t.Errorf("%s is not a PNG: %q", png, head)
	}
}

func TestRunDirInputs(t *testing.T) {
	run := t.TempDir()
	write := func(step, cloud string, pts sdk.Matrix) {
		dir := filepath.Join(run, "clouds", step)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := matio.WriteNPZ(filepath.Join(dir, cloud+".npz"), []matio.NamedArray{{Name: "points", Matrix: pts}}); err != nil {
			t.Fatal(err)
		}
	}
	write("step_10", "actor", cloud(7, 3, 1))
	write("step_2", "critic", cloud(5, 3, 2))
	write("step_2", "actor", cloud(6, 3, 3))
	ins, err := RunDirInputs(run)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range ins {
		names = append(names, in.Name)
	}
	if strings.Join(names, ",") != "step_2/actor,step_2/critic,step_10/actor" {
		t.Errorf("inputs %v, want numeric step order then cloud name", names)
	}
	if ins[0].Distances.Rows != 6 || ins[0].Distances.Cols != 6 {
		t.Errorf("step_2/actor distances are %dx%d, want 6x6", ins[0].Distances.Rows, ins[0].Distances.Cols)
	}
	if _, err := RunDirInputs(t.TempDir()); err == nil {
		t.Errorf("a folder without clouds must be an error")
	}
}

func TestEuclidean(t *testing.T) {
	pts := sdk.Matrix{Rows: 3, Cols: 2, Data: []float64{0, 0, 3, 4, 0, 1}}
	d, err := Euclidean(pts)
	if err != nil {
		t.Fatal(err)
	}
	plugintest.CheckDistanceMatrix(t, d, 3)
	if d.At(0, 1) != 5 || d.At(2, 0) != 1 {
		t.Errorf("distances %v", d.Data)
	}
}

// TestThresholdedInputGoesAsEdges: an input with few pairs within its
// threshold reaches every backend that takes edges as an edge list, the
// backends agree on it, and --dense sends the matrix as before with the
// same diagrams.
func TestThresholdedInputGoesAsEdges(t *testing.T) {
	dir := plugins(t)
	in := input(t, "sparse", 300, 3, 4)
	// The distance below which 1 pair in 50 lies.
	var all []float64
	for i := range in.Distances.Rows {
		all = append(all, in.Distances.Row(i)[:i]...)
	}
	slices.Sort(all)
	thr := all[len(all)/50]
	if e := sendEdges(in.Distances, thr); e == nil || len(e.D) != len(all)/50+1 && len(e.D) != len(all)/50 {
		t.Fatalf("sendEdges at 1 pair in 50 gave %v pairs, want about %d", e, len(all)/50)
	}
	if e := sendEdges(in.Distances, all[len(all)/10]); e != nil {
		t.Errorf("sendEdges at 1 pair in 10 gave %d pairs, want the matrix", len(e.D))
	}
	if e := sendEdges(in.Distances, 0); e != nil {
		t.Errorf("sendEdges without a threshold gave %d pairs, want the matrix", len(e.D))
	}
	in.Own, in.MaxDim, in.Threshold = true, 1, thr
	var pairs [2][]int
	for k, dense := range []bool{false, true} {
		res, err := Run(context.Background(), Config{
			Backends: []string{filepath.Join(dir, "nt-ph-rips"), filepath.Join(dir, "nt-ph-ripser"), filepath.Join(dir, "nt-ph-gudhi")},
			Inputs:   []Input{in}, Repeat: 1, Timeout: time.Minute, Dense: dense,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[bool]string{false: "edges", true: "matrix"}[dense]
		for _, row := range res.Rows {
			if row.Error != "" {
				t.Fatalf("dense=%v %s: %s", dense, row.Backend, row.Error)
			}
			if row.Given != want {
				t.Errorf("dense=%v %s was given %q, want %q", dense, row.Backend, row.Given, want)
			}
			if row.Reference != "" && row.MaxBottleneck() > 1e-6 {
				t.Errorf("dense=%v %s: bottleneck %v against %s", dense, row.Backend, row.Bottleneck, row.Reference)
			}
			if row.Pairs[0] != 300 || row.CPU < 0 {
				t.Errorf("dense=%v %s: pairs %v, CPU %v s", dense, row.Backend, row.Pairs, row.CPU)
			}
		}
		pairs[k] = res.Rows[0].Pairs
	}
	if !slices.Equal(pairs[0], pairs[1]) {
		t.Errorf("rips on edges %v pairs, on the matrix %v", pairs[0], pairs[1])
	}
}
