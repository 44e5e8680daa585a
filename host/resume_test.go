package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/rundiff"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/tbevents"
)

// shortRun is a run of a few seconds with everything a long one has:
// 16 updates of 2 envs, a snapshot every 4 updates, a checkpoint every 2.
func shortRun(runDir string, extra ...string) []string {
	return append([]string{"--env", "mujoco", "--env-id", "InvertedPendulum-v4", "--algo", "ppo", "--ph", "rips",
		"--total-timesteps", "4096", "--num-envs", "2", "--num-steps", "128", "--num-minibatches", "4", "--update-epochs", "2",
		"--topology-analysis-interval", "4", "--save-checkpoint-interval", "2", "--tda-samples", "60", "--k", "8", "--maxdim", "1",
		"--no-report", "--log-format", "json", "--run-dir", runDir}, extra...)
}

// started is an nthost process running in its own process group, as a
// job under a shell or a scheduler.
type started struct {
	cmd  *exec.Cmd
	errb bytes.Buffer
	done chan struct{}
	code int
}

func start(t *testing.T, dir string, env []string, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(filepath.Join(bins(t), "nthost"), args...), done: make(chan struct{})}
	s.cmd.Dir = dir
	s.cmd.Env = append(append(os.Environ(), "NT_PLUGIN_DIR="), env...)
	s.cmd.Stderr = &s.errb
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		s.code = s.cmd.ProcessState.ExitCode()
		close(s.done)
	}()
	return s
}

// wait returns the exit code (-1 if killed by a signal).
func (s *started) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(3 * time.Minute):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("nthost did not end within 3 minutes:\n%s", s.errb.String())
		return 0
	}
}

// resumeToEnd resumes runDir and requires a clean finish.
func resumeToEnd(t *testing.T, dir, runDir string, extra ...string) {
	t.Helper()
	_, errs, code := nthost(t, dir, append([]string{"--resume", runDir, "--log-format", "json"}, extra...)...)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, errs)
	}
}

// sameResults fails unless runDir holds exactly the results of ref.
func sameResults(t *testing.T, ref, runDir, what string) {
	t.Helper()
	d, err := rundiff.Diff(ref, runDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) > 0 {
		t.Fatalf("%s: the resumed run differs from the uninterrupted one in %d ways:\n%s", what, len(d), strings.Join(d, "\n"))
	}
}

// reference runs shortRun uninterrupted at runDir and moves it to ref;
// runs compared with it then use the same path, so even config.yaml
// (which records run_dir) must match byte for byte.
func reference(t *testing.T, dir, runDir, ref string) time.Duration {
	t.Helper()
	t0 := time.Now()
	if _, errs, code := nthost(t, dir, shortRun(runDir)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, errs)
	}
	el := time.Since(t0)
	if err := os.Rename(runDir, ref); err != nil {
		t.Fatal(err)
	}
	return el
}

// TestKillAnywhereResumesExactly kills nthost with SIGKILL at random
// moments, and at the worst moments on purpose (mid checkpoint write,
// between writing a checkpoint and naming it, before pruning, between
// the clouds of a snapshot's homology), resumes, and requires every
// output file to match the uninterrupted run: scalars, topology records,
// diagrams, checkpoints, TensorBoard events (wall-clock fields aside).
// Every third random kill also kills the resumed run once more.
func TestKillAnywhereResumesExactly(t *testing.T) {
	dir := t.TempDir()
	runDir, ref := filepath.Join(dir, "run"), filepath.Join(dir, "ref")
	reference(t, dir, runDir, ref)

	// Kill moments are drawn in progress, not wall time (which the load
	// of a shared machine stretches): after a random number of update
	// records, plus a random few hundred milliseconds.
	r := rand.New(rand.NewPCG(2026, 12))
	records := func() int {
		b, _ := os.ReadFile(filepath.Join(runDir, runstore.ScalarsFile))
		return bytes.Count(b, []byte("\n"))
	}
	for i := range 10 {
		os.RemoveAll(runDir)
		var mode []string
		name := "plugins"
		if i%2 == 1 {
			mode, name = []string{"--in-process"}, "in-process"
		}
		after, extra := r.IntN(16), time.Duration(r.IntN(400))*time.Millisecond
		s := start(t, dir, nil, shortRun(runDir, mode...)...)
		func() {
			for records() < after {
				select {
				case <-s.done:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
			select {
			case <-s.done:
			case <-time.After(extra):
				syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
			}
		}()
		s.wait(t)
		st, _ := (&runstore.Store{Dir: runDir}).LoadState()
		at := "before the first checkpoint"
		if st != nil {
			at = "latest checkpoint at update " + itoa(st.Update)
		}
		t.Logf("kill %2d (%s) at %d records + %v: %d records written, %s", i+1, name, after, extra, records(), at)
		if i%3 == 0 {
			s := start(t, dir, nil, append([]string{"--resume", runDir, "--log-format", "json"}, mode...)...)
			select {
			case <-s.done:
			case <-time.After(extra + 300*time.Millisecond):
				syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
			}
			s.wait(t)
		}
		resumeToEnd(t, dir, runDir, mode...)
		sameResults(t, ref, runDir, "random kill "+itoa(i+1))
	}

	for _, point := range []string{"checkpoint-write:3", "checkpoint-written:2", "checkpoint-named:4", "homology:8"} {
		os.RemoveAll(runDir)
		s := start(t, dir, []string{"NT_CRASHPOINT=" + point}, shortRun(runDir)...)
		if code := s.wait(t); code != -1 {
			t.Fatalf("crash point %s: nthost exited %d instead of being killed\n%s", point, code, s.errb.String())
		}
		resumeToEnd(t, dir, runDir)
		sameResults(t, ref, runDir, "kill at "+point)
	}
}

// TestSignalStopsCleanlyAndResumesExactly sends SIGTERM to the whole
// process group (as a scheduler does, plugins included) and SIGINT to
// nthost alone (as kill -INT does) in mid-run: nthost stops with a
// checkpoint, says how to continue in one line, and the resumed run is
// the uninterrupted one.
func TestSignalStopsCleanlyAndResumesExactly(t *testing.T) {
	dir := t.TempDir()
	runDir, ref := filepath.Join(dir, "run"), filepath.Join(dir, "ref")
	reference(t, dir, runDir, ref)
	for _, c := range []struct {
		sig   syscall.Signal
		group bool
		code  int
	}{{syscall.SIGTERM, true, 143}, {syscall.SIGINT, false, 130}} {
		os.RemoveAll(runDir)
		s := start(t, dir, nil, shortRun(runDir)...)
		// Signal once the first checkpoint is on disk: mid-run.
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(runDir, runstore.StateFile)); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint after 2 minutes:\n%s", s.errb.String())
			}
		}
		pid := s.cmd.Process.Pid
		if c.group {
			pid = -pid
		}
		syscall.Kill(pid, c.sig)
		code := s.wait(t)
		lines := strings.Split(strings.TrimSpace(s.errb.String()), "\n")
		last := lines[len(lines)-1]
		if code != c.code || !strings.Contains(last, "checkpoint saved") || !strings.Contains(last, "--resume "+runDir) {
			t.Fatalf("%v: exit %d, last line %q; want exit %d and how to resume", c.sig, code, last, c.code)
		}
		st, err := (&runstore.Store{Dir: runDir}).LoadState()
		if err != nil || st == nil || !st.Stopped {
			t.Fatalf("%v: no stop checkpoint: %+v %v", c.sig, st, err)
		}
		t.Logf("%v stopped the run at step %d (update %d)", c.sig, st.Step, st.Update)
		resumeToEnd(t, dir, runDir)
		sameResults(t, ref, runDir, c.sig.String())
	}
}

// dirHash fingerprints every file of a directory, to prove a refused
// command wrote nothing.
func dirHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

// refused runs nthost and requires a failure with one line naming want,
// and the run directory untouched.
func refused(t *testing.T, dir, runDir, want string, args ...string) {
	t.Helper()
	before := dirHash(t, runDir)
	_, errs, code := nthost(t, dir, args...)
	msg := strings.TrimSpace(errs)
	if code == 0 || strings.Contains(msg, "\n") || !strings.Contains(msg, want) {
		t.Errorf("%v: exit %d, stderr %q; want one line containing %q", args, code, msg, want)
	}
	if dirHash(t, runDir) != before {
		t.Errorf("%v: the refused command changed %s", args, runDir)
	}
}

// TestRunDirLockAndResumeChecks: a second run or resume on a directory
// in use is refused; --resume refuses what cannot continue the run it
// names, before writing anything.
func TestRunDirLockAndResumeChecks(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	s := start(t, dir, nil, shortRun(runDir)...)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(runDir, runstore.ConfigFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no config.yaml after 2 minutes")
		}
	}
	// Hold the run still while the others try: it keeps its lock, and on
	// a quiet machine it would otherwise finish before they start.
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGSTOP)
	for _, args := range [][]string{shortRun(runDir), {"--resume", runDir}} {
		_, errs, code := nthost(t, dir, args...)
		msg := strings.TrimSpace(errs)
		last := msg[strings.LastIndex(msg, "\n")+1:]
		if code == 0 || !strings.Contains(last, "in use by another nthost run") || !strings.HasPrefix(last, "nthost: ") {
			t.Errorf("%v while the run is going: exit %d, %q", args[:2], code, errs)
		}
	}
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGCONT)
	if code := s.wait(t); code != 0 {
		t.Fatalf("the locked run failed: %d\n%s", code, s.errb.String())
	}
	if recs, err := summary.ReadScalars(filepath.Join(runDir, runstore.ScalarsFile)); err != nil || len(recs) != 16 {
		t.Fatalf("%d scalar records (%v), want 16: another process wrote into the run", len(recs), err)
	}

	refused(t, dir, runDir, "--env-id Walker2d-v4 differs", "--resume", runDir, "--env-id", "Walker2d-v4")
	refused(t, dir, runDir, "--hidden-size 128,128 differs", "--resume", runDir, "--hidden-size", "128,128")
	refused(t, dir, runDir, "empty path", "--resume", "")

	ckDir := filepath.Join(runDir, "checkpoints")
	latest := filepath.Join(ckDir, "latest.json")
	ck := filepath.Join(ckDir, "update_000016.ckpt")
	keepState, _ := os.ReadFile(latest)
	keepCk, _ := os.ReadFile(ck)
	restore := func() {
		os.WriteFile(latest, keepState, 0o644)
		os.WriteFile(ck, keepCk, 0o644)
	}
	flipped := append([]byte(nil), keepCk...)
	flipped[len(flipped)/3] ^= 0x10
	os.WriteFile(ck, flipped, 0o644)
	refused(t, dir, runDir, "checksum mismatch", "--resume", runDir)
	restore()
	os.WriteFile(latest, bytes.Replace(keepState, []byte(`"update": 16`), []byte(`"update": -1`), 1), 0o644)
	refused(t, dir, runDir, "may be negative", "--resume", runDir)
	restore()
	os.WriteFile(latest, bytes.Replace(keepState, []byte(`checkpoints/update_000016.ckpt`), []byte(`/etc/passwd`), 1), 0o644)
	refused(t, dir, runDir, "is not \"checkpoints/update_000016.ckpt\"", "--resume", runDir)
	restore()

	// Another run's checkpoint (same schedule, another seed).
	other := filepath.Join(dir, "other")
	if _, errs, code := nthost(t, dir, shortRun(other, "--seed", "2", "--total-timesteps", "1024")...); code != 0 {
		t.Fatalf("other run: %d\n%s", code, errs)
	}
	b, _ := os.ReadFile(filepath.Join(other, "checkpoints", "update_000004.ckpt"))
	os.WriteFile(ck, b, 0o644)
	refused(t, dir, runDir, "belongs to another run", "--resume", runDir)
	restore()

	// The untouched run still resumes (a finished one: nothing to do).
	resumeToEnd(t, dir, runDir)
}

// TestFullDiskThenResume runs on a tmpfs too small for the run: nthost
// fails with one line naming the full disk, every file it wrote stays
// readable, and once space is back the run resumes to exactly the
// results of an uninterrupted run.
func TestFullDiskThenResume(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs (the test needs root and mount from util-linux): %v %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	runDir, ref := filepath.Join(mnt, "run"), filepath.Join(dir, "ref")
	if _, errs, code := nthost(t, dir, shortRun(runDir)...); code != 0 {
		t.Fatalf("uninterrupted run: %d\n%s", code, errs)
	}
	if out, err := exec.Command("cp", "-a", runDir, ref).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	os.RemoveAll(runDir)

	remount := func(size string) {
		if out, err := exec.Command("mount", "-o", "remount,size="+size, mnt).CombinedOutput(); err != nil {
			t.Fatalf("remount: %v %s", err, out)
		}
	}
	remount("420k")
	_, errs, code := nthost(t, dir, shortRun(runDir)...)
	msg := strings.TrimSpace(errs)
	last := msg[strings.LastIndex(msg, "\n")+1:]
	if code != 1 || !strings.Contains(last, "no space left on device") || !strings.HasPrefix(last, "nthost: ") {
		t.Fatalf("full disk: exit %d, last line %q", code, last)
	}
	t.Logf("full disk: %s", last)

	// Everything written is readable: whole records, whole diagrams, a
	// checkpoint that resumes, TensorBoard events.
	if _, err := summary.ReadScalars(filepath.Join(runDir, runstore.ScalarsFile)); err != nil {
		t.Errorf("scalars: %v", err)
	}
	if _, err := summary.ReadTopology(filepath.Join(runDir, runstore.TopologyFile)); err != nil {
		t.Errorf("topology: %v", err)
	}
	for _, f := range []string{runstore.ScalarsFile, runstore.TopologyFile} {
		if b, _ := os.ReadFile(filepath.Join(runDir, f)); len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s ends in a torn line", f)
		}
	}
	npz, _ := filepath.Glob(filepath.Join(runDir, "diagrams", "*", "*.npz"))
	for _, f := range npz {
		if _, err := diagram.ReadNPZ(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	events, _ := filepath.Glob(filepath.Join(runDir, "tb", "*tfevents*"))
	for _, f := range events {
		if _, err := tbevents.Read(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	st, _, err := (&runstore.Store{Dir: runDir}).LoadCheckpoint()
	if err != nil || st == nil {
		t.Fatalf("no intact checkpoint after the full disk: %+v %v", st, err)
	}
	t.Logf("the full disk stopped the run after update %d; %d diagrams readable", st.Update, len(npz))

	remount("16m")
	resumeToEnd(t, dir, runDir)
	sameResults(t, ref, runDir, "resume after a full disk")
}
