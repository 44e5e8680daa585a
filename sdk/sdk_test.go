package sdk_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

var (
	buildOnce sync.Once
	faultyBin string
	buildErr  error
)

// faulty builds the misbehaving test plugin once for all tests.
func faulty(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sdktest")
		if err != nil {
			buildErr = err
			return
		}
		faultyBin = filepath.Join(dir, "nt-ph-faulty")
		out, err := exec.Command("go", "build", "-o", faultyBin, "./internal/faultyph").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the test plugin: %v", buildErr)
	}
	return faultyBin
}

func TestParseBinaryName(t *testing.T) {
	for _, c := range []struct {
		file       string
		kind       sdk.Kind
		name       string
		recognised bool
	}{
		{"/x/nt-ph-rips", sdk.KindPH, "rips", true},
		{"nt-env-mujoco", sdk.KindEnv, "mujoco", true},
		{"nt-dist-dist-geodesic", sdk.KindDist, "dist-geodesic", true},
		{"nt-algo-", "", "", false},
		{"nt-foo-bar", "", "", false},
		{"ripser", "", "", false},
	} {
		k, n, ok := sdk.ParseBinaryName(c.file)
		if k != c.kind || n != c.name || ok != c.recognised {
			t.Errorf("ParseBinaryName(%q) = %q, %q, %v; want %q, %q, %v", c.file, k, n, ok, c.kind, c.name, c.recognised)
		}
	}
}

func TestLargePayloadCrossesBoundary(t *testing.T) {
	c := plugintest.Open(t, faulty(t))
	h, err := c.PH()
	if err != nil {
		t.Fatal(err)
	}
	// 2,000 x 2,000 float64 is 32 MB, eight times gRPC's default limit.
	m := sdk.NewMatrix(2000, 2000)
	ds, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &m})
	if err != nil {
		t.Fatalf("32 MB request: %v", err)
	}
	if got := ds[0].Pairs[0]; got[0] != 4e6 || !math.IsInf(got[1], 1) {
		t.Fatalf("plugin saw %v values, want 4e6 and an infinite death", got)
	}
}

// TestEdgesCrossTheProtocol sends a sparse distance matrix and checks
// that the plugin saw every pair with its distance, in order.
func TestEdgesCrossTheProtocol(t *testing.T) {
	c := plugintest.Open(t, faulty(t))
	h, err := c.PH()
	if err != nil {
		t.Fatal(err)
	}
	e := sdk.Edges{N: 7, I: []int32{0, 3, 6}, J: []int32{5, 1, 2}, D: []float64{0.25, 1e-300, 3.5}}
	ds, err := h.Compute(context.Background(), sdk.HomologyRequest{Edges: &e})
	if err != nil {
		t.Fatal(err)
	}
	inf := math.Inf(1)
	want := [][2]float64{{5, inf}, {0.25, inf}, {22, inf}, {1e-300, inf}, {44, inf}, {3.5, inf}}
	if len(ds) != 1 || ds[0].Dim != 0 || len(ds[0].Pairs) != len(want) {
		t.Fatalf("plugin answered %v, want the echo of 3 edges", ds)
	}
	for k, p := range want {
		if ds[0].Pairs[k] != p {
			t.Errorf("pair %d: plugin saw %v, want %v", k, ds[0].Pairs[k], p)
		}
	}
}

// TestMalformedDiagramsAreRefused: whatever a homology plugin answers,
// the host gets either diagrams that satisfy the contract (one per
// dimension 0..MaxDim, finite births >= 0, deaths >= births) or one line
// naming the plugin and the fault; never a panic or an allocation sized
// by a forged dimension.
func TestMalformedDiagramsAreRefused(t *testing.T) {
	c := plugintest.Open(t, faulty(t))
	h, err := c.PH()
	if err != nil {
		t.Fatal(err)
	}
	m := sdk.NewMatrix(2, 2)
	m.Data[1], m.Data[2] = 1, 1
	for g, want := range map[string]string{
		"negative-dim":       "dimension -1",
		"huge-dim":           "dimension 1073741824",
		"above-maxdim":       "returned 3 diagrams, want 2",
		"none":               "no diagram for dimension 0",
		"missing-dim":        "no diagram for dimension 1",
		"duplicate-dim":      "dimension 0 twice",
		"nan-birth":          "birth NaN",
		"negative-birth":     "birth -1",
		"death-before-birth": "dies at 1 before its birth 2",
	} {
		_, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &m, MaxDim: 1, Params: map[string]string{"garbage": g}})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "nt-ph-faulty") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line naming nt-ph-faulty and %q", g, err, want)
		}
	}
	if ds, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &m, MaxDim: 1, Params: map[string]string{"garbage": "valid"}}); err != nil || len(ds) != 2 {
		t.Errorf("a valid answer: %v %v", ds, err)
	}
}

// TestDistanceResultIsChecked: a distance plugin's matrix must be n x n
// for n points and a distance matrix.
func TestDistanceResultIsChecked(t *testing.T) {
	good := sdk.NewMatrix(3, 3)
	for i := range 3 {
		for j := range 3 {
			good.Data[i*3+j] = math.Abs(float64(i - j))
		}
	}
	small := sdk.NewMatrix(2, 2)
	short := sdk.Matrix{Rows: 3, Cols: 3, Data: good.Data[:8]}
	nan := sdk.NewMatrix(3, 3)
	copy(nan.Data, good.Data)
	nan.Data[1], nan.Data[3] = math.NaN(), math.NaN()
	for _, c := range []struct {
		r    sdk.DistanceResult
		want string
	}{
		{sdk.DistanceResult{Distances: small, Components: 1}, "want a 3x3 matrix (9 values) for 3 points, got 2x2 with 4 values"},
		{sdk.DistanceResult{Distances: short, Components: 1}, "want a 3x3 matrix (9 values) for 3 points, got 3x3 with 8 values"},
		{sdk.DistanceResult{Distances: nan, Components: 1}, "NaN"},
		{sdk.DistanceResult{Distances: good, Components: 0}, "0 connected components"},
	} {
		if err := sdk.ValidateDistanceResult(3, c.r); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if err := sdk.ValidateDistanceResult(3, sdk.DistanceResult{Distances: good, Components: 1}); err != nil {
		t.Error(err)
	}
}

func TestCrashIsReportedByName(t *testing.T) {
	c := plugintest.Open(t, faulty(t))
	h, _ := c.PH()
	done := make(chan error, 1)
	go func() {
		_, err := h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 99})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a panicking plugin returned no error")
		}
		msg := err.Error()
		if !strings.Contains(msg, "nt-ph-faulty") || !strings.Contains(msg, "crashed") || !strings.Contains(msg, "faulty plugin asked to crash") {
			t.Fatalf("error should name the plugin, say it crashed and quote the panic; got %q", msg)
		}
		if strings.Contains(msg, "\n") {
			t.Fatalf("error should be one line; got %q", msg)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a crashed plugin made the host hang")
	}
	if !c.Exited() {
		t.Fatal("client does not know the plugin exited")
	}
}

func TestCancellationReachesPlugin(t *testing.T) {
	c := plugintest.Open(t, faulty(t))
	h, _ := c.PH()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := h.Compute(ctx, sdk.HomologyRequest{MaxDim: 98})
	if err != context.DeadlineExceeded {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	// The plugin is still usable after a cancelled call.
	if _, err := h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 0}); err != nil {
		t.Fatalf("call after cancellation: %v", err)
	}
}

func TestPluginLogsAreForwarded(t *testing.T) {
	var buf syncBuffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Debug, JSONFormat: true})
	c, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, _ := c.PH()
	if _, err := h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 97}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "faulty plugin says hello") {
		if time.Now().After(deadline) {
			t.Fatalf("plugin log line not forwarded; host log:\n%s", buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(buf.String(), `"@level":"warn"`) {
		t.Errorf("forwarded line lost its level: %s", buf.String())
	}
}

func TestMismatchedNameIsRefused(t *testing.T) {
	renamed := filepath.Join(t.TempDir(), "nt-ph-other")
	b, err := os.ReadFile(faulty(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(renamed, b, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = sdk.Open(context.Background(), renamed, sdk.OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), `"faulty"`) || !strings.Contains(err.Error(), `"other"`) {
		t.Fatalf("want a name mismatch error, got %v", err)
	}
	wrongKind := filepath.Join(t.TempDir(), "nt-env-faulty")
	if err := os.WriteFile(wrongKind, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.Open(context.Background(), wrongKind, sdk.OpenOptions{}); err == nil {
		t.Fatal("a ph plugin named as an env plugin must be refused")
	}
}

func TestNotAPluginFailsFast(t *testing.T) {
	script := filepath.Join(t.TempDir(), "nt-ph-script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho not a plugin >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := sdk.Open(context.Background(), script, sdk.OpenOptions{StartTimeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "nt-ph-script") {
		t.Fatalf("want an error naming the binary, got %v", err)
	}
	if time.Since(start) > 8*time.Second {
		t.Fatalf("a binary that exits at once took %v to be reported", time.Since(start))
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestTailKeepsTheFatalLine(t *testing.T) {
	script := filepath.Join(t.TempDir(), "nt-ph-oom")
	// A fatal error followed by a dump far longer than the kept tail.
	body := "#!/bin/sh\necho 'fatal error: runtime: out of memory' >&2\ni=0; while [ $i -lt 400 ]; do echo \"goroutine $i [running]: some/long/frame/name/in/a/dump\" >&2; i=$((i+1)); done\nexit 2\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := sdk.Open(context.Background(), script, sdk.OpenOptions{StartTimeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "fatal error: runtime: out of memory") {
		t.Fatalf("want the fatal line in the error, got %v", err)
	}
}
