package repocheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository's top folder (two up from this package).
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", r, err)
	}
	return r
}

// history are words about how the code came to be, not about what it
// does: work sessions, tracker numbers, branches, who worked beside whom,
// and folders outside the repository. Facts a test relies on live in the
// repository (docs/, testdata/, a package's SPEC.md).
var history = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\bsessions? [0-9]`),
	regexp.MustCompile(`(?i)\bsession-[0-9]`),
	regexp.MustCompile(`(?i)\bissues? #?[0-9]+`),
	regexp.MustCompile(`(?i)\bwork` + `trees?\b`),
	regexp.MustCompile(`(?i)shared/` + `facts`),
	regexp.MustCompile(`(?i)/work/`),
	regexp.MustCompile(`(?i)helper ` + `sessions?`),
	regexp.MustCompile(`(?i)\bbranch s[0-9]`),
	regexp.MustCompile(`(?i)other (helpers|engineers)`),
}

// TestNoDevelopmentHistory fails on any tracked file that speaks of how
// the code was developed.
func TestNoDevelopmentHistory(t *testing.T) {
	r := root(t)
	out, err := exec.Command("git", "-C", r, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v (the check reads the tracked files)", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 50 {
		t.Fatalf("only %d tracked files; is %s the repository?", len(files), r)
	}
	for _, f := range files {
		if f == "internal/repocheck/repocheck_test.go" {
			continue // its patterns and examples
		}
		b, err := os.ReadFile(filepath.Join(r, f))
		if err != nil || bytes.IndexByte(b, 0) >= 0 {
			continue // deleted in the work tree, or binary
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, re := range history {
				if m := re.FindString(line); m != "" {
					t.Errorf("%s:%d speaks of how the code was developed (%q): %s", f, i+1, m, strings.TrimSpace(line))
				}
			}
		}
	}
}

// TestPatternsCatch keeps the patterns honest: each catches the kind of
// line it is for, and an ordinary sentence passes.
func TestPatternsCatch(t *testing.T) {
	caught := func(s string) bool {
		for _, re := range history {
			if re.MatchString(s) {
				return true
			}
		}
		return false
	}
	// Written in pieces so that this file does not hold the words it
	// looks for.
	for _, s := range []string{"### Sess" + "ion 4: the reduction", "see iss" + "ue 11", "commits on branch s3-rips",
		"(see /work/" + "shared/x.md)", "the work" + "tree", "four other engineers"} {
		if !caught(s) {
			t.Errorf("not caught: %q", s)
		}
	}
	for _, s := range []string{"a session of training", "the sessions of a user", "Betti numbers at 2.5", "an issue with NaN"} {
		if caught(s) {
			t.Errorf("caught by mistake: %q", s)
		}
	}
}

// TestCoreImportsNoPlugin: core/ is below plugins/ (plugins use core, not
// the other way round), counting every package core's code needs.
func TestCoreImportsNoPlugin(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./core/...")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "/neuraltopology/plugins/") {
			t.Errorf("core depends on %s", p)
		}
	}
}
