package tbevents

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFilterKeepsEarlyEvents writes events at steps 0..9, tears the last
// record as a kill would, and keeps the steps up to 4: the result reads
// back as exactly those events and is the byte prefix of the original.
func TestFilterKeepsEarlyEvents(t *testing.T) {
	dir := t.TempDir()
	w, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for s := range 10 {
		if err := w.Scalar("x", int64(s), float64(s)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	path := w.Path()
	full, _ := os.ReadFile(path)
	os.WriteFile(path, full[:len(full)-3], 0o644)

	kept, dropped, err := Filter(path, func(e Event) bool { return e.Step <= 4 })
	if err != nil {
		t.Fatal(err)
	}
	if kept != 6 || dropped != 5 { // version + steps 0..4 kept; 5..8 and the torn 9 dropped
		t.Fatalf("kept %d, dropped %d; want 6 and 5", kept, dropped)
	}
	evs, err := Read(path)
	if err != nil || len(evs) != 6 || evs[0].FileVersion != FileVersion || evs[5].Step != 4 {
		t.Fatalf("after filter: %d events (%v)", len(evs), err)
	}
	got, _ := os.ReadFile(path)
	if string(full[:len(got)]) != string(got) {
		t.Fatal("the filtered file is not a prefix of the original: records were re-encoded")
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*")); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
}
