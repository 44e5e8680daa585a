package run

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/neuraltopology/neuraltopology/core/runstore"
)

// copyTree copies the regular files of src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hashTree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = sha256.Sum256(b)
		}
		return nil
	})
	return out
}

// dropLine removes the n-th line (0-based; -1 the last) of a file.
func dropLine(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if n < 0 {
		n = len(lines) - 1
	}
	lines = append(lines[:n], lines[n+1:]...)
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedRunIsRefused: a run directory that lost part of what it
// wrote up to its checkpoint (latest.json, a log line, a log, diagrams,
// TensorBoard events) is refused on resume with one line naming what is
// missing, and the refused resume changes nothing. Resuming it would
// keep the loss for good: a resumed run never writes records before its
// checkpoint again.
func TestDamagedRunIsRefused(t *testing.T) {
	orig, _ := runSmall(t, true) // 8 updates, snapshots at steps 1024 and 2048
	for _, c := range []struct {
		name   string
		damage func(dir string)
		want   string
	}{
		{"latest.json deleted", func(d string) { os.Remove(filepath.Join(d, runstore.StateFile)) }, "latest.json is missing but 2 checkpoints"},
		{"topology truncated", func(d string) { dropLine(t, filepath.Join(d, runstore.TopologyFile), -1) }, "holds 4 of the 5 cloud records of the snapshot at step 2048"},
		{"topology deleted", func(d string) { os.Remove(filepath.Join(d, runstore.TopologyFile)) }, "topology.jsonl is missing"},
		{"scalars deleted", func(d string) { os.Remove(filepath.Join(d, runstore.ScalarsFile)) }, "scalars.jsonl is missing"},
		{"scalar line lost", func(d string) { dropLine(t, filepath.Join(d, runstore.ScalarsFile), 2) }, "no record of update 3"},
		{"diagrams deleted", func(d string) { os.RemoveAll(filepath.Join(d, "diagrams")) }, "diagrams/step_"},
		{"tb deleted", func(d string) { os.RemoveAll(filepath.Join(d, "tb")) }, "tb/ holds no TensorBoard events"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			copyTree(t, orig, dir)
			c.damage(dir)
			before := hashTree(t, dir)
			_, err := Run(context.Background(), inProcess(), smallConfig(), Options{Dir: dir, Resume: true, Inline: true, Log: zerolog.Nop()})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "is damaged") {
				t.Fatalf("got %v, want an error naming %q", err, c.want)
			}
			after := hashTree(t, dir)
			if len(after) != len(before) {
				t.Errorf("refused resume: %d files before, %d after", len(before), len(after))
			}
			for p, h := range before {
				if after[p] != h {
					t.Errorf("refused resume changed %s", p)
				}
			}
		})
	}
}
