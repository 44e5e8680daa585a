package matio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// same reports whether a and b have the same shape and bit-identical data
// (so NaN equals NaN and -0 differs from 0).
func same(a, b sdk.Matrix) bool {
	if a.Rows != b.Rows || a.Cols != b.Cols || len(a.Data) != len(b.Data) {
		return false
	}
	for i := range a.Data {
		if math.Float64bits(a.Data[i]) != math.Float64bits(b.Data[i]) {
			return false
		}
	}
	return true
}

var errBoom = errors.New("boom")

func sample() sdk.Matrix {
	return sdk.Matrix{Rows: 3, Cols: 4, Data: []float64{
		0, -0.0, 1, -1,
		math.Pi, 1e-310, math.MaxFloat64, -math.SmallestNonzeroFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1), 0.1,
	}}
}

func TestNPYRoundTrip(t *testing.T) {
	for _, m := range []sdk.Matrix{sample(), sdk.NewMatrix(0, 2), sdk.NewMatrix(5, 0), {Rows: 1, Cols: 1, Data: []float64{42}}} {
		var buf bytes.Buffer
		if err := WriteNPY(&buf, m); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		// numpy's layout: magic, version 1.0, header padded so the data
		// starts on a 64-byte boundary, ending in '\n'.
		hl := int(binary.LittleEndian.Uint16(b[8:10]))
		if string(b[:8]) != "\x93NUMPY\x01\x00" || (10+hl)%64 != 0 || b[10+hl-1] != '\n' {
			t.Errorf("%dx%d: header layout wrong: % x", m.Rows, m.Cols, b[:16])
		}
		if len(b) != 10+hl+8*len(m.Data) {
			t.Errorf("%dx%d: %d bytes, want header + %d", m.Rows, m.Cols, len(b), 8*len(m.Data))
		}
		got, err := ReadNPY(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%dx%d: %v", m.Rows, m.Cols, err)
		}
		if !same(got, m) {
			t.Errorf("%dx%d: read back %v, wrote %v", m.Rows, m.Cols, got, m)
		}
	}
}

// npy builds a .npy stream by hand, so types and layouts numpy can write
// are tested even where numpy is absent.
func npy(major byte, dict string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.Write([]byte{major, 0})
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(dict)))
	}
	b.WriteString(dict)
	b.Write(data)
	return b.Bytes()
}

func TestNPYTypesAndLayouts(t *testing.T) {
	le := func(vs ...any) []byte {
		var b bytes.Buffer
		for _, v := range vs {
			binary.Write(&b, binary.LittleEndian, v)
		}
		return b.Bytes()
	}
	be := func(vs ...any) []byte {
		var b bytes.Buffer
		for _, v := range vs {
			binary.Write(&b, binary.BigEndian, v)
		}
		return b.Bytes()
	}
	for _, c := range []struct {
		name  string
		file  []byte
		shape [2]int
		want  []float64
	}{
		{"f4", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", le(float32(1.5), float32(-2), float32(0.25), float32(3))), [2]int{2, 2}, []float64{1.5, -2, 0.25, 3}},
		{"i8", npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 3), }\n", le(int64(-7), int64(0), int64(1<<40))), [2]int{1, 3}, []float64{-7, 0, 1 << 40}},
		{"i4", npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n", le(int32(-1), int32(5))), [2]int{2, 1}, []float64{-1, 5}},
		{"i2", npy(1, "{'descr': '<i2', 'fortran_order': False, 'shape': (1, 1), }\n", le(int16(-300))), [2]int{1, 1}, []float64{-300}},
		{"i1", npy(1, "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 1), }\n", []byte{0xff, 7}), [2]int{2, 1}, []float64{-1, 7}},
		{"u1", npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1), }\n", []byte{0xff, 7}), [2]int{2, 1}, []float64{255, 7}},
		{"u2", npy(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (1,), }\n", le(uint16(65535))), [2]int{1, 1}, []float64{65535}},
		{"u4", npy(1, "{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }\n", le(uint32(1<<32-1))), [2]int{1, 1}, []float64{1<<32 - 1}},
		{"u8", npy(1, "{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }\n", le(uint64(1<<63))), [2]int{1, 1}, []float64{1 << 63}},
		{"bool", npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }\n", []byte{1, 0, 1}), [2]int{3, 1}, []float64{1, 0, 1}},
		{"big-endian f8", npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 2), }\n", be(1.25, -3.0)), [2]int{1, 2}, []float64{1.25, -3}},
		{"scalar", npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n", le(2.5)), [2]int{1, 1}, []float64{2.5}},
		// Fortran order stores columns: 1 2 3 | 4 5 6 is the 3x2 [[1 4] [2 5] [3 6]].
		{"fortran", npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }\n", le(1.0, 2.0, 3.0, 4.0, 5.0, 6.0)), [2]int{3, 2}, []float64{1, 4, 2, 5, 3, 6}},
		{"version 2.0", npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }\n", le(9.0)), [2]int{1, 1}, []float64{9}},
		{"key order, double quotes, py2 longs", npy(1, "{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": \"<f8\"}\n", le(1.0, 2.0)), [2]int{1, 2}, []float64{1, 2}},
	} {
		m, err := ReadNPY(bytes.NewReader(c.file))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if m.Rows != c.shape[0] || m.Cols != c.shape[1] || !same(m, sdk.Matrix{Rows: c.shape[0], Cols: c.shape[1], Data: c.want}) {
			t.Errorf("%s: got %dx%d %v, want %dx%d %v", c.name, m.Rows, m.Cols, m.Data, c.shape[0], c.shape[1], c.want)
		}
	}
}

func TestNPYRejects(t *testing.T) {
	f8 := make([]byte, 64)
	for _, c := range []struct {
		name, file, want string
	}{
		{"empty", "", "file ends early"},
		{"not npy", "PK\x03\x04 this is a zip", "magic"},
		{"version 3", string(npy(3, "{}", nil)), "version 3.0 is not supported"},
		{"complex", string(npy(1, "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", f8)), `dtype "<c16" is not supported`},
		{"float16", string(npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", f8)), `dtype "<f2"`},
		{"object", string(npy(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", f8)), `dtype "|O"`},
		{"string", string(npy(1, "{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", f8)), `dtype "<U5"`},
		{"structured", string(npy(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", f8)), "structured"},
		{"3-D", string(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", f8)), "3 dimensions"},
		{"truncated", string(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }", f8)), "truncated: shape [3 3] of <f8 needs 72 bytes, found 64"},
		{"huge", string(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", f8)), "too large"},
		{"missing key", string(npy(1, "{'descr': '<f8', 'shape': (1,), }", f8)), `missing key "fortran_order"`},
		{"extra key", string(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", f8)), `unexpected key "x"`},
		{"bad bool", string(npy(1, "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }", f8)), "fortran_order"},
		{"negative", string(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", f8)), "non-negative"},
		{"header short", "\x93NUMPY\x01\x00\xff\x00{'descr'", "file ends early"},
	} {
		_, err := ReadNPY(strings.NewReader(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestCSV(t *testing.T) {
	for _, c := range []struct {
		name, text string
		rows, cols int
		want       []float64
	}{
		{"plain", "1,2,3\n4,5,6\n", 2, 3, []float64{1, 2, 3, 4, 5, 6}},
		{"header and spaces", "x, y\n 1 , 2\n3,4", 2, 2, []float64{1, 2, 3, 4}},
		{"whitespace", "1 2\t3\n\n  4   5 6  \r\n", 2, 3, []float64{1, 2, 3, 4, 5, 6}},
		{"savetxt comments", "# x y\n1.5e0 -2\n", 1, 2, []float64{1.5, -2}},
		{"quoted header", "\ufeff\"a\",\"b\"\r\n0.5,1e-3\r\n", 1, 2, []float64{0.5, 1e-3}},
		{"nan inf", "NaN,inf,-Inf,+infinity\n", 1, 4, []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Inf(1)}},
		{"one column", "1\n2\n3\n", 3, 1, []float64{1, 2, 3}},
	} {
		m, err := ReadCSV(strings.NewReader(c.text))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !same(m, sdk.Matrix{Rows: c.rows, Cols: c.cols, Data: c.want}) {
			t.Errorf("%s: got %dx%d %v, want %dx%d %v", c.name, m.Rows, m.Cols, m.Data, c.rows, c.cols, c.want)
		}
	}
	for _, c := range []struct{ name, text, want string }{
		{"ragged", "1,2\n3,4\n\n5\n", "line 4 has 1 values, line 1 has 2"},
		{"ragged after header", "a,b\n1,2\n3,4,5\n", "line 3 has 3 values, line 2 has 2"},
		{"text in data", "1,2\n3,x\n", `line 2: field 2 "x" is not a number`},
		{"empty field", "1,,2\n", `line 1: field 2 "" is not a number`},
		{"mixed header", "x,2\n1,2\n", `line 1: field 1 "x"`},
		{"second header", "a,b\nc,d\n", `line 2: field 1 "c"`},
		{"empty", "", "no rows"},
		{"header only", "a,b\n", "no rows"},
	} {
		_, err := ReadCSV(strings.NewReader(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// NaN is read, and sdk.Matrix.Validate is how a caller refuses it.
	m, err := ReadCSV(strings.NewReader("1,NaN\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(true); err == nil || !strings.Contains(err.Error(), "(0,1) is NaN") {
		t.Errorf("Validate(true) on a NaN: %v", err)
	}

	var buf bytes.Buffer
	if err := WriteCSV(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !same(back, sample()) {
		t.Errorf("CSV round trip: got %v, want %v", back.Data, sample().Data)
	}
}

func TestFilesAndNPZ(t *testing.T) {
	dir := t.TempDir()
	m := sample()
	for _, name := range []string{"a.npy", "a.csv", "a.npz", "A.NPY"} {
		p := filepath.Join(dir, name)
		if err := Write(p, m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := Read(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !same(got, m) {
			t.Errorf("%s: read back %v", name, got.Data)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", name, st.Mode().Perm())
		}
	}
	arrays := []NamedArray{
		{"dgm1", sdk.Matrix{Rows: 2, Cols: 2, Data: []float64{0, 1, 0.5, math.Inf(1)}}},
		{"dgm0", sdk.NewMatrix(0, 2)},
		{"weird name.x", sdk.Matrix{Rows: 1, Cols: 1, Data: []float64{3}}},
	}
	p := filepath.Join(dir, "many.npz")
	if err := WriteNPZ(p, arrays); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNPZ(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(arrays) {
		t.Fatalf("read %d arrays, wrote %d", len(got), len(arrays))
	}
	for i := range arrays {
		if got[i].Name != arrays[i].Name || !same(got[i].Matrix, arrays[i].Matrix) {
			t.Errorf("array %d: read %q %v, wrote %q %v", i, got[i].Name, got[i].Matrix, arrays[i].Name, arrays[i].Matrix)
		}
	}
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "holds 3 arrays (dgm1, dgm0, weird name.x)") {
		t.Errorf("Read of a 3-array .npz: %v", err)
	}

	// No stray temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"bad ext read", func() error { _, err := Read(filepath.Join(dir, "x.mat")); return err }(), `unknown extension ".mat"`},
		{"bad ext write", Write(filepath.Join(dir, "x.json"), m), `unknown extension ".json"`},
		{"missing", func() error { _, err := Read(filepath.Join(dir, "nope.csv")); return err }(), "nope.csv"},
		{"ragged write", Write(filepath.Join(dir, "r.npy"), sdk.Matrix{Rows: 2, Cols: 2, Data: []float64{1}}), "r.npy: matrix shape 2x2 needs 4 values, got 1"},
		{"dup names", WriteNPZ(filepath.Join(dir, "d.npz"), []NamedArray{{"a", m}, {"a", m}}), `two arrays are named "a"`},
		{"empty name", WriteNPZ(filepath.Join(dir, "d.npz"), []NamedArray{{"", m}}), "empty name"},
		{"no folder", Write(filepath.Join(dir, "no", "such", "x.npy"), m), "x.npy"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}

	// A failed write leaves an existing file untouched.
	keep := filepath.Join(dir, "keep.npy")
	if err := Write(keep, m); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(keep)
	if err := writeAtomic(keep, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return errBoom
	}); err == nil || !strings.Contains(err.Error(), "keep.npy: boom") {
		t.Errorf("failing fill: %v", err)
	}
	after, _ := os.ReadFile(keep)
	if !bytes.Equal(before, after) {
		t.Errorf("a failed write changed the existing file")
	}

	// Trailing garbage after a .npy file's array and non-.npy members.
	os.WriteFile(filepath.Join(dir, "tail.npy"), append(before, 1, 2, 3), 0o644)
	if _, err := Read(filepath.Join(dir, "tail.npy")); err == nil || !strings.Contains(err.Error(), "3 unexpected bytes") {
		t.Errorf("trailing bytes: %v", err)
	}
	if _, err := ReadNPZBytes([]byte("not a zip")); err == nil || !strings.Contains(err.Error(), "not a .npz archive") {
		t.Errorf("not a zip: %v", err)
	}
}
