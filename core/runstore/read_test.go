package runstore

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFileLimitRefusesSpecialAndLargeFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 101), 0o644)
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("abc"), 0o644)
	for _, c := range []struct{ path, want string }{
		{"/dev/zero", "character device"},
		{fifo, "named pipe"},
		{dir, "directory"},
		{big, "101 bytes, over the 100"},
	} {
		if _, err := ReadFileLimit(c.path, 100); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.path, err, c.want)
		}
	}
	if b, err := ReadFileLimit(ok, 100); err != nil || string(b) != "abc" {
		t.Errorf("ok: %q %v", b, err)
	}
}

func TestCheckNewRefusesFoldersThatAreNotRuns(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	user := filepath.Join(dir, "user")
	os.Mkdir(user, 0o755)
	os.WriteFile(filepath.Join(user, ScalarsFile), []byte("{}\n"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(user, link)
	for _, ok := range []string{filepath.Join(dir, "new"), empty} {
		if err := CheckNew(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{user, link, "/", "/etc"} {
		if err := CheckNew(bad); err == nil {
			t.Errorf("%s accepted as a new run directory", bad)
		}
	}
	if s, err := Create(user); err == nil {
		s.Close()
		t.Error("Create took a folder of user files")
	}
	if b, _ := os.ReadFile(filepath.Join(user, ScalarsFile)); string(b) != "{}\n" {
		t.Error("user file changed")
	}
}
