package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nthost plugin install DIR --plugin-dir P --plugin-lock L builds the Go
// plugin project `nthost plugin new` wrote, checks it, puts it in P and
// adds it to L, keeping every entry L had; the installed plugin then
// runs under that lock.
func TestPluginInstallLocks(t *testing.T) {
	work := t.TempDir()
	plugins := filepath.Join(work, "plugins")
	os.Mkdir(plugins, 0o755)
	lock := filepath.Join(work, "my.lock")
	if _, errs, code := nthost(t, work, "plugins", "lock", "--out", lock); code != 0 {
		t.Fatalf("plugins lock: %s", errs)
	}
	before := lockNames(t, lock)
	src := filepath.Join(work, "src")
	if _, errs, code := nthost(t, work, "plugin", "new", "--kind", "dist", "--name", "cosine", "--sdk", filepath.Join(repoRoot(t), "sdk"), src); code != 0 {
		t.Fatalf("plugin new: %s", errs)
	}
	out, errs, code := nthost(t, work, "plugin", "install", src, "--plugin-dir", plugins, "--plugin-lock", lock)
	if code != 0 || !strings.Contains(out, "installed nt-dist-cosine (go build) as "+filepath.Join(plugins, "nt-dist-cosine")) {
		t.Fatalf("plugin install: exit %d\n%s%s", code, out, errs)
	}
	after := lockNames(t, lock)
	if len(after) != len(before)+1 || !after["cosine"] {
		t.Fatalf("lock had %v, has %v after installing cosine", before, after)
	}
	for n := range before {
		if !after[n] {
			t.Errorf("installing dropped %s from the lock", n)
		}
	}
	// The lock in force accepts it; the declared range shows.
	out, errs, code = nthost(t, work, "plugins", "--plugin-dir", plugins, "--plugin-lock", lock, "cosine")
	if code != 0 || !strings.Contains(out, ">= 0") {
		t.Fatalf("plugins cosine under the lock: exit %d\n%s%s", code, out, errs)
	}
}

func lockNames(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Plugins []struct{ Name string } `json:"plugins"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, p := range l.Plugins {
		out[p.Name] = true
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}
