package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/provenance"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestQuickStartUnderTheLock follows docs/plugins.md's quick start from a
// folder outside the repository with a plugin lock in force, as after
// `make build`: the generated Go plugin passes `nthost plugin test`
// (the binary named is tested), a run through --plugin-dir is refused
// with a hint whose command, run as printed, records it, and the run then
// works. Locking everything again keeps it (the lock merges), and the
// binary reached through a symlinked folder is the same entry.
func TestQuickStartUnderTheLock(t *testing.T) {
	repo, _ := filepath.Abs("..")
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	os.Mkdir(bin, 0o755)
	for _, f := range []string{"nthost", "nt-dist-euclid"} {
		copyFile(t, filepath.Join(bins(t), f), filepath.Join(bin, f))
	}
	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "nthost"), args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=", "NT_PLUGIN_LOCK=", "GOFLAGS=-mod=mod")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), errb.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), 0
	}
	if _, errs, code := run("plugins", "lock"); code != 0 {
		t.Fatalf("plugins lock: %s", errs)
	}
	dir := filepath.Join(work, "DIR")
	if _, errs, code := run("plugin", "new", "--kind", "dist", "--name", "cosine", "--sdk", filepath.Join(repo, "sdk"), dir); code != 0 {
		t.Fatalf("plugin new: %s", errs)
	}
	mk := exec.Command("make")
	mk.Dir = dir
	mk.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if b, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make: %v\n%s", err, b)
	}
	if out, errs, code := run("plugin", "test", "./DIR/nt-dist-cosine"); code != 0 || !strings.Contains(out, "PASS") {
		t.Fatalf("plugin test under the lock: exit %d\n%s%s", code, out, errs)
	}
	pts := filepath.Join(work, "p.csv")
	os.WriteFile(pts, []byte("1,0\n0,1\n1,1\n"), 0o644)
	use := []string{"dist", "--plugin-dir", dir, "--metric", "cosine", "--points", pts, "--out", filepath.Join(work, "d.npy")}
	_, errs, code := run(use...)
	hint := regexp.MustCompile("`nthost (plugins lock [^`]*)`").FindStringSubmatch(errs)
	if code == 0 || hint == nil {
		t.Fatalf("an unlocked plugin: exit %d, want a refusal with a command: %s", code, errs)
	}
	if _, errs, code := run(strings.Fields(hint[1])...); code != 0 {
		t.Fatalf("the hint's command %q: %s", hint[1], errs)
	}
	if _, errs, code := run(use...); code != 0 {
		t.Fatalf("after the hint's command: exit %d: %s", code, errs)
	}
	// Relocking everything discovery finds keeps the plugin locked above.
	if _, errs, code := run("plugins", "lock"); code != 0 {
		t.Fatalf("plugins lock: %s", errs)
	}
	if _, errs, code := run(use...); code != 0 {
		t.Fatalf("plugins lock dropped the plugin locked by path: %s", errs)
	}
	link := filepath.Join(work, "link")
	os.Symlink(dir, link)
	use[2] = link
	if _, errs, code := run(use...); code != 0 {
		t.Fatalf("the same binary through a symlinked folder: %s", errs)
	}
}

// TestPythonQuickStartUnderTheLock runs docs/plugins.md's Python quick
// start blocks as they stand, with sh, from a folder outside the
// repository laid out as a release (nthost in bin/ beside an sdk/ folder)
// with the plugin lock beside nthost in force: the generated environment
// passes its unit test and `nthost plugin test`, is locked with its code,
// and trains PPO; the generated algorithm does the same and trains on
// that environment. A value outside either template's declared range is
// refused by the host in one line naming plugin and parameter, before
// any run folder is made. Then an edit of the environment's plugin.py is
// refused, naming the file, before the plugin starts.
func TestPythonQuickStartUnderTheLock(t *testing.T) {
	for _, tool := range []string{"make", "protoc", "/usr/bin/python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install Debian's make, protobuf-compiler and python3 (`make deps`)", tool)
		}
	}
	repo, _ := filepath.Abs("..")
	doc, err := os.ReadFile(filepath.Join(repo, "docs", "plugins.md"))
	if err != nil {
		t.Fatal(err)
	}
	blockOf := func(marker string) string {
		m := regexp.MustCompile("<!-- " + marker + " -->\n```sh\n((?s:.*?))```").FindSubmatch(doc)
		if m == nil {
			t.Fatalf("docs/plugins.md has no %s block", marker)
		}
		return string(m[1])
	}
	block, algoBlock := blockOf("python quick start"), blockOf("python algo quick start")
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	os.Mkdir(bin, 0o755)
	for _, f := range []string{"nthost", "nt-algo-ppo", "nt-dist-geodesic", "nt-ph-rips"} {
		copyFile(t, filepath.Join(bins(t), f), filepath.Join(bin, f))
	}
	if err := os.Symlink(filepath.Join(repo, "sdk"), filepath.Join(work, "sdk")); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "NT_PLUGIN_DIR=", "NT_PLUGIN_LOCK=", "PATH="+bin+":"+os.Getenv("PATH"))
	sh := func(dir, script string) (string, error) {
		cmd := exec.Command("sh", "-ec", script)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := sh(work, "nthost plugins lock"); err != nil {
		t.Fatalf("plugins lock: %v\n%s", err, out)
	}
	out, err := sh(work, block)
	if err != nil {
		t.Fatalf("the quick start: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "DIR")
	runs, _ := filepath.Glob(filepath.Join(dir, "runs", "Reach-v0__ppo__*", "scalars.csv"))
	if !strings.Contains(out, "PASS: nt-env-reach") || len(runs) != 1 {
		t.Fatalf("the quick start did not pass the kit and train (%d runs):\n%s", len(runs), out)
	}

	out, err = sh(work, algoBlock)
	if err != nil {
		t.Fatalf("the algo quick start: %v\n%s", err, out)
	}
	runs, _ = filepath.Glob(filepath.Join(work, "ALGO", "runs", "Reach-v0__lin__*", "scalars.csv"))
	if !strings.Contains(out, "PASS: nt-algo-lin") || len(runs) != 1 {
		t.Fatalf("the algo quick start did not pass the kit and train (%d runs):\n%s", len(runs), out)
	}
	// The run's provenance names the Python code that ran, file by file,
	// with the hashes the files have on disk.
	recs, err := provenance.Read(filepath.Join(filepath.Dir(runs[0]), provenance.File))
	if err != nil || len(recs) == 0 {
		t.Fatalf("provenance of the algo quick-start run: %v", err)
	}
	checked := 0
	for _, p := range recs[0].Plugins {
		if p.Kind != "env" && p.Kind != "algo" {
			continue
		}
		checked++
		found := false
		for _, f := range p.Code {
			if f.Path != "plugin.py" {
				continue
			}
			found = true
			if sum, _ := sdk.FileSHA256(filepath.Join(filepath.Dir(p.Path), f.Path)); sum != f.SHA256 {
				t.Errorf("%s plugin %s: provenance says plugin.py has SHA-256 %s, the file %s", p.Kind, p.Name, f.SHA256, sum)
			}
		}
		if !found {
			t.Errorf("%s plugin %s: provenance lists no plugin.py among its code %v", p.Kind, p.Name, p.Code)
		}
	}
	if checked != 2 {
		t.Errorf("provenance of the algo quick-start run names %d Python env and algo plugins, want 2: %+v", checked, recs[0].Plugins)
	}
	// Out-of-range values, from an empty folder that must stay empty.
	empty := filepath.Join(work, "empty")
	os.Mkdir(empty, 0o755)
	use := "nthost --plugin-dir ../ALGO:../DIR --env reach --env-id Reach-v0 --algo lin --total-timesteps 2048 --no-report "
	for param, want := range map[string]string{
		"--env-param max_steps=0":     `nthost: --env-param: env plugin "reach" parameter max_steps: 0 is out of range (must be >= 1)`,
		"--algo-param search_step=-1": `nthost: --algo-param: algo plugin "lin" parameter search_step: -1 is out of range (must be > 0)`,
		"--algo-param search_step=0":  `nthost: --algo-param: algo plugin "lin" parameter search_step: 0 is out of range (must be > 0)`,
	} {
		out, err := sh(empty, use+param)
		if err == nil || !strings.Contains("\n"+out, "\n"+want+"\n") {
			t.Errorf("%s: want a refusal with the line\n%s\ngot (%v):\n%s", param, want, err, out)
		}
		if left, _ := os.ReadDir(empty); len(left) > 0 {
			t.Errorf("%s was refused only after writing %s", param, left[0].Name())
		}
	}

	lock, _ := os.ReadFile(filepath.Join(bin, "plugins.lock.json"))
	if !strings.Contains(string(lock), `"path": "plugin.py"`) || !strings.Contains(string(lock), `"path": "ntplugin/__init__.py"`) {
		t.Errorf("the lock does not record the plugin's code:\n%s", lock)
	}

	py := filepath.Join(dir, "plugin.py")
	f, err := os.OpenFile(py, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nprint('edited after locking')\n")
	f.Close()
	lines := strings.Split(strings.TrimSpace(block), "\n")
	out, err = sh(dir, lines[len(lines)-1])
	if err == nil {
		t.Fatalf("the run started with plugin.py edited after locking:\n%s", out)
	}
	for _, w := range []string{py, "changed since locked", "nthost plugins lock"} {
		if !strings.Contains(out, w) {
			t.Errorf("the refusal lacks %q:\n%s", w, out)
		}
	}
}
