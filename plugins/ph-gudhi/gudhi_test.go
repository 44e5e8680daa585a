// Package gudhi_test checks the Python gudhi plugin from Go, loaded
// exactly as the host loads it.
package gudhi_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/rips"
	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// build runs build.sh into a temporary folder, as the Makefile does into
// ./bin, and returns the launcher's path.
func build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("sh", "build.sh", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	return filepath.Join(dir, "nt-ph-gudhi")
}

func TestConformance(t *testing.T) {
	plugintest.Run(t, build(t))
}

func cloud(n, d int, seed uint64) sdk.Matrix {
	r := rand.New(rand.NewPCG(seed, 11))
	m := sdk.NewMatrix(n, d)
	for i := range m.Data {
		m.Data[i] = r.NormFloat64()
	}
	return m
}

func TestAgreesWithRips(t *testing.T) {
	c := plugintest.Open(t, build(t))
	h, err := c.PH()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := 45
	if testing.Short() {
		n = 30
	}
	for seed := uint64(1); seed <= 3; seed++ {
		pts := cloud(n, 3, seed)
		d := rips.MustEuclidean(pts)
		for _, req := range []sdk.HomologyRequest{
			{Distances: &d, MaxDim: 2},
			{Distances: &d, MaxDim: 2, Coeff: 3},
			{Distances: &d, MaxDim: 1, Threshold: 1.1},
			{Points: &pts, MaxDim: 1},
		} {
			got, err := h.Compute(ctx, req)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			want, err := rips.Compute(ctx, &d, rips.Options{MaxDim: req.MaxDim, Threshold: req.Threshold, Coeff: req.Coeff})
			if err != nil {
				t.Fatal(err)
			}
			if msg := differ(got, want); msg != "" {
				t.Errorf("seed %d maxdim %d coeff %d threshold %v points %v: gudhi and rips differ: %s\ngudhi %v\nrips  %v",
					seed, req.MaxDim, req.Coeff, req.Threshold, req.Points != nil, msg, got, want)
			}
		}
	}
}

func TestBadInputIsAnErrorNotACrash(t *testing.T) {
	c := plugintest.Open(t, build(t))
	h, _ := c.PH()
	ctx := context.Background()
	d := rips.MustEuclidean(cloud(6, 2, 1))
	for name, req := range map[string]sdk.HomologyRequest{
		"no input":  {MaxDim: 1},
		"not prime": {Distances: &d, Coeff: 4},
		"too large": {Distances: &d, Coeff: 46349}, // a prime GUDHI refuses
		"max dim":   {Distances: &d, MaxDim: 65},
		"threshold": {Distances: &d, Threshold: -1},
		"ragged":    {Distances: &sdk.Matrix{Rows: 3, Cols: 3, Data: []float64{0, 1}}},
	} {
		_, err := h.Compute(ctx, req)
		if err == nil || !strings.Contains(err.Error(), "gudhi: ") {
			t.Errorf("%s: got %v, want an error naming gudhi", name, err)
		}
	}
	if c.Exited() {
		t.Fatal("bad input killed the plugin")
	}
	// It declares what it computes: primes up to 46337.
	if sdk.SupportsCoeff(c.Info, 46349) || !sdk.SupportsCoeff(c.Info, 46337) {
		t.Errorf("declared coefficients %q", c.Info.Capabilities[sdk.CapCoeff])
	}
}

func TestCancelStopsTheComputation(t *testing.T) {
	c := plugintest.Open(t, build(t))
	h, _ := c.PH()
	// H2 of 1,000 points in R^11: GUDHI's edge collapse alone takes
	// seconds, far beyond the deadline.
	big := rips.MustEuclidean(cloud(1000, 11, 5))
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := h.Compute(ctx, sdk.HomologyRequest{Distances: &big, MaxDim: 2})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "DeadlineExceeded") {
		t.Fatalf("got %v, want a deadline error", err)
	}
	// The plugin is still there and answers the next call.
	small := rips.MustEuclidean(cloud(10, 2, 1))
	ds, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &small})
	if err != nil || len(ds) != 1 || len(ds[0].Pairs) != 10 {
		t.Fatalf("after a cancelled call: %v, %v", ds, err)
	}
}

// differ reports how two diagram lists differ as multisets of pairs equal
// up to float32 rounding, or "" if they agree.
func differ(a, b []sdk.Diagram) string {
	if len(a) != len(b) {
		return "different numbers of dimensions"
	}
	for k := range a {
		pa, pb := sorted(a[k].Pairs), sorted(b[k].Pairs)
		if len(pa) != len(pb) {
			return "dimension " + string(rune('0'+k)) + " has different pair counts"
		}
		for i := range pa {
			for j := 0; j < 2; j++ {
				x, y := pa[i][j], pb[i][j]
				if x != y && math.Abs(x-y) > 3e-7*math.Max(1, math.Abs(x)) {
					return "dimension " + string(rune('0'+k)) + " pairs differ"
				}
			}
		}
	}
	return ""
}

func sorted(p [][2]float64) [][2]float64 {
	q := slices.Clone(p)
	slices.SortFunc(q, func(x, y [2]float64) int {
		if c := cmpF(x[1], y[1]); c != 0 {
			return c
		}
		return cmpF(x[0], y[0])
	})
	return q
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestMemoryLimitIsAnError(t *testing.T) {
	// The computing child inherits the plugin's address space (about
	// 1 GB of it with gRPC's threads); a 100 MB limit makes its first
	// large allocation fail, as a too-big Rips complex would.
	t.Setenv("NT_GUDHI_MEMORY_LIMIT", "100M")
	c := plugintest.Open(t, build(t))
	h, _ := c.PH()
	d := rips.MustEuclidean(cloud(1000, 11, 3))
	_, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &d, MaxDim: 2})
	if err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("got %v, want an out-of-memory error", err)
	}
	if testing.Verbose() {
		t.Log(err)
	}
	if c.Exited() {
		t.Fatal("running out of memory killed the plugin")
	}
}

// workerOf finds the computing process the plugin forked.
func workerOf(pid int) int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if f := strings.Fields(string(b)); len(f) > 0 {
			c, _ := strconv.Atoi(f[0])
			return c
		}
	}
	return 0
}

// TestKilledMidHomology kills the plugin while its forked worker computes.
// The worker held the plugin's pipes and outlived it, and the host waited
// forever (SIGINT ignored); now the call fails within a second naming the
// plugin, and the worker is gone.
func TestKilledMidHomology(t *testing.T) {
	c := plugintest.OpenWith(t, build(t), sdk.OpenOptions{NoRestart: true})
	// Without NoRestart the killed plugin would be restarted and retried.
	h, _ := c.PH()
	big := rips.MustEuclidean(cloud(1000, 11, 5))
	done := make(chan error, 1)
	go func() {
		_, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &big, MaxDim: 2})
		done <- err
	}()
	pid, worker := c.Pid(), 0
	for end := time.Now().Add(20 * time.Second); worker == 0 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		worker = workerOf(pid)
	}
	if worker == 0 {
		t.Fatal("the plugin never forked its worker")
	}
	plugintest.KillMidCall(t, "nt-ph-gudhi", pid, worker, done)
}

// TestChannelIsMutualTLS: the Python plugin serves TLS only, to the
// host's certificate only (ntplugin answers go-plugin's AutoMTLS), and the
// host's calls go through it.
func TestChannelIsMutualTLS(t *testing.T) {
	c := plugintest.Open(t, build(t))
	plugintest.CheckPrivateChannel(t, c)
	h, err := c.PH()
	if err != nil {
		t.Fatal(err)
	}
	plugintest.CheckHomologyH0(t, h)
}

// TestEdgesAgreeWithRips sends sparse edge lists (pairs missing, two
// lone points, with and without a threshold) and compares with rips on
// the same edges; a repeated pair must be refused by name.
func TestEdgesAgreeWithRips(t *testing.T) {
	c := plugintest.Open(t, build(t))
	h, err := c.PH()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 3))
	for seed := uint64(1); seed <= 3; seed++ {
		d := rips.MustEuclidean(cloud(35, 3, seed))
		e := sdk.Edges{N: 37}
		for i := range 35 {
			for j := range i {
				if rng.Float64() < 0.6 {
					e.I, e.J, e.D = append(e.I, int32(i)), append(e.J, int32(j)), append(e.D, d.At(i, j))
				}
			}
		}
		for _, req := range []sdk.HomologyRequest{
			{Edges: &e, MaxDim: 2},
			{Edges: &e, MaxDim: 1, Coeff: 3, Threshold: 1.1},
		} {
			got, err := h.Compute(ctx, req)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			want, err := rips.ComputeEdges(ctx, &e, rips.Options{MaxDim: req.MaxDim, Threshold: req.Threshold, Coeff: req.Coeff})
			if err != nil {
				t.Fatal(err)
			}
			if msg := differ(got, want); msg != "" {
				t.Errorf("seed %d maxdim %d threshold %v: gudhi and rips differ on edges: %s\ngudhi %v\nrips  %v", seed, req.MaxDim, req.Threshold, msg, got, want)
			}
		}
	}
	bad := sdk.Edges{N: 3, I: []int32{0, 1}, J: []int32{1, 0}, D: []float64{1, 1}}
	if _, err := h.Compute(ctx, sdk.HomologyRequest{Edges: &bad, MaxDim: 1}); err == nil || !strings.Contains(err.Error(), "pair (0, 1) is given twice") {
		t.Errorf("a repeated pair: got %v, want it named", err)
	}
}

// TestLockCoversCodeAndInterpreter: under a plugin lock recording the
// launcher and its code, the launcher runs the interpreter it names
// whatever NT_PYTHON or PYTHONPATH say (a stand-in interpreter named
// there is never started), and an edit of the plugin's server.py after
// locking is refused in one line naming the file.
func TestLockCoversCodeAndInterpreter(t *testing.T) {
	bin := build(t)
	e, err := sdk.NewLockEntry(sdk.KindPH, "gudhi", "", bin)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Code) < 4 {
		t.Fatalf("the lock entry records %d code files, want server.py, ntplugin and the message code: %+v", len(e.Code), e.Code)
	}
	file := filepath.Join(t.TempDir(), "plugins.lock.json")
	if err := (&sdk.Lock{Version: sdk.LockVersion}).With(e).Write(file); err != nil {
		t.Fatal(err)
	}
	l, err := sdk.ReadLock(file)
	if err != nil {
		t.Fatal(err)
	}
	sdk.SetLock(l)
	defer sdk.SetLock(nil)

	fake := t.TempDir()
	marker := filepath.Join(fake, "ran")
	os.WriteFile(filepath.Join(fake, "python3"), []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o755)
	os.WriteFile(filepath.Join(fake, "ntplugin.py"), []byte("open("+strconv.Quote(marker)+", 'w')\n"), 0o644)
	t.Setenv("NT_PYTHON", filepath.Join(fake, "python3"))
	t.Setenv("PYTHONPATH", fake)
	t.Setenv("PATH", fake+":"+os.Getenv("PATH"))
	c := plugintest.Open(t, bin)
	h, err := c.PH()
	if err != nil {
		t.Fatal(err)
	}
	pts := cloud(10, 2, 1)
	if _, err := h.Compute(context.Background(), sdk.HomologyRequest{Points: &pts, MaxDim: 1}); err != nil {
		t.Fatalf("the locked plugin: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the launcher ran the interpreter or module named by the environment")
	}

	server := filepath.Join(filepath.Dir(bin), "ph-gudhi-py", "server.py")
	f, err := os.OpenFile(server, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n# edited after locking\n")
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := sdk.Open(ctx, bin, sdk.OpenOptions{})
	if err == nil {
		cl.Close()
		t.Fatal("the plugin started with its server.py edited after locking")
	}
	for _, w := range []string{server, "changed since locked", "nthost plugins lock"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal lacks %q: %v", w, err)
		}
	}
}
