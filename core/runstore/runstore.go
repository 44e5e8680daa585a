// Package runstore owns a run directory: where each result of a run lives,
// and how it is written so that a run killed at any moment (kill -9, a full
// disk) leaves no file corrupt. Whole files are written to a temporary
// name, synced and renamed; logs are JSON lines appended one whole line per
// write, and readers drop a torn last line.
package runstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// File names inside a run directory.
const (
	ConfigFile   = "config.yaml"
	ScalarsFile  = "scalars.jsonl"
	TopologyFile = "topology.jsonl"
	TimingsFile  = "timings.json"
	// TransportFile records how the host spoke to each plugin (sdk
	// transports, or "in-process") and who sampled the snapshots' states
	// (run.SamplingKey), so a run that fell back to a slower path shows
	// it.
	TransportFile = "transport.json"
	StateFile     = "checkpoints/latest.json"
	ReportFile    = "report.html"
)

// Store is an open run directory. While it is open, no other Store (in
// this process or another) can open the same directory: two runs writing
// one directory would interleave their records.
type Store struct {
	Dir string

	mu    sync.Mutex
	files map[string]*os.File
	lock  *os.File // the directory, flock'ed exclusively; nil once closed
}

// Open opens the run directory dir, creating it if needed, and locks it.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	return OpenExisting(dir)
}

// OpenExisting opens and locks the run directory dir, which must exist;
// it writes nothing.
func OpenExisting(dir string) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("run directory: empty path")
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("run directory %s is not a directory", dir)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	return &Store{Dir: dir, files: map[string]*os.File{}, lock: lock}, nil
}

// Path returns the absolute location of a file in the run directory.
func (s *Store) Path(rel ...string) string {
	return filepath.Join(append([]string{s.Dir}, rel...)...)
}

// WriteFile writes a whole file atomically: readers see the old content or
// the new, never a mix, and a crash leaves at most a stray temporary file.
func (s *Store) WriteFile(rel string, b []byte) error {
	return WriteFileAtomic(s.Path(rel), b)
}

// WriteFileAtomic writes b to a temporary file beside path, syncs it, and
// renames it into place.
func WriteFileAtomic(path string, b []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// WriteAtomic streams a file through write into a temporary file beside
// path, syncs it and renames it into place; on any error the temporary
// file is removed and an existing file at path is left as it was.
//
// A path that names a device, pipe or socket (--out /dev/null, a named
// pipe) is written in place instead: renaming a file over it would
// replace the device itself with a regular file, which for /dev/null
// under root breaks every process on the machine.
func WriteAtomic(path string, write func(io.Writer) error) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		return writeInPlace(path, write)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		// CreateTemp makes files private; give the file the mode a plain
		// create would (0666 less the umask), so a private umask stays so.
		err = f.Chmod(0o666 &^ umask())
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Append adds v as one JSON line to the log rel. The line goes out in a
// single write and is synced, so a crash loses at most the line in flight
// and never breaks an earlier one.
func (s *Store) Append(rel string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[rel]
	if !ok {
		if err := os.MkdirAll(filepath.Dir(s.Path(rel)), 0o755); err != nil {
			return err
		}
		f, err = os.OpenFile(s.Path(rel), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		s.files[rel] = f
	}
	// A write cut short (a full disk) is taken back, so the log keeps
	// only whole lines and a later resume appends after a clean end.
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("appending to %s: %w", s.Path(rel), err)
	}
	if _, err := f.Write(b); err != nil {
		f.Truncate(end)
		return fmt.Errorf("appending to %s: %w", s.Path(rel), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("appending to %s: %w", s.Path(rel), err)
	}
	return nil
}

// ReadLines decodes the JSON lines of rel with decode. A torn last line (a
// run killed mid-write) is dropped; a bad line elsewhere is an error with
// its line number. A missing file is no lines.
func (s *Store) ReadLines(rel string, decode func(line []byte) error) error {
	b, err := os.ReadFile(s.Path(rel))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := decode(line); err != nil {
			last := !bytes.HasSuffix(b, []byte("\n")) && n == bytes.Count(b, []byte("\n"))+1
			if last {
				return nil
			}
			return fmt.Errorf("%s line %d: %v", s.Path(rel), n, err)
		}
	}
	return sc.Err()
}

// Rewrite replaces the log rel with the lines keep accepts, atomically:
// on resume, records past the last checkpoint are dropped this way.
func (s *Store) Rewrite(rel string, keep func(line []byte) (bool, error)) error {
	var out bytes.Buffer
	err := s.ReadLines(rel, func(line []byte) error {
		ok, err := keep(line)
		if ok {
			out.Write(line)
			out.WriteByte('\n')
		}
		return err
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.files[rel]; ok {
		f.Close()
		delete(s.files, rel)
	}
	return WriteFileAtomic(s.Path(rel), out.Bytes())
}

// Close closes the open logs and unlocks the directory.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for k, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.files, k)
	}
	if s.lock != nil {
		s.lock.Close() // closing the descriptor releases the flock
		s.lock = nil
	}
	return first
}

// SafeName turns a cloud name such as "actor/1" into a file name part.
func SafeName(cloud string) string {
	return strings.NewReplacer("/", "_", "\\", "_", " ", "_").Replace(cloud)
}

// writeInPlace streams write into an existing special file.
func writeInPlace(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// umask returns the process's file mode creation mask, read from
// /proc/self/status (setting it to read it back would race with other
// goroutines creating files); 022 where that is not available.
func umask() os.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0o022
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Umask:"); ok {
			if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return os.FileMode(m) & 0o777
			}
		}
	}
	return 0o022
}

// CheckNew refuses dir as the directory of a new run unless it is
// missing or empty. A new run writes config.yaml, scalars.jsonl, tb/ and
// checkpoints/ into it and appends to logs already there, so a folder of
// the user's own files (or, through a symlink or as root, /etc or /) must
// never be taken. The check looks through symlinks at the folder they
// name.
func CheckNew(dir string) error { return checkNew(dir, true) }

// checkNew is CheckNew; probe: first see whether a run holds dir's lock
// (not when the caller holds it itself).
func checkNew(dir string, probe bool) error {
	if dir == "" {
		return fmt.Errorf("run directory: empty path")
	}
	st, err := os.Stat(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("run directory %s is not a directory", dir)
	}
	// A run going on in it is the first thing to say.
	if probe {
		lock, err := lockDir(dir)
		if err != nil {
			return err
		}
		lock.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, StateFile)); err == nil {
		return fmt.Errorf("%s already holds a run; continue it with --resume %s or choose another --run-dir", dir, dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	if len(names) > 0 {
		where := dir
		if real, err := filepath.EvalSymlinks(dir); err == nil && real != filepath.Clean(dir) {
			where = fmt.Sprintf("%s (-> %s)", dir, real)
		}
		if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil {
			return fmt.Errorf("run directory %s holds a run stopped before its first checkpoint; continue it with --resume %s, or choose a new or empty --run-dir", where, dir)
		}
		return fmt.Errorf("run directory %s is not empty (it holds %s, ...) and is not a run; a new run needs a new or empty --run-dir", where, names[0])
	}
	return nil
}

// Create opens the directory of a new run: dir must be missing or empty
// (CheckNew); it is created and locked, and checked again once locked.
func Create(dir string) (*Store, error) {
	if err := CheckNew(dir); err != nil {
		return nil, err
	}
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	if err := checkNew(dir, false); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
