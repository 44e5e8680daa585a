package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// inProcess runs a command line through the same tree main uses, in this
// process, and returns what it printed and its error.
func inProcess(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, log: zerolog.Nop()}
	err := execute(context.Background(), a, args)
	a.closeAll()
	return out.String(), errb.String(), err
}

// `nthost` and `nthost -h` list every command with its purpose on
// standard output and exit 0. A command without an entry in purposes
// shows its usage line.
func TestHelpListsEveryCommand(t *testing.T) {
	for name := range commands {
		if purpose(name) == "" {
			t.Errorf("command %s has no purpose line for nthost -h", name)
		}
	}
	for _, args := range [][]string{nil, {"-h"}, {"--help"}, {"help"}} {
		out, errs, code := nthost(t, t.TempDir(), args...)
		if code != 0 || errs != "" {
			t.Fatalf("nthost %q: exit %d, stderr %q", args, code, errs)
		}
		for name := range commands {
			subs := subcommands[name]
			if len(subs) == 0 && !regexp.MustCompile(`(?m)^  `+name+` +`+regexp.QuoteMeta(purpose(name))+`$`).MatchString(out) {
				t.Errorf("nthost %q does not list %s with its purpose:\n%s", args, name, out)
			}
			for _, s := range subs {
				if !strings.Contains(out, "  "+name+" "+s.name+" ") || !strings.Contains(out, s.purpose) {
					t.Errorf("nthost %q does not list %s %s with its purpose:\n%s", args, name, s.name, out)
				}
			}
		}
		if n := strings.Count(out, "\n"); n > 45 {
			t.Errorf("nthost %q: %d lines, want a help that fits a screen", args, n)
		}
	}
}

// `nthost run -h` lists every config key once, in kebab-case, with its
// meaning and default, in the named groups; no stubs, no snake_case.
func TestRunHelpListsEachKeyOnce(t *testing.T) {
	out, _, err := inProcess(t, "run", "-h")
	if err == nil || err != errHelpShown {
		t.Fatalf("run -h: %v, want the help shown", err)
	}
	if strings.Contains(out, "config key") || strings.Contains(out, "same as --") {
		t.Errorf("run -h has stub lines:\n%s", out)
	}
	for _, g := range config.Groups {
		if !strings.Contains(out, "\n"+string(g)+":\n") {
			t.Errorf("run -h has no %s section", g)
		}
	}
	def := config.Default()
	for _, k := range config.Keys() {
		name := dash(k)
		if kind, ok := paramKind(k); ok {
			name = kind + "-param"
		}
		re := regexp.MustCompile(`(?m)^  --` + regexp.QuoteMeta(name) + ` .*$`)
		lines := re.FindAllString(out, -1)
		if len(lines) != 1 {
			t.Errorf("run -h lists --%s %d times, want once", name, len(lines))
			continue
		}
		doc, _ := config.Doc(k)
		if !strings.Contains(lines[0], doc.Meaning) {
			t.Errorf("--%s: %q lacks its meaning %q", name, lines[0], doc.Meaning)
		}
		if d := def.Get(k); d != "" && !strings.Contains(lines[0], "(default "+d+")") {
			t.Errorf("--%s: %q lacks its default %s", name, lines[0], d)
		}
		if strings.Contains(k, "_") && strings.Contains(out, "--"+k) {
			t.Errorf("run -h lists the snake_case spelling --%s", k)
		}
	}
	if strings.Contains(out, "`") {
		t.Errorf("run -h shows a back-quote, a flag-rendering slip:\n%s", out)
	}
}

// The seed's snake_case spellings set the same keys as the listed ones,
// wherever they come on the line; -maxdim with one dash works too.
func TestSnakeCaseAndOneDashAccepted(t *testing.T) {
	fs := describe(cmdRun)
	if err := parse(fs, []string{"--total_timesteps", "5", "--anneal_lr", "false", "-maxdim", "1", "--dist_param", "k=3"}, 0); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"total-timesteps", "anneal-lr", "maxdim", "dist-param"} {
		if !fs.Changed(name) {
			t.Errorf("--%s not set", name)
		}
	}
	fs = describe(cmdTDA)
	if err := parse(fs, []string{"--betti_at", "0.5", "--ph_param", "a=1"}, 0); err != nil {
		t.Fatal(err)
	}
	if !fs.Changed("betti-at") || !fs.Changed("ph-param") {
		t.Error("tda: --betti_at or --ph_param not read")
	}
}

// --version prints the version, commit and Go version.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, errs, code := nthost(t, t.TempDir(), args...)
		if code != 0 {
			t.Fatalf("nthost %q: exit %d: %s", args, code, errs)
		}
		for _, want := range []string{"nthost " + version, "commit ", runtime.Version()} {
			if !strings.Contains(out, want) {
				t.Errorf("nthost %q: %q lacks %q", args, out, want)
			}
		}
	}
}

// A mistyped command or flag gets the names it may have meant in a line
// or two, not the whole help, and a failing exit.
func TestTypoSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"swep"}, "did you mean sweep?"},
		{[]string{"--total-timestep", "5"}, "did you mean --total-timesteps?"},
		{[]string{"tda", "--point", "x.csv"}, "did you mean --points?"},
		{[]string{"sweep", "stauts", "d"}, "did you mean status?"},
	} {
		out, errs, code := nthost(t, t.TempDir(), tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("nthost %q: exit %d, stderr %q: want %q", tc.args, code, errs, tc.want)
		}
		if n := strings.Count(out+errs, "\n"); n > 3 {
			t.Errorf("nthost %q printed %d lines, want a short message:\n%s%s", tc.args, n, out, errs)
		}
	}
}

// Flags may follow positional arguments, and global flags may come first.
func TestFlagsAfterPositionals(t *testing.T) {
	dir := t.TempDir()
	ds := []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 1}, {0, 2}}}, {Dim: 1, Pairs: [][2]float64{{0.5, 1.5}}}}
	for _, f := range []string{"a.npz", "b.npz"} {
		if err := diagram.WriteNPZ(filepath.Join(dir, f), ds); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"compare", "a.npz", "b.npz", "--log-format", "json"},
		{"compare", "a.npz", "--log-level", "warn", "b.npz"},
		{"--log-format", "json", "compare", "a.npz", "b.npz"},
	} {
		out, errs, code := nthost(t, dir, args...)
		if code != 0 || !strings.Contains(out, "bottleneck") {
			t.Errorf("nthost %q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
}

// Every command but the dispatchers has its flags for `nthost help X`, and
// the shell completion completes a command's flags.
func TestCompletion(t *testing.T) {
	out, _, err := inProcess(t, "completion", "bash")
	if err != nil || !strings.Contains(out, "__start_nthost") {
		t.Fatalf("completion bash: %v\n%.300s", err, out)
	}
	out, _, err = inProcess(t, "__complete", "tda", "--poi")
	if err != nil || !strings.Contains(out, "--points") {
		t.Errorf("completing `nthost tda --poi`: %v\n%s", err, out)
	}
	out, _, err = inProcess(t, "__complete", "sw")
	if err != nil || !strings.Contains(out, "sweep") {
		t.Errorf("completing `nthost sw`: %v\n%s", err, out)
	}
	out, _, err = inProcess(t, "__complete", "--total-time")
	if err != nil || !strings.Contains(out, "--total-timesteps") {
		t.Errorf("completing `nthost --total-time`: %v\n%s", err, out)
	}
}
