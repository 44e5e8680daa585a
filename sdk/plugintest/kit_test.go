package plugintest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fixture returns the test plugin nt-<kind>-<name> of testdata/broken: the
// program is built once for the package (in a folder of its own, not one
// test's TempDir) and installed under each name it serves.
func fixture(t *testing.T, name string) string {
	t.Helper()
	fixtureOnce.Do(func() {
		if fixtureDir, fixtureErr = os.MkdirTemp("", "plugintest-fixtures"); fixtureErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(fixtureDir, "broken"), "./testdata/broken").CombinedOutput()
		if err != nil {
			fixtureErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if fixtureErr != nil {
		t.Fatalf("building the test plugins: %v", fixtureErr)
	}
	p := filepath.Join(fixtureDir, name)
	if _, err := os.Lstat(p); err != nil {
		if err := os.Symlink("broken", p); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// TestKitRefusesBrokenPlugins runs `nthost plugin test`'s report on
// healthy plugins, which must pass every check, and on copies of them
// with one fault each, which the kit must refuse in the check that finds
// the fault, with a line saying what it wanted and what came.
func TestKitRefusesBrokenPlugins(t *testing.T) {
	for _, c := range []struct {
		name   string
		failed []string // the checks that must fail, all others passing or skipped
		lines  []string // each must be in the report
	}{
		{"nt-env-toy", nil, nil},
		{"nt-algo-toy", nil, nil},
		{"nt-ph-h0", nil, nil},
		{"nt-dist-toy", nil, nil},
		{"nt-dist-short", []string{"distance", "distance/triangle-inequality"},
			[]string{"compute on 60 random points: plugin nt-dist-short: compute distances: bad result: want a 60x60 matrix (3600 values) for 60 points, got 60x60 with 3599 values"}},
		{"nt-ph-capped", []string{"homology/32MB-request"},
			[]string{"H0 of 2,000 distinct points: want 2,000 pairs, got 1000"}},
		{"nt-env-nanobs", []string{"environment/Cart-v0"},
			[]string{"step 5: plugin nt-env-nanobs: step: bad result: observation (1,0) is NaN, want a finite value"}},
		{"nt-env-fixedseed", []string{"environment/Cart-v0"},
			[]string{"seeds 1 and 2 gave bit-identical trajectories, yet the envs of a batch start in different states: want another trajectory for another seed (the env ignores its seed)"}},
		{"nt-env-noreseed", []string{"environment/Cart-v0"},
			[]string{"Open with seed 7 then Reset(1): want the trajectory of Open with seed 1 then Reset(1)"}},
		{"nt-env-crash50", []string{"environment/Cart-v0"},
			[]string{"step 51: plugin nt-env-crash50 crashed (exit status 2;", "): panic: runtime error: index out of range [50] with length 50",
				"skip quiet-stdout: the plugin exited during environment/Cart-v0"}},
		{"nt-env-noepisodes", []string{"environment/Cart-v0"},
			[]string{"ended its episode (terminated ", "but Episodes has no statistics for it; want its return and length"}},
		{"nt-algo-unitbox", []string{"algorithm"},
			[]string{"act 0: action (0,", "; want it inside its bounds ["}},
		{"nt-ph-overdim", []string{"homology/bad-input"},
			[]string{"MaxDim 1, above the declared max_dim 0: want an error, got 2 diagrams"}},
		{"nt-ph-extradim", []string{"homology/H0", "homology/coefficients", "homology/params", "homology/32MB-request"},
			[]string{"H0 of a 40-point circle: plugin nt-ph-extradim: compute homology: bad result: returned 2 diagrams, want 1: one for each dimension 0..0 asked for"}},
		{"nt-ph-chatty", []string{"quiet-stdout"},
			[]string{`bytes to stdout after its handshake line (first line "pair 0 `, "want none: go-plugin owns stdout"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			rep, err := plugintest.RunReport(context.Background(), fixture(t, c.name), &out, plugintest.Options{})
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if !slices.Equal(rep.Failed, c.failed) {
				t.Errorf("failed checks %q, want %q\n%s", rep.Failed, c.failed, out.String())
			}
			for _, l := range c.lines {
				if !strings.Contains(out.String(), l) {
					t.Errorf("report lacks %q:\n%s", l, out.String())
				}
			}
			for _, l := range strings.Split(out.String(), "\n") {
				if len(l) > 600 {
					t.Errorf("a report line of %d characters: %.200s...", len(l), l)
				}
			}
		})
	}
}

// TestKitRefusesStdoutBeforeHandshake: a greeting printed before the
// handshake line stops the start, and the error says why.
func TestKitRefusesStdoutBeforeHandshake(t *testing.T) {
	var out bytes.Buffer
	_, err := plugintest.RunReport(context.Background(), fixture(t, "nt-ph-banner"), &out, plugintest.Options{})
	want := `plugin nt-ph-banner: start failed: its first line on stdout is "h0 plugin starting", not the handshake line`
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v, want one line with %q", err, want)
	}
	out.Reset()
	_, err = plugintest.RunReport(context.Background(), fixture(t, "nt-ph-banner"), &out, plugintest.Options{JSON: true})
	if rs := decode(t, out.Bytes()); err == nil || len(rs) != 1 || rs[0].Name != "start" || rs[0].Status != plugintest.StatusFail || !strings.Contains(rs[0].Message, want) {
		t.Errorf("--json: %v, want one failed check \"start\" saying %q", rs, want)
	}
}

// TestKitTimeoutRestartsPlugin: a check past its timeout fails saying
// so, and the checks after it run on a fresh plugin process (the old one
// ignores the cancellation and would never answer again).
func TestKitTimeoutRestartsPlugin(t *testing.T) {
	var out bytes.Buffer
	rep, err := plugintest.RunReport(context.Background(), fixture(t, "nt-ph-hang"), &out, plugintest.Options{Timeout: 2 * time.Second, JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	results := decode(t, out.Bytes())
	if len(results) != len(rep.Results) || len(results) < 5 {
		t.Fatalf("%d JSON objects for %d checks:\n%s", len(results), len(rep.Results), out.String())
	}
	for _, r := range results {
		want := plugintest.StatusPass
		switch r.Name {
		case "homology/H0":
			want = plugintest.StatusFail
			if !strings.HasPrefix(r.Message, "did not finish within 2s (--timeout)") || r.Duration < 2 {
				t.Errorf("homology/H0: %+v", r)
			}
		case "homology/32MB-request":
			// May take longer than 2 s on a loaded machine.
			continue
		}
		if r.Status != want {
			t.Errorf("%s: status %s, want %s (%s)", r.Name, r.Status, want, r.Message)
		}
	}
}

// decode reads `--json` output: one Result per line, nothing else.
func decode(t *testing.T, b []byte) []plugintest.Result {
	t.Helper()
	var rs []plugintest.Result
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r plugintest.Result
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil || r.Name == "" {
			t.Fatalf("line %q is not a check's JSON object: %v", sc.Text(), err)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestKitInterrupt: cancelling the run (Ctrl-C, SIGTERM) while a check
// hangs ends it within seconds, reports the check as interrupted and the
// rest as skipped, and leaves no plugin process behind.
func TestKitInterrupt(t *testing.T) {
	bin := fixture(t, "nt-ph-hang")
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	var rep plugintest.Report
	go func() {
		var err error
		rep, err = plugintest.RunReport(ctx, bin, &out, plugintest.Options{JSON: true})
		done <- err
	}()
	// Wait until the plugin hangs in homology/H0, the third check.
	var pid int
	for end := time.Now().Add(30 * time.Second); pid == 0 && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
		pid = processOf(bin)
	}
	if pid == 0 {
		t.Fatal("the plugin process never started")
	}
	time.Sleep(1500 * time.Millisecond) // past describe and private-channel, on a machine not too loaded
	cancel()
	cancelled := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("interrupted run returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupted run did not return within 10 s")
	}
	t.Logf("returned %v after the interruption", time.Since(cancelled))
	checkInterrupted(t, decode(t, out.Bytes()))
	if len(rep.Skipped) == 0 {
		t.Errorf("no check skipped: %+v", rep.Results)
	}
	for end := time.Now().Add(5 * time.Second); plugintest.Running(pid) && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if plugintest.Running(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("plugin process %d outlived the interrupted run", pid)
	}
}

// checkInterrupted checks the results of a run interrupted while
// homology/H0 hangs: the checks before the one interrupted passed, that
// one failed as interrupted (usually homology/H0, earlier on a slow
// machine), every later one is skipped as interrupted.
func checkInterrupted(t *testing.T, results []plugintest.Result) {
	t.Helper()
	at := slices.IndexFunc(results, func(r plugintest.Result) bool { return r.Status != plugintest.StatusPass })
	if at < 0 || at+1 >= len(results) {
		t.Fatalf("no check interrupted before the last: %+v", results)
	}
	if r := results[at]; r.Status != plugintest.StatusFail || r.Message != "interrupted" || slices.IndexFunc(results, func(r plugintest.Result) bool { return r.Name == "homology/H0" }) < at {
		t.Errorf("want homology/H0 or a check before it to fail as interrupted, got %+v", r)
	}
	for _, r := range results[at+1:] {
		if r.Status != plugintest.StatusSkip || r.Message != "interrupted" {
			t.Errorf("after the interrupted check: %+v, want skip interrupted", r)
		}
	}
}

// processOf returns the pid of a running process started as bin, or 0.
func processOf(bin string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(bytes.SplitN(b, []byte{0}, 2)[0]) == bin && plugintest.Running(pid) {
			return pid
		}
	}
	return 0
}

// TestEnvNaNNamedAtTheBoundary: in a run, a NaN observation is the
// environment plugin's fault, named so before any learner sees it,
// whether the host relays each step or the algorithm plugin drives the
// environment over shared memory.
func TestEnvNaNNamedAtTheBoundary(t *testing.T) {
	ctx := context.Background()
	for _, direct := range []bool{false, true} {
		envC := plugintest.OpenWith(t, fixture(t, "nt-env-nanobs"), sdk.OpenOptions{NoRestart: true})
		algoC := plugintest.OpenWith(t, fixture(t, "nt-algo-toy"), sdk.OpenOptions{NoRestart: true})
		e, _ := envC.Env()
		h, spec, err := e.Open(ctx, sdk.EnvConfig{TaskID: "Cart-v0", NumEnvs: 2, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		obs, err := e.Reset(ctx, h, 1)
		if err != nil {
			t.Fatal(err)
		}
		var a sdk.Algorithm
		if direct {
			a, err = sdk.Link(ctx, envC, algoC)
		} else {
			a, err = algoC.Algo()
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Init(ctx, sdk.AlgoConfig{Env: spec, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		act, err := a.Act(ctx, sdk.ActRequest{Obs: obs})
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := a.(sdk.Driver); direct && ok && d.Drives(e) {
			_, err = d.Drive(ctx, sdk.DriveRequest{Handle: h, Actions: act.Actions, MaxSteps: 20})
		} else if direct {
			t.Fatalf("the direct mode is off (transport %s)", envC.Transport())
		} else {
			for step := 1; step <= 20 && err == nil; step++ {
				var sr sdk.StepResult
				if sr, err = e.Step(ctx, h, act.Actions); err == nil {
					act, err = a.Act(ctx, sdk.ActRequest{Obs: sr.Obs, Prev: &sdk.Outcome{Reward: sr.Reward, Terminated: sr.Terminated, Truncated: sr.Truncated, FinalObs: sr.FinalObs}})
				}
			}
		}
		want := "plugin nt-env-nanobs: step"
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "bad result: observation (1,0) is NaN, want a finite value") || strings.Contains(err.Error(), "nt-algo-toy") {
			t.Errorf("direct %v: got %v, want one line starting %q naming the NaN observation", direct, err, want)
		}
	}
}

// TestCrashNamesTheSignal: a plugin killed by a signal is reported with
// the signal, not only as a broken connection.
func TestCrashNamesTheSignal(t *testing.T) {
	bin := fixture(t, "nt-ph-hang")
	c := plugintest.OpenWith(t, bin, sdk.OpenOptions{NoRestart: true})
	h, _ := c.PH()
	dm := plugintest.Euclid(plugintest.Circle(40))
	done := make(chan error, 1)
	go func() {
		_, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &dm})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(c.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		want := "plugin nt-ph-hang crashed (killed by signal 9 (killed); "
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want it to start %q", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call on the killed plugin hung")
	}
}
