package sdk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-plugin"
)

// LockFileName is the lock file's name in the folder of the nthost binary,
// where `make build` writes it for the project's own plugins.
const LockFileName = "plugins.lock.json"

// LockVersion is the format version of lock files this sdk reads.
const LockVersion = 1

// Lock lists the plugin binaries a host may start, each with the SHA-256
// of its file. `nthost plugins lock` writes it; when one applies, Open
// refuses any binary not in it or whose contents changed.
type Lock struct {
	Version int         `json:"version"`
	Plugins []LockEntry `json:"plugins"`

	file string // where it was read from; relative paths are relative to its folder
}

// LockEntry is one locked plugin binary.
type LockEntry struct {
	Kind    Kind   `json:"kind"`
	Name    string `json:"name"`
	Version string `json:"version"` // what its Info said when it was locked
	// Path is the binary's path; relative to the lock file's folder when
	// it lies inside it, so that a bin folder can move as a whole.
	Path   string `json:"path"`
	SHA256 string `json:"sha256"` // hex
	// Code lists the files a script launcher runs (see PluginCode), each
	// with its SHA-256; empty for a compiled binary.
	Code []LockFile `json:"code,omitempty"`
}

// LockFile is one file of a script plugin's code.
type LockFile struct {
	Path   string `json:"path"` // relative to the launcher's folder, with '/'
	SHA256 string `json:"sha256"`
}

// ReadLock reads the lock file at file.
func ReadLock(file string) (*Lock, error) {
	b, err := readSmallFile(file, maxLockBytes)
	if err != nil {
		return nil, fmt.Errorf("plugin lock: %v", err)
	}
	var l Lock
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("plugin lock %s: %v (`nthost plugins lock` writes a new one)", file, err)
	}
	if l.Version != LockVersion {
		return nil, fmt.Errorf("plugin lock %s: format version %d, this nthost reads %d (`nthost plugins lock` writes a new one)", file, l.Version, LockVersion)
	}
	for i, e := range l.Plugins {
		if s, err := hex.DecodeString(e.SHA256); err != nil || len(s) != sha256.Size {
			return nil, fmt.Errorf("plugin lock %s: entry %d (%s): sha256 %q is not 64 hex digits", file, i+1, e.Path, e.SHA256)
		}
		for _, c := range e.Code {
			if s, err := hex.DecodeString(c.SHA256); err != nil || len(s) != sha256.Size {
				return nil, fmt.Errorf("plugin lock %s: entry %d (%s): code file %s: sha256 %q is not 64 hex digits", file, i+1, e.Path, c.Path, c.SHA256)
			}
		}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	l.file = abs
	return &l, nil
}

// Write writes the lock to file (atomically: a reader sees the old lock
// or the new one), with paths inside file's folder made relative to it.
func (l *Lock) Write(file string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	out := Lock{Version: LockVersion}
	for _, e := range l.Plugins {
		p, err := filepath.Abs(e.Path)
		if err != nil {
			return err
		}
		if rel, err := filepath.Rel(filepath.Dir(abs), p); err == nil && !strings.HasPrefix(rel, "..") {
			p = rel
		}
		e.Path = p
		out.Plugins = append(out.Plugins, e)
	}
	sort.Slice(out.Plugins, func(i, j int) bool { return out.Plugins[i].Path < out.Plugins[j].Path })
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), ".plugins.lock.*")
	if err != nil {
		return fmt.Errorf("plugin lock: %v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("plugin lock %s: %v", file, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("plugin lock %s: %v", file, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		return fmt.Errorf("plugin lock: %v", err)
	}
	l.file = abs
	return nil
}

// With returns a copy of the lock with e added, replacing any entry for
// the same binary (paths compared with symlinks resolved).
func (l *Lock) With(e LockEntry) *Lock {
	out := &Lock{Version: LockVersion, file: l.file}
	target := resolvePath(e.Path)
	for _, x := range l.Plugins {
		p := x.Path
		if !filepath.IsAbs(p) && l.file != "" {
			p = filepath.Join(filepath.Dir(l.file), p)
		}
		if resolvePath(p) != target {
			x.Path = p
			out.Plugins = append(out.Plugins, x)
		}
	}
	e.Path = target
	out.Plugins = append(out.Plugins, e)
	return out
}

// File is where the lock was read from or last written to.
func (l *Lock) File() string { return l.file }

// Find returns the entry for the binary at path, if the lock has one.
// Paths are compared with symlinks resolved, so one binary reached
// through a symlinked folder (or ./bin and its absolute path) is the
// same entry.
func (l *Lock) Find(path string) (LockEntry, bool) {
	abs := resolvePath(path)
	for _, e := range l.Plugins {
		p := e.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(l.file), p)
		}
		if resolvePath(p) == abs {
			return e, true
		}
	}
	return LockEntry{}, false
}

// resolvePath is path made absolute and clean, with symlinks resolved
// when it exists.
func resolvePath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	return abs
}

// maxLockBytes bounds a lock file: thousands of entries fit in 1 MiB.
const maxLockBytes = 16 << 20

// readSmallFile reads a regular file of at most limit bytes, refusing
// devices and pipes (a lock linked to /dev/zero would never end).
func readSmallFile(path string, limit int64) ([]byte, error) {
	// Stat before opening: opening a FIFO blocks until someone writes.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the %d a lock may have", path, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%s grew over %d bytes while being read", path, limit)
	}
	return b, err
}

// FileSHA256 returns the hex SHA-256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verify refuses the binary at path unless the lock lists it with the
// SHA-256 its file has now and, for a script launcher, with the code it
// declares unchanged (LockEntry.Check). The binary's comparison is
// go-plugin's SecureConfig: with a RunnerFunc go-plugin would check an
// empty path itself, so Open calls Check before it starts the runner.
func (l *Lock) verify(path string) error {
	base := filepath.Base(path)
	refresh := fmt.Sprintf("if this binary is meant to run, `nthost plugins lock --out %s %s` records it", l.file, path)
	e, ok := l.Find(path)
	if !ok {
		return fmt.Errorf("plugin %s: refused: %s is not in the plugin lock %s; %s", base, path, l.file, refresh)
	}
	if err := e.Check(path); err != nil {
		return fmt.Errorf("plugin %s: refused by the plugin lock %s: %v; %s", base, l.file, err, refresh)
	}
	return nil
}

// Check returns nil if the binary at path and, for a script launcher, every
// file of the code it declares are as recorded in e; otherwise an error
// naming the first file that differs.
func (e LockEntry) Check(path string) error {
	want, _ := hex.DecodeString(e.SHA256)
	sc := &plugin.SecureConfig{Checksum: want, Hash: sha256.New()}
	ok, err := sc.Check(path)
	if err != nil {
		return fmt.Errorf("cannot verify %s: %v", path, err)
	}
	if !ok {
		got, err := FileSHA256(path)
		if err != nil {
			got = "unreadable (" + err.Error() + ")"
		}
		return fmt.Errorf("%s changed since locked: expected sha256 %s, actual %s", path, e.SHA256, got)
	}
	code, err := PluginCode(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(resolvePath(path))
	locked := map[string]string{}
	for _, f := range e.Code {
		locked[f.Path] = f.SHA256
	}
	for _, f := range code {
		full := filepath.Join(dir, filepath.FromSlash(f.Path))
		w, ok := locked[f.Path]
		if !ok {
			return fmt.Errorf("%s, code run by %s, is not in the plugin lock (new since locked)", full, filepath.Base(path))
		}
		if w != f.SHA256 {
			return fmt.Errorf("%s, code run by %s, changed since locked: expected sha256 %s, actual %s", full, filepath.Base(path), w, f.SHA256)
		}
		delete(locked, f.Path)
	}
	for _, f := range e.Code {
		if _, gone := locked[f.Path]; gone {
			return fmt.Errorf("%s, code run by %s, is gone since locked", filepath.Join(dir, filepath.FromSlash(f.Path)), filepath.Base(path))
		}
	}
	return nil
}

// NewLockEntry hashes the plugin binary at path and the code it declares
// (PluginCode) into an entry of the lock.
func NewLockEntry(kind Kind, name, version, path string) (LockEntry, error) {
	sum, err := FileSHA256(path)
	if err != nil {
		return LockEntry{}, err
	}
	code, err := PluginCode(path)
	if err != nil {
		return LockEntry{}, err
	}
	return LockEntry{Kind: kind, Name: name, Version: version, Path: path, SHA256: sum, Code: code}, nil
}

// CodeDirective starts a line of a script launcher that names the code it
// runs: `# nt-lock-code: PATTERN...`, file names, folders or glob patterns
// (filepath.Match) relative to the launcher's folder. A Python plugin's
// launcher names its .py files, the ntplugin package it carries and the
// generated message code; the lock then records each of their files, so
// that editing the code, not only the launcher, is refused until locked.
const CodeDirective = "# nt-lock-code:"

// maxCodeFiles bounds the files one launcher may declare.
const maxCodeFiles = 10000

// PluginCode returns the files (path relative to the launcher's folder,
// with symlinks of the launcher resolved, and SHA-256) of the code the
// plugin at path declares with CodeDirective lines, sorted by path; nil for
// a binary that is not a script or declares none. Folders are walked
// whole; a pattern may not leave the launcher's folder, and a symbolic
// link to a folder or a file that is not regular (a FIFO) is an error, as
// the lock could not say what it holds.
func PluginCode(path string) ([]LockFile, error) {
	real := resolvePath(path)
	patterns, err := codePatterns(real)
	if err != nil || len(patterns) == 0 {
		return nil, err
	}
	dir := filepath.Dir(real)
	seen := map[string]string{}
	add := func(full string) error {
		if full == real {
			return nil // the launcher has its own hash
		}
		st, err := os.Stat(full)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return fmt.Errorf("%s, code declared by %s, is a symbolic link to a folder; the lock does not follow it", full, filepath.Base(path))
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s, code declared by %s, is not a regular file", full, filepath.Base(path))
		}
		rel, err := filepath.Rel(dir, full)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, ok := seen[rel]; ok {
			return nil
		}
		if len(seen) >= maxCodeFiles {
			return fmt.Errorf("%s declares more than %d code files", filepath.Base(path), maxCodeFiles)
		}
		sum, err := FileSHA256(full)
		if err != nil {
			return err
		}
		seen[rel] = sum
		return nil
	}
	for _, p := range patterns {
		clean := filepath.Clean(p)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("%s: %s %s leaves the launcher's folder", path, CodeDirective, p)
		}
		matches, err := filepath.Glob(filepath.Join(dir, clean))
		if err != nil {
			return nil, fmt.Errorf("%s: %s %s: %v", path, CodeDirective, p, err)
		}
		for _, m := range matches {
			st, err := os.Lstat(m)
			if err != nil {
				return nil, err
			}
			if !st.IsDir() {
				if err := add(m); err != nil {
					return nil, err
				}
				continue
			}
			err = filepath.WalkDir(m, func(f string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				return add(f)
			})
			if err != nil {
				return nil, err
			}
		}
	}
	out := make([]LockFile, 0, len(seen))
	for p, s := range seen {
		out = append(out, LockFile{Path: p, SHA256: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// codePatterns reads the CodeDirective lines of a script (a file starting
// with "#!"), looking at its first 64 KiB.
func codePatterns(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(string(b), "#!") {
		return nil, nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), CodeDirective); ok {
			out = append(out, strings.Fields(rest)...)
		}
	}
	return out, nil
}

var (
	lockMu      sync.Mutex
	processLock *Lock
)

// SetLock makes every later Open in this process, from any package
// (benchmarks, the conformance kit, restarts), verify plugins against l;
// nil turns verification off. A host calls it once at start.
func SetLock(l *Lock) {
	lockMu.Lock()
	defer lockMu.Unlock()
	processLock = l
}

// CurrentLock returns the lock set by SetLock, or nil.
func CurrentLock() *Lock {
	lockMu.Lock()
	defer lockMu.Unlock()
	return processLock
}
