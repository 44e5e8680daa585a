package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/neuraltopology/neuraltopology/core/provenance"
	runcore "github.com/neuraltopology/neuraltopology/core/run"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/sweep"
	"github.com/neuraltopology/neuraltopology/core/sweepreport"
)

const sweepUsage = `usage:
  nthost sweep run SPEC.yaml --out SWEEP_DIR [--executor local|slurm] [--parallel N] [--dry-run] [--no-wait]
  nthost sweep run SWEEP_DIR [...]           continue a sweep: run (or resubmit) only what is not done
  nthost sweep status SWEEP_DIR              each trial's state, from its run dir and squeue
  nthost sweep trial SWEEP_DIR --index I     run one trial (what each local child and SLURM array task runs)
`

// cmdSweep runs a grid of ordinary runs: locally as child processes, or
// on SLURM as one job array.
func cmdSweep(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(a.stdout, sweepUsage)
		return nil
	}
	switch args[0] {
	case "run":
		return sweepRun(ctx, a, args[1:])
	case "status":
		return sweepStatus(ctx, a, args[1:])
	case "trial":
		return sweepTrial(ctx, a, args[1:])
	}
	return fmt.Errorf("sweep: unknown subcommand %q (run, status, trial)", args[0])
}

// leadingArg lets a positional argument come before the flags, as in
// `nthost sweep run spec.yaml --out dir`.
func leadingArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

func sweepRun(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "sweep run", "nthost sweep run SPEC.yaml --out SWEEP_DIR | SWEEP_DIR [--executor local|slurm] [--parallel N] [--dry-run] [--no-wait]")
	c.register(fs)
	out := fs.String("out", "", "sweep directory (new, or one started with the same spec)")
	executor := fs.String("executor", "", "local or slurm (default: the spec's executor.kind)")
	parallel := fs.Int("parallel", -1, "local: trials at once (default from cores and each trial's use); slurm: the %M of --array (default: the spec's)")
	dryRun := fs.Bool("dry-run", false, "print the trials (local) or the sbatch script (slurm) and submit nothing")
	noWait := fs.Bool("no-wait", false, "slurm: return after submitting instead of waiting for the array and writing the report")
	noReport := fs.Bool("no-report", false, "skip the sweep's report at the end")
	pos, rest := leadingArg(args)
	if err := parse(fs, rest, 1); err != nil {
		return err
	}
	a.patientStop() // the trials checkpoint on the first signal
	if pos == "" {
		pos = fs.Arg(0)
	}
	if err := a.setup(c); err != nil {
		return err
	}

	var spec *sweep.Spec
	dir := *out
	switch {
	case pos == "" && dir == "":
		return fmt.Errorf("sweep run: give a spec file and --out SWEEP_DIR, or a sweep directory to continue")
	case pos == "" || sweep.IsSweepDir(pos):
		if dir == "" {
			dir = pos
		}
		m, err := sweep.Open(dir)
		if err != nil {
			return err
		}
		s := m.Spec
		spec = &s
	default:
		if dir == "" {
			return fmt.Errorf("sweep run: --out SWEEP_DIR is required with a spec file")
		}
		var err error
		if spec, err = sweep.ReadSpec(pos); err != nil {
			return err
		}
	}
	e := spec.Executor
	if *executor != "" {
		if *executor != "local" && *executor != "slurm" {
			return fmt.Errorf("sweep run: --executor %q is not local or slurm", *executor)
		}
		e.Kind = *executor
	}
	if *parallel >= 0 {
		e.Parallel = *parallel
	}
	if e.Kind == "slurm" && !*dryRun {
		// Before anything is written: a missing sbatch is a set-up problem.
		if err := sweep.CheckSlurm(); err != nil {
			return err
		}
	}
	// Every trial's config and plugin parameters (ranges included) are
	// checked before anything is written or submitted.
	if err := checkSweep(ctx, a, spec, e.Kind); err != nil {
		return err
	}
	a.closeAll()
	if *dryRun {
		return sweepDryRun(a, dir, spec, e, c)
	}

	m, err := sweep.Create(dir, spec)
	if err != nil {
		return err
	}
	release, err := m.Lock("sweep")
	if err != nil {
		return fmt.Errorf("sweep %s is being run by another nthost: %v", dir, err)
	}
	defer release()
	// The sweep folder records each nthost that ran it, as every trial's
	// run directory does for itself.
	if err := appendProvenance(filepath.Join(dir, provenance.File)); err != nil {
		return err
	}

	var res sweep.Outcome
	if e.Kind == "slurm" {
		res, err = sweepSlurm(ctx, a, m, e, c, !*noWait)
		if err != nil || *noWait {
			return err
		}
	} else {
		todo := m.Todo()
		if e.Parallel < 1 {
			e.Parallel = m.DefaultParallel()
		}
		fmt.Fprintf(a.stderr, "sweep %s: %d trials, %d to run, %d at once\n", dir, len(m.Trials), len(todo), e.Parallel)
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		tty := false
		if f, ok := a.stderr.(*os.File); ok {
			tty = isatty.IsTerminal(f.Fd())
		}
		res = m.RunLocal(ctx, todo, sweep.Local{
			Parallel: e.Parallel, Progress: a.stderr, TTY: tty,
			Command: func(t sweep.Trial) *exec.Cmd {
				return exec.Command(exe, append([]string{"sweep", "trial", dir, "--index", strconv.Itoa(t.Index)}, childFlags(c)...)...)
			},
		})
		if res.Interrupted {
			return fmt.Errorf("sweep %s interrupted; `nthost sweep run %s` continues it", dir, dir)
		}
	}
	return sweepFinish(a, m, res, *noReport)
}

// sweepFinish prints the summary, writes the report over the trials done,
// and fails naming every trial that failed.
func sweepFinish(a *app, m *sweep.Manifest, res sweep.Outcome, noReport bool) error {
	sts := m.Status()
	done := 0
	for _, st := range sts {
		if st.State == sweep.StateDone {
			done++
		}
	}
	fmt.Fprintf(a.stdout, "sweep %s: %d of %d trials done\n", m.Dir(), done, len(sts))
	for _, f := range res.Failed {
		fmt.Fprintf(a.stdout, "  failed: trial %d %s: %s (run dir %s, log %s)\n", f.Index, f.Name, f.Error, f.Dir, m.LogPath(f.Trial))
	}
	if !noReport && done > 0 {
		path, err := sweepreport.Build(m.Dir())
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "report: %s\n", path)
	}
	if len(res.Failed) > 0 {
		names := make([]string, len(res.Failed))
		for i, f := range res.Failed {
			names[i] = f.Name
		}
		return fmt.Errorf("sweep %s: %d trial(s) failed: %s; `nthost sweep run %s` retries them", m.Dir(), len(res.Failed), strings.Join(names, ", "), m.Dir())
	}
	if done < len(sts) {
		return fmt.Errorf("sweep %s: %d trial(s) not done; `nthost sweep status %s` shows them", m.Dir(), len(sts)-done, m.Dir())
	}
	return nil
}

// childFlags passes the common flags on to `nthost sweep trial`.
func childFlags(c common) []string {
	var f []string
	if c.pluginDir != "" {
		f = append(f, "--plugin-dir", c.pluginDir)
	}
	if c.pluginLock != "" {
		f = append(f, "--plugin-lock", c.pluginLock)
	}
	f = append(f, "--log-format", c.logFormat, "--log-level", c.logLevel)
	return f
}

func sweepDryRun(a *app, dir string, spec *sweep.Spec, e sweep.Executor, c common) error {
	trials, err := spec.Trials()
	if err != nil {
		return err
	}
	todo := trials
	if sweep.IsSweepDir(dir) {
		m, err := sweep.Open(dir)
		if err != nil {
			return err
		}
		if m.Fingerprint != spec.Fingerprint() {
			return fmt.Errorf("%s holds a sweep of a different spec", dir)
		}
		todo = m.Todo()
	}
	if e.Kind == "slurm" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		m, err := sweep.Plan(dir, spec)
		if err != nil {
			return err
		}
		idx := make([]int, len(todo))
		for i, t := range todo {
			idx[i] = t.Index
		}
		s, err := m.Script(exe, childFlags(c), idx, e)
		if err != nil {
			return err
		}
		fmt.Fprint(a.stdout, s)
		return nil
	}
	for _, t := range todo {
		fmt.Fprintf(a.stdout, "%d\t%s\t%s\n", t.Index, t.Name, filepath.Join(dir, sweep.RunsDir, t.Name))
	}
	return nil
}

// sweepSlurm submits one job array for the trials neither done nor held
// by SLURM already, and with wait, follows it until SLURM lets go of
// every task.
func sweepSlurm(ctx context.Context, a *app, m *sweep.Manifest, e sweep.Executor, c common, wait bool) (sweep.Outcome, error) {
	var res sweep.Outcome
	sts, err := m.SlurmStatus(ctx)
	if err != nil {
		return res, err
	}
	var idx []int
	held := 0
	for _, st := range sts {
		switch st.State {
		case sweep.StateDone:
		case sweep.StateQueued, sweep.StateRunning:
			held++
		default:
			idx = append(idx, st.Index)
		}
	}
	submitted := map[int]bool{}
	submit := func(idx []int) error {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		script, err := m.Script(exe, childFlags(c), idx, e)
		if err != nil {
			return err
		}
		id, err := m.Submit(ctx, script, idx)
		if err != nil {
			return err
		}
		for _, i := range idx {
			submitted[i] = true
		}
		fmt.Fprintf(a.stderr, "sweep %s: submitted job %s, array %s (%s)\n", m.Dir(), id, sweep.ArraySpec(idx, e.Parallel), filepath.Join(m.Dir(), sweep.SlurmDir, sweep.ScriptFile))
		return nil
	}
	if len(idx) > 0 {
		if err := submit(idx); err != nil {
			return res, err
		}
	}
	if held > 0 {
		fmt.Fprintf(a.stderr, "sweep %s: %d trial(s) already queued or running in SLURM\n", m.Dir(), held)
	}
	if !wait {
		return res, nil
	}
	last := ""
	for {
		q, err := m.Queue(ctx)
		if err != nil {
			return res, err
		}
		sts := m.Status()
		n := map[sweep.State]int{}
		for _, st := range sts {
			s := st.State
			if qs, ok := q[st.Index]; ok && s != sweep.StateDone {
				s = qs
			}
			n[s]++
		}
		line := fmt.Sprintf("sweep: %d/%d done, %d running, %d queued, %d failed", n[sweep.StateDone], len(sts), n[sweep.StateRunning], n[sweep.StateQueued], n[sweep.StateFailed])
		if line != last {
			fmt.Fprintln(a.stderr, line)
			last = line
		}
		if len(q) == 0 {
			// A task SLURM still held when we looked, but whose process
			// had died (a trial killed moments before: its task is
			// still completing), ends without the trial done or failed.
			// Continuing the sweep means continuing it too, once.
			var again []int
			for _, st := range sts {
				if st.State != sweep.StateDone && st.State != sweep.StateFailed && !submitted[st.Index] {
					again = append(again, st.Index)
				}
			}
			if len(again) == 0 {
				break
			}
			fmt.Fprintf(a.stderr, "sweep %s: %d trial(s) left SLURM neither done nor failed; submitting them again\n", m.Dir(), len(again))
			if err := submit(again); err != nil {
				return res, err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("stopped waiting; the job array goes on in SLURM (`nthost sweep status %s`)", m.Dir())
		case <-time.After(2 * time.Second):
		}
	}
	for _, st := range m.Status() {
		switch st.State {
		case sweep.StateDone:
			res.Done = append(res.Done, st)
		default:
			if st.Error == "" {
				st.Error = "array task ended before the trial was done (" + string(st.State) + ")"
			}
			res.Failed = append(res.Failed, st)
		}
	}
	return res, nil
}

func sweepStatus(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "sweep status", "nthost sweep status SWEEP_DIR [--json]")
	asJSON := fs.Bool("json", false, "print the trials and the counts as JSON")
	pos, rest := leadingArg(args)
	if err := parse(fs, rest, 1); err != nil {
		return err
	}
	if pos == "" {
		pos = fs.Arg(0)
	}
	if pos == "" {
		return fmt.Errorf("sweep status: give the sweep directory")
	}
	m, err := sweep.Open(pos)
	if err != nil {
		return err
	}
	sts, qerr := m.SlurmStatus(ctx)
	n := map[sweep.State]int{}
	for _, st := range sts {
		n[st.State]++
	}
	if qerr != nil && len(m.Jobs()) > 0 {
		fmt.Fprintf(a.stderr, "nthost: squeue not asked (%v); states are from the run directories only\n", oneLine(qerr.Error()))
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Trials []sweep.TrialStatus `json:"trials"`
			Counts map[sweep.State]int `json:"counts"`
		}{sts, n})
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tTRIAL\tSTATE\tSTEP\tRUN DIR\tNOTE")
	for _, st := range sts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\t%s\n", st.Index, st.Name, st.State, st.Step, st.Total, st.Dir, st.Error)
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "%d trials: %d done, %d running, %d queued, %d stopped, %d failed, %d not started\n", len(sts),
		n[sweep.StateDone], n[sweep.StateRunning], n[sweep.StateQueued], n[sweep.StateStopped], n[sweep.StateFailed], n[sweep.StateNew]+n[sweep.StateStarted])
	return nil
}

// sweepTrial runs one trial: from its last checkpoint when it has one
// (a requeued or interrupted trial resumes), from scratch otherwise.
func sweepTrial(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "sweep trial", "nthost sweep trial SWEEP_DIR --index I")
	c.register(fs)
	index := fs.Int("index", -1, "the trial's index (SLURM's $SLURM_ARRAY_TASK_ID)")
	pos, rest := leadingArg(args)
	if err := parse(fs, rest, 1); err != nil {
		return err
	}
	if pos == "" {
		pos = fs.Arg(0)
	}
	if pos == "" || *index < 0 {
		return fmt.Errorf("sweep trial: give SWEEP_DIR and --index I")
	}
	m, err := sweep.Open(pos)
	if err != nil {
		return err
	}
	t, err := m.Trial(*index)
	if err != nil {
		return err
	}
	release, err := m.Lock(sweep.TrialLock(t.Index))
	if err != nil {
		return fmt.Errorf("trial %d %s is still running in another process (an earlier sweep pass's child stopping, or a SLURM task): %v", t.Index, t.Name, err)
	}
	defer release()
	dir := m.RunDir(t)
	if m.TrialStatus(t).State == sweep.StateDone {
		fmt.Fprintf(a.stderr, "trial %d %s is done already (%s)\n", t.Index, t.Name, dir)
		return nil
	}
	runArgs := []string{"--resume", dir}
	if _, err := os.Stat(filepath.Join(dir, runstore.StateFile)); err != nil {
		// Nothing to continue from (never started, or stopped or failed
		// before its first checkpoint): start clean, so no record is doubled.
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		runArgs = []string{"--config", m.ConfigPath(t), "--run-dir", dir}
	}
	os.Remove(filepath.Join(dir, sweep.MarkerFile))
	runArgs = append(runArgs, childFlags(c)...)
	fmt.Fprintf(a.stderr, "trial %d %s: nthost run %s\n", t.Index, t.Name, strings.Join(runArgs, " "))
	runErr := cmdRun(ctx, a, runArgs)
	switch {
	case runErr == nil:
		return m.WriteMarker(t, sweep.StateDone, nil)
	case ctx.Err() != nil || errors.Is(runErr, context.Canceled) || errors.Is(runErr, runcore.ErrStopped):
		// Stopped, not failed: the next attempt continues from the checkpoint.
		return runErr
	default:
		if err := m.WriteMarker(t, sweep.StateFailed, runErr); err != nil {
			return err
		}
		return runErr
	}
}

// appendProvenance adds this process's provenance record to the file at
// path (one record per start).
func appendProvenance(path string) error {
	old, err := provenance.Read(path)
	if err != nil {
		return err
	}
	b, err := provenance.Append(old, provenance.Collect(time.Now()))
	if err != nil {
		return err
	}
	return runstore.WriteFileAtomic(path, b)
}
