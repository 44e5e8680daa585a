package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
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
	got      os.Signal // the first signal received
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
			graceful := a.sig.graceful
			a.sig.mu.Unlock()
			if first && graceful {
				close(a.sig.stop)
				continue
			}
			cancel()
		}
	}()
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
