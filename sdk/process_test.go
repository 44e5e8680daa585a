package sdk_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// alive reports whether pid runs (a zombie waiting to be reaped does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// waitDead waits up to d for pid to end.
func waitDead(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if !alive(pid) {
			return true
		}
	}
	return !alive(pid)
}

// A plugin killed in the middle of a call while a child of it holds its
// stdout and stderr (gudhi's forked worker did): the call fails within a
// second naming the plugin, the child dies with it, and Close returns.
func TestKilledPluginWithChildIsNamedAndReaped(t *testing.T) {
	// Without NoRestart the killed plugin would be restarted and retried.
	c, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{NoRestart: true})
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	defer func() {
		go func() { c.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Error("Close hung on a killed plugin")
		}
	}()
	h, _ := c.PH()
	ds, err := h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 96})
	if err != nil {
		t.Fatal(err)
	}
	child := int(ds[0].Pairs[0][0])
	if !alive(child) {
		t.Fatalf("the fixture's child %d is not running", child)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 98})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond) // let the call reach the plugin
	pid := c.Pid()
	plugintest.KillMidCall(t, "nt-ph-faulty", pid, child, done)
	if !c.Exited() {
		t.Error("the client does not know the plugin exited")
	}
}

// Close kills a live plugin's children too.
func TestCloseKillsPluginChildren(t *testing.T) {
	c, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := c.PH()
	ds, err := h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 96})
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	child := int(ds[0].Pairs[0][0])
	start := time.Now()
	c.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Close took %v", took)
	}
	if !waitDead(child, 2*time.Second) {
		syscall.Kill(child, syscall.SIGKILL)
		t.Fatalf("the plugin's child %d outlived Close", child)
	}
}

// A stray file named like a plugin that leaves a background job holding
// its output (a shell script with `cmd &`) is refused at once, and the job
// is killed: discovery (`nthost plugins`) used to hang on it forever.
func TestStrayScriptWithBackgroundChildDoesNotHang(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := filepath.Join(dir, "nt-ph-stray")
	body := "#!/bin/sh\nsleep 300 &\necho $! > " + pidFile + "\nexit 0\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := sdk.Open(context.Background(), script, sdk.OpenOptions{StartTimeout: 10 * time.Second})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "nt-ph-stray") {
			t.Fatalf("want an error naming the script, got %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("opening a script that leaves a background job hung")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("refusing the script took %v", took)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if !waitDead(child, 2*time.Second) {
		syscall.Kill(child, syscall.SIGKILL)
		t.Fatalf("the script's background job %d survived", child)
	}
}

// A pure plugin that crashes once is started again and the call retried:
// the caller gets the answer and a new process serves it.
func TestCrashedPurePluginIsRestartedOnce(t *testing.T) {
	t.Setenv("NT_FAULTY_MARK", filepath.Join(t.TempDir(), "crashed"))
	c, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, _ := c.PH()
	first := c.Pid()
	m := sdk.NewMatrix(3, 3)
	ds, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &m, MaxDim: 95})
	if err != nil {
		t.Fatalf("a plugin that crashes once must be restarted and the call retried; got %v", err)
	}
	if got := ds[0].Pairs[0][0]; got != 9 {
		t.Fatalf("the retried call answered %v, want 9", got)
	}
	if c.Restarts() != 1 || c.Pid() == first || c.Pid() == 0 {
		t.Fatalf("want one restart and a new process; restarts %d, pid %d then %d", c.Restarts(), first, c.Pid())
	}
	// The new process serves later calls too.
	if _, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &m}); err != nil {
		t.Fatal(err)
	}
}

// A plugin that crashes on the retried call too stops with one line.
func TestSecondCrashGivesUp(t *testing.T) {
	c, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, _ := c.PH()
	_, err = h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 99})
	if err == nil || !strings.Contains(err.Error(), "crashed again") || !strings.Contains(err.Error(), "nt-ph-faulty") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line saying the plugin crashed again, got %q", err)
	}
	if c.Restarts() != 1 {
		t.Fatalf("want exactly one restart, got %d", c.Restarts())
	}
}

// A plugin's child that leaves its process group and session (setsid)
// dies with the plugin all the same, on Close and when the plugin
// crashes.
func TestSetsidChildDiesWithPlugin(t *testing.T) {
	for _, crash := range []bool{false, true} {
		c, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{NoRestart: true})
		if err != nil {
			t.Fatal(err)
		}
		h, _ := c.PH()
		ds, err := h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 93})
		if err != nil {
			c.Close()
			t.Fatal(err)
		}
		child := int(ds[0].Pairs[0][0])
		time.Sleep(100 * time.Millisecond) // setsid has exec'd sleep
		if !alive(child) {
			t.Fatalf("the setsid'd child %d is not running", child)
		}
		if crash {
			h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 99})
		}
		c.Close()
		if !waitDead(child, 3*time.Second) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("crash=%v: the setsid'd child %d outlived its plugin", crash, child)
		}
	}
}
