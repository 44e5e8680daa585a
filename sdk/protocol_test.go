package sdk

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oldPluginEnv makes this test binary serve as a plugin built with the
// protocol-1 sdk: the handshake and Info of version 1, no parameters.
const oldPluginEnv = "NT_SDK_TEST_SERVE_PROTOCOL"

func TestMain(m *testing.M) {
	if v := os.Getenv(oldPluginEnv); v != "" {
		if v == "needs-host" {
			// A current plugin that needs a newer host than this one.
			serve(sumDist{protocol: ProtocolVersion, hostSDK: "99.0.0"}, ProtocolVersion)
			return
		}
		version := map[string]int{"1": 1, "2": 2, "99": 99}[v]
		serve(sumDist{protocol: version}, version)
		return
	}
	os.Exit(m.Run())
}

// sumDist is a tiny distance plugin: |sum(x_i) - sum(x_j)|.
type sumDist struct {
	protocol int
	hostSDK  string // capability host_sdk, if set
}

func (s sumDist) Describe(context.Context) (Info, error) {
	i := Info{Name: "old", Kind: KindDist, Version: "1.0.0", Protocol: s.protocol, Description: "a plugin of an older protocol"}
	if s.hostSDK != "" {
		i.Capabilities = map[string]string{CapHostSDK: s.hostSDK}
	}
	return i, nil
}

func (sumDist) Compute(_ context.Context, p Matrix, _ map[string]string) (DistanceResult, error) {
	n := p.Rows
	d := NewMatrix(n, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var a, b float64
			for k := 0; k < p.Cols; k++ {
				a += p.At(i, k)
				b += p.At(j, k)
			}
			d.Data[i*n+j] = max(a-b, b-a)
		}
	}
	return DistanceResult{Distances: d, Components: 1}, nil
}

// oldPlugin links this test binary as nt-dist-old, set to serve version.
func oldPlugin(t *testing.T, version string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "nt-dist-old")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	t.Setenv(oldPluginEnv, version)
	return bin
}

// TestPreviousProtocolStillRuns starts a plugin that speaks only protocol
// 1, as one built before declared parameters existed, and uses it.
func TestPreviousProtocolStillRuns(t *testing.T) {
	if ProtocolVersion <= 1 {
		t.Fatalf("there is no previous protocol to test against")
	}
	c, err := Open(context.Background(), oldPlugin(t, "1"), OpenOptions{StartTimeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("a protocol-1 plugin was refused: %v", err)
	}
	defer c.Close()
	if got := c.pc.NegotiatedVersion(); got != 1 || c.Info.Protocol != 1 {
		t.Fatalf("negotiated %d, plugin says %d; want 1", got, c.Info.Protocol)
	}
	d, err := c.Dist()
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.Compute(context.Background(), Matrix{Rows: 3, Cols: 1, Data: []float64{0, 2, 5}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Distances.At(0, 2) != 5 || r.Distances.At(1, 2) != 3 {
		t.Fatalf("distances %v", r.Distances.Data)
	}
}

// TestCurrentProtocolIsChosen checks that a plugin of this sdk speaks the
// newest version with a host of this sdk.
func TestCurrentProtocolIsChosen(t *testing.T) {
	c, err := Open(context.Background(), oldPlugin(t, "2"), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.pc.NegotiatedVersion() != ProtocolVersion {
		t.Fatalf("negotiated %d, want %d", c.pc.NegotiatedVersion(), ProtocolVersion)
	}
}

// TestFutureProtocolIsRefused checks that a plugin speaking only a version
// this host does not know is refused at start with both versions named.
func TestFutureProtocolIsRefused(t *testing.T) {
	_, err := Open(context.Background(), oldPlugin(t, "99"), OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), "99") || !strings.Contains(err.Error(), "this nthost speaks plugin protocols [1 2]") {
		t.Fatalf("want a refusal naming version 99 and ours, got %v", err)
	}
}

// TestNewerHostSDKIsRefused: a plugin declaring it needs a host of a
// newer sdk (capability host_sdk) is refused at start, in one line with
// both versions; one needing this sdk or an older one runs.
func TestNewerHostSDKIsRefused(t *testing.T) {
	_, err := Open(context.Background(), oldPlugin(t, "needs-host"), OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), `nt-dist-old: dist plugin "old" needs a host built with sdk >= 99.0.0 (capability host_sdk); this nthost has sdk `+Version) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line refusing the plugin, got %v", err)
	}
	for _, c := range []struct {
		need string
		ok   bool
	}{{Version, true}, {"0.0.1", true}, {"v" + Version, true}, {"99.0.0", false}, {"1.2", false}} {
		err := CheckHostSDK(Info{Name: "x", Kind: KindPH, Capabilities: map[string]string{CapHostSDK: c.need}})
		if (err == nil) != c.ok {
			t.Errorf("host_sdk %q: %v", c.need, err)
		}
	}
}

// TestUnflushedHandshakeIsNamed starts a plugin that never gets its
// handshake line out (as a Python plugin that does not flush stdout): the
// start error must say what to look at.
func TestUnflushedHandshakeIsNamed(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "nt-ph-silent")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), bin, OpenOptions{StartTimeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "handshake") || !strings.Contains(err.Error(), "flush") {
		t.Fatalf("want an error about the unflushed handshake, got %v", err)
	}
}
