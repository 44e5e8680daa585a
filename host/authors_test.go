package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
)

// TestPluginAuthorsOutsideTheRepo: as a plugin author would, in a folder outside the repository, it writes a Go
// distance plugin (cosine, declared non-metric) and a Python homology
// plugin (H0 only) with `nthost plugin new`, builds them with their own
// Makefiles, passes `nthost plugin test` on both, and runs the main job
// with each on tiny budgets. The host must refuse at start the H0-only
// plugin for --maxdim 1 and an unknown parameter.
func TestPluginAuthorsOutsideTheRepo(t *testing.T) {
	for _, tool := range []string{"make", "protoc", "/usr/bin/python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install Debian's make, protobuf-compiler and python3 (`make deps`)", tool)
		}
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if rel, err := filepath.Rel(repo, work); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("temp folder %s is inside the repository %s", work, repo)
	}
	sdkDir := filepath.Join(repo, "sdk")
	plugins := filepath.Join(work, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}

	// Scaffold and build both, then link the binaries into one plugin folder.
	for _, p := range []struct{ lang, kind, name string }{{"go", "dist", "cos"}, {"python", "ph", "h0"}, {"go", "data", "rings"}} {
		dir := filepath.Join(work, p.name)
		out, errs, code := nthost(t, work, "plugin", "new", "--lang", p.lang, "--kind", p.kind, "--name", p.name, "--sdk", sdkDir, dir)
		if code != 0 || !strings.Contains(out, "--plugin-dir") {
			t.Fatalf("plugin new %s: exit %d: %s%s", p.name, code, out, errs)
		}
		mk := exec.Command("make")
		mk.Dir = dir
		mk.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		if b, err := mk.CombinedOutput(); err != nil {
			t.Fatalf("make in the generated %s project: %v\n%s", p.name, err, b)
		}
		bin := "nt-" + p.kind + "-" + p.name
		if err := os.Symlink(filepath.Join(dir, bin), filepath.Join(plugins, bin)); err != nil {
			t.Fatal(err)
		}
		out, errs, code = nthost(t, work, "plugin", "test", filepath.Join(plugins, bin))
		if code != 0 || !strings.Contains(out, "PASS") {
			t.Fatalf("nthost plugin test %s: exit %d\n%s%s", bin, code, out, errs)
		}
		// The checks follow the declarations: no triangle inequality for a
		// non-metric distance, no H1 for an H0-only backend.
		if strings.Contains(out, "triangle") || strings.Contains(out, "H1") {
			t.Errorf("%s: the kit ran a check the plugin does not declare:\n%s", bin, out)
		}
	}

	tiny := []string{"--plugin-dir", plugins, "--env-id", "InvertedPendulum-v4", "--total-timesteps", "1024",
		"--num-steps", "256", "--num-minibatches", "4", "--update-epochs", "1",
		"--topology-analysis-interval", "2", "--tda-samples", "40", "--no-report", "--log-level", "warn"}
	for _, run := range []struct {
		name string
		args []string
	}{
		{"go-dist", []string{"--dist", "cos", "--dist-param", "zero=0.5", "--ph", "rips", "--maxdim", "1"}},
		{"python-ph", []string{"--dist", "euclid", "--ph", "h0", "--maxdim", "0"}},
	} {
		args := append(append([]string{"--run-dir", run.name}, tiny...), run.args...)
		if _, errs, code := nthost(t, work, args...); code != 0 {
			t.Fatalf("main job with %s: exit %d: %s", run.name, code, errs)
		}
		tp, err := summary.ReadTopology(filepath.Join(work, run.name, runstore.TopologyFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(tp) == 0 {
			t.Fatalf("main job with %s wrote no topology records", run.name)
		}
	}

	for _, bad := range []struct {
		args []string
		want []string
	}{
		{[]string{"--dist", "euclid", "--ph", "h0", "--maxdim", "1"}, []string{"--maxdim 1", `ph plugin "h0"`, "dimension 0", "max_dim"}},
		{[]string{"--dist", "cos", "--dist-param", "angle=1"}, []string{`dist plugin "cos"`, `"angle"`, "zero"}},
	} {
		run := filepath.Join(work, "refused")
		args := append(append([]string{"--run-dir", run}, tiny...), bad.args...)
		_, errs, code := nthost(t, work, args...)
		if code == 0 {
			t.Fatalf("%v was accepted", bad.args)
		}
		for _, w := range bad.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: error %q lacks %q", bad.args, strings.TrimSpace(errs), w)
			}
		}
		if _, err := os.Stat(run); err == nil {
			t.Errorf("%v: a run directory was written before the refusal", bad.args)
		}
	}
}
