package runstore

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type rec struct {
	Update int `json:"update"`
}

func readAll(t *testing.T, s *Store, rel string) ([]int, error) {
	t.Helper()
	var got []int
	err := s.ReadLines(rel, func(b []byte) error {
		var r rec
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		got = append(got, r.Update)
		return nil
	})
	return got, err
}

func TestTornLastLineIsDropped(t *testing.T) {
	s, _ := Open(t.TempDir())
	for i := 1; i <= 3; i++ {
		if err := s.Append("log.jsonl", rec{i}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	f, _ := os.OpenFile(s.Path("log.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"upda`)
	f.Close()
	got, err := readAll(t, s, "log.jsonl")
	if err != nil || len(got) != 3 || got[2] != 3 {
		t.Fatalf("got %v, %v; want [1 2 3] and no error", got, err)
	}
}

func TestCorruptMiddleLineIsAnError(t *testing.T) {
	s, _ := Open(t.TempDir())
	os.WriteFile(s.Path("log.jsonl"), []byte("{\"update\":1}\nnot json\n{\"update\":3}\n"), 0o644)
	_, err := readAll(t, s, "log.jsonl")
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want an error naming line 2, got %v", err)
	}
}

func TestRewriteKeepsOnlyAcceptedLines(t *testing.T) {
	s, _ := Open(t.TempDir())
	for i := 1; i <= 5; i++ {
		s.Append("log.jsonl", rec{i})
	}
	err := s.Rewrite("log.jsonl", func(b []byte) (bool, error) {
		var r rec
		err := json.Unmarshal(b, &r)
		return r.Update <= 2, err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Appending after a rewrite continues the rewritten file.
	s.Append("log.jsonl", rec{3})
	got, _ := readAll(t, s, "log.jsonl")
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("got %v, want [1 2 3]", got)
	}
}

func TestFailedWriteLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	if err := WriteFileAtomic(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	err := WriteAtomic(p, func(w io.Writer) error {
		w.Write([]byte("half of the n"))
		return errors.New("disk full")
	})
	if err == nil || !strings.Contains(err.Error(), "a.txt") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("want an error naming the file and the cause, got %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("file now holds %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644", st.Mode().Perm())
	}
}

func TestCheckpointsKeepLatestTwo(t *testing.T) {
	s, _ := Open(t.TempDir())
	defer s.Close()
	if st, err := s.LoadState(); st != nil || err != nil {
		t.Fatalf("fresh store has state %v, %v", st, err)
	}
	for u := 10; u <= 40; u += 10 {
		if err := s.SaveCheckpoint(State{Update: u, Step: u * 100}, []byte{byte(u)}); err != nil {
			t.Fatal(err)
		}
	}
	st, b, err := s.LoadCheckpoint()
	if err != nil || st.Update != 40 || st.Step != 4000 || len(b) != 1 || b[0] != 40 {
		t.Fatalf("state %+v, payload %v, %v", st, b, err)
	}
	names := func() []string {
		files, _ := filepath.Glob(s.Path("checkpoints", "update_*.ckpt"))
		for i := range files {
			files[i] = filepath.Base(files[i])
		}
		return files
	}
	if got := names(); !reflect.DeepEqual(got, []string{"update_000030.ckpt", "update_000040.ckpt"}) {
		t.Fatalf("kept %v, want the last two", got)
	}
	// A stop between updates keeps the update before it; the next
	// update's checkpoint drops the stop's.
	if err := s.SaveCheckpoint(State{Update: 40, Step: 4050, Stopped: true}, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if got := names(); !reflect.DeepEqual(got, []string{"update_000040.ckpt", "update_000040_step_000004050.ckpt"}) {
		t.Fatalf("after a stop: kept %v", got)
	}
	if err := s.SaveCheckpoint(State{Update: 50, Step: 5000}, []byte{2}); err != nil {
		t.Fatal(err)
	}
	if got := names(); !reflect.DeepEqual(got, []string{"update_000040.ckpt", "update_000050.ckpt"}) {
		t.Fatalf("after the next update: kept %v", got)
	}
	// Pruning for an older resume point removes newer leftovers of the
	// run that was killed.
	s.Prune(State{Update: 40, Step: 4000})
	if got := names(); !reflect.DeepEqual(got, []string{"update_000040.ckpt"}) {
		t.Fatalf("after pruning to update 40: kept %v", got)
	}
}

// TestCheckpointDamageIsRefused flips every bit of a checkpoint file in
// turn, and truncates it: each is refused with a one-line error.
func TestCheckpointDamageIsRefused(t *testing.T) {
	s, _ := Open(t.TempDir())
	defer s.Close()
	if err := s.SaveCheckpoint(State{Update: 3, Step: 300}, []byte("the learner and the environments")); err != nil {
		t.Fatal(err)
	}
	p := s.Path("checkpoints", "update_000003.ckpt")
	good, _ := os.ReadFile(p)
	for bit := 0; bit < 8*len(good); bit++ {
		bad := append([]byte(nil), good...)
		bad[bit/8] ^= 1 << (bit % 8)
		os.WriteFile(p, bad, 0o644)
		if _, _, err := s.LoadCheckpoint(); err == nil || strings.Contains(err.Error(), "\n") {
			t.Fatalf("bit %d flipped: error %v, want a one-line refusal", bit, err)
		}
	}
	os.WriteFile(p, good[:len(good)-1], 0o644)
	if _, _, err := s.LoadCheckpoint(); err == nil {
		t.Fatal("a truncated checkpoint was accepted")
	}
}

// TestBadStateIsRefused writes latest.json files that cannot name a resume
// point of this directory.
func TestBadStateIsRefused(t *testing.T) {
	s, _ := Open(t.TempDir())
	defer s.Close()
	for name, js := range map[string]string{
		"negative update": `{"update": -1, "step": 0, "checkpoint": "checkpoints/update_-00001.ckpt"}`,
		"outside":         `{"update": 1, "step": 10, "checkpoint": "/etc/passwd"}`,
		"dot-dot":         `{"update": 1, "step": 10, "checkpoint": "checkpoints/../../x/checkpoints/update_000001.ckpt"}`,
		"other update":    `{"update": 2, "step": 20, "checkpoint": "checkpoints/update_000001.ckpt"}`,
		"unknown key":     `{"update": 1, "step": 10, "checkpoint": "checkpoints/update_000001.ckpt", "x": 1}`,
		"not json":        `update: 1`,
	} {
		os.MkdirAll(s.Path("checkpoints"), 0o755)
		os.WriteFile(s.Path(StateFile), []byte(js), 0o644)
		if st, err := s.LoadState(); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: state %+v, error %v; want a one-line refusal", name, st, err)
		}
	}
	// A symlink in the checkpoint's place is not followed.
	os.WriteFile(s.Path(StateFile), []byte(`{"update": 1, "step": 10, "checkpoint": "checkpoints/update_000001.ckpt"}`), 0o644)
	os.Symlink("/etc/passwd", s.Path("checkpoints", "update_000001.ckpt"))
	if _, _, err := s.LoadCheckpoint(); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("symlinked checkpoint: %v", err)
	}
}

// TestDirectoryIsLocked opens a run directory twice: the second open is
// refused with one line until the first store is closed.
func TestDirectoryIsLocked(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenExisting(dir)
	if err == nil || !strings.Contains(err.Error(), "in use by another nthost run") {
		t.Fatalf("second open: %v", err)
	}
	a.Close()
	b, err := OpenExisting(dir)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	b.Close()
	if _, err := OpenExisting(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("OpenExisting created or accepted a missing directory")
	}
}
