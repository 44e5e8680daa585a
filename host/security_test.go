package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/runstore"
)

// childPids lists the direct children of process pid.
func childPids(t *testing.T, pid int) []int {
	t.Helper()
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// socketDirs lists the plugin socket folders in tmp.
func socketDirs(t *testing.T, tmp string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(tmp, "nt-plugins-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestKilledHostLeavesNoSocketsBehind: a training run's nthost and its
// plugins killed with SIGKILL leave their socket folder in the temp
// folder; the next nthost to start removes it, and removes its own on the
// way out.
func TestKilledHostLeavesNoSocketsBehind(t *testing.T) {
	dir := t.TempDir()
	// Socket paths must fit 107 bytes; t.TempDir's names are long.
	tmp, err := os.MkdirTemp("", "ntk")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	env := []string{"TMPDIR=" + tmp}
	cmd := exec.Command(filepath.Join(bins(t), "nthost"), "--env-id", "Hopper-v4", "--total-timesteps", "50000000",
		"--topology-analysis-interval", "0", "--no-report", "--run-dir", "run", "--log-level", "warn")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NT_PLUGIN_DIR="), env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "run", runstore.TransportFile)); err == nil {
			break
		}
		if st, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat"); err != nil || strings.Contains(string(st), ") Z ") {
			t.Fatalf("nthost ended before the run started: %s", errb.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not start within 3 minutes: %s", errb.String())
		}
	}
	stale := socketDirs(t, tmp)
	if len(stale) != 1 || !strings.Contains(filepath.Base(stale[0]), "-"+strconv.Itoa(cmd.Process.Pid)+"-") {
		t.Fatalf("want one socket folder named with nthost's pid %d in %s, have %v", cmd.Process.Pid, tmp, stale)
	}
	socks, _ := filepath.Glob(filepath.Join(stale[0], "*", "*"))
	if len(socks) < 2 {
		t.Fatalf("want the env and algo plugins' sockets under %s, have %v", stale[0], socks)
	}
	plugins := childPids(t, cmd.Process.Pid)
	if len(plugins) < 2 {
		t.Fatalf("want the env and algo plugin processes, have %v", plugins)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, p := range plugins {
		_ = syscall.Kill(-p, syscall.SIGKILL) // each plugin leads its own group
	}
	_ = cmd.Wait()
	if _, err := os.Stat(stale[0]); err != nil {
		t.Fatalf("the killed host's socket folder is already gone (%v): the test shows nothing", err)
	}

	out, errs, code := nthostEnv(t, dir, env, "plugins")
	if code != 0 {
		t.Fatalf("nthost plugins: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "mujoco") {
		t.Fatalf("nthost plugins did not start the plugins:\n%s", out)
	}
	if _, err := os.Stat(stale[0]); !os.IsNotExist(err) {
		t.Errorf("the killed host's socket folder %s is still there after the next start (%v)", stale[0], err)
	}
	if left := socketDirs(t, tmp); len(left) != 0 {
		t.Errorf("nthost plugins left socket folders behind: %v", left)
	}
}
