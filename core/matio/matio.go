// Package matio reads and writes matrices in the files users exchange with
// numpy and spreadsheets: text (.csv, .txt, .tsv), numpy's .npy, and .npz
// archives of named arrays (a zip of .npy members, as numpy.savez writes).
//
// Everything is read into an sdk.Matrix of float64. Writes are atomic: the
// data goes to a temporary file in the destination's folder, is synced to
// disk, and is renamed over the destination, so a crash or a full disk
// never leaves a half-written file under the real name.
//
// A 1-D array of n values is read as an n x 1 matrix (n points of one
// coordinate); a 0-D scalar as 1 x 1. Arrays are always written 2-D.
package matio

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// NamedArray is one member of a .npz archive.
type NamedArray struct {
	Name   string // without the .npy suffix, e.g. "dgm0"
	Matrix sdk.Matrix
}

// Read reads a matrix from path, choosing the format by its extension:
// .npy, .npz (which must hold exactly one array), or text for .csv, .txt
// and .tsv. Errors name the file.
func Read(path string) (sdk.Matrix, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".npy":
		f, err := os.Open(path)
		if err != nil {
			return sdk.Matrix{}, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return sdk.Matrix{}, err
		}
		avail := int64(-1)
		if st.Mode().IsRegular() {
			avail = st.Size()
		}
		r := bufio.NewReaderSize(f, 1<<16)
		m, err := readNPY(r, avail)
		if err != nil {
			return sdk.Matrix{}, fmt.Errorf("%s: %v", path, err)
		}
		if n, _ := io.Copy(io.Discard, r); n > 0 {
			return sdk.Matrix{}, fmt.Errorf("%s: %d unexpected bytes after the array", path, n)
		}
		return m, nil
	case ".npz":
		arrays, err := ReadNPZ(path)
		if err != nil {
			return sdk.Matrix{}, err
		}
		if len(arrays) != 1 {
			names := make([]string, len(arrays))
			for i, a := range arrays {
				names[i] = a.Name
			}
			return sdk.Matrix{}, fmt.Errorf("%s: holds %d arrays (%s), want exactly one", path, len(arrays), strings.Join(names, ", "))
		}
		return arrays[0].Matrix, nil
	case ".csv", ".txt", ".tsv":
		f, err := os.Open(path)
		if err != nil {
			return sdk.Matrix{}, err
		}
		defer f.Close()
		m, err := ReadCSV(f)
		if err != nil {
			return sdk.Matrix{}, fmt.Errorf("%s: %v", path, err)
		}
		return m, nil
	default:
		return sdk.Matrix{}, fmt.Errorf("%s: unknown extension %q: want .csv, .txt, .tsv, .npy or .npz", path, ext)
	}
}

// Write writes m to path, atomically, in the format its extension names:
// .npy, .csv, or .npz (one array named "arr_0", as numpy.savez names an
// unnamed array).
func Write(path string, m sdk.Matrix) error {
	if err := m.Validate(false); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".npy":
		return writeAtomic(path, func(w io.Writer) error { return WriteNPY(w, m) })
	case ".csv":
		return writeAtomic(path, func(w io.Writer) error { return WriteCSV(w, m) })
	case ".npz":
		return WriteNPZ(path, []NamedArray{{Name: "arr_0", Matrix: m}})
	default:
		return fmt.Errorf("%s: unknown extension %q: want .csv, .npy or .npz", path, ext)
	}
}

// WriteNPZ writes arrays to path as an uncompressed .npz archive (as
// numpy.savez does), one member <name>.npy each, in the given order,
// atomically. Names must be non-empty and distinct.
func WriteNPZ(path string, arrays []NamedArray) error {
	seen := map[string]bool{}
	for _, a := range arrays {
		if a.Name == "" {
			return fmt.Errorf("%s: an array has an empty name", path)
		}
		if seen[a.Name] {
			return fmt.Errorf("%s: two arrays are named %q", path, a.Name)
		}
		seen[a.Name] = true
		if err := a.Matrix.Validate(false); err != nil {
			return fmt.Errorf("%s: array %q: %v", path, a.Name, err)
		}
	}
	return writeAtomic(path, func(w io.Writer) error {
		z := zip.NewWriter(w)
		for _, a := range arrays {
			f, err := z.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: zip.Store})
			if err != nil {
				return err
			}
			if err := WriteNPY(f, a.Matrix); err != nil {
				return fmt.Errorf("array %q: %v", a.Name, err)
			}
		}
		return z.Close()
	})
}

// ReadNPZ reads every array of the .npz archive at path, in archive order,
// compressed (numpy.savez_compressed) or not. Every member must be a .npy
// array that ReadNPY accepts; errors name the file and the member.
func ReadNPZ(path string) ([]NamedArray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	arrays, err := ReadNPZFrom(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return arrays, nil
}

// ReadNPZFrom reads a .npz archive of size bytes from r, as ReadNPZ.
func ReadNPZFrom(r io.ReaderAt, size int64) ([]NamedArray, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a .npz archive: %v", err)
	}
	var out []NamedArray
	seen := map[string]bool{}
	for _, f := range z.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || name == "" {
			return nil, fmt.Errorf("member %q is not a .npy array", f.Name)
		}
		if seen[name] {
			return nil, fmt.Errorf("member %q appears twice", f.Name)
		}
		seen[name] = true
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("member %q: %v", f.Name, err)
		}
		// The member's declared size bounds what the header may claim
		// (archive/zip refuses to inflate a member beyond it).
		br := bufio.NewReader(rc)
		m, err := readNPY(br, int64(min(f.UncompressedSize64, 1<<62)))
		if err == nil {
			if n, cerr := io.Copy(io.Discard, br); cerr != nil {
				err = cerr
			} else if n > 0 {
				err = fmt.Errorf("%d unexpected bytes after the array", n)
			}
		}
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("member %q: %v", f.Name, err)
		}
		out = append(out, NamedArray{Name: name, Matrix: m})
	}
	return out, nil
}

// ReadNPZBytes reads a .npz archive held in memory.
func ReadNPZBytes(b []byte) ([]NamedArray, error) {
	return ReadNPZFrom(bytes.NewReader(b), int64(len(b)))
}

// writeAtomic writes a file through runstore.WriteAtomic: a temporary
// file renamed into place (a failure leaves path as it was), or in place
// for a device such as /dev/null.
// A missing folder is an error, as for a plain create: a mistyped --out
// should not make folders.
func writeAtomic(path string, fill func(io.Writer) error) error {
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: folder %s does not exist", path, filepath.Dir(path))
	}
	return runstore.WriteAtomic(path, fill)
}
