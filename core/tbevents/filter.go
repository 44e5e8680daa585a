package tbevents

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Filter rewrites the event file at path keeping only the events keep
// accepts, byte for byte as they were; a record cut short at the end (a
// writer killed mid-record) is dropped. The file is replaced atomically,
// so a crash during Filter leaves the old file. A resumed run uses it to
// drop the events written after its checkpoint, which it will write
// again.
func Filter(path string, keep func(Event) bool) (kept, dropped int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	var out bytes.Buffer
	r := bytes.NewReader(b)
	for n := 0; ; n++ {
		var head [12]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			return 0, 0, fmt.Errorf("%s: record %d: %w", path, n, err)
		}
		if got, want := binary.LittleEndian.Uint32(head[8:]), maskedCRC(head[:8]); got != want {
			return 0, 0, fmt.Errorf("%s: record %d: length CRC %#x, want %#x", path, n, got, want)
		}
		size := binary.LittleEndian.Uint64(head[:8])
		if size > uint64(r.Len()) {
			dropped++ // cut short
			break
		}
		data := make([]byte, size+4)
		if _, err := io.ReadFull(r, data); err != nil {
			dropped++
			break
		}
		body := data[:size]
		if got, want := binary.LittleEndian.Uint32(data[size:]), maskedCRC(body); got != want {
			return 0, 0, fmt.Errorf("%s: record %d: data CRC %#x, want %#x", path, n, got, want)
		}
		ev, err := decodeEvent(body)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: record %d: %w", path, n, err)
		}
		if !keep(ev) {
			dropped++
			continue
		}
		kept++
		out.Write(head[:])
		out.Write(data)
	}
	if dropped == 0 && out.Len() == len(b) {
		return kept, 0, nil
	}
	return kept, dropped, replace(path, out.Bytes())
}

// replace writes b to a temporary file beside path, syncs it and renames
// it over path.
func replace(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	_, err = w.Write(b)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
