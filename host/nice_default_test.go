package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/runstore"
)

// TestDefaultRunNicesHomology: by default a run starts the dist and ph
// plugins at niceness 10 and the env and algo plugins at 0, so training
// gets the CPU first (docs/benchmarks.md, "The main job": the default
// Hopper-v4 job 165 s against 186 s with all at 0); --snapshot-nice 0
// starts them all at 0.
func TestDefaultRunNicesHomology(t *testing.T) {
	for _, tc := range []struct {
		flags    []string
		homology int
	}{{nil, 10}, {[]string{"--snapshot-nice", "0"}, 0}} {
		dir := t.TempDir()
		args := append([]string{"--env-id", "Hopper-v4", "--total-timesteps", "50000000",
			"--no-report", "--run-dir", "run", "--log-level", "warn"}, tc.flags...)
		cmd := exec.Command(filepath.Join(bins(t), "nthost"), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(dir, "run", runstore.TransportFile)); err == nil {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the run did not start within a minute")
			}
		}
		got := map[string]int{}
		for _, p := range pluginProcesses(t) {
			f := strings.Fields(p)
			stat, err := os.ReadFile("/proc/" + f[0] + "/stat")
			if err != nil {
				continue
			}
			// Fields after the command's closing parenthesis: state is
			// the 3rd field of stat, ppid the 4th, nice the 19th.
			sf := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
			if len(sf) < 17 || sf[1] != strconv.Itoa(cmd.Process.Pid) {
				continue
			}
			nice, _ := strconv.Atoi(sf[16])
			got[filepath.Base(f[1])] = nice
		}
		cmd.Process.Kill()
		cmd.Wait()
		// nice(1) adds to the niceness nthost inherits from the test
		// (a CI job may itself run niced), up to 19.
		base := ownNiceness(t)
		h := min(19, base+tc.homology)
		want := map[string]int{"nt-env-mujoco": base, "nt-algo-ppo": base, "nt-dist-geodesic": h, "nt-ph-rips": h}
		for name, n := range want {
			if g, ok := got[name]; !ok || g != n {
				t.Errorf("flags %v: %s at niceness %d (found: %v), want %d", tc.flags, name, g, ok, n)
			}
		}
	}
}

// ownNiceness is this process's niceness, from /proc/self/stat.
func ownNiceness(t *testing.T) int {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	sf := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	n, err := strconv.Atoi(sf[16])
	if err != nil {
		t.Fatalf("niceness in /proc/self/stat: %v", err)
	}
	return n
}
