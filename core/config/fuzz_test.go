package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: no config file makes Load or Validate panic, and a config that
// loads survives writing (YAML) and loading again unchanged. Seeds are in
// testdata/fuzz/FuzzLoad and below; `make fuzz` runs it longer.
func FuzzLoad(f *testing.F) {
	def := Default()
	f.Add(def.YAML())
	f.Add([]byte("env_id: Walker2d-v4\nhidden_size: 128,128\nnum_steps: 1e9\n"))
	f.Add([]byte("seed: [1, 2]\n"))
	f.Add([]byte("? {a: b}\n: c\n"))
	f.Add([]byte("anchor: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c := Default()
		if _, err := c.Load(path); err != nil {
			return
		}
		_ = c.Validate()
		out := c.YAML()
		if err := os.WriteFile(path, out, 0o600); err != nil {
			t.Fatal(err)
		}
		back := Default()
		if _, err := back.Load(path); err != nil {
			t.Fatalf("a loaded config does not load again after YAML(): %v\n%s", err, out)
		}
		if string(back.YAML()) != string(out) {
			t.Fatalf("round trip changed the config:\n%s\n---\n%s", out, back.YAML())
		}
	})
}
