package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/runstore"
)

// Names inside SWEEP_DIR.
const (
	ManifestFile = "sweep.json"
	RunsDir      = "runs"    // one ordinary run directory per trial
	ConfigsDir   = "configs" // each trial's config, as --config takes it
	LogsDir      = "logs"    // local trials' output and SLURM's per-task files
	SlurmDir     = "slurm"   // the job-array script and the job ids
	locksDir     = "locks"
	// MarkerFile, in a trial's run directory, is written by `nthost sweep
	// trial` when the run ends: done, or failed with its error.
	MarkerFile = "sweep_trial.json"
)

// Manifest is SWEEP_DIR/sweep.json: the spec the sweep was started with
// and its trials. It is written once, when the sweep starts; the trials'
// states live in their run directories.
type Manifest struct {
	Version     int       `json:"version"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
	Spec        Spec      `json:"spec"`
	Trials      []Trial   `json:"trials"`

	dir string
}

// Dir is the sweep directory the manifest lives in.
func (m *Manifest) Dir() string { return m.dir }

// RunDir is a trial's run directory.
func (m *Manifest) RunDir(t Trial) string { return filepath.Join(m.dir, RunsDir, t.Name) }

// ConfigPath is a trial's config file.
func (m *Manifest) ConfigPath(t Trial) string {
	return filepath.Join(m.dir, ConfigsDir, t.Name+".yaml")
}

// LogPath is where the local executor writes a trial's output.
func (m *Manifest) LogPath(t Trial) string { return filepath.Join(m.dir, LogsDir, t.Name+".log") }

// IsSweepDir reports whether dir holds a sweep manifest.
func IsSweepDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ManifestFile))
	return err == nil
}

// Open reads the manifest of an existing sweep.
func Open(dir string) (*Manifest, error) {
	b, err := runstore.ReadFileLimit(filepath.Join(dir, ManifestFile), runstore.MaxManifest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a sweep directory (no %s)", dir, ManifestFile)
	}
	if err != nil {
		return nil, err
	}
	m := &Manifest{dir: dir}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, ManifestFile), err)
	}
	// Trial names become paths inside the sweep: a damaged or forged
	// manifest must not send a trial's files anywhere else.
	for i, t := range m.Trials {
		if t.Index != i {
			return nil, fmt.Errorf("%s: trial %d has index %d", filepath.Join(dir, ManifestFile), i, t.Index)
		}
		if t.Name == "" || t.Name != safe(t.Name) || t.Name[0] == '.' {
			return nil, fmt.Errorf("%s: trial %d name %q: want letters, digits, '.', '_' and '-' only, not starting with '.'", filepath.Join(dir, ManifestFile), i, t.Name)
		}
	}
	return m, nil
}

// Create starts a sweep in dir, or continues the one there if it was
// started with the same spec. A different spec, or a dir holding other
// files, is refused so nothing there is overwritten.
func Create(dir string, s *Spec) (*Manifest, error) {
	if IsSweepDir(dir) {
		m, err := Open(dir)
		if err != nil {
			return nil, err
		}
		if m.Fingerprint != s.Fingerprint() {
			return nil, fmt.Errorf("%s holds a sweep of a different spec (base or grid differ); use another --out, or the spec it was started with (saved in %s)", dir, filepath.Join(dir, ManifestFile))
		}
		return m, nil
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%s holds other files (%s, ...) and no %s; choose a new or empty directory for the sweep", dir, ents[0].Name(), ManifestFile)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sweep directory: %w", err)
	}
	m, err := Plan(dir, s)
	if err != nil {
		return nil, err
	}
	// Every trial's config is checked before the folder is made: a bad
	// grid value leaves nothing behind.
	cfgs := make([]config.Config, len(m.Trials))
	for i, t := range m.Trials {
		if cfgs[i], err = s.Config(t); err != nil {
			return nil, err
		}
	}
	for _, sub := range []string{RunsDir, ConfigsDir, LogsDir, locksDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("sweep directory: %w", err)
		}
	}
	for i, t := range m.Trials {
		if err := runstore.WriteFileAtomic(m.ConfigPath(t), trialYAML(s, t, cfgs[i])); err != nil {
			return nil, err
		}
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	// The manifest goes last: a sweep directory with a manifest is whole.
	if err := runstore.WriteFileAtomic(filepath.Join(dir, ManifestFile), append(b, '\n')); err != nil {
		return nil, err
	}
	return m, nil
}

// Plan is the manifest a sweep of s in dir would have, not yet written
// (what --dry-run shows).
func Plan(dir string, s *Spec) (*Manifest, error) {
	trials, err := s.Trials()
	if err != nil {
		return nil, err
	}
	return &Manifest{Version: 1, Fingerprint: s.Fingerprint(), Created: time.Now().UTC(), Spec: *s, Trials: trials, dir: dir}, nil
}

// trialYAML is a trial's config file: the base keys and the trial's grid
// values (later keys win), so it reads like the spec that made it.
func trialYAML(s *Spec, t Trial, cfg config.Config) []byte {
	var b []byte
	b = fmt.Appendf(b, "# sweep trial %d: %s\n", t.Index, t.Name)
	done := map[string]bool{}
	for _, ps := range [][]Param{t.Params, s.Base} {
		for _, p := range ps {
			if done[p.Key] {
				continue
			}
			done[p.Key] = true
			b = fmt.Appendf(b, "%s: %q\n", p.Key, cfg.Get(p.Key))
		}
	}
	return b
}

// Trial returns the trial with index i.
func (m *Manifest) Trial(i int) (Trial, error) {
	if i < 0 || i >= len(m.Trials) {
		return Trial{}, fmt.Errorf("sweep %s has trials 0..%d; no trial %d", m.dir, len(m.Trials)-1, i)
	}
	return m.Trials[i], nil
}

// State is where a trial stands, as its run directory (and the scheduler)
// tell.
type State string

// Trial states.
const (
	StateNew     State = "new"     // never started
	StateStarted State = "started" // started, no checkpoint yet
	StateStopped State = "stopped" // has a checkpoint; continues from it
	StateDone    State = "done"
	StateFailed  State = "failed"
	StateQueued  State = "queued" // the scheduler holds it, not started
	StateRunning State = "running"
)

// Marker is the content of MarkerFile.
type Marker struct {
	State State     `json:"state"` // done or failed
	Error string    `json:"error,omitempty"`
	Time  time.Time `json:"time"`
}

// TrialStatus is one trial's state with what the run directory says.
type TrialStatus struct {
	Trial
	Dir   string `json:"dir"`
	State State  `json:"state"`
	Step  int    `json:"step"`  // steps done: the latest of the last checkpoint and the last update logged
	Total int    `json:"total"` // total_timesteps of the trial
	Error string `json:"error,omitempty"`
}

// Status reads every trial's state from its run directory.
func (m *Manifest) Status() []TrialStatus {
	out := make([]TrialStatus, len(m.Trials))
	for i, t := range m.Trials {
		out[i] = m.TrialStatus(t)
	}
	return out
}

// TrialStatus reads one trial's state from its run directory.
func (m *Manifest) TrialStatus(t Trial) TrialStatus {
	st := TrialStatus{Trial: t, Dir: m.RunDir(t), State: StateNew}
	if cfg, err := m.Spec.Config(t); err == nil {
		st.Total = cfg.TotalTimesteps
	}
	if _, err := os.Stat(st.Dir); err != nil {
		return st
	}
	st.State = StateStarted
	if s, err := (&runstore.Store{Dir: st.Dir}).LoadState(); err == nil && s != nil {
		st.State, st.Step = StateStopped, s.Step
	}
	// A running trial logs every update; its checkpoints come less often.
	st.Step = max(st.Step, lastLoggedStep(filepath.Join(st.Dir, runstore.ScalarsFile)))
	if b, err := os.ReadFile(filepath.Join(st.Dir, MarkerFile)); err == nil {
		var mk Marker
		if json.Unmarshal(b, &mk) == nil && (mk.State == StateDone || mk.State == StateFailed) {
			st.State, st.Error = mk.State, mk.Error
			return st
		}
	}
	// A trial process (local child or SLURM task on this machine) holds
	// the trial's lock while it runs.
	if m.lockHeld(TrialLock(t.Index)) {
		st.State = StateRunning
	}
	return st
}

// TrialLock is the name of the lock a running trial holds (Lock).
func TrialLock(index int) string { return fmt.Sprintf("trial-%d", index) }

// lastLoggedStep is the step of the last complete line of a run's
// scalars.jsonl, 0 if there is none. Only the file's tail is read.
func lastLoggedStep(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	const tail = 64 << 10
	off := max(0, fi.Size()-tail)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return 0
	}
	lines := bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		var r struct {
			Step *int `json:"step"`
		}
		if json.Unmarshal(lines[i], &r) == nil && r.Step != nil {
			return *r.Step
		}
	}
	return 0
}

// lockHeld reports whether a process holds the sweep lock name. It reads
// /proc/locks rather than trying the lock, which would make a trial
// starting at that moment fail to take it.
func (m *Manifest) lockHeld(name string) bool {
	fi, err := os.Stat(filepath.Join(m.dir, locksDir, name+".lock"))
	if err != nil {
		return false
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return false
	}
	return flockHeld(b, sys.Ino)
}

// flockHeld finds an flock on inode ino in the text of /proc/locks, whose
// lines read "1: FLOCK  ADVISORY  WRITE 1234 08:01:56789 0 EOF".
func flockHeld(procLocks []byte, ino uint64) bool {
	want := ":" + strconv.FormatUint(ino, 10)
	for _, line := range strings.Split(string(procLocks), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[1] == "FLOCK" && strings.HasSuffix(f[5], want) {
			return true
		}
	}
	return false
}

// WriteMarker records how a trial's run ended.
func (m *Manifest) WriteMarker(t Trial, state State, runErr error) error {
	mk := Marker{State: state, Time: time.Now().UTC()}
	if runErr != nil {
		mk.Error = oneLine(runErr.Error())
	}
	b, _ := json.Marshal(mk)
	return runstore.WriteFileAtomic(filepath.Join(m.RunDir(t), MarkerFile), append(b, '\n'))
}

// Lock takes an exclusive lock named name inside the sweep (one per
// trial, one for the whole sweep), so a trial never runs twice at once
// even when a requeued SLURM task meets a straggler. It fails at once if
// the lock is held.
func (m *Manifest) Lock(name string) (release func(), err error) {
	if err := os.MkdirAll(filepath.Join(m.dir, locksDir), 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(m.dir, locksDir, name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is held by another process (%v)", path, err)
	}
	return func() { f.Close() }, nil
}
