package sdk

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Plugin sockets live in one folder per host process,
// $TMPDIR/nt-plugins-<pid>-<start>, where start is the process's start
// time in clock ticks since boot (field 22 of /proc/<pid>/stat). go-plugin
// makes a 0700 folder per plugin inside it and removes that folder when it
// kills the plugin; a host killed with SIGKILL never gets to, so the next
// host to start removes the folders of host processes that are gone. The
// start time tells a dead host from a live process that reused its pid.
const socketDirPrefix = "nt-plugins-"

var (
	sockMu  sync.Mutex
	sockDir string // this process's folder once made
)

// socketBase returns this process's socket folder, creating it (and
// removing stale ones) on first use.
func socketBase() (string, error) {
	sockMu.Lock()
	defer sockMu.Unlock()
	if sockDir != "" {
		return sockDir, nil
	}
	RemoveStaleSocketDirs(os.TempDir())
	start, err := procStart(os.Getpid())
	if err != nil {
		return "", fmt.Errorf("plugin socket folder: %v", err)
	}
	d := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-%s", socketDirPrefix, os.Getpid(), start))
	// go-plugin adds /plugin-dir<10 digits>/plugin<10 digits>; a unix
	// socket's path has room for 107 bytes, and bind's EINVAL names none
	// of this.
	if n := len(d) + len("/plugin-dir0123456789/plugin0123456789"); n > 107 {
		return "", fmt.Errorf("plugin sockets under TMPDIR=%s would have %d-byte paths, over the 107 a unix socket allows: set TMPDIR to a shorter folder", os.TempDir(), n)
	}
	if err := os.Mkdir(d, 0o700); err != nil && !os.IsExist(err) {
		return "", fmt.Errorf("plugin socket folder: %v", err)
	}
	// An existing folder must be ours and private, or someone could have
	// prepared it to intercept the sockets.
	if st, err := os.Lstat(d); err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 || !ownedByUs(st) {
		return "", fmt.Errorf("plugin socket folder %s exists and is not a private folder of this user", d)
	}
	sockDir = d
	return d, nil
}

// RemoveSocketDir removes this process's plugin socket folder once its
// plugins are stopped; a host calls it on the way out. A later Open makes
// a new one.
func RemoveSocketDir() {
	sockMu.Lock()
	defer sockMu.Unlock()
	if sockDir != "" {
		os.RemoveAll(sockDir)
		sockDir = ""
	}
}

// RemoveStaleSocketDirs removes from tmp the plugin socket folders that
// belong to this user and to host processes no longer running, and
// returns the ones it removed. Folders of other users, and of live
// processes, are left alone.
func RemoveStaleSocketDirs(tmp string) []string {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), socketDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidS, start, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidS)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		p := filepath.Join(tmp, e.Name())
		st, err := os.Lstat(p)
		if err != nil || !st.IsDir() || !ownedByUs(st) {
			continue
		}
		if now, err := procStart(pid); err == nil && now == start {
			continue // that host is still running
		}
		if os.RemoveAll(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}

// procStart is the start time of process pid in clock ticks since boot,
// as /proc/<pid>/stat gives it.
func procStart(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields count from after its closing one.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	const startField = 22 - 3 // field 22, counted after pid and comm
	if len(f) <= startField {
		return "", fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return f[startField], nil
}

// ownedByUs reports whether the file st describes belongs to this user.
func ownedByUs(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Getuid()
}
