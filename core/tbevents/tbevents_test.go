package tbevents

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// crc32cBitwise is the textbook bit-at-a-time CRC-32C (reflected
// polynomial 0x82F63B78), an implementation independent of hash/crc32's
// tables.
func crc32cBitwise(b []byte) uint32 {
	c := ^uint32(0)
	for _, x := range b {
		c ^= uint32(x)
		for i := 0; i < 8; i++ {
			if c&1 != 0 {
				c = c>>1 ^ 0x82F63B78
			} else {
				c >>= 1
			}
		}
	}
	return ^c
}

func TestMaskedCRC(t *testing.T) {
	// The standard CRC-32C check value.
	if got := crc32cBitwise([]byte("123456789")); got != 0xE3069283 {
		t.Fatalf("reference CRC-32C is wrong: %#x", got)
	}
	for _, s := range []string{"", "123456789", "brain.Event:2", strings.Repeat("x", 1000)} {
		c := crc32cBitwise([]byte(s))
		want := (c>>15 | c<<17) + 0xa282ead8
		if got := maskedCRC([]byte(s)); got != want {
			t.Errorf("maskedCRC(%q) = %#x, want %#x", s, got, want)
		}
	}
}

func writeSome(t *testing.T, dir string) (string, map[string]float64) {
	t.Helper()
	w, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Scalar("charts/episodic_return", 2048, 12.25); err != nil {
		t.Fatal(err)
	}
	multi := map[string]float64{"losses/value_loss": 0.5, "losses/approx_kl": 1e-3, "charts/SPS": math.NaN()}
	if err := w.Scalars(4096, multi); err != nil {
		t.Fatal(err)
	}
	if err := w.Scalar("big/step", 1<<40, -3); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Scalar("late", 1, 1); err == nil {
		t.Error("Scalar after Close: no error")
	}
	return w.Path(), multi
}

func TestWriteRead(t *testing.T) {
	before := float64(time.Now().Unix())
	path, multi := writeSome(t, filepath.Join(t.TempDir(), "runs", "x"))
	host, _ := os.Hostname()
	if !regexp.MustCompile(`^events\.out\.tfevents\.\d{10}\.` + regexp.QuoteMeta(host) + `$`).MatchString(filepath.Base(path)) {
		t.Errorf("file name %s does not follow events.out.tfevents.<secs>.<host>", filepath.Base(path))
	}
	evs, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 {
		t.Fatalf("%d events, want 4 (version + 3)", len(evs))
	}
	if evs[0].FileVersion != "brain.Event:2" || len(evs[0].Values) != 0 {
		t.Errorf("first event %+v should be the file version only", evs[0])
	}
	for i, ev := range evs {
		if ev.WallTime < before-1 || ev.WallTime > float64(time.Now().Unix())+1 {
			t.Errorf("event %d wall time %v is not now", i, ev.WallTime)
		}
	}
	if e := evs[1]; e.Step != 2048 || len(e.Values) != 1 || e.Values[0] != (Value{"charts/episodic_return", 12.25}) {
		t.Errorf("event 1 = %+v", e)
	}
	e := evs[2]
	if e.Step != 4096 || len(e.Values) != 3 {
		t.Fatalf("event 2 = %+v", e)
	}
	for _, v := range e.Values {
		want := float32(multi[v.Tag])
		if !(v.Value == want || math.IsNaN(float64(v.Value)) && math.IsNaN(float64(want))) {
			t.Errorf("%s = %v, want %v", v.Tag, v.Value, want)
		}
	}
	if e := evs[3]; e.Step != 1<<40 || e.Values[0].Value != -3 {
		t.Errorf("event 3 = %+v", e)
	}
}

func TestReadDamage(t *testing.T) {
	path, _ := writeSome(t, t.TempDir())
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Offsets of the records: walk the framing.
	var starts []int
	for off := 0; off < len(good); {
		starts = append(starts, off)
		off += 12 + int(binary.LittleEndian.Uint64(good[off:])) + 4
	}
	if len(starts) != 4 {
		t.Fatalf("framing walk found %d records", len(starts))
	}
	cases := []struct {
		name  string
		edit  func([]byte) []byte
		n     int
		error string
	}{
		{"cut mid-record", func(b []byte) []byte { return b[:len(b)-3] }, 3, ""},
		{"cut mid-header", func(b []byte) []byte { return b[:starts[3]+5] }, 3, ""},
		{"flipped data byte", func(b []byte) []byte { b[starts[1]+14] ^= 1; return b }, 1, "record 1: data CRC"},
		{"flipped length byte", func(b []byte) []byte { b[starts[2]] ^= 1; return b }, 2, "record 2: length CRC"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "events.out.tfevents.1.x")
			if err := os.WriteFile(p, tc.edit(bytes.Clone(good)), 0o644); err != nil {
				t.Fatal(err)
			}
			evs, err := Read(p)
			if tc.error == "" && err != nil {
				t.Fatalf("error: %v", err)
			}
			if tc.error != "" && (err == nil || !strings.Contains(err.Error(), tc.error)) {
				t.Fatalf("error %v, want one containing %q", err, tc.error)
			}
			if len(evs) != tc.n {
				t.Errorf("%d events before the damage, want %d", len(evs), tc.n)
			}
		})
	}
}

func TestSameSecondFiles(t *testing.T) {
	dir := t.TempDir()
	a, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Path() == b.Path() {
		t.Fatal("two writers share a file")
	}
	if !strings.Contains(filepath.Base(b.Path()), "tfevents") {
		t.Errorf("%s: TensorBoard only loads files with tfevents in the name", b.Path())
	}
	if err := b.Scalars(1, map[string]float64{"": 1}); err == nil {
		t.Error("empty tag accepted")
	}
}

// TestProtocDecodes checks the hand-made protobuf against protoc's own
// parser, using the field numbers of TensorFlow's event.proto.
func TestProtocDecodes(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		// make deps installs it; a skip here would hide the only check
		// of the encoder that is not our own code.
		t.Fatal("protoc not found: install Debian's protobuf-compiler (make deps does)")
	}
	path, _ := writeSome(t, t.TempDir())
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for off := 0; off < len(b); {
		n := int(binary.LittleEndian.Uint64(b[off:]))
		cmd := exec.Command(protoc, "--proto_path=testdata", "--decode=tensorflow.Event", "event.proto")
		cmd.Stdin = bytes.NewReader(b[off+12 : off+12+n])
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("protoc rejects record at %d: %v\n%s", off, err, out)
		}
		texts = append(texts, string(out))
		off += 12 + n + 4
	}
	wants := [][]string{
		{`file_version: "brain.Event:2"`, "wall_time: 1"},
		{"step: 2048", `tag: "charts/episodic_return"`, "simple_value: 12.25"},
		{"step: 4096", `tag: "charts/SPS"`, "simple_value: nan", `tag: "losses/approx_kl"`, "simple_value: 0.001", `tag: "losses/value_loss"`, "simple_value: 0.5"},
		{"step: 1099511627776", "simple_value: -3"},
	}
	if len(texts) != len(wants) {
		t.Fatalf("%d records, want %d", len(texts), len(wants))
	}
	for i, want := range wants {
		for _, w := range want {
			if !strings.Contains(texts[i], w) {
				t.Errorf("record %d lacks %q:\n%s", i, w, texts[i])
			}
		}
	}
}

func TestConcurrentWriters(t *testing.T) {
	w, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 4, 50
	done := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		go func() {
			for i := 0; i < each; i++ {
				if err := w.Scalar(fmt.Sprintf("g%d", g), int64(i), float64(g*1000+i)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < goroutines; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	evs, err := Read(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1+goroutines*each {
		t.Fatalf("%d events, want %d: records interleaved?", len(evs), 1+goroutines*each)
	}
	seen := map[string]bool{}
	for _, e := range evs[1:] {
		v := e.Values[0]
		var g int
		fmt.Sscanf(v.Tag, "g%d", &g)
		if v.Value != float32(g*1000+int(e.Step)) {
			t.Errorf("%s step %d = %v", v.Tag, e.Step, v.Value)
		}
		seen[fmt.Sprint(v.Tag, e.Step)] = true
	}
	if len(seen) != goroutines*each {
		t.Errorf("%d distinct scalars, want %d", len(seen), goroutines*each)
	}
}

// TestProtocDecodesImageAndText checks images and text against protoc's
// parser with the field numbers of TensorBoard's summary.proto.
func TestProtocDecodesImageAndText(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Fatal("protoc not found: install Debian's protobuf-compiler (make deps does)")
	}
	w, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 7, 3))
	var png_ bytes.Buffer
	if err := png.Encode(&png_, img); err != nil {
		t.Fatal(err)
	}
	if err := w.Image("topology/persistence_diagrams", 512, png_.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := w.Text("config", 0, "env_id: \"Hopper-v4\""); err != nil {
		t.Fatal(err)
	}
	if err := w.Image("bad", 1, []byte("not a png")); err == nil {
		t.Error("a non-PNG image was accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for off := 0; off < len(b); {
		n := int(binary.LittleEndian.Uint64(b[off:]))
		cmd := exec.Command(protoc, "--proto_path=testdata", "--decode=tensorflow.Event", "event.proto")
		cmd.Stdin = bytes.NewReader(b[off+12 : off+12+n])
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("protoc rejects record at %d: %v\n%s", off, err, out)
		}
		texts = append(texts, string(out))
		off += 12 + n + 4
	}
	wants := [][]string{
		{`file_version: "brain.Event:2"`},
		{"step: 512", `tag: "topology/persistence_diagrams"`, "height: 3", "width: 7", "colorspace: 4", `encoded_image_string: "\211PNG`},
		{`tag: "config"`, `plugin_name: "text"`, "data_class: 2", "dtype: 7", "tensor_shape {", `string_val: "env_id: \"Hopper-v4\""`},
	}
	if len(texts) != len(wants) {
		t.Fatalf("%d records, want %d", len(texts), len(wants))
	}
	for i, want := range wants {
		for _, s := range want {
			if !strings.Contains(texts[i], s) {
				t.Errorf("record %d lacks %q:\n%.600s", i, s, texts[i])
			}
		}
	}
}
