package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// Config switches work as the seed's CLI has them: alone, with =value,
// and with the value as the next argument; other flags' values are left
// alone even when they read as true or false.
func TestSwitchesTakeTheirValueEitherWay(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want map[string]string // key -> value set
		rest []string
	}{
		{[]string{"--save-clouds"}, map[string]string{"save-clouds": "true"}, nil},
		{[]string{"--save-clouds", "--run-dir", "d"}, map[string]string{"save-clouds": "true", "run-dir": "d"}, nil},
		{[]string{"--save-clouds", "false"}, map[string]string{"save-clouds": "false"}, nil},
		{[]string{"--capture-video", "True", "--save-clouds=0"}, map[string]string{"capture-video": "True", "save-clouds": "0"}, nil},
		{[]string{"--run-dir", "true", "--save-clouds"}, map[string]string{"run-dir": "true", "save-clouds": "true"}, nil},
		{[]string{"--save-clouds", "maybe"}, map[string]string{"save-clouds": "true"}, []string{"maybe"}},
		{[]string{"--", "--save-clouds", "true"}, map[string]string{}, []string{"--save-clouds", "true"}},
	} {
		fs := newFlags(&app{stdout: io.Discard, stderr: io.Discard}, "run", "")
		got := map[string]string{}
		set := func(name string) func(string) error {
			return func(v string) error { got[name] = v; return nil }
		}
		fs.VarPF(&keyFlag{typ: "bool", set: set("save-clouds")}, "save-clouds", "", "").NoOptDefVal = "true"
		fs.VarPF(&keyFlag{typ: "bool", set: set("capture-video")}, "capture-video", "", "").NoOptDefVal = "true"
		fs.Func("run-dir", "", set("run-dir"))
		if err := parse(fs, tc.args, -1); err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: set %v, want %v", tc.args, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%q: --%s = %q, want %q", tc.args, k, got[k], v)
			}
		}
		if !slices.Equal(fs.Args(), tc.rest) && !(len(fs.Args()) == 0 && len(tc.rest) == 0) {
			t.Errorf("%q: left %q, want %q", tc.args, fs.Args(), tc.rest)
		}
	}
}

// The real binary takes a switch alone without swallowing the next flag.
func TestRunTakesConfigSwitchesAlone(t *testing.T) {
	_, errs, code := nthost(t, t.TempDir(), "--save-clouds", "--capture-video", "false", "--total-timesteps", "lots")
	if code == 0 || !strings.Contains(errs, `--total-timesteps: total_timesteps: "lots" is not an integer`) {
		t.Fatalf("exit %d, stderr %q: want the error about --total-timesteps (the switches parsed)", code, errs)
	}
}
