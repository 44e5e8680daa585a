package sdk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestChannelIsMutualTLS: a Go plugin's gRPC socket speaks mutual TLS
// only, and the host's calls still go through.
func TestChannelIsMutualTLS(t *testing.T) {
	c := plugintest.Open(t, faulty(t))
	plugintest.CheckPrivateChannel(t, c)
	h, err := c.PH()
	if err != nil {
		t.Fatal(err)
	}
	m := sdk.NewMatrix(3, 3)
	if _, err := h.Compute(context.Background(), sdk.HomologyRequest{Distances: &m}); err != nil {
		t.Fatalf("a call over TLS: %v", err)
	}
}

// TestPlaintextPluginIsRefused: a plugin whose handshake carries no
// certificate (one that cannot serve TLS) is refused in one line that
// names it and the way out.
func TestPlaintextPluginIsRefused(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "nt-ph-plain")
	script := "#!/bin/sh\necho \"1|2|unix|/nonexistent/plain.sock|grpc\"\nsleep 30\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := sdk.Open(ctx, bin, sdk.OpenOptions{})
	if err == nil {
		c.Close()
		t.Fatal("a plugin without TLS was accepted")
	}
	msg := err.Error()
	for _, s := range []string{"nt-ph-plain", "does not serve TLS", sdk.TLSEnv + "=off"} {
		if !strings.Contains(msg, s) {
			t.Errorf("the refusal lacks %q: %s", s, msg)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("the refusal is not one line: %q", msg)
	}
}
