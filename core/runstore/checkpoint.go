package runstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/crashpoint"
)

// State is the resume point written beside each checkpoint, in
// checkpoints/latest.json.
type State struct {
	Update     int     `json:"update"`
	Step       int     `json:"step"`
	Checkpoint string  `json:"checkpoint"` // relative to the run directory
	Seconds    float64 `json:"seconds"`    // training wall time so far
	Snapshots  int     `json:"snapshots"`
	// Stopped marks a checkpoint taken between updates because the run
	// was asked to stop (SIGINT, SIGTERM).
	Stopped bool `json:"stopped,omitempty"`
}

// checkpointName is where the checkpoint of st lives: update_<U>.ckpt
// for one taken at an update, update_<U>_step_<S>.ckpt for a stop.
func checkpointName(st State) string {
	if st.Stopped {
		return fmt.Sprintf("checkpoints/update_%06d_step_%09d.ckpt", st.Update, st.Step)
	}
	return fmt.Sprintf("checkpoints/update_%06d.ckpt", st.Update)
}

var checkpointFile = regexp.MustCompile(`^update_(\d{6,})(?:_step_(\d{9,}))?\.ckpt$`)

// sealMagic starts every checkpoint file; the SHA-256 of the payload
// follows, then the payload.
const sealMagic = "nt-ckpt1"

// seal frames a checkpoint payload with a magic and its checksum, so any
// damage to the file (a flipped bit, a truncation) is found on resume.
func seal(payload []byte) []byte {
	sum := sha256.Sum256(payload)
	out := make([]byte, 0, len(sealMagic)+len(sum)+len(payload))
	return append(append(append(out, sealMagic...), sum[:]...), payload...)
}

// unseal checks a sealed checkpoint and returns its payload.
func unseal(b []byte) ([]byte, error) {
	n := len(sealMagic) + sha256.Size
	if len(b) < n || string(b[:len(sealMagic)]) != sealMagic {
		return nil, errors.New("not a NeuralTopology checkpoint (bad header)")
	}
	payload := b[n:]
	if sum := sha256.Sum256(payload); !bytes.Equal(sum[:], b[len(sealMagic):n]) {
		return nil, errors.New("checksum mismatch: the file is damaged")
	}
	return payload, nil
}

// SaveCheckpoint writes the payload (sealed with its checksum) and then
// the state that points at it; both atomically, in that order, so
// latest.json never names a checkpoint that is not complete on disk.
// Then older checkpoints are pruned (see Prune).
func (s *Store) SaveCheckpoint(st State, payload []byte) error {
	st.Checkpoint = checkpointName(st)
	sealed := seal(payload)
	err := WriteAtomic(s.Path(st.Checkpoint), func(w io.Writer) error {
		half := len(sealed) / 2
		if _, err := w.Write(sealed[:half]); err != nil {
			return err
		}
		crashpoint.Hit("checkpoint-write") // tests: killed mid-write
		_, err := w.Write(sealed[half:])
		return err
	})
	if err != nil {
		return err
	}
	crashpoint.Hit("checkpoint-written") // tests: before latest.json names it
	b, _ := json.MarshalIndent(st, "", " ")
	if err := s.WriteFile(StateFile, b); err != nil {
		return err
	}
	crashpoint.Hit("checkpoint-named") // tests: before older ones are pruned
	s.Prune(st)
	return nil
}

// Prune removes every checkpoint file but latest's and the newest one
// taken at an update before it, so a checkpoint damaged after the fact
// still leaves one to fall back to by hand. What is kept depends only on
// latest, not on the history of the directory, so an interrupted and
// resumed run ends with the same files as one never interrupted.
func (s *Store) Prune(latest State) {
	files, _ := filepath.Glob(s.Path("checkpoints", "update_*.ckpt"))
	type ck struct {
		path         string
		update, step int
		stopped      bool
	}
	var regular []ck
	keep := filepath.Base(checkpointName(latest))
	for _, p := range files {
		m := checkpointFile.FindStringSubmatch(filepath.Base(p))
		if m == nil || filepath.Base(p) == keep {
			continue
		}
		u, _ := strconv.Atoi(m[1])
		if m[2] == "" && (u < latest.Update || (u == latest.Update && latest.Stopped)) {
			regular = append(regular, ck{path: p, update: u})
			continue
		}
		os.Remove(p)
	}
	sort.Slice(regular, func(i, j int) bool { return regular[i].update > regular[j].update })
	for i, c := range regular {
		if i > 0 {
			os.Remove(c.path)
		}
	}
}

// LoadState reads the resume point, or nil if there is no checkpoint
// yet. A state that names no valid resume point is an error.
func (s *Store) LoadState() (*State, error) {
	b, err := os.ReadFile(s.Path(StateFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%s: %v", s.Path(StateFile), err)
	}
	switch {
	case st.Update < 0 || st.Step < 0 || st.Snapshots < 0:
		return nil, fmt.Errorf("%s: update %d, step %d, snapshots %d: none may be negative", s.Path(StateFile), st.Update, st.Step, st.Snapshots)
	case st.Checkpoint != checkpointName(st):
		// This also keeps the path inside the run directory: only
		// checkpoints/update_... names are accepted.
		return nil, fmt.Errorf("%s: checkpoint %q is not %q, the file of update %d", s.Path(StateFile), st.Checkpoint, checkpointName(st), st.Update)
	}
	return &st, nil
}

// LoadCheckpoint reads the resume point and its checkpoint, checks the
// checkpoint's checksum, and returns its payload. Nothing is changed.
func (s *Store) LoadCheckpoint() (*State, []byte, error) {
	st, err := s.LoadState()
	if err != nil || st == nil {
		return st, nil, err
	}
	p := s.Path(st.Checkpoint)
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("checkpoint %s is not a regular file", p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	payload, err := unseal(b)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", p, err)
	}
	return st, payload, nil
}

// RemoveTemps deletes the temporary files WriteAtomic leaves when the
// process dies mid-write.
func (s *Store) RemoveTemps() {
	filepath.WalkDir(s.Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.Contains(d.Name(), ".tmp-") {
			os.Remove(p)
		}
		return nil
	})
}

// ReadCheckpoint reads a checkpoint without locking the run directory, so
// a run still writing it can be looked at: path is a run directory (its
// latest checkpoint) or one of its checkpoints/update_*.ckpt files. It
// returns the run directory and the checked payload.
func ReadCheckpoint(path string) (dir string, payload []byte, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, fmt.Errorf("checkpoint: %w", err)
	}
	file := path
	if fi.IsDir() {
		dir = path
		s := &Store{Dir: dir}
		st, err := s.LoadState()
		if err != nil {
			return "", nil, fmt.Errorf("checkpoint: %w", err)
		}
		if st == nil {
			return "", nil, fmt.Errorf("checkpoint: %s has no checkpoint yet (no %s)", dir, StateFile)
		}
		file = s.Path(st.Checkpoint)
	} else {
		if !checkpointFile.MatchString(filepath.Base(path)) {
			return "", nil, fmt.Errorf("checkpoint: %s: want a run directory or its checkpoints/update_<N>.ckpt", path)
		}
		dir = filepath.Dir(filepath.Dir(path))
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", nil, fmt.Errorf("checkpoint: %w", err)
	}
	if payload, err = unseal(b); err != nil {
		return "", nil, fmt.Errorf("checkpoint %s: %w", file, err)
	}
	return dir, payload, nil
}
