package sdk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// A plugin that hangs does not hang the host: a call whose context has
// no deadline gets its class's (NT_PLUGIN_TIMEOUTS, here 1 s), and ends
// with one line naming the plugin and the variable that allows longer.
// Describe hanging at start is bounded the same way.
func TestHungPluginCallsEnd(t *testing.T) {
	t.Setenv(sdk.CallTimeoutsEnv, "compute=1s,describe=1s")
	c, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{NoRestart: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, _ := c.PH()
	t0 := time.Now()
	_, err = h.Compute(context.Background(), sdk.HomologyRequest{MaxDim: 94})
	took := time.Since(t0)
	if err == nil || !strings.Contains(err.Error(), "nt-ph-faulty") || !strings.Contains(err.Error(), "no answer within 1s") ||
		!strings.Contains(err.Error(), "NT_PLUGIN_TIMEOUTS=compute=DURATION") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line naming the plugin and the timeout, got %v", err)
	}
	if took > 20*time.Second {
		t.Errorf("the hung call returned after %v", took)
	}
	t.Log(err)
	// A caller's own deadline wins over the class's.
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	t0 = time.Now()
	if _, err = h.Compute(ctx, sdk.HomologyRequest{MaxDim: 94}); err != context.DeadlineExceeded || time.Since(t0) < 2*time.Second {
		t.Errorf("with the caller's 2.5 s deadline: %v after %v", err, time.Since(t0))
	}

	t.Setenv("NT_FAULTY_HANG_DESCRIBE", "1")
	t0 = time.Now()
	_, err = sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{NoRestart: true})
	if err == nil || !strings.Contains(err.Error(), "describe") || !strings.Contains(err.Error(), "no answer within 1s") {
		t.Fatalf("a plugin hung in Describe: %v", err)
	}
	t.Log(err)

	t.Setenv(sdk.CallTimeoutsEnv, "compute=soon")
	if _, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{}); err == nil || !strings.Contains(err.Error(), "NT_PLUGIN_TIMEOUTS") {
		t.Errorf("a malformed %s: %v", sdk.CallTimeoutsEnv, err)
	}
}
