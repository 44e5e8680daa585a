package runstore

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
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
	if st, err := s.LoadState(); st != nil || err != nil {
		t.Fatalf("fresh store has state %v, %v", st, err)
	}
	for u := 10; u <= 40; u += 10 {
		if err := s.SaveCheckpoint(State{Update: u, Step: u * 100}, []byte{byte(u)}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.LoadState()
	if err != nil || st.Update != 40 || st.Step != 4000 {
		t.Fatalf("state %+v, %v", st, err)
	}
	b, err := os.ReadFile(s.Path(st.Checkpoint))
	if err != nil || len(b) != 1 || b[0] != 40 {
		t.Fatalf("checkpoint %q: %v %v", st.Checkpoint, b, err)
	}
	files, _ := filepath.Glob(s.Path("checkpoints", "update_*.ckpt"))
	if len(files) != 2 {
		t.Fatalf("want the last two checkpoints kept, have %v", files)
	}
}
