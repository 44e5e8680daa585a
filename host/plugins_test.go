package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestPluginsTableFits100Columns(t *testing.T) {
	out, errs, code := nthost(t, t.TempDir(), "plugins")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > tableWidth {
			t.Errorf("line of %d columns (limit %d): %q", n, tableWidth, l)
		}
	}
}

func TestPluginsNameShowsParams(t *testing.T) {
	out, errs, code := nthost(t, t.TempDir(), "plugins", "dist/geodesic")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"--dist-param", "k ", "int", "15", "weights", "one of euclid, unit", "metric = true"} {
		if !strings.Contains(out, want) {
			t.Errorf("`nthost plugins dist/geodesic` lacks %q:\n%s", want, out)
		}
	}
	out, errs, code = nthost(t, t.TempDir(), "plugins", "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errs)
	}
	var list []pluginEntry
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, out)
	}
	var geo *pluginEntry
	for i := range list {
		if list[i].Kind == "dist" && list[i].Name == "geodesic" {
			geo = &list[i]
		}
	}
	if geo == nil || len(geo.Params) != 2 || geo.Params[0].Name != "k" || geo.Params[0].Type != "int" || geo.Params[0].Default != "15" || geo.Capabilities["metric"] != "true" {
		t.Fatalf("geodesic in --json: %+v", geo)
	}
}

// TestRunRefusesBadParamsAtStart checks each refusal is one line naming the
// plugin and the parameter, and that nothing is written.
func TestRunRefusesBadParamsAtStart(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--dist-param", "bogus=1"}, []string{`dist plugin "geodesic"`, `"bogus"`, "k, weights"}},
		{[]string{"--dist-param", "k=many"}, []string{"dist_params", "k=many", "not an integer"}},
		{[]string{"--dist-param", "weights=cosine"}, []string{"weights", "not one of euclid, unit"}},
		{[]string{"--dist", "euclid", "--k", "5"}, []string{"--k", `dist plugin "euclid"`, "no parameter k"}},
		{[]string{"--algo-param", "clip_obs=wide"}, []string{`algo plugin "ppo"`, "clip_obs"}},
		{[]string{"--ph-param", "engine=x"}, []string{`ph plugin "rips"`, `no parameter "engine"`, "subsample"}},
		{[]string{"--env-id", "Ant-v4"}, []string{`env plugin "mujoco"`, "Ant-v4", "Hopper-v4"}},
	} {
		dir := t.TempDir()
		run := dir + "/run"
		args := append([]string{"--run-dir", run, "--total-timesteps", "64"}, c.args...)
		_, errs, code := nthost(t, dir, args...)
		if code == 0 {
			t.Errorf("%v: accepted", c.args)
			continue
		}
		if strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: error is not one line:\n%s", c.args, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: error %q lacks %q", c.args, strings.TrimSpace(errs), w)
			}
		}
		if _, err := os.Stat(run); err == nil {
			t.Errorf("%v: the run directory was created before the refusal", c.args)
		}
	}
}
