package sweep

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestArraySpec(t *testing.T) {
	for _, c := range []struct {
		idx  []int
		par  int
		want string
	}{
		{[]int{0, 1, 2, 3}, 2, "0-3%2"},
		{[]int{3, 0, 2, 5}, 0, "0,2-3,5"},
		{[]int{7}, 1, "7%1"},
	} {
		if got := ArraySpec(c.idx, c.par); got != c.want {
			t.Errorf("ArraySpec(%v, %d) = %q, want %q", c.idx, c.par, got, c.want)
		}
	}
}

func TestScript(t *testing.T) {
	s, _ := ParseSpec([]byte(tiny))
	m, err := Create(filepath.Join(t.TempDir(), "it's"), s)
	if err != nil {
		t.Fatal(err)
	}
	e := s.Executor
	e.Slurm.Extra = []string{"--qos=short"}
	script, err := m.Script("/opt/nt/nthost", []string{"--log-format", "json"}, []int{1, 3}, e)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(m.Dir())
	for _, want := range []string{"#!/bin/sh\n", "#SBATCH --array=1,3%2\n", "#SBATCH --cpus-per-task=1\n", "#SBATCH --mem=1G\n",
		"#SBATCH --time=00:10:00\n", "#SBATCH --partition=debug\n", "#SBATCH --requeue\n", "#SBATCH --qos=short\n",
		"#SBATCH --output=" + filepath.Join(abs, "logs", "slurm-%A_%a.out") + "\n",
		// The quote in the path survives sh.
		`exec '/opt/nt/nthost' sweep trial '` + strings.ReplaceAll(abs, "'", `'\''`) + `' --index "$SLURM_ARRAY_TASK_ID" '--log-format' 'json'`} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	// sh parses the exec line into the arguments we meant.
	line := script[strings.Index(script, "exec "):]
	out, err := exec.Command("sh", "-c", "SLURM_ARRAY_TASK_ID=3; set -- ; printf '%s\\n' "+strings.TrimPrefix(strings.TrimSpace(line), "exec ")).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"/opt/nt/nthost", "sweep", "trial", abs, "--index", "3", "--log-format", "json"}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("sh sees %q, want %q", out, want)
	}
}

// TestRunLocal drives the local executor with shell children standing in
// for `nthost sweep trial` (the host tests run the real one): at most
// Parallel at once, a failing child is reported with its run dir and log
// and the others go on. The child's last line (nthost's one-line error)
// is part of the report, so a bare exit status never hides the cause.
func TestRunLocal(t *testing.T) {
	spec, _ := ParseSpec([]byte("base: {total_timesteps: 100}\ngrid: {seed: [1, 2, 3, 4, 5]}\n"))
	m, err := Create(t.TempDir(), spec)
	if err != nil {
		t.Fatal(err)
	}
	active := filepath.Join(t.TempDir(), "active")
	os.MkdirAll(active, 0o755)
	peak := filepath.Join(active, "..", "peak")
	var progress bytes.Buffer
	out := m.RunLocal(context.Background(), m.Todo(), Local{
		Parallel: 2, Progress: &progress,
		Command: func(tr Trial) *exec.Cmd {
			run := m.RunDir(tr)
			script := fmt.Sprintf(`touch %[1]s/%[2]d; ls %[1]s | wc -l >> %[3]s; sleep 0.3; rm %[1]s/%[2]d; echo working on %[2]d`, active, tr.Index, peak)
			if tr.Index == 2 {
				script += "; exit 3"
			} else {
				script += fmt.Sprintf(`; mkdir -p %[1]s && printf '{"state":"done","time":"2026-12-02T00:00:00Z"}' > %[1]s/%[2]s`, run, MarkerFile)
			}
			return exec.Command("sh", "-c", script)
		},
	})
	if len(out.Done) != 4 || len(out.Failed) != 1 || out.Interrupted {
		t.Fatalf("outcome: %d done, %d failed, interrupted %v", len(out.Done), len(out.Failed), out.Interrupted)
	}
	f := out.Failed[0]
	if f.Index != 2 || !strings.Contains(f.Error, "exit status 3") {
		t.Errorf("failed trial: %+v", f)
	}
	if !strings.Contains(progress.String(), "trial 2 seed-3 failed: exit status 3: working on 2 (run dir "+m.RunDir(f.Trial)+", log "+m.LogPath(f.Trial)+")") {
		t.Errorf("progress does not name the failed trial:\n%s", progress.String())
	}
	if !strings.Contains(progress.String(), "sweep: 4/5 done, 0 running, 1 failed") {
		t.Errorf("final progress line:\n%s", progress.String())
	}
	b, _ := os.ReadFile(peak)
	most := 0
	for _, l := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(l)
		most = max(most, n)
	}
	if most < 1 || most > 2 {
		t.Errorf("%d children ran at once, want at most 2 (counts %q)", most, b)
	}
	if log, _ := os.ReadFile(m.LogPath(m.Trials[4])); !bytes.Contains(log, []byte("working on 4")) {
		t.Errorf("child output not in its log: %q", log)
	}
	// Only the failed trial is left to do.
	if todo := m.Todo(); len(todo) != 1 || todo[0].Index != 2 {
		t.Errorf("todo after the pass: %v", todo)
	}
}

// TestRunLocalInterrupt: when ctx ends, children get SIGINT and no new
// child starts; nothing counts as failed.
func TestRunLocalInterrupt(t *testing.T) {
	spec, _ := ParseSpec([]byte("grid: {seed: [1, 2, 3]}\n"))
	m, err := Create(t.TempDir(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 3)
	go func() { <-started; time.Sleep(200 * time.Millisecond); cancel() }()
	out := m.RunLocal(ctx, m.Todo(), Local{
		Parallel: 1,
		Command: func(tr Trial) *exec.Cmd {
			started <- struct{}{}
			return exec.Command("sh", "-c", `trap 'echo got INT; exit 130' INT; sleep 30 & wait`)
		},
	})
	if !out.Interrupted || len(out.Failed) != 0 || len(out.Done) != 0 {
		t.Fatalf("outcome: %+v", out)
	}
	if len(started) != 0 {
		t.Errorf("%d more children started after the interrupt", len(started))
	}
	if log, _ := os.ReadFile(m.LogPath(m.Trials[0])); !bytes.Contains(log, []byte("got INT")) {
		t.Errorf("the child did not get SIGINT: %q", log)
	}
}
