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
	"github.com/neuraltopology/neuraltopology/sdk"
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

// copyFile copies an executable.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestPluginLockRefusesTamperedBinaries: with the lock `nthost plugins
// lock` writes beside nthost, a locked plugin runs; the same plugin with
// one byte appended, or a plugin the lock does not list, is refused in one
// line before it starts, by the main tools and by `plugin test`.
func TestPluginLockRefusesTamperedBinaries(t *testing.T) {
	dir := t.TempDir()
	b := filepath.Join(dir, "b")
	if err := os.Mkdir(b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"nthost", "nt-dist-euclid"} {
		copyFile(t, filepath.Join(bins(t), f), filepath.Join(b, f))
	}
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(filepath.Join(b, "nthost"), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=", "NT_PLUGIN_LOCK=")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), errb.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), 0
	}
	out, errs, code := run("plugins", "lock")
	lockPath := filepath.Join(b, "plugins.lock.json")
	if code != 0 || !strings.Contains(out, "locked 1 plugin in "+lockPath) {
		t.Fatalf("nthost plugins lock: exit %d: %s%s", code, out, errs)
	}
	lock, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(b, "nt-dist-euclid")
	want := sha256File(t, bin)
	for _, s := range []string{`"kind": "dist"`, `"name": "euclid"`, `"version": "0.1.0"`, `"path": "nt-dist-euclid"`, `"sha256": "` + want + `"`} {
		if !strings.Contains(string(lock), s) {
			t.Errorf("the lock lacks %s:\n%s", s, lock)
		}
	}
	pts := filepath.Join(dir, "p.csv")
	if err := os.WriteFile(pts, []byte("0,0\n1,0\n0,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dist := []string{"dist", "--points", pts, "--metric", "euclid", "--out", filepath.Join(dir, "d.npy")}
	if _, errs, code := run(dist...); code != 0 {
		t.Fatalf("the locked plugin was refused: exit %d: %s", code, errs)
	}

	// A plugin the lock does not list never runs.
	extra := filepath.Join(dir, "extra")
	if err := os.Mkdir(extra, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "ran")
	if err := os.WriteFile(filepath.Join(extra, "nt-ph-x"), []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, errs, code = run("tda", "--plugin-dir", extra, "--ph", "x", "--points", pts, "--out", filepath.Join(dir, "t.npz"))
	if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "is not in the plugin lock "+lockPath) {
		t.Errorf("a plugin missing from the lock: exit %d, want 1 and one line naming the lock: %s", code, errs)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a plugin missing from the lock was executed")
	}
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	got := sha256File(t, bin)
	for _, args := range [][]string{dist, {"plugin", "test", bin}} {
		_, errs, code := run(args...)
		line := strings.TrimSpace(errs)
		if code != 1 || strings.Count(line, "\n") != 0 {
			t.Fatalf("%v on a tampered plugin: exit %d, want 1 and one line: %s", args, code, errs)
		}
		for _, s := range []string{"nt-dist-euclid", "expected sha256 " + want, "actual " + got, "nthost plugins lock"} {
			if !strings.Contains(line, s) {
				t.Errorf("%v: the refusal lacks %q: %s", args, s, line)
			}
		}
	}

	// Refreshing the lock accepts the rebuilt binary.
	if _, errs, code := run("plugins", "lock"); code != 0 {
		t.Fatalf("refreshing the lock: exit %d: %s", code, errs)
	}
	if _, errs, code := run(dist...); code != 0 {
		t.Errorf("the plugin was refused after the lock was refreshed: exit %d: %s", code, errs)
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	s, err := sdk.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
