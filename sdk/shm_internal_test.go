package sdk

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestShmSleepWakesInEveryPhase: a waiter that gave up spinning sleeps
// first in raw futex rounds (holding its P) and later in ordinary ones.
// A reply that comes in either phase must end the wait with the reply's
// state, and a garbage collection started while the waiter sleeps raw
// must finish before the reply is written: the raw sleeper holds a P,
// and the collection's stop-the-world can only take it once the
// preemption signal or the round's timeout brings the thread back to Go
// code. If neither did, the collection would wait for a reply that only
// comes after it, and the test fails at its deadline.
func TestShmSleepWakesInEveryPhase(t *testing.T) {
	runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	seg := &shmSeg{mem: make([]byte, shmHeader)}
	never := func() error { return nil }
	for _, tc := range []struct {
		name  string
		after time.Duration
		gc    bool
	}{
		{"raw phase", rawSleep / 4, false},
		{"ordinary phase", 3 * rawSleep, false},
		{"collection while raw", rawSleep / 4, true},
	} {
		atomic.StoreUint32(seg.word(offState), shmRequest)
		done := make(chan error, 1)
		go func() { done <- seg.await(shmReply, &spinner{}, offHostWait, never) }()
		// Let the waiter reach its futex sleep.
		for atomic.LoadUint32(seg.word(offHostWait)) == 0 {
			runtime.Gosched()
		}
		if tc.gc {
			gcDone := make(chan struct{})
			go func() { runtime.GC(); close(gcDone) }()
			select {
			case <-gcDone:
			case <-time.After(20 * time.Second):
				t.Fatalf("%s: a garbage collection did not finish while the waiter slept", tc.name)
			}
		} else {
			time.Sleep(tc.after)
		}
		seg.set(shmReply, offHostWait)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the reply did not wake the waiter", tc.name)
		}
		if got := atomic.LoadUint32(seg.word(offState)); got != shmReply {
			t.Fatalf("%s: state %d after the wait, want %d", tc.name, got, shmReply)
		}
		if atomic.LoadUint32(seg.word(offHostWait)) != 0 {
			t.Fatalf("%s: the waiter still announces a sleep", tc.name)
		}
	}
}

// TestSpinnerYieldsAContendedCore: after a spin finds itself descheduled
// the budget is nothing for holdWaits waits, however short they are, and
// then grows back by probes; waits the budget covers keep it full, and
// waits beyond the maximum shrink it.
func TestSpinnerYieldsAContendedCore(t *testing.T) {
	sp := newSpinner(200 * time.Microsecond)
	for range 10 {
		sp.learn(10 * time.Microsecond)
	}
	if sp.cur != sp.max {
		t.Fatalf("short waits left the budget at %v, want %v", sp.cur, sp.max)
	}
	sp.contended()
	for i := range holdWaits {
		sp.learn(time.Microsecond)
		if sp.cur != 0 {
			t.Fatalf("wait %d after contention: budget %v, want 0", i, sp.cur)
		}
	}
	sp.learn(10 * time.Microsecond)
	if sp.cur != sp.max/64 {
		t.Fatalf("first probe after the hold: budget %v, want %v", sp.cur, sp.max/64)
	}
	for range 64 {
		sp.learn(150 * time.Microsecond)
	}
	if sp.cur != sp.max {
		t.Fatalf("after 64 probes: budget %v, want %v", sp.cur, sp.max)
	}
	sp.learn(time.Millisecond)
	if sp.cur != sp.max/2 {
		t.Fatalf("a long wait left the budget at %v, want %v", sp.cur, sp.max/2)
	}
}

// TestAwaitWithNoBudgetSleepsAndWakes: a wait right after a contended
// spin does not spin at all, and must still end, asleep, with the state
// the other side sets.
func TestAwaitWithNoBudgetSleepsAndWakes(t *testing.T) {
	seg := &shmSeg{mem: make([]byte, shmHeader+2*shmSlot)}
	sp := &spinner{max: 200 * time.Microsecond}
	sp.contended()
	go func() {
		time.Sleep(2 * time.Millisecond)
		seg.set(shmReply, offHostWait)
	}()
	if err := seg.await(shmReply, sp, offHostWait, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestPreemptGapFromEnvironment: NT_SHM_PREEMPT_GAP sets the gap after
// which a spin counts as descheduled (for a machine that runs nothing
// else), and a malformed value leaves the default.
func TestPreemptGapFromEnvironment(t *testing.T) {
	if os.Getenv("NT_GAP_CHILD") != "" {
		os.Stdout.WriteString(preemptedGap.String() + "\n")
		return
	}
	for val, want := range map[string]string{"500us": "500µs", "2ms": "2ms", "soon": "30µs", "": "30µs"} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestPreemptGapFromEnvironment$")
		cmd.Env = append(os.Environ(), "NT_GAP_CHILD=1", "NT_SHM_PREEMPT_GAP="+val)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		if got := strings.Split(string(out), "\n")[0]; got != want {
			t.Errorf("NT_SHM_PREEMPT_GAP=%q: gap %s, want %s", val, got, want)
		}
	}
}
