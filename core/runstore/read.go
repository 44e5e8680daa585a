package runstore

import (
	"fmt"
	"io"
	"os"
)

// Size limits of the files nthost reads whole. They are far above what
// any run writes and far below what would exhaust memory; a file over
// its limit is refused in one line rather than read until memory runs
// out (a symlink to /dev/zero, a stray multi-GB file).
const (
	// MaxSmallFile bounds config files, sweep specs, plugin locks,
	// latest.json, timings.json and the like.
	MaxSmallFile = 16 << 20
	// MaxManifest bounds a sweep's sweep.json (thousands of trials).
	MaxManifest = 256 << 20
	// MaxLog bounds a run's JSON-lines logs (scalars.jsonl,
	// topology.jsonl).
	MaxLog = 4 << 30
)

// OpenRegular opens path for reading if it is a regular file of at most
// limit bytes. A device, FIFO or socket is refused: reading /dev/zero or
// a pipe nobody writes would never end.
func OpenRegular(path string, limit int64) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, kindOf(st.Mode()))
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the %d bytes such a file may have", path, st.Size(), limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// Checked again on the open file: the path may have been swapped.
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, nil
}

// ReadFileLimit reads a whole regular file of at most limit bytes.
func ReadFileLimit(path string, limit int64) ([]byte, error) {
	f, err := OpenRegular(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew over the %d bytes such a file may have while being read", path, limit)
	}
	return b, nil
}

func kindOf(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return m.String()
}
