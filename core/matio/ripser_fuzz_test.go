package matio

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadRipser feeds arbitrary text to every ripser format. Whatever is
// accepted must be a valid input of its kind, and must read back the same
// after WriteRipser. The seed corpus is in testdata/fuzz/FuzzReadRipser.
func FuzzReadRipser(f *testing.F) {
	for _, s := range []string{"1\n2,3\n", "0 1 2\n1 0 2\n2 0 2\n", "0 1 0.5\n2 3 1\n", "1 2 3\n", "1,2\n3,4\n5 6\n", "1e3 2 3", ",,1,,\n"} {
		for k := range RipserFormats {
			f.Add(s, uint8(k))
		}
	}
	// Small, so that a vertex index in the input cannot ask for a large
	// dense matrix.
	old := MaxRipserPoints
	MaxRipserPoints = 64
	f.Cleanup(func() { MaxRipserPoints = old })
	f.Fuzz(func(t *testing.T, s string, k uint8) {
		format := RipserFormats[int(k)%len(RipserFormats)]
		in, err := ReadRipser(strings.NewReader(s), format)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		m := in.Matrix
		if m.Rows < 1 || m.Rows > MaxRipserPoints || len(m.Data) != m.Rows*m.Cols {
			t.Fatalf("%s: accepted a %dx%d matrix with %d values", format, m.Rows, m.Cols, len(m.Data))
		}
		if in.Points != (format == RipserPoints) {
			t.Fatalf("%s: Points=%v", format, in.Points)
		}
		if in.Points {
			if err := m.Validate(true); err != nil {
				t.Fatalf("accepted a bad point cloud: %v", err)
			}
		} else if err := m.ValidateDistances(); err != nil {
			t.Fatalf("%s: accepted a bad distance matrix: %v", format, err)
		}
		if in.Threshold > 0 {
			// Every given distance is below the threshold, every absent
			// one above it.
			for _, v := range m.Data {
				if v != in.Absent && v > in.Threshold || v == in.Absent && float32(v) <= float32(in.Threshold) {
					t.Fatalf("sparse: value %v against threshold %v, absent %v", v, in.Threshold, in.Absent)
				}
			}
		}
		var b bytes.Buffer
		if err := WriteRipser(&b, format, m, in.Threshold); err != nil {
			t.Fatal(err)
		}
		back, err := ReadRipser(&b, format)
		if err != nil {
			t.Fatalf("%s: re-reading our own file: %v\n%s", format, err, b.String())
		}
		if !same(back.Matrix, m) || back.Threshold != in.Threshold {
			t.Fatalf("%s: round trip changed the input\n%v\n%v", format, m, back.Matrix)
		}
	})
}
