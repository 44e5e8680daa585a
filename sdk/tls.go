package sdk

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// TLSEnv names the environment variable that turns mutual TLS between the
// host and its plugins off ("off") for plugins that cannot serve it: a
// third party's built against an sdk older than this one. Unset or "on"
// means on. Off is all or nothing: a host cannot tell a plugin that will
// not do TLS from one whose channel was tampered with.
const TLSEnv = "NT_PLUGIN_TLS"

// PluginTLS reports whether this host starts plugins with mutual TLS (on
// unless $NT_PLUGIN_TLS is off; a malformed value counts as on here and is
// refused by Open).
func PluginTLS() bool {
	on, err := pluginTLS()
	return on || err != nil
}

// pluginTLS reports whether plugins are started with mutual TLS.
func pluginTLS() (bool, error) {
	switch v := os.Getenv(TLSEnv); v {
	case "", "on":
		return true, nil
	case "off":
		return false, nil
	default:
		return false, fmt.Errorf("%s=%q: want on or off", TLSEnv, v)
	}
}

// handshakeHasCert reports whether a go-plugin handshake line
// (core|app|network|address|protocol|cert...) carries the server
// certificate that AutoMTLS needs: its sixth field, base64 DER, which is
// far longer than the short values older servers put there.
func handshakeHasCert(line string) bool {
	parts := strings.Split(strings.TrimSpace(line), "|")
	return len(parts) >= 6 && len(parts[5]) > 50
}

// Addr is the address of the plugin's gRPC server (a unix socket in the
// host's private folder), for diagnostics and for tests that check no one
// but the host can talk to it; nil if the plugin is not running.
func (c *Client) Addr() net.Addr {
	c.mu.Lock()
	pc := c.pc
	c.mu.Unlock()
	rc := pc.ReattachConfig()
	if rc == nil {
		return nil
	}
	return rc.Addr
}

// StartTimeoutEnv names the environment variable that sets how long a
// plugin may take to print its handshake line (a Go duration, e.g. 90s).
const StartTimeoutEnv = "NT_PLUGIN_START_TIMEOUT"

// startTimeout is the handshake limit. Its default is generous because a
// Python plugin's start (imports, a TLS key) took 6-17 s on a 2-core
// machine at load 25-30, against 0.6 s quiet; a plugin that dies before
// its handshake is named at once whatever the limit, so only a plugin that
// hangs silently waits this long.
func startTimeout() (time.Duration, error) {
	v := os.Getenv(StartTimeoutEnv)
	if v == "" {
		return 60 * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration such as 90s", StartTimeoutEnv, v)
	}
	return d, nil
}
