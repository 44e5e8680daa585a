package sdk_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// pyLauncher is the launcher `nthost plugin new --lang python` writes,
// reduced to what the lock and the start need.
const pyLauncher = `#!/bin/sh
# nt-lock-code: *.py ntplugin pb __pycache__
here=$(dirname "$(readlink -f "$0")")
exec /usr/bin/python3 -E -s -B "$here/plugin.py" "$@"
`

// pyPlugin makes a Python plugin folder as the generated Makefile does
// (python3 -m ntplugin vendor) with testdata/python/src as its plugin.py,
// and returns its launcher nt-<kind>-<name>.
func pyPlugin(t *testing.T, src, kind, name string) string {
	t.Helper()
	for _, tool := range []string{"protoc", "/usr/bin/python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install Debian's protobuf-compiler and python3 (`make deps`)", tool)
		}
	}
	dir := t.TempDir()
	sdkPy, _ := filepath.Abs("python")
	cmd := exec.Command("/usr/bin/python3", "-m", "ntplugin", "vendor", dir)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+sdkPy, "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python3 -m ntplugin vendor: %v\n%s", err, out)
	}
	code, err := os.ReadFile(filepath.Join("testdata", "python", src))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugin.py"), code, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "nt-"+kind+"-"+name)
	if err := os.WriteFile(bin, []byte(pyLauncher), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestPythonAlgorithm runs the conformance kit's algorithm checks (tiny
// training, updates, activations, save/load bit for bit) against a
// learner written with ntplugin.Algorithm, in its own process.
func TestPythonAlgorithm(t *testing.T) {
	plugintest.Run(t, pyPlugin(t, "algo.py", "algo", "pylin"))
}

// TestPythonContextCancelled: a host deadline reaches a Python plugin's
// compute(req, ctx) as ctx.cancelled() and ctx.time_remaining(), and the
// call returns soon after the deadline rather than when the plugin would
// have finished (never).
func TestPythonContextCancelled(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "cancelled")
	t.Setenv("NT_TEST_MARKER", marker)
	c := plugintest.Open(t, pyPlugin(t, "waits.py", "ph", "pywait"))
	h, err := c.PH()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err = h.Compute(ctx, sdk.HomologyRequest{Distances: &sdk.Matrix{Rows: 1, Cols: 1, Data: []float64{0}}})
	if err == nil {
		t.Fatal("a call that waits for its cancellation returned no error")
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the cancelled call took %v", took)
	}
	var b []byte
	for i := 0; i < 100; i++ { // the plugin notices within its 10 ms poll
		if b, err = os.ReadFile(marker); err == nil && len(b) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(b) == 0 {
		t.Fatal("the plugin never saw ctx.cancelled() turn true")
	}
	left, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil || left <= 0 || left > 2 {
		t.Errorf("ctx.time_remaining() at the start of a call with a 2 s deadline was %q, want in (0, 2]", b)
	}
}

// TestLockCoversPythonCode: the lock records every file of the code a
// Python plugin's launcher declares. The locked plugin runs; then an
// edit of its plugin.py, of the ntplugin package it carries, or a new
// module beside them is refused before the plugin starts, in one line
// naming the file, until it is locked again.
func TestLockCoversPythonCode(t *testing.T) {
	bin := pyPlugin(t, "waits.py", "ph", "pywait")
	dir := filepath.Dir(bin)
	entry, err := sdk.NewLockEntry(sdk.KindPH, "pywait", "0.1.0", bin)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range entry.Code {
		paths = append(paths, f.Path)
	}
	for _, want := range []string{"plugin.py", "ntplugin/__init__.py", "pb/plugin_pb2.py"} {
		if !strings.Contains(" "+strings.Join(paths, " ")+" ", " "+want+" ") {
			t.Errorf("the lock entry's code lacks %s: %v", want, paths)
		}
	}
	lockFile := filepath.Join(t.TempDir(), "plugins.lock.json")
	lock := (&sdk.Lock{Version: sdk.LockVersion}).With(entry)
	if err := lock.Write(lockFile); err != nil {
		t.Fatal(err)
	}
	lock, err = sdk.ReadLock(lockFile) // as a host reads it
	if err != nil {
		t.Fatal(err)
	}
	sdk.SetLock(lock)
	defer sdk.SetLock(nil)
	open := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := sdk.Open(ctx, bin, sdk.OpenOptions{})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := open(); err != nil {
		t.Fatalf("the locked plugin was refused: %v", err)
	}
	edit := func(rel, text string, want ...string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		old, readErr := os.ReadFile(p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, append(append([]byte(nil), old...), text...), 0o644); err != nil {
			t.Fatal(err)
		}
		err := open()
		if err == nil {
			t.Errorf("%s edited after locking: the plugin started", rel)
		} else {
			for _, w := range append(want, p, "nthost plugins lock") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s edited: the refusal lacks %q: %v", rel, w, err)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the refusal is not one line: %q", err)
			}
		}
		if readErr == nil {
			os.WriteFile(p, old, 0o644)
		} else {
			os.Remove(p)
		}
	}
	edit("plugin.py", "\nimport os; os.system('true')\n", "changed since locked")
	edit("ntplugin/__init__.py", "\n# edited\n", "changed since locked")
	edit("helper.py", "x = 1\n", "is not in the plugin lock (new since locked)")
	edit("__pycache__/plugin.cpython-311.pyc", "x", "is not in the plugin lock (new since locked)")
	if err := open(); err != nil {
		t.Fatalf("the plugin restored to what was locked was refused: %v", err)
	}
}

// TestPipInstallOffline: `pip install --no-index --no-build-isolation
// ./sdk/python` into a virtual environment (Debian's python3, pip and
// setuptools; no package index) gives a package that carries the
// protocol, vendors itself into a plugin folder outside the sdk, and
// that plugin runs.
func TestPipInstallOffline(t *testing.T) {
	tmp := t.TempDir()
	// A copy of the sdk's python/ and proto/, so the build's leftovers
	// stay out of the source tree.
	src := filepath.Join(tmp, "sdk")
	os.Mkdir(src, 0o755)
	for _, d := range []string{"python", "proto"} {
		if out, err := exec.Command("cp", "-r", d, filepath.Join(src, d)).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
	}
	venv := filepath.Join(tmp, "venv")
	run := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PIP_NO_INDEX=1", "PYTHONDONTWRITEBYTECODE=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(tmp, "/usr/bin/python3", "-m", "venv", "--system-site-packages", "--without-pip", venv)
	py := filepath.Join(venv, "bin", "python")
	run(src, py, "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation", "./python")
	plugin := filepath.Join(tmp, "plugin")
	run(tmp, py, "-m", "ntplugin", "vendor", plugin)
	for rel, orig := range map[string]string{
		"ntplugin/__init__.py":  "python/ntplugin/__init__.py",
		"ntplugin/plugin.proto": "proto/plugin.proto",
	} {
		a, _ := os.ReadFile(filepath.Join(plugin, rel))
		b, _ := os.ReadFile(orig)
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("the installed package vendored %s unlike the sdk's %s", rel, orig)
		}
	}
	code, _ := os.ReadFile(filepath.Join("testdata", "python", "algo.py"))
	os.WriteFile(filepath.Join(plugin, "plugin.py"), code, 0o644)
	bin := filepath.Join(plugin, "nt-algo-pylin")
	os.WriteFile(bin, []byte(pyLauncher), 0o755)
	if c := plugintest.Open(t, bin); c.Info.Name != "pylin" || c.Info.Kind != sdk.KindAlgo {
		t.Errorf("the plugin built from the installed package says %+v", c.Info)
	}
}

// TestPythonParamRanges holds ntplugin.Param to the Go sdk's rules, the
// reference: every declaration in the table is accepted by Python exactly
// when sdk.CheckDeclaration accepts it, and every value exactly when
// sdk.CheckParams does, with the same "is out of range (must be ...)"
// text. Then a real Python plugin process sends its declared range in
// Describe, and the host's check refuses a value outside it.
func TestPythonParamRanges(t *testing.T) {
	type decl struct {
		Spec   sdk.ParamSpec
		Values []string
	}
	num := []string{"-1", "0", "0.5", "1", "2", "1e-300", "+Inf", "NaN", "x", "3"}
	cases := []decl{
		{sdk.ParamSpec{Name: "k", Type: sdk.ParamInt, Default: "15", Doc: "d", Min: "1"}, num},
		{sdk.ParamSpec{Name: "n", Type: sdk.ParamInt, Default: "3", Doc: "d", Min: "-1", Max: "3", MaxExclusive: true}, num},
		{sdk.ParamSpec{Name: "lr", Type: sdk.ParamFloat, Default: "0.001", Doc: "d", Min: "0", MinExclusive: true}, num},
		{sdk.ParamSpec{Name: "eps", Type: sdk.ParamFloat, Default: "0", Doc: "d", Min: "0", Max: "1", MaxExclusive: true}, num},
		{sdk.ParamSpec{Name: "c", Type: sdk.ParamFloat, Default: "1", Doc: "d", Max: "2", MaxExclusive: true}, num},
		{sdk.ParamSpec{Name: "w", Type: sdk.ParamString, Default: "unit", Doc: "d", Choices: []string{"unit", "dist"}}, []string{"unit", "x"}},
		{sdk.ParamSpec{Name: "b", Type: sdk.ParamBool, Default: "true", Doc: "d"}, []string{"false", "1", "yes"}},
		// Bad declarations.
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamInt, Default: "0", Doc: "d", Min: "1"}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamInt, Default: "1", Doc: "d", Min: "0.5"}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamString, Default: "x", Doc: "d", Min: "1"}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamBool, Default: "true", Doc: "d", Max: "1"}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamFloat, Default: "1", Doc: "d", Min: "2", Max: "1"}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamFloat, Default: "1", Doc: "d", Min: "1", Max: "1", MaxExclusive: true}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamFloat, Default: "1", Doc: "d", Min: "1", Max: "1"}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamFloat, Default: "1", Doc: "d", MinExclusive: true}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamFloat, Default: "1", Doc: "d", Max: "NaN"}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamFloat, Default: "1", Doc: "d", Max: "1", MaxExclusive: true}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamInt, Default: "", Doc: "d", Min: "0"}},
		{Spec: sdk.ParamSpec{Name: "a b", Type: sdk.ParamInt, Default: "1", Doc: "d"}},
		{Spec: sdk.ParamSpec{Name: "a", Type: sdk.ParamInt, Default: "1", Doc: ""}},
	}
	var in []map[string]any
	for _, c := range cases {
		s := c.Spec
		in = append(in, map[string]any{"name": s.Name, "type": string(s.Type), "default": s.Default, "doc": s.Doc,
			"choices": s.Choices, "min": s.Min, "max": s.Max, "min_exclusive": s.MinExclusive, "max_exclusive": s.MaxExclusive,
			"values": c.Values})
	}
	js, _ := json.Marshal(in)
	// For each case one line: "bad" or "ok" followed by, per value, "ok" or
	// the refusal's text.
	script := `
import json, sys
import ntplugin
for c in json.load(sys.stdin):
    try:
        p = ntplugin.Param(c["name"], c["type"], c["default"], c["doc"], c["choices"] or (),
                           min=c["min"] or None, max=c["max"] or None,
                           min_exclusive=c["min_exclusive"], max_exclusive=c["max_exclusive"])
    except ValueError as e:
        print(json.dumps(["bad", str(e)]))
        continue
    out = ["ok"]
    for v in c["values"] or ():
        try:
            ntplugin.check_params({p.name: v}, [p])
            out.append("ok")
        except ntplugin.BadInput as e:
            out.append(str(e))
    print(json.dumps(out))
`
	sdkPy, _ := filepath.Abs("python")
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+sdkPy, "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdin = strings.NewReader(string(js))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("python3 answered %d cases of %d:\n%s", len(lines), len(cases), out)
	}
	for k, c := range cases {
		var got []string
		if err := json.Unmarshal([]byte(lines[k]), &got); err != nil {
			t.Fatalf("case %d: %q: %v", k, lines[k], err)
		}
		info := sdk.Info{Name: "p", Kind: sdk.KindAlgo, Params: []sdk.ParamSpec{c.Spec}}
		goErr := sdk.CheckDeclaration(info)
		if (goErr == nil) != (got[0] == "ok") {
			t.Errorf("declaration %+v: Go says %v, Python %q", c.Spec, goErr, got)
			continue
		}
		if goErr != nil {
			continue
		}
		for i, v := range c.Values {
			goErr := sdk.CheckParams(info, map[string]string{c.Spec.Name: v})
			py := got[1+i]
			if (goErr == nil) != (py == "ok") {
				t.Errorf("parameter %s (%s) value %q: Go says %v, Python %q", c.Spec.Name, c.Spec.Range(), v, goErr, py)
			}
			if goErr != nil && strings.Contains(goErr.Error(), "out of range") {
				_, want, _ := strings.Cut(goErr.Error(), "parameter "+c.Spec.Name+": ")
				if py != "parameter "+c.Spec.Name+": "+want {
					t.Errorf("value %q: Python says %q, want %q as Go", v, py, want)
				}
			}
		}
	}

	// A name declared twice: serve() says so in one line before the
	// handshake, naming the plugin.
	tctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel() // a plugin that serves anyway would wait for its host
	twice := exec.CommandContext(tctx, "/usr/bin/python3", "-c", `
import ntplugin
class D(ntplugin.Distance):
    name = "twice"
    params = [ntplugin.Param("k", "int", "1", "d"), ntplugin.Param("k", "int", "2", "d")]
ntplugin.serve(D())
`)
	twice.Env = append(os.Environ(), "PYTHONPATH="+sdkPy, "PYTHONDONTWRITEBYTECODE=1", sdk.Handshake.MagicCookieKey+"="+sdk.Handshake.MagicCookieValue)
	stdout, err := twice.Output()
	ee, _ := err.(*exec.ExitError)
	if want := "dist plugin 'twice' declares a bad parameter: parameter 'k' is declared twice\n"; ee == nil || len(stdout) > 0 || string(ee.Stderr) != want {
		t.Errorf("a plugin declaring k twice: %v, stdout %q, want only the line %q on stderr", err, stdout, want)
		if ee != nil {
			t.Logf("stderr: %s", ee.Stderr)
		}
	}

	c := plugintest.Open(t, pyPlugin(t, "algo.py", "algo", "pylin"))
	p, ok := c.Info.Param("step")
	if !ok || p.Min != "0" || p.Max != "" || p.MinExclusive || p.Range() != ">= 0" {
		t.Fatalf("Describe of the Python plugin gives step %+v, want the declared range >= 0", p)
	}
	err = sdk.CheckParams(c.Info, map[string]string{"step": "-0.5"})
	if want := `algo plugin "pylin" parameter step: -0.5 is out of range (must be >= 0)`; err == nil || err.Error() != want {
		t.Errorf("step=-0.5: %v, want %s", err, want)
	}
}
