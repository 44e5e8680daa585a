package matio

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// The fuzz targets check that no input makes a reader panic and that
// anything a reader accepts survives a write and a second read unchanged.
// Run one with e.g. `go test ./core/matio -fuzz FuzzReadNPY -fuzztime 30s`;
// plain `go test` runs the seeds.

func npyBytes(m sdk.Matrix) []byte {
	var b bytes.Buffer
	WriteNPY(&b, m)
	return b.Bytes()
}

func FuzzReadNPY(f *testing.F) {
	f.Add(npyBytes(sample()))
	f.Add(npyBytes(sdk.NewMatrix(0, 3)))
	f.Add(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1), }\n", []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40}))
	f.Add(npy(2, "{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }\n", []byte{0, 0, 0, 0, 0, 0, 0, 1}))
	f.Add(npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }\n", []byte{1}))
	f.Add([]byte("\x93NUMPY\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadNPY(bytes.NewReader(data))
		if err != nil {
			if m.Data != nil {
				t.Fatalf("error %v with data", err)
			}
			return
		}
		if err := m.Validate(false); err != nil {
			t.Fatalf("accepted an inconsistent matrix: %v", err)
		}
		back, err := ReadNPY(bytes.NewReader(npyBytes(m)))
		if err != nil || !same(back, m) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{"1,2\n3,4\n", "x y\n1 2\n", "# c\nNaN,-Inf\n", "1,,2", "a\n", "\ufeff1\r\n2", "1e400,0x1p-3\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ReadCSV(strings.NewReader(s))
		if err != nil {
			return
		}
		if err := m.Validate(false); err != nil || m.Rows < 1 {
			t.Fatalf("accepted a bad matrix %dx%d: %v", m.Rows, m.Cols, err)
		}
		var b bytes.Buffer
		if err := WriteCSV(&b, m); err != nil {
			t.Fatal(err)
		}
		back, err := ReadCSV(&b)
		if err != nil {
			t.Fatalf("re-reading our own CSV: %v\n%s", err, b.String())
		}
		// Text has one NaN; compare NaN by being NaN.
		if back.Rows != m.Rows || back.Cols != m.Cols {
			t.Fatalf("round trip shape %dx%d, want %dx%d", back.Rows, back.Cols, m.Rows, m.Cols)
		}
		for i, v := range m.Data {
			w := back.Data[i]
			if v != w && !(v != v && w != w) {
				t.Fatalf("round trip element %d: %v became %v", i, v, w)
			}
		}
	})
}

func FuzzReadNPZ(f *testing.F) {
	dir := f.TempDir()
	for i, arrays := range [][]NamedArray{
		{{"a", sample()}},
		{{"dgm0", sdk.NewMatrix(0, 2)}, {"dgm1", sdk.Matrix{Rows: 1, Cols: 2, Data: []float64{0, 1}}}},
	} {
		p := dir + "/" + string(rune('a'+i)) + ".npz"
		if err := WriteNPZ(p, arrays); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		arrays, err := ReadNPZBytes(data)
		if err != nil {
			return
		}
		p := t.TempDir() + "/x.npz"
		if err := WriteNPZ(p, arrays); err != nil {
			t.Fatalf("rewriting what we read: %v", err)
		}
		back, err := ReadNPZ(p)
		if err != nil || len(back) != len(arrays) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range arrays {
			if back[i].Name != arrays[i].Name || !same(back[i].Matrix, arrays[i].Matrix) {
				t.Fatalf("round trip member %d changed", i)
			}
		}
	})
}
