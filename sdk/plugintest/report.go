package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// DefaultTimeout is how long one check of RunReport may take unless
// Options.Timeout says otherwise: ample for the kit's small inputs on a
// loaded machine, short enough that a hung plugin is found out soon.
const DefaultTimeout = 60 * time.Second

// Options tune RunReport.
type Options struct {
	// Timeout bounds each check; 0 means DefaultTimeout. A check past it
	// fails, and the plugin process is replaced by a fresh one for the
	// checks that follow.
	Timeout time.Duration
	// JSON writes one JSON object per check (see Result) instead of text.
	JSON bool
}

// Check outcomes, as Result.Status gives them.
const (
	StatusPass = "pass"
	StatusFail = "fail"
	StatusSkip = "skip" // not run: the plugin died or the run was interrupted
)

// Result is the outcome of one check, as `nthost plugin test --json`
// writes it: one object per line.
type Result struct {
	Name     string  `json:"name"`
	Status   string  `json:"status"`
	Message  string  `json:"message,omitempty"`
	Duration float64 `json:"duration"` // seconds
}

// Report is the outcome of RunReport.
type Report struct {
	Plugin  sdk.Info
	Results []Result
	Passed  []string
	Failed  []string
	Skipped []string
}

func (r *Report) add(w io.Writer, opt Options, res Result, detail []string) {
	r.Results = append(r.Results, res)
	switch res.Status {
	case StatusPass:
		r.Passed = append(r.Passed, res.Name)
	case StatusFail:
		r.Failed = append(r.Failed, res.Name)
	default:
		r.Skipped = append(r.Skipped, res.Name)
	}
	if opt.JSON {
		b, _ := json.Marshal(res)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	took := time.Duration(res.Duration * float64(time.Second)).Round(time.Millisecond)
	switch res.Status {
	case StatusPass:
		fmt.Fprintf(w, "ok   %s (%v)\n", res.Name, took)
	case StatusFail:
		fmt.Fprintf(w, "FAIL %s (%v)\n", res.Name, took)
		for _, m := range detail {
			fmt.Fprintf(w, "     %s\n", m)
		}
	default:
		fmt.Fprintf(w, "skip %s: %s\n", res.Name, res.Message)
	}
}

// RunReport runs the checks that apply to the plugin binary at bin, in any
// language, outside `go test`, writing one line per check (with the
// failures' messages) to w, or one JSON object per check with
// opt.JSON. It is `nthost plugin test`. Each check gets opt.Timeout;
// cancelling ctx (Ctrl-C) ends the current check at once, skips the rest
// and kills the plugin process. A plugin that cannot start is an error,
// also reported as a failed check "start".
func RunReport(ctx context.Context, bin string, w io.Writer, opt Options) (Report, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	var rep Report
	open := func() (*sdk.Client, error) {
		octx, cancel := context.WithTimeout(ctx, max(opt.Timeout, 90*time.Second))
		defer cancel()
		// No restarts: a crash is what the kit must see.
		return sdk.Open(octx, bin, sdk.OpenOptions{NoRestart: true})
	}
	start := time.Now()
	c, err := open()
	if err != nil {
		if opt.JSON {
			rep.add(w, opt, Result{Name: "start", Status: StatusFail, Message: err.Error(), Duration: time.Since(start).Seconds()}, nil)
		}
		return rep, err
	}
	defer func() { c.Close() }()
	rep.Plugin = c.Info
	if !opt.JSON {
		fmt.Fprintf(w, "%s plugin %s %s (protocol %d): %s\n", c.Info.Kind, c.Info.Name, c.Info.Version, c.Info.Protocol, c.Info.Description)
	}
	checks := Checks(c.Info)
	skip := func(from int, why string) {
		for _, ch := range checks[from:] {
			rep.add(w, opt, Result{Name: ch.Name, Status: StatusSkip, Message: why}, nil)
		}
	}
	for i, ch := range checks {
		if ctx.Err() != nil {
			skip(i, "interrupted")
			return rep, ctx.Err()
		}
		r := newReporter(ctx, opt.Timeout)
		start := time.Now()
		stuck := r.run(func() { ch.Run(r, c) }, c.Close)
		res := Result{Name: ch.Name, Status: StatusPass, Duration: time.Since(start).Seconds()}
		exited := c.Exited()
		switch {
		case ctx.Err() != nil:
			res.Status, res.Message = StatusFail, "interrupted"
			rep.add(w, opt, res, []string{res.Message})
			skip(i+1, "interrupted")
			return rep, ctx.Err()
		case r.timedOut():
			res.Status = StatusFail
			res.Message = fmt.Sprintf("did not finish within %v (--timeout); the plugin process was stopped", opt.Timeout)
			if !stuck {
				res.Message = fmt.Sprintf("did not finish within %v (--timeout): %s", opt.Timeout, strings.Join(r.messages(), "; "))
			}
			rep.add(w, opt, res, []string{res.Message})
		case r.failed():
			res.Status = StatusFail
			res.Message = strings.Join(r.messages(), "; ")
			rep.add(w, opt, res, r.messages())
		default:
			rep.add(w, opt, res, nil)
		}
		switch {
		case exited && !stuck && !r.timedOut():
			// The plugin died by itself: what follows would only
			// repeat that.
			if res.Status == StatusPass {
				rep.add(w, opt, Result{Name: "still-running", Status: StatusFail, Message: "the plugin exited during " + ch.Name}, []string{"the plugin exited during " + ch.Name})
			}
			skip(i+1, "the plugin exited during "+ch.Name)
			return rep, nil
		case (r.timedOut() || exited) && i+1 < len(checks):
			// A plugin still busy with the call that timed out would
			// hold up the next check: a fresh process takes over.
			c.Close()
			if c, err = open(); err != nil {
				skip(i+1, "the plugin could not be started again: "+err.Error())
				return rep, nil
			}
		}
	}
	return rep, nil
}

// reporter is a T for RunReport: it records messages, and Fatalf ends the
// check's goroutine as testing does. Its Context bounds the check's calls.
type reporter struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	fail     bool
	msgs     []string
	counts   map[string]int
	dropped  int
	cleanups []func()
}

// Bounds on what one check reports: a check that finds the same fault in
// every pair must not print every pair.
const (
	maxMessages    = 5
	maxMessageRune = 400
)

func newReporter(parent context.Context, timeout time.Duration) *reporter {
	ctx, cancel := context.WithTimeout(parent, timeout)
	return &reporter{ctx: ctx, cancel: cancel, counts: map[string]int{}}
}

// stuckGrace is how long a check may take to return after its context
// ended; past it the plugin is killed, which ends any call still waiting.
const stuckGrace = 3 * time.Second

// run runs f as a check and reports whether it had to be unblocked by
// kill (it did not return within stuckGrace of its context ending).
func (r *reporter) run(f func(), kill func()) (stuck bool) {
	defer r.cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			r.mu.Lock()
			cs := r.cleanups
			r.mu.Unlock()
			for i := len(cs) - 1; i >= 0; i-- {
				cs[i]()
			}
		}()
		defer func() {
			if p := recover(); p != nil {
				r.Errorf("check panicked: %v", p)
			}
		}()
		f()
	}()
	select {
	case <-done:
		return false
	case <-r.ctx.Done():
	}
	select {
	case <-done:
		return false
	case <-time.After(stuckGrace):
	}
	kill()
	select {
	case <-done:
	case <-time.After(stuckGrace):
		// Left behind: nothing more can be done for it.
	}
	return true
}

func (r *reporter) timedOut() bool {
	return errors.Is(r.ctx.Err(), context.DeadlineExceeded)
}

// Context is the check's context: it ends at the check's deadline or
// when the run is interrupted.
func (r *reporter) Context() context.Context { return r.ctx }

func (r *reporter) Helper() {}

func (r *reporter) Errorf(format string, args ...any) {
	m := strings.TrimSpace(fmt.Sprintf(format, args...))
	if rs := []rune(m); len(rs) > maxMessageRune {
		m = string(rs[:maxMessageRune]) + "..."
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = true
	switch {
	case r.counts[m] > 0:
		r.counts[m]++
	case len(r.msgs) >= maxMessages:
		r.dropped++
	default:
		r.msgs = append(r.msgs, m)
		r.counts[m] = 1
	}
}

func (r *reporter) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *reporter) Logf(format string, args ...any) {}

func (r *reporter) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *reporter) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fail
}

// messages are the distinct messages in order, a repeated one with its
// count, and how many were left out.
func (r *reporter) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if n := r.counts[m]; n > 1 {
			m = fmt.Sprintf("%s (%d times)", m, n)
		}
		out = append(out, m)
	}
	if r.dropped > 0 {
		out = append(out, fmt.Sprintf("... and %d more", r.dropped))
	}
	return out
}
