package tbevents

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: no events file makes Read panic, hang, or allocate more than
// the file holds (a forged record length once asked for 1 GB).
func FuzzRead(f *testing.F) {
	dir := f.TempDir()
	w, err := New(dir)
	if err != nil {
		f.Fatal(err)
	}
	w.Scalar("charts/episodic_return", 1, 12.5)
	w.Scalars(2, map[string]float64{"losses/value_loss": 0.25, "topology/betti_1": 3})
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(w.Path())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0xff, 0xff, 0xff, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "events")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		evs, _ := Read(path)
		if len(evs) > len(data)/12 {
			t.Fatalf("%d events from %d bytes", len(evs), len(data))
		}
	})
}
