package plugintest

import (
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

func names(info sdk.Info) string {
	var out []string
	for _, c := range Checks(info) {
		out = append(out, c.Name)
	}
	return strings.Join(out, " ")
}

// TestChecksFollowDeclarations checks the kit asks only what a plugin
// declares: the triangle inequality of metrics, H1 of backends that
// compute it, points of backends that take them, each declared task.
func TestChecksFollowDeclarations(t *testing.T) {
	for _, c := range []struct {
		info        sdk.Info
		want, avoid []string
	}{
		{sdk.Info{Kind: sdk.KindDist, Capabilities: map[string]string{"metric": "false"}}, []string{"distance", "distance/params", "private-channel"}, []string{"triangle"}},
		{sdk.Info{Kind: sdk.KindDist, Capabilities: map[string]string{"metric": "true"}}, []string{"distance/triangle-inequality"}, nil},
		{sdk.Info{Kind: sdk.KindPH, Capabilities: map[string]string{"max_dim": "0"}}, []string{"homology/H0", "homology/coefficients"}, []string{"H1", "points"}},
		{sdk.Info{Kind: sdk.KindPH, Capabilities: map[string]string{"max_dim": "2", "input": "points,distances"}}, []string{"homology/H1-circle", "homology/points"}, nil},
		{sdk.Info{Kind: sdk.KindEnv, Capabilities: map[string]string{"tasks": "A-v0,B-v1"}}, []string{"environment/A-v0", "environment/B-v1", "environment/unknown-task"}, nil},
	} {
		got := names(c.info)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: checks %q lack %q", c.info.Capabilities, got, w)
			}
		}
		for _, a := range c.avoid {
			if strings.Contains(got, a) {
				t.Errorf("%v: checks %q include %q, which the plugin does not declare", c.info.Capabilities, got, a)
			}
		}
	}
}

// TestPrivateChannelCheckFollowsTLS: the TLS check is asked of every
// plugin while the host uses TLS, and of none once NT_PLUGIN_TLS=off.
func TestPrivateChannelCheckFollowsTLS(t *testing.T) {
	info := sdk.Info{Kind: sdk.KindEnv, Capabilities: map[string]string{"tasks": "A-v0"}}
	if got := names(info); !strings.Contains(got, "private-channel") {
		t.Errorf("with TLS on, checks %q lack private-channel", got)
	}
	t.Setenv(sdk.TLSEnv, "off")
	if got := names(info); strings.Contains(got, "private-channel") {
		t.Errorf("with %s=off, checks %q include private-channel", sdk.TLSEnv, got)
	}
}
