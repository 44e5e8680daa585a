package sdk

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveStaleSocketDirs: folders of dead hosts, and of a pid reused
// by another process (its start time differs), go; the folder of a live
// host and anything not named like ours stay.
func TestRemoveStaleSocketDirs(t *testing.T) {
	tmp := t.TempDir()
	start, err := procStart(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	live := fmt.Sprintf("%s%d-%s", socketDirPrefix, os.Getpid(), start)
	reused := fmt.Sprintf("%s%d-%s9", socketDirPrefix, os.Getpid(), start)
	dead := socketDirPrefix + "999999999-1"
	other := "nt-pluginsX-1-1"
	for _, d := range []string{live, reused, dead, other} {
		if err := os.MkdirAll(filepath.Join(tmp, d, "plugin-dir1"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	removed := RemoveStaleSocketDirs(tmp)
	if len(removed) != 2 {
		t.Errorf("removed %v, want the reused-pid and the dead host's folders", removed)
	}
	for d, want := range map[string]bool{live: true, reused: false, dead: false, other: true} {
		if _, err := os.Stat(filepath.Join(tmp, d)); (err == nil) != want {
			t.Errorf("%s: exists=%v, want %v", d, err == nil, want)
		}
	}
}
