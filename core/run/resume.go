package run

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/tbevents"
	"github.com/neuraltopology/neuraltopology/core/train"
	"github.com/neuraltopology/neuraltopology/sdk/statebin"
)

// checkpoint is everything a run saves to continue exactly as if it had
// never stopped: the training loop's state (learner, training
// environments, pending actions, episode counters) and the analysis
// environment's state, with the counters of the run around them.
type checkpoint struct {
	Format int // checkpointFormat
	// Identity ties the checkpoint to the run that wrote it (Identity).
	Identity                string
	Update, Step, Snapshots int
	Stopped                 bool
	Train                   train.State
	Analysis                []byte // nil if the environment cannot save its state
	// Episodes finished since the last update's record: a run stopped
	// mid-rollout writes them with that update's record once resumed.
	Episodes []summary.Episode
}

// checkpointV1 is the layout of format 1, before Episodes; such
// checkpoints still resume (a stop between updates loses nothing, one
// mid-rollout the episodes before the stop in that update's record).
type checkpointV1 struct {
	Format                  int
	Identity                string
	Update, Step, Snapshots int
	Stopped                 bool
	Train                   train.State
	Analysis                []byte
}

// checkpointFormat is the version of checkpoint's layout; statebin
// encodes fields by position, so any change to the struct bumps it.
const checkpointFormat = 2

// decodeCheckpoint reads a checkpoint of the current format or of
// format 1.
func decodeCheckpoint(payload []byte) (checkpoint, error) {
	var ck checkpoint
	err := statebin.Unmarshal(payload, &ck)
	if err == nil && ck.Format == checkpointFormat {
		return ck, nil
	}
	var v1 checkpointV1
	if statebin.Unmarshal(payload, &v1) == nil && v1.Format == 1 {
		return checkpoint{Format: checkpointFormat, Identity: v1.Identity, Update: v1.Update, Step: v1.Step,
			Snapshots: v1.Snapshots, Stopped: v1.Stopped, Train: v1.Train, Analysis: v1.Analysis}, nil
	}
	if err == nil {
		err = fmt.Errorf("format %d", ck.Format)
	}
	return ck, err
}

// Identity names what determines a run's results: a SHA-256 of its
// resolved config without the keys that do not (run_dir, snapshot_jobs).
// A checkpoint is only resumed by a run of the same identity.
func Identity(cfg config.Config) string {
	cfg.RunDir, cfg.SnapshotJobs = "", 0
	// The tracker's keys leave the results alone; dropping their lines
	// also keeps the identity of runs written before they were keys.
	var kept []byte
	for _, line := range bytes.SplitAfter(cfg.YAML(), []byte("\n")) {
		tracker := false
		for _, k := range config.TrackerKeys {
			tracker = tracker || bytes.HasPrefix(line, []byte(k+":"))
		}
		if !tracker {
			kept = append(kept, line...)
		}
	}
	sum := sha256.Sum256(kept)
	return hex.EncodeToString(sum[:])
}

// ResumeOverridable lists the config keys a resumed run may change: they
// do not change its results.
var ResumeOverridable = append([]string{"snapshot_jobs"}, config.TrackerKeys...)

// Resumption is a checked resume point of a run directory.
type Resumption struct {
	State runstore.State
	ck    checkpoint
	// fresh: the run was stopped before its first checkpoint, so it
	// starts over (its state at step 0 is its config).
	fresh bool
}

// CheckResume checks, writing nothing, that the run in store can be
// resumed with cfg: its config.yaml has cfg's identity, and its latest
// checkpoint is intact (checksum), belongs to this run, and names a sane
// point of it.
func CheckResume(store *runstore.Store, cfg config.Config) (*Resumption, error) {
	stored := config.Default()
	if _, err := stored.Load(store.Path(runstore.ConfigFile)); err != nil {
		return nil, fmt.Errorf("resume: %s holds no readable run config: %w", store.Dir, err)
	}
	if Identity(stored) != Identity(cfg) {
		return nil, fmt.Errorf("resume: %s", configDiff(stored, cfg))
	}
	st, payload, err := store.LoadCheckpoint()
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if st == nil {
		// No latest.json. A run killed before it named its first
		// checkpoint has at most that one checkpoint file and starts
		// over; more than one (or a stop checkpoint) means latest.json
		// was lost, and starting over would discard them.
		files, _ := filepath.Glob(store.Path("checkpoints", "update_*.ckpt"))
		if len(files) > 1 || (len(files) == 1 && strings.Contains(filepath.Base(files[0]), "_step_")) {
			return nil, fmt.Errorf("resume: %s is damaged: %s is missing but %d checkpoints (%s, ...) exist; restore it, or start a new run", store.Dir, runstore.StateFile, len(files), filepath.Base(files[len(files)-1]))
		}
		return &Resumption{fresh: true}, nil
	}
	ck, err := decodeCheckpoint(payload)
	if err != nil {
		return nil, fmt.Errorf("resume: checkpoint %s is not a format %d run checkpoint of this nthost (%v)", st.Checkpoint, checkpointFormat, err)
	}
	if ck.Identity != Identity(cfg) {
		return nil, fmt.Errorf("resume: checkpoint %s belongs to another run (its config differs from %s)", st.Checkpoint, store.Path(runstore.ConfigFile))
	}
	if ck.Update != st.Update || ck.Step != st.Step || ck.Snapshots != st.Snapshots || ck.Stopped != st.Stopped ||
		ck.Train.Update != ck.Update || ck.Train.Step != ck.Step {
		return nil, fmt.Errorf("resume: %s says update %d step %d but its checkpoint holds update %d step %d", runstore.StateFile, st.Update, st.Step, ck.Update, ck.Step)
	}
	// The precise bounds depend on the learner (train.Run checks them
	// before any step); these catch what no run can write.
	if ck.Step > cfg.TotalTimesteps || ck.Update > ck.Step || (ck.Step > 0 && ck.Update == 0 && !ck.Stopped) {
		return nil, fmt.Errorf("resume: checkpoint at update %d step %d does not fit a run of %d steps", ck.Update, ck.Step, cfg.TotalTimesteps)
	}
	if err := checkRecords(store, *st); err != nil {
		return nil, fmt.Errorf("resume: %s is damaged: %v; restore it, or start a new run", store.Dir, err)
	}
	return &Resumption{State: *st, ck: ck}, nil
}

// checkRecords checks that everything the run wrote up to its resume
// point st is still there: a scalar record for each update 1..Update,
// the topology records of st.Snapshots snapshots with the same clouds
// each, their diagram files, and TensorBoard events. A resumed run keeps
// these and never writes them again, so a lost one would be lost for
// good.
func checkRecords(store *runstore.Store, st runstore.State) error {
	if st.Update > 0 {
		if _, err := os.Stat(store.Path(runstore.ScalarsFile)); err != nil {
			return fmt.Errorf("%s is missing (the checkpoint is at update %d)", runstore.ScalarsFile, st.Update)
		}
	}
	updates := map[int]bool{}
	err := store.ReadLines(runstore.ScalarsFile, func(line []byte) error {
		var r summary.ScalarRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if r.Update <= st.Update {
			updates[r.Update] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	for u := 1; u <= st.Update; u++ {
		if !updates[u] {
			return fmt.Errorf("%s has no record of update %d (the checkpoint is at update %d)", runstore.ScalarsFile, u, st.Update)
		}
	}
	if st.Snapshots > 0 {
		if _, err := os.Stat(store.Path(runstore.TopologyFile)); err != nil {
			return fmt.Errorf("%s is missing (the checkpoint follows %d snapshots)", runstore.TopologyFile, st.Snapshots)
		}
	}
	bySnap := map[int][]summary.TopologyRecord{}
	err = store.ReadLines(runstore.TopologyFile, func(line []byte) error {
		var r summary.TopologyRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if r.Update <= st.Update {
			bySnap[r.Step] = append(bySnap[r.Step], r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(bySnap) != st.Snapshots {
		return fmt.Errorf("%s holds %d snapshots up to the checkpoint, which follows %d", runstore.TopologyFile, len(bySnap), st.Snapshots)
	}
	clouds := 0
	for _, recs := range bySnap {
		clouds = max(clouds, len(recs))
	}
	for step, recs := range bySnap {
		if len(recs) != clouds {
			return fmt.Errorf("%s holds %d of the %d cloud records of the snapshot at step %d", runstore.TopologyFile, len(recs), clouds, step)
		}
		for _, r := range recs {
			p := filepath.Join("diagrams", fmt.Sprintf("step_%d", step), runstore.SafeName(r.Cloud)+".npz")
			if fi, err := os.Stat(store.Path(p)); err != nil || !fi.Mode().IsRegular() {
				return fmt.Errorf("%s is missing", p)
			}
		}
	}
	if st.Update > 0 {
		if events, _ := filepath.Glob(store.Path("tb", "*tfevents*")); len(events) == 0 {
			return fmt.Errorf("tb/ holds no TensorBoard events (the checkpoint is at update %d)", st.Update)
		}
	}
	return nil
}

// configDiff says which keys of a resumed run's config differ from the
// run's own.
func configDiff(stored, cfg config.Config) string {
	var diffs []string
	for _, k := range config.Keys() {
		if k == "run_dir" || k == "snapshot_jobs" {
			continue
		}
		if a, b := stored.Get(k), cfg.Get(k); a != b {
			diffs = append(diffs, fmt.Sprintf("%s is %q in the run, %q now", k, a, b))
		}
	}
	if len(diffs) == 0 {
		return "the config differs from the run's config.yaml"
	}
	return "a resumed run keeps its config: " + strings.Join(diffs, "; ")
}

// encodeCheckpoint serialises ck with statebin, so equal states give
// equal bytes (gob's type numbering depends on the process's history).
func encodeCheckpoint(ck checkpoint) ([]byte, error) {
	b, err := statebin.Marshal(&ck)
	if err != nil {
		return nil, fmt.Errorf("encode checkpoint: %w", err)
	}
	return b, nil
}

// rollBack removes what a run wrote after its resume point (all of it
// if the run has no checkpoint yet): log records
// of later updates, diagrams and clouds of later snapshots, TensorBoard
// events of later steps, checkpoints other than the resume point and the
// one before it, and temporary files of interrupted writes. The resumed
// run writes them again, identically.
func rollBack(store *runstore.Store, st runstore.State, fromCheckpoint bool) error {
	if !fromCheckpoint {
		st.Step, st.Update = -1, -1 // drop everything
	}
	keep := func(line []byte) (bool, error) {
		var r struct {
			Update int `json:"update"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return false, err
		}
		return r.Update <= st.Update && fromCheckpoint, nil
	}
	for _, f := range []string{runstore.ScalarsFile, runstore.TopologyFile} {
		if err := store.Rewrite(f, keep); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
	}
	events, _ := filepath.Glob(store.Path("tb", "*tfevents*"))
	for _, f := range events {
		if !fromCheckpoint {
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("resume: %w", err)
			}
			continue
		}
		if _, _, err := tbevents.Filter(f, func(e tbevents.Event) bool { return e.Step <= int64(st.Step) }); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
	}
	removeAfter(store.Dir, st.Step)
	store.Prune(st)
	store.RemoveTemps()
	return nil
}

// Trained is a learner's state read from a run's checkpoint, with the
// run's config: what a rollout of the trained policy needs.
type Trained struct {
	Dir          string
	Config       config.Config
	Update, Step int
	Learner      []byte // sdk.Algorithm.Load's input
}

// ReadTrained reads the checkpoint at path (a run directory, for its
// latest checkpoint, or a checkpoints/update_*.ckpt file) and the run's
// config.yaml, without locking the run.
func ReadTrained(path string) (*Trained, error) {
	dir, payload, err := runstore.ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	if _, err := cfg.Load(filepath.Join(dir, runstore.ConfigFile)); err != nil {
		return nil, fmt.Errorf("checkpoint %s: the run's config: %w", path, err)
	}
	ck, err := decodeCheckpoint(payload)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s is not a format %d run checkpoint of this nthost (%v)", path, checkpointFormat, err)
	}
	if ck.Identity != Identity(cfg) {
		return nil, fmt.Errorf("checkpoint %s belongs to another run (its config differs from %s)", path, filepath.Join(dir, runstore.ConfigFile))
	}
	return &Trained{Dir: dir, Config: cfg, Update: ck.Update, Step: ck.Step, Learner: ck.Train.Algo}, nil
}
