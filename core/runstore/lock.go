package runstore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive flock on the directory itself, so locking
// writes no file. The kernel drops the lock when the process ends in any
// way, kill -9 included, so a crashed run never leaves a stale lock. Go
// opens files close-on-exec, so plugin processes do not inherit it.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("run directory %s is in use by another nthost run (locked); wait for it to end or choose another --run-dir", dir)
		}
		return nil, fmt.Errorf("run directory %s: lock: %w", dir, err)
	}
	return f, nil
}
