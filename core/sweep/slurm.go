package sweep

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/runstore"
)

// Files of the slurm executor inside SWEEP_DIR/slurm.
const (
	ScriptFile = "sweep.sbatch" // the job-array script of the last submission
	JobsFile   = "jobs.txt"     // one line per submission: job id and array indices
)

// CheckSlurm finds the SLURM client commands the executor calls.
func CheckSlurm() error {
	for _, c := range []string{"sbatch", "squeue"} {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("%s not found: the slurm executor needs the SLURM client (Debian package slurm-client; slurm-wlm for a single-node cluster)", c)
		}
	}
	return nil
}

// ArraySpec renders trial indices as sbatch's --array value: ranges where
// indices are consecutive, and %M to run at most parallel tasks at once.
func ArraySpec(indices []int, parallel int) string {
	idx := append([]int(nil), indices...)
	sort.Ints(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		} else {
			parts = append(parts, strconv.Itoa(idx[i]))
		}
		i = j + 1
	}
	s := strings.Join(parts, ",")
	if parallel > 0 {
		s += "%" + strconv.Itoa(parallel)
	}
	return s
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Script is the sbatch job-array script that runs the given trials: each
// array task runs `nthost sweep trial SWEEP_DIR --index
// $SLURM_ARRAY_TASK_ID`, which continues from the trial's last checkpoint,
// so a requeued or preempted task resumes. Paths are absolute, as the
// script runs on whichever node SLURM picks (SWEEP_DIR must be on a file
// system the nodes share).
func (m *Manifest) Script(nthost string, flags []string, indices []int, e Executor) (string, error) {
	dir, err := filepath.Abs(m.dir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	fmt.Fprintf(&b, "# nthost sweep %s: one array task per trial not yet done.\n", dir)
	fmt.Fprintf(&b, "#SBATCH --job-name=nt-sweep-%s\n", m.Fingerprint[:6])
	fmt.Fprintf(&b, "#SBATCH --array=%s\n", ArraySpec(indices, e.Parallel))
	s := e.Slurm
	if s.CPUsPerTask > 0 {
		fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", s.CPUsPerTask)
	}
	for _, o := range []struct{ name, v string }{{"mem", s.Mem}, {"time", s.Time}, {"partition", s.Partition}, {"account", s.Account}} {
		if o.v != "" {
			fmt.Fprintf(&b, "#SBATCH --%s=%s\n", o.name, o.v)
		}
	}
	b.WriteString("#SBATCH --requeue\n")
	// One file per task; appended to, so a requeued task keeps its story.
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(dir, LogsDir, "slurm-%A_%a.out"))
	b.WriteString("#SBATCH --open-mode=append\n")
	for _, x := range s.Extra {
		fmt.Fprintf(&b, "#SBATCH %s\n", x)
	}
	args := []string{shellQuote(nthost), "sweep", "trial", shellQuote(dir), "--index", `"$SLURM_ARRAY_TASK_ID"`}
	for _, f := range flags {
		args = append(args, shellQuote(f))
	}
	fmt.Fprintf(&b, "exec %s\n", strings.Join(args, " "))
	return b.String(), nil
}

// Submit writes script to SWEEP_DIR/slurm/sweep.sbatch, submits it with
// sbatch and records the job id with the indices it runs.
func (m *Manifest) Submit(ctx context.Context, script string, indices []int) (string, error) {
	if err := CheckSlurm(); err != nil {
		return "", err
	}
	path := filepath.Join(m.dir, SlurmDir, ScriptFile)
	if err := runstore.WriteFileAtomic(path, []byte(script)); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, "sbatch", "--parsable", path).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("sbatch %s: %v: %s", path, err, oneLine(string(out)))
	}
	// --parsable prints "jobid" or "jobid;cluster".
	id := strings.TrimSpace(strings.SplitN(strings.TrimSpace(string(out)), ";", 2)[0])
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("sbatch %s: unexpected output %q", path, oneLine(string(out)))
	}
	f, err := os.OpenFile(filepath.Join(m.dir, SlurmDir, JobsFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return id, err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s %s\n", id, ArraySpec(indices, 0))
	return id, err
}

// Jobs lists the job ids this sweep submitted, oldest first.
func (m *Manifest) Jobs() []string {
	b, err := os.ReadFile(filepath.Join(m.dir, SlurmDir, JobsFile))
	if err != nil {
		return nil
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 {
			ids = append(ids, f[0])
		}
	}
	return ids
}

// Queue asks squeue which of the sweep's array tasks SLURM still holds,
// by trial index: queued (pending, requeued, held) or running.
func (m *Manifest) Queue(ctx context.Context) (map[int]State, error) {
	jobs := m.Jobs()
	out := map[int]State{}
	if len(jobs) == 0 {
		return out, nil
	}
	if err := CheckSlurm(); err != nil {
		return nil, err
	}
	mine := map[string]bool{}
	for _, j := range jobs {
		mine[j] = true
	}
	// All jobs, not -j: squeue fails on ids it has forgotten.
	b, err := exec.CommandContext(ctx, "squeue", "-h", "-r", "-o", "%i %T").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("squeue: %v: %s", err, oneLine(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("squeue: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		job, task, ok := strings.Cut(f[0], "_")
		if !ok || !mine[job] {
			continue
		}
		idx, err := strconv.Atoi(task)
		if err != nil {
			continue // a pending range not yet split, e.g. 12_[0-3%2]: -r splits them
		}
		st := StateQueued
		switch f[1] {
		case "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "STOPPED":
			st = StateRunning
		}
		if out[idx] != StateRunning {
			out[idx] = st
		}
	}
	return out, nil
}

// SlurmStatus is Status with the scheduler's word on trials not done.
func (m *Manifest) SlurmStatus(ctx context.Context) ([]TrialStatus, error) {
	sts := m.Status()
	q, err := m.Queue(ctx)
	if err != nil {
		return sts, err
	}
	acct := m.accounting(ctx)
	for i := range sts {
		if s, ok := q[sts[i].Index]; ok && sts[i].State != StateDone {
			sts[i].State = s
		} else if a, ok := acct[sts[i].Index]; ok && sts[i].State != StateDone && sts[i].Error == "" {
			sts[i].Error = "slurm: " + a
		}
	}
	return sts, nil
}

// accounting asks sacct how each trial's last array task ended, e.g.
// "FAILED 0:9" or "TIMEOUT 0:0". Without accounting (no slurmdbd) sacct
// fails or says nothing, and so does this: the run directories still
// tell each trial's state.
func (m *Manifest) accounting(ctx context.Context) map[int]string {
	out := map[int]string{}
	jobs := m.Jobs()
	if len(jobs) == 0 {
		return out
	}
	if _, err := exec.LookPath("sacct"); err != nil {
		return out
	}
	b, err := exec.CommandContext(ctx, "sacct", "-n", "-P", "-X", "-j", strings.Join(jobs, ","), "-o", "JobID,State,ExitCode").Output()
	if err != nil {
		return out
	}
	order := map[string]int{}
	for i, j := range jobs {
		order[j] = i
	}
	seen := map[int]int{} // index -> order of the job that reported it
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) != 3 {
			continue
		}
		job, task, ok := strings.Cut(f[0], "_")
		idx, err := strconv.Atoi(task)
		o, mine := order[job]
		if !ok || err != nil || !mine {
			continue
		}
		if prev, ok := seen[idx]; ok && prev > o {
			continue
		}
		seen[idx] = o
		out[idx] = f[1] + " " + f[2]
	}
	return out
}
