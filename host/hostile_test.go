package main

import (
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// treeHash is a SHA-256 per file under dir (and per symlink target), to
// show that a refused command changed nothing.
func treeHash(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			out[p] = sha256.Sum256([]byte("link:" + l))
			return nil
		}
		if !d.Type().IsRegular() {
			out[p] = sha256.Sum256([]byte("special:" + d.Type().String()))
			return nil
		}
		b, _ := os.ReadFile(p)
		out[p] = sha256.Sum256(b)
		return nil
	})
	return out
}

func sameTree(t *testing.T, what string, before, after map[string][32]byte) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("%s: %d files before, %d after", what, len(before), len(after))
	}
	for p, h := range before {
		if after[p] != h {
			t.Errorf("%s: %s changed", what, p)
		}
	}
}

// TestHostileInputsChangeNothing: run directories that are someone's
// folder (directly or through a symlink), readers pointed at /dev/zero
// or a FIFO, and a forged sweep manifest: each is refused in one line
// naming the culprit, quickly, and nothing on disk changes.
func TestHostileInputsChangeNothing(t *testing.T) {
	work := t.TempDir()
	mine := filepath.Join(work, "mydata")
	os.MkdirAll(mine, 0o755)
	os.WriteFile(filepath.Join(mine, "scalars.jsonl"), []byte(`{"mine":1}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644)
	link := filepath.Join(work, "link")
	os.Symlink(mine, link)
	zlink := filepath.Join(work, "zero.yaml")
	os.Symlink("/dev/zero", zlink)
	fifo := filepath.Join(work, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// A sweep whose manifest names a trial outside the sweep.
	sw := filepath.Join(work, "sweep")
	os.MkdirAll(sw, 0o755)
	manifest, _ := json.Marshal(map[string]any{"version": 1, "trials": []map[string]any{{"index": 0, "name": "../../../../tmp/x"}}})
	os.WriteFile(filepath.Join(sw, "sweep.json"), manifest, 0o644)

	// Diagram files whose dimension would size the comparison.
	hugeJSON := filepath.Join(work, "huge.json")
	os.WriteFile(hugeJSON, []byte(`{"diagrams":[{"dim":1000000000,"pairs":[[0,1]]}]}`), 0o644)
	good := filepath.Join(work, "good.npz")
	diagram.WriteNPZ(good, []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 1}}}})
	hugeNPZ := filepath.Join(work, "huge.npz")
	matio.WriteNPZ(hugeNPZ, []matio.NamedArray{{Name: "dgm99999999999", Matrix: sdk.Matrix{Rows: 1, Cols: 2, Data: []float64{0, 1}}}})
	negNPZ := filepath.Join(work, "neg.npz")
	matio.WriteNPZ(negNPZ, []matio.NamedArray{{Name: "dgm-5", Matrix: sdk.Matrix{Rows: 1, Cols: 2, Data: []float64{0, 1}}}})
	// Run directories with records no run writes.
	hugeStep := filepath.Join(work, "huge-step")
	os.MkdirAll(hugeStep, 0o755)
	os.WriteFile(filepath.Join(hugeStep, "scalars.jsonl"), []byte(`{"step":9223372036854775807,"update":1,"values":{"charts/episodic_return":1}}`+"\n"), 0o644)
	negDim := filepath.Join(work, "neg-dim")
	os.MkdirAll(negDim, 0o755)
	os.WriteFile(filepath.Join(negDim, "topology.jsonl"), []byte(`{"step":1,"update":1,"cloud":"input","net":"input","points":5,"dim":2,"summary":{"dims":[{"dim":-5,"betti":1}]}}`+"\n"), 0o644)
	// A sweep whose grid gives a parameter outside its declared range.
	rangeSpec := filepath.Join(work, "range.yaml")
	os.WriteFile(rangeSpec, []byte("grid:\n  algo_params: [\"clip_obs=1\", \"clip_obs=-1\"]\n"), 0o644)
	bins(t) // built before the clock starts
	before := treeHash(t, work)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"run-dir holds user files", []string{"run", "--run-dir", mine}, "is not empty (it holds"},
		{"run-dir symlink to user files", []string{"run", "--run-dir", link}, "-> " + mine},
		{"run-dir /etc", []string{"run", "--run-dir", "/etc"}, "/etc is not empty"},
		{"config /dev/zero", []string{"run", "--config", "/dev/zero"}, "not a regular file"},
		{"config symlink to /dev/zero", []string{"run", "--config", zlink}, "not a regular file"},
		{"config FIFO", []string{"run", "--config", fifo}, "named pipe"},
		{"sweep spec /dev/zero", []string{"sweep", "run", "/dev/zero", "--out", filepath.Join(work, "s2")}, "not a regular file"},
		{"plugin lock /dev/zero", []string{"plugins", "--plugin-lock", "/dev/zero"}, "not a regular file"},
		{"compare dim 1e9", []string{"compare", hugeJSON, good}, "dimension 1000000000"},
		{"compare dgm99999999999", []string{"compare", hugeNPZ, good}, "dgm99999999999"},
		{"compare dgm-5", []string{"compare", negNPZ, good}, "dgm-5"},
		{"report step 2^63-1", []string{"report", hugeStep}, "step 9223372036854775807"},
		{"report dimension -5", []string{"report", negDim}, "dimension -5"},
		{"dist-param k=100000", []string{"run", "--dist-param", "k=100000", "--run-dir", filepath.Join(work, "r-k")}, "k must be in 1..tda_samples-1 (got 100000)"},
		{"--k 5 --dist-param k=7", []string{"run", "--k", "5", "--dist-param", "k=7", "--run-dir", filepath.Join(work, "r-k")}, "disagree"},
		{"sweep run run-dir escapes", []string{"sweep", "run", "/dev/zero", "--out", filepath.Join(work, "s3")}, "not a regular file"},
		{"bench --repeat 0", []string{"bench", "ph", "--repeat", "0", "--workload", "W1"}, "--repeat 0"},
		{"bench --timeout -5s", []string{"bench", "ph", "--timeout", "-5s", "--workload", "W1"}, "--timeout -5s"},
		{"bench --mem-limit -1", []string{"bench", "ph", "--mem-limit", "-1", "--workload", "W1"}, "--mem-limit -1"},
		{"plugin-dir missing", []string{"plugins", "--plugin-dir", filepath.Join(work, "nonexistent")}, "not a folder"},
		{"sweep trial escapes", []string{"sweep", "status", sw}, `"../../../../tmp/x"`},
		{"ph-param out of range", []string{"run", "--ph-param", "sparse=1", "--run-dir", filepath.Join(work, "r-range")}, `ph plugin "rips" parameter sparse: 1 is out of range (must be [0, 1))`},
		{"sweep grid out of range", []string{"sweep", "run", rangeSpec, "--out", filepath.Join(work, "s-range")}, `trial 1 (algo_params-clip_obs_-1): algo_params: algo plugin "ppo" parameter clip_obs: -1 is out of range (must be >= 0)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t0 := time.Now()
			_, errs, code := nthost(t, work, c.args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if code == 0 || len(lines) != 1 || !strings.Contains(errs, c.want) {
				t.Fatalf("want exit != 0 and one line containing %q; exit %d, stderr:\n%s", c.want, code, errs)
			}
			if d := time.Since(t0); d > 30*time.Second {
				t.Errorf("took %v", d)
			}
			t.Logf("%s", lines[0])
		})
	}
	if _, errs, code := nthostEnv(t, work, []string{"NT_MEMORY_BUDGET=lots"}, "plugins"); code == 0 || !strings.Contains(errs, "NT_MEMORY_BUDGET=lots") {
		t.Errorf("NT_MEMORY_BUDGET=lots: exit %d: %s", code, errs)
	}
	sameTree(t, "work folder", before, treeHash(t, work))
	for _, d := range []string{"r-range", "s-range"} {
		if _, err := os.Stat(filepath.Join(work, d)); err == nil {
			t.Errorf("a refused command made %s", d)
		}
	}
	if _, err := os.Stat("/tmp/x"); err == nil {
		t.Log("/tmp/x exists (not necessarily ours)")
	}
}

// TestReportOnExtremeReturns: returns of +-1.797e308 (finite, but their
// span is not) once sent the report's tick loops spinning forever.
func TestReportOnExtremeReturns(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "scalars.jsonl"), []byte(`{"step":1,"update":1,"values":{"charts/episodic_return":1.797e308}}`+"\n"+
		`{"step":2,"update":2,"values":{"charts/episodic_return":-1.797e308}}`+"\n"+`{"step":3,"update":3,"values":{"charts/episodic_return":5}}`+"\n"), 0o644)
	bins(t)
	t0 := time.Now()
	_, errs, code := nthost(t, dir, "report", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if d := time.Since(t0); d > time.Minute {
		t.Errorf("report took %v", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Error(err)
	}
}

// TestSignalEndsBlockedCommand: a command blocked where no context
// reaches (tda reading a FIFO nobody writes) still ends on SIGTERM
// within seconds, with 128+15.
func TestSignalEndsBlockedCommand(t *testing.T) {
	work := t.TempDir()
	fifo := filepath.Join(work, "points.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(filepath.Join(bins(t), "nthost"), "tda", "--points", fifo, "--out", filepath.Join(work, "o.json"))
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=")
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		t0 := time.Now()
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%v: nthost tda on a FIFO still running 30 s after the signal", sig)
		}
		if got, want := cmd.ProcessState.ExitCode(), 128+int(sig); got != want {
			t.Errorf("%v: exit %d, want %d; stderr %q", sig, got, want, errb.String())
		}
		t.Logf("%v: ended after %v: %s", sig, time.Since(t0).Round(time.Millisecond), strings.TrimSpace(errb.String()))
	}
}

// A plugin whose child calls setsid (leaving the plugin's process group
// and session) does not leave that child running once nthost has ended.
func TestSetsidChildGoneAfterHost(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	// It starts the child and then never prints a handshake line.
	script := "#!/bin/sh\nsetsid sleep 300 &\necho $! > " + pidFile + "\nexec sleep 60\n"
	if err := os.WriteFile(filepath.Join(dir, "nt-ph-setsid"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, errs, code := nthostEnv(t, dir, []string{"NT_PLUGIN_START_TIMEOUT=2s"}, "plugins", "--plugin-lock", "none", "--plugin-dir", dir, "setsid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the plugin did not start its child (exit %d: %s): %v", code, errs, err)
	}
	child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(child, 0); err != nil {
			return
		}
		if st, _ := os.ReadFile("/proc/" + strconv.Itoa(child) + "/stat"); strings.Contains(string(st), ") Z") {
			return
		}
	}
	syscall.Kill(child, syscall.SIGKILL)
	t.Fatalf("the setsid'd child %d of nt-ph-setsid outlived nthost (exit %d: %s)", child, code, errs)
}

// env rollout --out F stopped by SIGINT writes the steps done, whole
// (every line a record, numbered from 0), and says so in one line with
// exit code 130.
func TestRolloutInterruptedWritesWhatItHas(t *testing.T) {
	work := t.TempDir()
	out := filepath.Join(work, "traj.jsonl")
	cmd := exec.Command(filepath.Join(bins(t), "nthost"), "env", "rollout", "--env", "mujoco", "--env-id", "Hopper-v4", "--steps", "100000000", "--out", out)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=")
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("rollout still running 30 s after SIGINT")
	}
	if got := cmd.ProcessState.ExitCode(); got != 130 {
		t.Errorf("exit %d, want 130; stderr %s", got, errb.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("nothing written: %v; stderr %s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		var rec struct {
			Step *int `json:"step"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Step == nil || *rec.Step != i {
			t.Fatalf("line %d of %d is not record %d: %v %.80q", i+1, len(lines), i, err, l)
		}
	}
	msg := strings.TrimSpace(errb.String())
	msg = msg[strings.LastIndexByte(msg, '\n')+1:]
	if want := "stopped after " + strconv.Itoa(len(lines)) + " of 100000000 steps; they are written to " + out; !strings.Contains(msg, want) {
		t.Errorf("last stderr line %q, want %q", msg, want)
	}
	t.Logf("%d steps; %s", len(lines), msg)
}

// A plugin that runs out of memory under bench ph --mem-limit prints a
// Go runtime dump of hundreds of lines; nthost's stderr gets one line
// for it (the bench row's error, naming the plugin and the runtime's
// first crash line, which depends on which allocation failed: "fatal
// error: runtime: out of memory", "... cannot allocate memory", a
// thread that could not start, or a segmentation fault when a mapping
// fails where the runtime cannot report it), and the dump only at
// --log-level debug.
func TestMemLimitCrashIsOneLine(t *testing.T) {
	work := t.TempDir()
	args := []string{"bench", "ph", "--ph", "rips", "--workload", "W1", "--only", "W1a", "--mem-limit", "0.1", "--repeat", "1"}
	out, errs, code := nthost(t, work, args...)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 0 || len(lines) != 1 || !strings.Contains(errs, "nt-ph-rips crashed") || !(strings.Contains(errs, "fatal error: runtime: ") || strings.Contains(errs, "pthread_create failed") || strings.Contains(errs, "SIGSEGV")) {
		t.Fatalf("want exit 0 and one stderr line naming the crash; exit %d, %d lines:\n%s", code, len(lines), errs)
	}
	if !strings.Contains(out, "out of memory") && !strings.Contains(errs, "SIGSEGV") {
		t.Errorf("the bench's table does not say out of memory:\n%s", out)
	}
	_, errs, _ = nthost(t, work, append(args, "--log-level", "debug")...)
	if !strings.Contains(errs, "runtime stack:") && !strings.Contains(errs, "goroutine ") {
		t.Errorf("--log-level debug does not show the dump")
	}
}
