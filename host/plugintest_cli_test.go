package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestPluginTestJSONAndSIGTERM: `nthost plugin test --json` on a homology
// plugin that hangs in H0 and ignores cancellation prints one JSON object
// per check; SIGTERM while it hangs ends nthost within seconds, the check
// reported as interrupted, the rest as skipped, and the plugin process
// killed. --timeout 0 is refused.
func TestPluginTestJSONAndSIGTERM(t *testing.T) {
	dir := bins(t)
	// The kit's own test plugins (sdk/plugintest/testdata/broken): one
	// program serving each name it is started by.
	bin := filepath.Join(t.TempDir(), "nt-ph-hang")
	build := exec.Command("go", "build", "-o", bin, "./plugintest/testdata/broken")
	build.Dir = "../sdk"
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test plugin: %v\n%s", err, out)
	}
	if _, errs, code := nthost(t, t.TempDir(), "plugin", "test", "--timeout", "0s", bin); code == 0 || !strings.Contains(errs, "--timeout 0s: want a duration > 0") {
		t.Errorf("--timeout 0s: exit %d: %s", code, errs)
	}

	cmd := exec.Command(filepath.Join(dir, "nthost"), "plugin", "test", "--json", "--timeout", "5m", bin)
	cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// homology/H0, the third check, hangs: wait until the plugin runs,
	// then long enough for the first two.
	pid := 0
	for end := time.Now().Add(30 * time.Second); pid == 0 && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
		pid = processOf(bin)
	}
	time.Sleep(2 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("nthost plugin test did not end within 15 s of SIGTERM\n%s%s", out.String(), errb.String())
	}
	t.Logf("ended %v after SIGTERM with exit %d: %s", time.Since(sent).Round(time.Millisecond), cmd.ProcessState.ExitCode(), strings.TrimSpace(errb.String()))
	if cmd.ProcessState.ExitCode() == 0 {
		t.Errorf("an interrupted kit exited 0")
	}
	// The checks before the interrupted one (homology/H0, or one before
	// it on a slow machine) pass, the rest are skipped.
	want, sawH0 := "pass ", false
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r plugintest.Result
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Name == "" || r.Status == "" {
			t.Fatalf("stdout line %q is not a check's JSON object (%v)\n%s", l, err, out.String())
		}
		got := r.Status + " " + r.Message
		switch {
		case want == "pass " && got == "fail interrupted":
			want = "skip interrupted"
		case got != want || (r.Name == "homology/H0" && want == "pass "):
			t.Errorf("%s: %q, want %q\n%s", r.Name, got, want, out.String())
		}
		sawH0 = sawH0 || r.Name == "homology/H0"
	}
	if want != "skip interrupted" || !sawH0 {
		t.Errorf("no check interrupted, or homology/H0 missing:\n%s", out.String())
	}
	if pid == 0 {
		t.Fatalf("no plugin process found under nthost")
	}
	for end := time.Now().Add(5 * time.Second); plugintest.Running(pid) && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if plugintest.Running(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("plugin process %d outlived nthost", pid)
	}
}

// processOf returns the pid of a running process started as bin, or 0.
func processOf(bin string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(bytes.SplitN(b, []byte{0}, 2)[0]) == bin && plugintest.Running(pid) {
			return pid
		}
	}
	return 0
}
