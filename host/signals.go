package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// signals turns SIGINT and SIGTERM into either a request to stop cleanly
// or a cancellation. A command that can stop cleanly (the main job, which
// then saves a checkpoint) asks for stop requests with stopRequests; the
// first signal then closes that channel. Any other command, and a second
// signal, cancel the context: the impatient user or the scheduler's
// second notice win.
type signals struct {
	mu       sync.Mutex
	stop     chan struct{}
	graceful bool
	// patient: the command stops its own children on cancellation and
	// may take longer than abortGrace for it (a sweep's trials
	// checkpoint); only a second signal aborts it.
	patient bool
	got     os.Signal // the first signal received
}

// watchSignals starts watching SIGINT and SIGTERM; cancel ends the
// context the commands run under.
func (a *app) watchSignals(cancel context.CancelFunc) {
	a.sig = &signals{stop: make(chan struct{})}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range ch {
			a.sig.mu.Lock()
			first := a.sig.got == nil
			if first {
				a.sig.got = s
			}
			graceful, patient := a.sig.graceful, a.sig.patient
			a.sig.mu.Unlock()
			if first && graceful {
				close(a.sig.stop)
				continue
			}
			cancel()
			// A command blocked where the context does not reach (opening
			// a FIFO, a plugin that ignores cancellation) must still end:
			// a few seconds after the first signal, sooner after the
			// second.
			switch {
			case !first:
				go a.sig.abortAfter(abortGrace/3, s)
			case !patient:
				go a.sig.abortAfter(abortGrace, s)
			}
		}
	}()
}

// abortGrace is how long a cancelled command has to return by itself
// before the process exits anyway.
const abortGrace = 5 * time.Second

// abortAfter exits the process with 128+signal after d, unless it has
// already ended. Plugin processes notice their host is gone and exit;
// their socket folder is removed here.
func (s *signals) abortAfter(d time.Duration, sig os.Signal) {
	time.Sleep(d)
	fmt.Fprintf(os.Stderr, "nthost: %v: aborted\n", sig)
	sdk.RemoveSocketDir()
	code := 130
	if n, ok := sig.(syscall.Signal); ok {
		code = 128 + int(n)
	}
	os.Exit(code)
}

// stopRequests returns a channel closed by the first SIGINT or SIGTERM
// from now on; nil when signals are not watched (tests calling run
// directly).
func (a *app) stopRequests() <-chan struct{} {
	if a.sig == nil {
		return nil
	}
	a.sig.mu.Lock()
	defer a.sig.mu.Unlock()
	a.sig.graceful = true
	return a.sig.stop
}

// patientStop marks the command as one that stops its own children when
// its context is cancelled, however long that takes: the first signal
// then only cancels, and a second one aborts.
func (a *app) patientStop() {
	if a.sig == nil {
		return
	}
	a.sig.mu.Lock()
	defer a.sig.mu.Unlock()
	a.sig.patient = true
}

// exitCode is the shell's code for death by the signal received, 128 +
// its number (130 for SIGINT, 143 for SIGTERM).
func (a *app) exitCode() int {
	if a.sig != nil {
		a.sig.mu.Lock()
		defer a.sig.mu.Unlock()
		if s, ok := a.sig.got.(syscall.Signal); ok {
			return 128 + int(s)
		}
	}
	return 130
}
