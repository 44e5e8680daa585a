package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/provenance"
	runcore "github.com/neuraltopology/neuraltopology/core/run"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/snapshot"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// These tests drive the real nthost binary with real plugin processes, as
// a user would.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// bins builds nthost and the Go plugins into one folder, once.
func bins(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "nthost-bin")
		if binErr != nil {
			return
		}
		for pkg, name := range map[string]string{
			".":                        "nthost",
			"../plugins/env-mujoco":    "nt-env-mujoco",
			"../plugins/algo-ppo":      "nt-algo-ppo",
			"../plugins/algo-mlp":      "nt-algo-mlp",
			"../plugins/data-naitzat":  "nt-data-naitzat",
			"../plugins/dist-euclid":   "nt-dist-euclid",
			"../plugins/dist-geodesic": "nt-dist-geodesic",
			"../plugins/ph-rips":       "nt-ph-rips",
			"../plugins/ph-ripser":     "nt-ph-ripser",
		} {
			out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", filepath.Join(binDir, name), pkg).CombinedOutput()
			if err != nil {
				binErr = &buildError{pkg: pkg, out: string(out), err: err}
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return "building " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

// nthost runs the binary in dir with args and returns stdout, stderr and
// the exit code.
func nthost(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	return nthostEnv(t, dir, nil, args...)
}

// nthostEnv is nthost with extra environment variables.
func nthostEnv(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bins(t), "nthost"), args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NT_PLUGIN_DIR="), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestPluginsListsWhatIsBuilt(t *testing.T) {
	out, errs, code := nthost(t, t.TempDir(), "plugins")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"dist  ", "euclid", "geodesic", "rips", "mujoco", "ppo", "0.1.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("`nthost plugins` output lacks %q:\n%s", want, out)
		}
	}
}

func TestMissingPluginIsNamed(t *testing.T) {
	_, errs, code := nthost(t, t.TempDir(), "--env", "mujoco", "--algo", "ppo", "--ph", "nosuch")
	if code == 0 || !strings.Contains(errs, `ph plugin "nosuch" not found`) || !strings.Contains(errs, "nt-ph-nosuch") {
		t.Fatalf("exit %d, stderr %q: want a message naming nt-ph-nosuch", code, errs)
	}
	if strings.Count(strings.TrimSpace(errs), "\n") > 1 {
		t.Errorf("error should be one line, got:\n%s", errs)
	}
}

func TestDistAndTDAOnFiles(t *testing.T) {
	dir := t.TempDir()
	pts := plugintest.RandomCloud(60, 3, 11)
	csvPath := filepath.Join(dir, "cloud.csv")
	if err := matio.Write(csvPath, pts); err != nil {
		t.Fatal(err)
	}
	// dist: csv in, npy out; then npy in, csv out.
	if _, errs, code := nthost(t, dir, "dist", "--points", "cloud.csv", "--metric", "euclid", "--out", "d.npy"); code != 0 {
		t.Fatalf("dist: %s", errs)
	}
	d, err := matio.Read(filepath.Join(dir, "d.npy"))
	if err != nil {
		t.Fatal(err)
	}
	plugintest.CheckDistanceMatrix(t, d, 60)
	if got, want := d.At(3, 7), dist(pts.Row(3), pts.Row(7)); math.Abs(got-want) > 1e-12 {
		t.Fatalf("d[3][7] = %v, want %v", got, want)
	}
	if _, errs, code := nthost(t, dir, "dist", "--points", "cloud.csv", "--metric", "geodesic", "--k", "5", "--out", "g.csv"); code != 0 {
		t.Fatalf("geodesic dist: %s", errs)
	}
	g, err := matio.Read(filepath.Join(dir, "g.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if g.At(3, 7) < d.At(3, 7)-1e-12 {
		t.Fatalf("geodesic distance %v shorter than Euclidean %v", g.At(3, 7), d.At(3, 7))
	}

	// tda in every format agrees with Debian's ripser on the same matrix.
	ripserOut := runRipser(t, d, 2)
	out, errs, code := nthost(t, dir, "tda", "--distances", "d.npy", "--format", "ripser", "--maxdim", "2")
	if code != 0 {
		t.Fatalf("tda: %s", errs)
	}
	if !strings.Contains(errs, "Betti numbers at ") || !strings.Contains(errs, "bars longer than 0.1 x diameter") {
		t.Errorf("summary lacks Betti numbers: %s", errs)
	}
	sameDiagrams(t, parseText(t, out), ripserOut)

	if _, errs, code := nthost(t, dir, "tda", "--points", "cloud.csv", "--format", "npz", "--out", "dg.npz", "--plot", "dg.png"); code != 0 {
		t.Fatalf("tda npz: %s", errs)
	}
	npz, err := diagram.ReadNPZ(filepath.Join(dir, "dg.npz"))
	if err != nil {
		t.Fatal(err)
	}
	sameDiagrams(t, npz, ripserOut)
	if st, err := os.Stat(filepath.Join(dir, "dg.png")); err != nil || st.Size() < 1000 {
		t.Errorf("plot not written: %v", err)
	}
	out, _, code = nthost(t, dir, "tda", "--distances", "d.npy", "--format", "json")
	if code != 0 {
		t.Fatal("tda json failed")
	}
	js, err := diagram.ReadJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	sameDiagrams(t, js, ripserOut)
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil || !strings.Contains(out, "null") {
		t.Errorf("JSON must mark the infinite H0 death as null: %v", err)
	}

	// compare: a diagram against itself is at distance 0.
	out, errs, code = nthost(t, dir, "compare", "dg.npz", "dg.npz")
	if code != 0 || !strings.Contains(out, "bottleneck") {
		t.Fatalf("compare: %s %s", out, errs)
	}

	// Bad input: an asymmetric matrix is refused naming the file.
	d.Data[1] += 1
	if err := matio.Write(filepath.Join(dir, "bad.csv"), d); err != nil {
		t.Fatal(err)
	}
	_, errs, code = nthost(t, dir, "tda", "--distances", "bad.csv")
	if code == 0 || !strings.Contains(errs, "bad.csv") {
		t.Fatalf("asymmetric matrix: exit %d, %q", code, errs)
	}
}

func dist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}

func runRipser(t *testing.T, d sdk.Matrix, maxDim int) []sdk.Diagram {
	t.Helper()
	var in bytes.Buffer
	for i := 1; i < d.Rows; i++ {
		for j := 0; j < i; j++ {
			if j > 0 {
				in.WriteByte(',')
			}
			in.WriteString(strconv.FormatFloat(d.At(i, j), 'g', 17, 64))
		}
		in.WriteByte('\n')
	}
	cmd := exec.Command("ripser", "--format", "lower-distance", "--dim", itoa(maxDim))
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ripser (the oracle; make test installs it): %v", err)
	}
	return parseText(t, string(out))
}

func parseText(t *testing.T, s string) []sdk.Diagram {
	ds, err := diagram.ParseRipserText(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// sameDiagrams compares multisets of pairs per dimension up to float32
// rounding and ripser's 6 printed digits.
func sameDiagrams(t *testing.T, got, want []sdk.Diagram) {
	t.Helper()
	norm := func(ds []sdk.Diagram) map[int][][2]float64 {
		m := map[int][][2]float64{}
		for _, d := range ds {
			m[d.Dim] = append(m[d.Dim], d.Pairs...)
		}
		for _, p := range m {
			sort.Slice(p, func(i, j int) bool {
				if p[i][1] != p[j][1] {
					return p[i][1] < p[j][1]
				}
				return p[i][0] < p[j][0]
			})
		}
		return m
	}
	g, w := norm(got), norm(want)
	for dim, wp := range w {
		gp := g[dim]
		if len(gp) != len(wp) {
			t.Fatalf("dim %d: %d pairs, ripser has %d", dim, len(gp), len(wp))
		}
		for i := range wp {
			for k := 0; k < 2; k++ {
				a, b := gp[i][k], wp[i][k]
				if math.IsInf(a, 1) != math.IsInf(b, 1) || (!math.IsInf(a, 1) && math.Abs(a-b) > 1e-5*math.Max(1, math.Abs(b))) {
					t.Fatalf("dim %d pair %d: %v, ripser %v", dim, i, gp[i], wp[i])
				}
			}
		}
	}
}

func jsonNum(x float64) string {
	b, _ := json.Marshal(x)
	return string(b)
}

func itoa(i int) string { return jsonNum(float64(i)) }

func TestMainJobKillAndResume(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	args := []string{"--env", "mujoco", "--env-id", "InvertedPendulum-v4", "--algo", "ppo", "--ph", "rips",
		"--total-timesteps", "12288", "--num-steps", "512", "--num-minibatches", "8", "--update-epochs", "2",
		"--topology-analysis-interval", "4", "--save-checkpoint-interval", "4", "--tda-samples", "100",
		"--k", "10", "--run-dir", runDir, "--log-format", "json"}
	cmd := exec.Command(filepath.Join(bins(t), "nthost"), args...)
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill -9 once the first checkpoint is on disk, mid-run.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(runDir, runstore.StateFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint after 2 minutes; log:\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// The killed host's plugins notice they were orphaned and exit.
	for deadline := time.Now().Add(10 * time.Second); len(pluginProcesses(t)) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("plugins outlived their killed host: %v", pluginProcesses(t))
		}
		time.Sleep(100 * time.Millisecond)
	}

	_, errs, code := nthost(t, dir, "--resume", runDir, "--log-format", "json")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, errs)
	}
	scalars, err := summary.ReadScalars(filepath.Join(runDir, runstore.ScalarsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(scalars) != 24 {
		t.Fatalf("%d scalar records after resume, want 24 (one per update)", len(scalars))
	}
	for i, s := range scalars {
		if s.Update != i+1 {
			t.Fatalf("scalar record %d is update %d: records were lost or repeated", i, s.Update)
		}
	}
	topo, err := summary.ReadTopology(filepath.Join(runDir, runstore.TopologyFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(topo) != 6*5 {
		t.Fatalf("%d topology records, want 30 (6 snapshots x 5 clouds)", len(topo))
	}
	for _, f := range []string{"report.html", "scalars.csv", "topology.csv", "config.yaml"} {
		if st, err := os.Stat(filepath.Join(runDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing after resume: %v", f, err)
		}
	}
	checkProvenance(t, runDir)
	checkPlotsAndReport(t, runDir)
}

// checkProvenance reads the provenance of a run started once and resumed
// once: two records, the second marked resumed, each naming the commit
// the test binaries were built from and each plugin by the SHA-256 of
// the binary that ran.
func checkProvenance(t *testing.T, runDir string) {
	t.Helper()
	recs, err := provenance.Read(filepath.Join(runDir, provenance.File))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Resumed || !recs[1].Resumed {
		t.Fatalf("provenance: %d records (resumed %v), want the start and the resume", len(recs), recs)
	}
	// Go stamps the commit into binaries built in a plain checkout (a
	// .git folder at the top), as CI's is; not where .git is a file that
	// points into another checkout's repository.
	head, gitErr := exec.Command("git", "rev-parse", "HEAD").Output()
	if st, err := os.Stat("../.git"); err != nil || !st.IsDir() {
		gitErr = errors.New("not a plain checkout")
	}
	for _, r := range recs {
		if gitErr == nil && r.Commit != strings.TrimSpace(string(head)) {
			t.Errorf("provenance names commit %q, the checkout is at %s", r.Commit, head)
		}
		if r.GoVersion == "" || r.Cores < 1 || len(r.Plugins) != 4 {
			t.Fatalf("provenance incomplete: %+v", r)
		}
		for _, p := range r.Plugins {
			want, err := sdk.FileSHA256(filepath.Join(bins(t), "nt-"+p.Kind+"-"+p.Name))
			if err != nil || p.SHA256 != want {
				t.Errorf("provenance: %s plugin %s sha256 %s, its binary's is %s (%v)", p.Kind, p.Name, p.SHA256, want, err)
			}
		}
	}
}

// checkPlotsAndReport decodes every PNG in plots/ and every image of
// report.html, which must be embedded so the file stands alone.
func checkPlotsAndReport(t *testing.T, runDir string) {
	t.Helper()
	pngs, _ := filepath.Glob(filepath.Join(runDir, "plots", "*.png"))
	if len(pngs) < 5 {
		t.Fatalf("only %d plots: %v", len(pngs), pngs)
	}
	for _, p := range pngs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 100 {
			t.Errorf("%s: not a usable PNG: %v", p, err)
		}
	}
	page, err := os.ReadFile(filepath.Join(runDir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	srcs := regexp.MustCompile(`<img[^>]+src="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	if len(srcs) < 5 {
		t.Fatalf("report has %d images", len(srcs))
	}
	for _, m := range srcs {
		// Attribute values are HTML-escaped ("+" may be &#43;), as a
		// browser reads them.
		data, ok := strings.CutPrefix(html.UnescapeString(m[1]), "data:image/png;base64,")
		if !ok {
			t.Fatalf("report image %.60q is not embedded", m[1])
		}
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			t.Fatalf("report image: %v", err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("report image does not decode: %v", err)
		}
	}
	for _, cloud := range []string{"actor/1", "critic/2", "InvertedPendulum-v4"} {
		if !strings.Contains(string(page), cloud) {
			t.Errorf("report does not mention %s", cloud)
		}
	}
}

func TestBenchPH(t *testing.T) {
	dir := t.TempDir()
	if err := matio.Write(filepath.Join(dir, "c.npy"), plugintest.RandomCloud(80, 3, 5)); err != nil {
		t.Fatal(err)
	}
	out, errs, code := nthost(t, dir, "bench", "ph", "--ph", "rips,ripser", "--points", "c.npy", "--repeat", "2", "--csv", "b.csv", "--png", "b.png")
	if code != 0 {
		t.Fatalf("bench: %s", errs)
	}
	if !strings.Contains(out, "rips") || !strings.Contains(out, "ripser") {
		t.Fatalf("table lacks a backend:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "b.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("CSV has %d lines, want a header and 2 rows:\n%s", len(lines), b)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.png")); err != nil {
		t.Fatal(err)
	}
	_, errs, code = nthost(t, dir, "bench", "ph", "--ph", "rips,nosuch", "--points", "c.npy")
	if code == 0 || !strings.Contains(errs, "nt-ph-nosuch") {
		t.Fatalf("unknown backend: exit %d, %q", code, errs)
	}
}

func TestInProcessMatchesPlugins(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--env-id", "InvertedPendulum-v4", "--total-timesteps", "2048", "--num-steps", "512",
		"--num-minibatches", "4", "--update-epochs", "2", "--topology-analysis-interval", "2",
		"--tda-samples", "80", "--k", "8", "--no-report", "--log-level", "warn"}
	// Plugin processes with the default transport (which must be the
	// direct mode: the algo plugin steps the env plugin), asked for the
	// direct mode, relayed by the host over shared memory, over the
	// socket, over gRPC only, and linked in. Each run must say it used the
	// transport it was meant to: a fast path that silently fell back
	// would otherwise compare gRPC with gRPC.
	for _, mode := range []struct{ dir, env, want string }{
		{"plugins", "", sdk.TransportDirect},
		{"direct", "NT_TRANSPORT=shm-direct", sdk.TransportDirect},
		{"shm", "NT_TRANSPORT=shm", sdk.TransportShm},
		{"socket", "NT_TRANSPORT=socket", sdk.TransportSocket},
		{"grpc", "NT_TRANSPORT=grpc", sdk.TransportGRPC},
		{"inproc", "", "in-process"},
	} {
		a := append([]string{"--run-dir", mode.dir}, args...)
		var env []string
		if mode.env != "" {
			env = []string{mode.env}
		}
		if mode.dir == "inproc" {
			a = append(a, "--in-process")
		}
		if _, errs, code := nthostEnv(t, dir, env, a...); code != 0 {
			t.Fatalf("%s: %s", mode.dir, errs)
		}
		b, err := os.ReadFile(filepath.Join(dir, mode.dir, runstore.TransportFile))
		if err != nil {
			t.Fatal(err)
		}
		var used map[sdk.Kind]string
		if err := json.Unmarshal(b, &used); err != nil {
			t.Fatal(err)
		}
		if used[sdk.KindEnv] != mode.want || used[sdk.KindAlgo] != mode.want {
			t.Fatalf("%s: env and algo spoken to over %q and %q, want %q", mode.dir, used[sdk.KindEnv], used[sdk.KindAlgo], mode.want)
		}
		// In the direct mode the algo plugin samples the snapshots' states
		// over its link; otherwise the host steps the analysis env.
		sampling := snapshot.SamplingHost
		if mode.want == sdk.TransportDirect {
			sampling = sdk.TransportDirect
		}
		if got := used[runcore.SamplingKey]; got != sampling {
			t.Fatalf("%s: snapshot states sampled by %q, want %q", mode.dir, got, sampling)
		}
	}
	strip := func(mode string) ([]summary.ScalarRecord, []summary.TopologyRecord) {
		s, err := summary.ReadScalars(filepath.Join(dir, mode, runstore.ScalarsFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range s {
			delete(r.Values, "charts/SPS")
		}
		tp, err := summary.ReadTopology(filepath.Join(dir, mode, runstore.TopologyFile))
		if err != nil {
			t.Fatal(err)
		}
		for i := range tp {
			tp[i].Seconds = 0
		}
		return s, tp
	}
	s1, t1 := strip("plugins")
	s2, t2 := strip("inproc")
	s3, t3 := strip("grpc")
	if !reflect.DeepEqual(s1, s3) || !reflect.DeepEqual(t1, t3) {
		t.Errorf("results differ between the default direct mode and gRPC")
	}
	s4, t4 := strip("socket")
	if !reflect.DeepEqual(s4, s3) || !reflect.DeepEqual(t4, t3) {
		t.Errorf("results differ between the socket and gRPC")
	}
	s5, t5 := strip("shm")
	if !reflect.DeepEqual(s5, s3) || !reflect.DeepEqual(t5, t3) {
		t.Errorf("results differ between shared memory relayed by the host and gRPC")
	}
	s6, t6 := strip("direct")
	if !reflect.DeepEqual(s6, s3) || !reflect.DeepEqual(t6, t3) {
		t.Errorf("results differ between the direct mode asked for and gRPC")
	}
	if len(s1) != 4 || len(t1) != 10 {
		t.Fatalf("%d scalar and %d topology records, want 4 and 10", len(s1), len(t1))
	}
	if !reflect.DeepEqual(s1, s2) {
		t.Errorf("training statistics differ between plugin processes and --in-process:\n%v\n%v", s1, s2)
	}
	if !reflect.DeepEqual(t1, t2) {
		t.Errorf("topology differs between plugin processes and --in-process")
	}
}

// pluginProcesses lists running processes started from the test's plugin
// binaries.
func pluginProcesses(t *testing.T) []string {
	t.Helper()
	prefix := filepath.Join(bins(t), "nt-")
	var out []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && strings.HasPrefix(string(b), prefix) {
			out = append(out, d.Name()+" "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// TestKilledPluginStopsTheRunAtOnce kills the env plugin of a training run
// mid-step: nthost must name it in one line within a second and exit,
// never hang.
func TestKilledPluginStopsTheRunAtOnce(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(filepath.Join(bins(t), "nthost"), "--env-id", "Hopper-v4", "--total-timesteps", "50000000",
		"--topology-analysis-interval", "0", "--no-report", "--run-dir", "run", "--log-level", "warn")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	type line struct {
		text string
		at   time.Time
	}
	lines := make(chan line, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- line{sc.Text(), time.Now()}
		}
		close(lines)
	}()
	// Training is under way once the run has recorded its transports.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "run", runstore.TransportFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run did not start within a minute")
		}
	}
	time.Sleep(500 * time.Millisecond)
	pid := 0
	for _, p := range pluginProcesses(t) {
		f := strings.Fields(p)
		if strings.HasSuffix(f[1], "nt-env-mujoco") {
			stat, _ := os.ReadFile("/proc/" + f[0] + "/stat")
			if sf := strings.Fields(string(stat)); len(sf) > 3 && sf[3] == strconv.Itoa(cmd.Process.Pid) {
				pid, _ = strconv.Atoi(f[0])
			}
		}
	}
	if pid == 0 {
		t.Fatalf("no env plugin process of this run among %v", pluginProcesses(t))
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var named *line
	timeout := time.After(10 * time.Second)
	for named == nil {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("nthost ended without naming the killed plugin")
			}
			// go-plugin's own "plugin process exited" log line comes
			// first; the run's error is the line that says what happened.
			if strings.Contains(l.text, "nt-env-mujoco") && strings.Contains(l.text, "crashed") {
				named = &l
			}
		case <-timeout:
			t.Fatal("nthost did not name the killed plugin within 10 s")
		}
	}
	t.Logf("named after %v: %s", named.at.Sub(killed), named.text)
	if d := named.at.Sub(killed); d > time.Second {
		t.Errorf("the killed plugin was named after %v, want within a second", d)
	}
	done := make(chan error, 1)
	go func() {
		for range lines {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("nthost exited 0 after its env plugin was killed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nthost hung after its env plugin was killed")
	}
}
