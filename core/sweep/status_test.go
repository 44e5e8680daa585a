package sweep

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/runstore"
)

// A trial whose process holds its lock is running, with the step of its
// last logged update (not 0 until its first checkpoint); once the lock
// is let go it is started or stopped again, as its files say.
func TestStatusOfARunningTrial(t *testing.T) {
	spec, err := ParseSpec([]byte("base: {total_timesteps: 81920}\ngrid: {seed: [1, 2]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Create(t.TempDir(), spec)
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Trials[0]
	dir := m.RunDir(tr)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Two whole lines and the start of a third, as a run writing its
	// next line leaves the file.
	scalars := `{"step":2048,"update":1,"values":{}}` + "\n" + `{"step":4096,"update":2,"values":{}}` + "\n" + `{"step":61`
	if err := os.WriteFile(filepath.Join(dir, runstore.ScalarsFile), []byte(scalars), 0o644); err != nil {
		t.Fatal(err)
	}
	release, err := m.Lock(TrialLock(tr.Index))
	if err != nil {
		t.Fatal(err)
	}
	st := m.TrialStatus(tr)
	if st.State != StateRunning || st.Step != 4096 || st.Total != 81920 {
		t.Errorf("while locked: %s %d/%d, want running 4096/81920", st.State, st.Step, st.Total)
	}
	if other := m.TrialStatus(m.Trials[1]); other.State != StateNew {
		t.Errorf("the other trial is %s, want new", other.State)
	}
	release()
	if st := m.TrialStatus(tr); st.State != StateStarted || st.Step != 4096 {
		t.Errorf("after the lock is let go: %s %d, want started 4096", st.State, st.Step)
	}
}

func TestFlockHeld(t *testing.T) {
	locks := []byte("1: FLOCK  ADVISORY  WRITE 4242 08:01:123456 0 EOF\n2: POSIX  ADVISORY  WRITE 17 00:2a:99 0 EOF\n")
	for ino, want := range map[uint64]bool{123456: true, 23456: false, 99: false} {
		if got := flockHeld(locks, ino); got != want {
			t.Errorf("inode %d: held %v, want %v", ino, got, want)
		}
	}
}
