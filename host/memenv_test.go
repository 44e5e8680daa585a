package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// pluginGODEBUG starts the dist and ph plugins of the main job the way
// every command does (setup, then open) and returns the GODEBUG each
// plugin process was started with, read from /proc/PID/environ: the
// value its Go runtime parsed.
func pluginGODEBUG(t *testing.T) map[string]string {
	t.Helper()
	a := &app{stdout: io.Discard, stderr: io.Discard}
	defer a.closeAll()
	if err := a.setup(common{pluginDir: bins(t), pluginLock: "none", logFormat: "console", logLevel: "error"}); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for kind, name := range map[sdk.Kind]string{sdk.KindDist: "geodesic", sdk.KindPH: "rips"} {
		c, err := a.open(context.Background(), kind, name)
		if err != nil {
			t.Fatal(err)
		}
		env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(c.Pid()), "environ"))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = "(unset)"
		for _, kv := range bytes.Split(env, []byte{0}) {
			if v, ok := strings.CutPrefix(string(kv), "GODEBUG="); ok {
				out[name] = v
			}
		}
	}
	return out
}

// TestPluginsFreeMemoryLazily checks that the plugins start with
// madvdontneed=0 added to the user's GODEBUG, and that a user who sets
// madvdontneed keeps their choice.
func TestPluginsFreeMemoryLazily(t *testing.T) {
	t.Setenv("GODEBUG", "panicnil=0")
	for name, got := range pluginGODEBUG(t) {
		if got != "panicnil=0,madvdontneed=0" {
			t.Errorf("%s plugin started with GODEBUG=%s, want panicnil=0,madvdontneed=0", name, got)
		}
	}
	t.Setenv("GODEBUG", "madvdontneed=1")
	for name, got := range pluginGODEBUG(t) {
		if got != "madvdontneed=1" {
			t.Errorf("%s plugin started with GODEBUG=%s, want the user's madvdontneed=1", name, got)
		}
	}
}
