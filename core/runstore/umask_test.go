package runstore

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Atomically written files get 0666 less the umask, like any created
// file: they used to be forced to 0644, readable by all under umask 077.
func TestAtomicWriteRespectsUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "x.json")
	if err := WriteFileAtomic(path, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Fatalf("mode %o under umask 077, want 600", got)
	}
	syscall.Umask(0o022)
	if err := WriteFileAtomic(path, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %o under umask 022, want 644", st.Mode().Perm())
	}
}
