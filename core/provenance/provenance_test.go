package provenance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAppendReadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), File)
	if rs, err := Read(path); err != nil || rs != nil {
		t.Fatalf("a run without the file: %v, %v; want none and no error", rs, err)
	}
	a := Collect(time.Unix(100, 0))
	a.Plugins = []Plugin{{Kind: "ph", Name: "rips", SHA256: strings.Repeat("ab", 32)}}
	b := a
	b.Resumed = true
	var recs []Record
	for _, r := range []Record{a, b} {
		out, err := Append(recs, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		if recs, err = Read(path); err != nil {
			t.Fatal(err)
		}
	}
	if len(recs) != 2 || recs[0].Resumed || !recs[1].Resumed || recs[1].Plugins[0].SHA256 != a.Plugins[0].SHA256 {
		t.Fatalf("read back %+v", recs)
	}
	if recs[0].GoVersion == "" || recs[0].Cores < 1 {
		t.Fatalf("Collect left out the Go version or cores: %+v", recs[0])
	}
}

func TestCodeNamesCommitAndDirtyTree(t *testing.T) {
	for _, c := range []struct {
		r    Record
		want string
	}{
		{Record{Commit: "0123456789abcdef0123", Dirty: true}, "0123456789ab+dirty"},
		{Record{Commit: "0123456789abcdef0123"}, "0123456789ab"},
		{Record{Version: "v1.2.0"}, "v1.2.0"},
		{Record{}, "unknown"},
	} {
		if got := c.r.Code(); got != c.want {
			t.Errorf("Code(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
	if got := Codes([]Record{{Commit: "aa"}, {Commit: "bb"}, {Commit: "aa"}}); len(got) != 2 {
		t.Errorf("Codes: %v, want two versions", got)
	}
}

func TestReadRefusesWhatIsNotProvenance(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"not": "a list"}`), 0o644)
	if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("a JSON object: %v, want an error naming the file", err)
	}
	big := filepath.Join(dir, "big.json")
	os.WriteFile(big, make([]byte, maxFile+10), 0o644)
	if _, err := Read(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an oversized file: %v", err)
	}
}

// TestPluginKeyCoversDeclaredCode: two runs of one launcher whose .py
// files differ must not look like the same plugin build; a binary
// without declared code keeps the plain kind/name@hash key.
func TestPluginKeyCoversDeclaredCode(t *testing.T) {
	launcher := Plugin{Kind: "env", Name: "reach", SHA256: "aaaaaaaaaaaaaaaa"}
	a, b := launcher, launcher
	a.Code = []CodeFile{{Path: "plugin.py", SHA256: "1111"}, {Path: "ntplugin/__init__.py", SHA256: "2222"}}
	b.Code = []CodeFile{{Path: "plugin.py", SHA256: "3333"}, {Path: "ntplugin/__init__.py", SHA256: "2222"}}
	ka, kb := Record{Plugins: []Plugin{a}}.PluginKey(), Record{Plugins: []Plugin{b}}.PluginKey()
	if ka == kb {
		t.Fatalf("different plugin.py, same key %q", ka)
	}
	if !strings.HasPrefix(ka, "env/reach@aaaaaaaaaaaa+code:") {
		t.Errorf("key %q", ka)
	}
	if k := (Record{Plugins: []Plugin{launcher}}).PluginKey(); k != "env/reach@aaaaaaaaaaaa" {
		t.Errorf("a plugin without declared code: key %q", k)
	}
}
