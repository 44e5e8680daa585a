package runstore

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteAtomicKeepsSpecialFiles: writing to a named pipe (as to
// /dev/null, --out /dev/null) goes into the pipe, and the pipe is still a
// pipe afterwards; a rename over it would have left a regular file, which
// is how a benchmark's output once replaced this machine's /dev/null.
func TestWriteAtomicKeepsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	if err := WriteFileAtomic(fifo, []byte("through the pipe\n")); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "through the pipe\n" {
		t.Errorf("the pipe's reader got %q", b)
	}
	st, err := os.Lstat(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a named pipe: mode %v", fifo, st.Mode())
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left beside the pipe: %v", left)
	}
}
