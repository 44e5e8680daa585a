package sdk

import (
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk/pb"
)

// TestPluginTextIsPrintable: a plugin's Info and error text reach the
// user's terminal; escape sequences (clear screen, cursor moves) and
// line breaks arrive escaped, ordinary text (UTF-8 included) unchanged.
func TestPluginTextIsPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, ünïcode ∂": "plain text, ünïcode ∂",
		"\x1b[2Jcleared":        `\x1b[2Jcleared`,
		"a\nb\rc\x07":           `a\nb\rc\a`,
		"bad \xff utf8":         "bad \ufffd utf8",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
	info := fromPBInfo(&pb.Info{Name: "x\x1b[31m", Description: "\x1b[2J\x1b[Hfake prompt $ ", Version: "1.0.0\r",
		Capabilities: map[string]string{"engine": "\x1b]0;title\x07"},
		Params:       []*pb.ParamSpec{{Name: "p", Doc: "doc\x1b[1A", DefaultValue: "1"}}})
	for _, s := range []string{info.Name, info.Description, info.Version, info.Capabilities["engine"], info.Params[0].Doc} {
		if strings.ContainsAny(s, "\x1b\r\a\n") {
			t.Errorf("control character left in %q", s)
		}
	}
}
