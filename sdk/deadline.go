package sdk

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// CallTimeoutsEnv names the variable that changes how long the host
// waits for a plugin's answer: "CLASS=DURATION,..." with the classes of
// CallClass, e.g. NT_PLUGIN_TIMEOUTS=compute=72h for homology of very
// large clouds, or compute=0 for no limit.
const CallTimeoutsEnv = "NT_PLUGIN_TIMEOUTS"

// The classes of plugin calls, each with its own deadline.
const (
	// CallDescribe: Describe, which answers from memory.
	CallDescribe = "describe"
	// CallStep: the calls of a training loop and the set-up around it
	// (Open, Reset, Step, Init, Act, Policy, Activations, Save, Load,
	// Render, Close, states): each is bounded by one network update.
	CallStep = "step"
	// CallCompute: calls whose work grows with the input without a
	// bound the host knows (distances, homology, data, Fit, Drive).
	CallCompute = "compute"
)

// DefaultCallTimeouts are the deadlines of calls whose context has none:
// long enough for any legitimate call of this repository's workloads on
// a small machine, short enough that a hung plugin does not hang a run
// (or a sweep of them) forever.
var DefaultCallTimeouts = map[string]time.Duration{
	CallDescribe: 30 * time.Second,
	CallStep:     10 * time.Minute,
	CallCompute:  24 * time.Hour,
}

// callClass tells the class of a gRPC method ("/pkg.Service/Method").
func callClass(method string) string {
	m := method[strings.LastIndexByte(method, '/')+1:]
	switch m {
	case "Describe":
		return CallDescribe
	case "Compute", "Generate", "Fit", "Drive":
		return CallCompute
	}
	return CallStep
}

var (
	timeoutsMu  sync.Mutex
	timeoutsFor = "\x00" // the variable's value timeouts was parsed from
	timeouts    map[string]time.Duration
	timeoutsErr error
)

// CallTimeouts returns the deadlines in force: the defaults changed by
// $NT_PLUGIN_TIMEOUTS. 0 means no deadline.
func CallTimeouts() (map[string]time.Duration, error) {
	v := os.Getenv(CallTimeoutsEnv)
	timeoutsMu.Lock()
	defer timeoutsMu.Unlock()
	if v != timeoutsFor {
		timeoutsFor = v
		timeouts, timeoutsErr = parseCallTimeouts(v)
	}
	return timeouts, timeoutsErr
}

func parseCallTimeouts(v string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for k, d := range DefaultCallTimeouts {
		out[k] = d
	}
	for _, kv := range list(v) {
		class, text, ok := strings.Cut(kv, "=")
		class = strings.TrimSpace(class)
		if _, known := DefaultCallTimeouts[class]; !ok || !known {
			return nil, fmt.Errorf("%s=%q: want CLASS=DURATION,... with CLASS one of describe, step, compute", CallTimeoutsEnv, v)
		}
		d, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s=%q: %s=%s is not a duration >= 0 (e.g. 90s, 2h; 0: none)", CallTimeoutsEnv, v, class, text)
		}
		out[class] = d
	}
	return out, nil
}

// timeoutError is the one line a call that outlived its deadline gets.
func timeoutError(class string, d time.Duration) error {
	return fmt.Errorf("no answer within %v (the plugin hangs, or the call needs longer: %s=%s=DURATION allows it)", d, CallTimeoutsEnv, class)
}

// withDeadline gives ctx the deadline of class when it has none; the
// returned flag tells whether the deadline is this one.
func withDeadline(ctx context.Context, class string) (context.Context, context.CancelFunc, time.Duration) {
	if _, has := ctx.Deadline(); has {
		return ctx, func() {}, 0
	}
	ts, _ := CallTimeouts()
	d := ts[class]
	if d <= 0 {
		return ctx, func() {}, 0
	}
	c, cancel := context.WithTimeout(ctx, d)
	return c, cancel, d
}

// deadlineInterceptor bounds every gRPC call to a plugin whose context
// carries no deadline by its class's timeout, and turns that deadline
// passing into one line saying what to do.
func deadlineInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	class := callClass(method)
	cctx, cancel, d := withDeadline(ctx, class)
	defer cancel()
	err := invoker(cctx, method, req, reply, cc, opts...)
	if err != nil && d > 0 && ctx.Err() == nil && cctx.Err() == context.DeadlineExceeded {
		return status.Error(codes.DeadlineExceeded, timeoutError(class, d).Error())
	}
	return err
}
