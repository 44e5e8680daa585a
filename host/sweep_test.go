package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/provenance"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/sweep"
	"github.com/neuraltopology/neuraltopology/core/sweepreport"
)

// tinySweep is the test sweep: InvertedPendulum-v4, 2 seeds x 2
// learning rates, 6 updates of 512 steps with a small snapshot and a
// checkpoint after every update.
const tinySweep = `base:
  env_id: InvertedPendulum-v4
  total_timesteps: 3072
  num_steps: 512
  num_minibatches: 4
  update_epochs: 2
  hidden_size: [16, 16]
  tda_samples: 60
  k: 5
  topology_analysis_interval: 1
  save_checkpoint_interval: 1
grid:
  seed: [1, 2]
  learning_rate: [0.0003, 0.001]
executor:
  kind: slurm
  parallel: 2
  slurm: {partition: debug, cpus_per_task: 1, mem: 1G, time: "00:10:00"}
`

func writeSpec(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// results are a run's records with the wall-clock parts taken out, for
// comparing two runs that should have computed the same thing.
func results(t *testing.T, dir string) ([]summary.TopologyRecord, []summary.ScalarRecord) {
	t.Helper()
	topo, err := summary.ReadTopology(filepath.Join(dir, summary.TopologyFile))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := summary.ReadScalars(filepath.Join(dir, summary.ScalarsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := range topo {
		topo[i].Seconds = 0
	}
	for i := range sc {
		delete(sc[i].Values, "charts/SPS")
	}
	return topo, sc
}

// noDuplicates fails if a run's logs hold a snapshot or an update twice
// (what a resume that kept records made after its checkpoint would do),
// or miss one.
func noDuplicates(t *testing.T, dir string, updates int) {
	t.Helper()
	topo, err := summary.ReadTopology(filepath.Join(dir, summary.TopologyFile))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range topo {
		k := fmt.Sprint(r.Step, r.Cloud)
		if seen[k] {
			t.Errorf("%s: snapshot %d %s is logged twice", dir, r.Step, r.Cloud)
		}
		seen[k] = true
	}
	sc, err := summary.ReadScalars(filepath.Join(dir, summary.ScalarsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc) != updates {
		t.Errorf("%s: %d update records, want %d", dir, len(sc), updates)
	}
	for i, r := range sc {
		if r.Update != i+1 {
			t.Errorf("%s: record %d is update %d", dir, i, r.Update)
		}
	}
}

// trialPID finds the nthost process running trial index of the sweep in
// dir.
func trialPID(dir string, index int) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 5 && args[1] == "sweep" && args[2] == "trial" && args[3] == dir && args[4] == "--index" && args[5] == fmt.Sprint(index) {
			return pid
		}
	}
	return 0
}

// waitCheckpoint waits until a run has a checkpoint but is not done.
func waitCheckpoint(t *testing.T, runDir string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(runDir, runstore.StateFile)); err == nil {
			if _, err := os.Stat(filepath.Join(runDir, sweep.MarkerFile)); err == nil {
				t.Fatalf("%s finished before the test could stop it", runDir)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s has no checkpoint after %v", runDir, timeout)
}

// TestSweepSlurm runs the tiny sweep through a real SLURM: sbatch job
// array, one array task killed with kill -9 after its first checkpoint,
// `nthost sweep run` resubmitting only that trial, which continues from
// its checkpoint; then compares every trial with a sweep that was never
// interrupted (run by the local executor).
func TestSweepSlurm(t *testing.T) {
	env := startSlurm(t)
	work := t.TempDir()
	spec := writeSpec(t, work, tinySweep)
	a := filepath.Join(work, "a")

	// --dry-run prints the job-array script and submits nothing.
	out, errs, code := nthostEnv(t, work, env, "sweep", "run", spec, "--out", a, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: %d %s", code, errs)
	}
	for _, want := range []string{"#SBATCH --array=0-3%2", "#SBATCH --cpus-per-task=1", "#SBATCH --mem=1G", "#SBATCH --time=00:10:00",
		"#SBATCH --partition=debug", "#SBATCH --requeue", "#SBATCH --output=" + filepath.Join(a, "logs", "slurm-%A_%a.out"),
		`sweep trial '` + a + `' --index "$SLURM_ARRAY_TASK_ID"`} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run script lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(a); err == nil {
		t.Fatal("--dry-run wrote the sweep directory")
	}

	out, errs, code = nthostEnv(t, work, env, "sweep", "run", spec, "--out", a, "--no-wait")
	if code != 0 || !strings.Contains(errs, "submitted job 1, array 0-3%2") {
		t.Fatalf("submit: %d %s %s", code, out, errs)
	}
	m, err := sweep.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	// Kill trial 0's nthost, as a node failure would, after a checkpoint.
	run0 := m.RunDir(m.Trials[0])
	waitCheckpoint(t, run0, 90*time.Second)
	pid := trialPID(a, 0)
	if pid == 0 {
		t.Fatal("no nthost process runs trial 0")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Killed after a checkpoint and before its end marker: stopped. On a
	// quiet machine the tiny trial may have logged its last update (its
	// step then reads as the total) and been killed while it wrote its
	// report; either way it must continue from its checkpoint below.
	// Its plugins notice the orphaning and exit within seconds; until
	// then they hold the trial's lock and it reads as running.
	killedAt := m.TrialStatus(m.Trials[0])
	for deadline := time.Now().Add(20 * time.Second); killedAt.State == sweep.StateRunning && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		killedAt = m.TrialStatus(m.Trials[0])
	}
	if killedAt.State != sweep.StateStopped {
		t.Fatalf("after kill -9: %+v", killedAt)
	}

	// sweep run on the directory resubmits only trial 0 and waits for all.
	out, errs, code = nthostEnv(t, work, env, "sweep", "run", a)
	if code != 0 {
		t.Fatalf("continue: %d\n%s\n%s\n%s", code, out, errs, logTails(a))
	}
	// Each array task has a job id of its own, so the second array's id is
	// whatever SLURM hands out next.
	sub := regexp.MustCompile(`submitted job (\d+), array 0%2 `).FindStringSubmatch(errs)
	if !strings.Contains(out, "4 of 4 trials done") || sub == nil {
		t.Fatalf("continue said:\n%s\n%s", out, errs)
	}
	jobs, _ := os.ReadFile(filepath.Join(a, sweep.SlurmDir, sweep.JobsFile))
	if string(jobs) != "1 0-3\n"+sub[1]+" 0\n" {
		t.Errorf("jobs.txt = %q, want the array 0-3 and then trial 0 alone", jobs)
	}
	resumed, _ := os.ReadFile(filepath.Join(a, sweep.LogsDir, "slurm-"+sub[1]+"_0.out"))
	if !bytes.Contains(resumed, []byte("--resume "+run0)) || !bytes.Contains(resumed, []byte("resuming from checkpoint")) {
		t.Errorf("trial 0 did not continue from its checkpoint:\n%s", resumed)
	}
	for i := 1; i < 4; i++ {
		b, _ := os.ReadFile(filepath.Join(a, sweep.LogsDir, fmt.Sprintf("slurm-1_%d.out", i)))
		if n := bytes.Count(b, []byte("run starting")); n != 1 {
			t.Errorf("trial %d started %d times, want once", i, n)
		}
	}
	for _, tr := range m.Trials {
		noDuplicates(t, m.RunDir(tr), 6)
	}
	out, _, code = nthostEnv(t, work, env, "sweep", "status", a)
	if code != 0 || !strings.Contains(out, "4 trials: 4 done") {
		t.Errorf("status: %s", out)
	}
	if _, err := os.Stat(filepath.Join(a, sweepreport.HTMLFile)); err != nil {
		t.Errorf("merged report: %v", err)
	}
	claims, err := os.ReadFile(filepath.Join(a, sweepreport.Dir, sweepreport.ClaimsCSV))
	if err != nil || !bytes.Contains(claims, []byte("InvertedPendulum-v4__learning_rate-0.001,exploratory,actor/trend/total/persistent,")) {
		t.Errorf("claims.csv: %v\n%s", err, claims)
	}
	// The sweep records each nthost that ran it: the first run and the
	// continuation.
	if recs, err := provenance.Read(filepath.Join(a, provenance.File)); err != nil || len(recs) < 2 {
		t.Errorf("sweep provenance: %v, %d records, want one per sweep run", err, len(recs))
	}
	// The Markdown results name the code that made every trial.
	out, errs, code = nthostEnv(t, work, env, "report", "--markdown", a)
	if code != 0 || !strings.Contains(out, "Trials: 4 of 4 done. Provenance: code ") || strings.Contains(out, "no provenance") || strings.Contains(out, "versions of the code") {
		t.Errorf("report --markdown: %d\n%s\n%s", code, out, errs)
	}

	// The same spec, never interrupted, through the local executor.
	b := filepath.Join(work, "b")
	out, errs, code = nthostEnv(t, work, env, "sweep", "run", spec, "--out", b, "--executor", "local", "--parallel", "2")
	if code != 0 {
		t.Fatalf("local sweep: %d\n%s\n%s", code, out, errs)
	}
	for _, tr := range m.Trials {
		ta, sa := results(t, m.RunDir(tr))
		tb, sb := results(t, filepath.Join(b, sweep.RunsDir, tr.Name))
		if !reflect.DeepEqual(ta, tb) {
			t.Errorf("trial %s: topology differs from the uninterrupted sweep's (%d vs %d records)", tr.Name, len(ta), len(tb))
		}
		if !reflect.DeepEqual(sa, sb) {
			t.Errorf("trial %s: training scalars differ from the uninterrupted sweep's", tr.Name)
			for i := range min(len(sa), len(sb)) {
				if !reflect.DeepEqual(sa[i], sb[i]) {
					t.Logf("first difference at update %d:\n resumed  %v\n straight %v", sa[i].Update, sa[i].Values, sb[i].Values)
					break
				}
			}
		}
	}
}

// TestSweepLocalFailureAndInterrupt: a trial that fails is named with its
// run directory and log while the other completes; Ctrl-C stops a local
// sweep and a later run continues it from the checkpoint.
func TestSweepLocalFailureAndInterrupt(t *testing.T) {
	work := t.TempDir()
	spec := writeSpec(t, work, strings.Replace(strings.Replace(tinySweep, "seed: [1, 2]", "env_id: [InvertedPendulum-v4, NoSuchTask-v9]", 1), "learning_rate: [0.0003, 0.001]", "", 1))
	dir := filepath.Join(work, "f")
	out, errs, code := nthost(t, work, "sweep", "run", spec, "--out", dir, "--executor", "local", "--parallel", "2", "--no-report")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s\n%s", code, out, errs)
	}
	run1 := filepath.Join(dir, "runs", "env_id-NoSuchTask-v9")
	log1 := filepath.Join(dir, "logs", "env_id-NoSuchTask-v9.log")
	if !strings.Contains(errs, "trial 1 env_id-NoSuchTask-v9 failed: ") || !strings.Contains(errs, "(run dir "+run1+", log "+log1+")") {
		t.Errorf("the failing trial is not named with its run dir and log:\n%s", errs)
	}
	if !strings.Contains(out, "1 of 2 trials done") || !strings.Contains(errs, "1 trial(s) failed: env_id-NoSuchTask-v9") {
		t.Errorf("summary:\n%s\n%s", out, errs)
	}
	out, _, _ = nthost(t, work, "sweep", "status", dir)
	if !strings.Contains(out, "failed") || !strings.Contains(out, "1 done") {
		t.Errorf("status:\n%s", out)
	}
	// Another spec on the same directory is refused; nothing is touched.
	other := writeSpec(t, t.TempDir(), strings.Replace(tinySweep, "k: 5", "k: 6", 1))
	_, errs, code = nthost(t, work, "sweep", "run", other, "--out", dir, "--executor", "local")
	if code != 1 || !strings.Contains(errs, "holds a sweep of a different spec") {
		t.Errorf("different spec: %d %s", code, errs)
	}

	// Ctrl-C: one trial, stopped after its first checkpoint, then continued.
	// 40 updates, not the tiny sweep's 6: those can all end between the
	// first checkpoint and the signal now that a snapshot takes
	// milliseconds, and then there is nothing to continue.
	one := writeSpec(t, t.TempDir(), strings.NewReplacer("seed: [1, 2]", "seed: [3]", "learning_rate: [0.0003, 0.001]", "", "total_timesteps: 3072", "total_timesteps: 20480").Replace(tinySweep))
	idir := filepath.Join(work, "i")
	cmd := exec.Command(filepath.Join(bins(t), "nthost"), "sweep", "run", one, "--out", idir, "--executor", "local", "--no-report")
	cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=")
	var ebuf bytes.Buffer
	cmd.Stderr = &ebuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(idir, "runs", "seed-3")
	waitCheckpoint(t, runDir, 60*time.Second)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("after Ctrl-C: %v\n%s", err, ebuf.String())
	}
	if trialPID(idir, 0) != 0 {
		t.Error("the trial's process outlived the interrupted sweep")
	}
	var st runstore.State
	b, _ := os.ReadFile(filepath.Join(runDir, runstore.StateFile))
	if json.Unmarshal(b, &st) != nil || st.Step >= 20480 {
		t.Fatalf("interrupted trial's checkpoint: %s", b)
	}
	out, errs, code = nthost(t, work, "sweep", "run", idir, "--executor", "local", "--no-report")
	if code != 0 || !strings.Contains(out, "1 of 1 trials done") {
		t.Fatalf("continue: %d\n%s\n%s", code, out, errs)
	}
	log, _ := os.ReadFile(filepath.Join(idir, "logs", "seed-3.log"))
	if !bytes.Contains(log, []byte("resuming from checkpoint")) {
		t.Errorf("the continued trial did not resume:\n%s", log)
	}
	noDuplicates(t, runDir, 40)
}

// TestSweepBadInput: each mistake gets one line naming the culprit.
func TestSweepBadInput(t *testing.T) {
	work := t.TempDir()
	for _, c := range []struct{ spec, want string }{
		{"grid:\n  sead: [1, 2]\n", `unknown key "sead"`},
		{"grid:\n  seed: []\n", "seed is an empty list"},
		{"grid:\n  seed: [1, 2, 1]\n", "duplicate trials"},
	} {
		_, errs, code := nthost(t, work, "sweep", "run", writeSpec(t, t.TempDir(), c.spec), "--out", filepath.Join(work, "x"))
		if code != 1 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("spec %q: exit %d, stderr %q, want one line with %q", c.spec, code, errs, c.want)
		}
	}
	spec := writeSpec(t, work, tinySweep)
	// No sbatch on PATH: the Debian package is named, nothing is written.
	_, errs, code := nthostEnv(t, work, []string{"PATH=/nonexistent"}, "sweep", "run", spec, "--out", filepath.Join(work, "s"))
	if code != 1 || !strings.Contains(errs, "sbatch not found") || !strings.Contains(errs, "slurm-client") {
		t.Errorf("no sbatch: %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(work, "s")); err == nil {
		t.Error("a sweep directory was made although sbatch is missing")
	}
	// A directory holding something else is refused and left alone.
	busy := filepath.Join(work, "busy")
	os.MkdirAll(busy, 0o755)
	os.WriteFile(filepath.Join(busy, "notes.txt"), []byte("mine"), 0o644)
	_, errs, code = nthost(t, work, "sweep", "run", spec, "--out", busy, "--executor", "local")
	if code != 1 || !strings.Contains(errs, "holds other files (notes.txt") {
		t.Errorf("busy dir: %d %q", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(busy, "notes.txt")); string(b) != "mine" {
		t.Error("the other files were touched")
	}
}

// logTails is the end of every log of sweep directory dir, for a failure
// message: the trial's own log says why it stopped.
func logTails(dir string) string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if len(data) > 1500 {
			data = data[len(data)-1500:]
		}
		fmt.Fprintf(&b, "--- %s:\n%s\n", filepath.Base(f), data)
	}
	return b.String()
}
