package sdk

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk/pb"
)

// cancelConn is a connection whose peer goes away at the moment the
// caller's context ends, as when SIGINT reaches the host and its plugins
// together: the read fails and the cancel callback fires at once.
type cancelConn struct {
	net.Conn
	cancel context.CancelFunc
}

func (c *cancelConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *cancelConn) Read([]byte) (int, error) {
	c.cancel()
	return 0, errors.New("connection reset by peer")
}
func (c *cancelConn) Close() error { return nil }

// TestFastCallSurvivesCancelAndEOF guards against a panic: the callback that
// closes the connection on cancel read f.conn after broken had set it to
// nil. Without the fix the callback goroutine panics (and -race reports
// the data race) within a few rounds.
func TestFastCallSurvivesCancelAndEOF(t *testing.T) {
	for i := 0; i < 200; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		c := &cancelConn{cancel: cancel}
		f := &fastConn{conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
		err := f.call(ctx, fastStep, &pb.StepRequest{}, &pb.StepResult{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: want context.Canceled, got %v", i, err)
		}
		if err := f.call(context.Background(), fastStep, &pb.StepRequest{}, &pb.StepResult{}); err == nil {
			t.Fatalf("round %d: a retired fast path answered", i)
		}
	}
	// Give late callbacks time to run (and crash, were the bug back).
	time.Sleep(50 * time.Millisecond)
}

// TestSpinnerBacksOffUnderLoad: waits far beyond the budget (the other
// side descheduled on a busy machine) must stop the spinning, and short
// waits on a quiet machine must bring it back.
func TestSpinnerBacksOffUnderLoad(t *testing.T) {
	sp := newSpinner(200 * time.Microsecond)
	for i := 0; i < 8; i++ {
		sp.learn(50 * time.Microsecond) // one step, covered by the spin
		sp.learn(2 * time.Millisecond)  // then descheduled
	}
	if sp.cur > 10*time.Microsecond {
		t.Fatalf("after many long waits the spin budget is still %v", sp.cur)
	}
	for i := 0; i < 200 && sp.cur < sp.max; i++ {
		sp.learn(60 * time.Microsecond)
	}
	if sp.cur != sp.max {
		t.Fatalf("short waits did not restore the spin budget: %v", sp.cur)
	}
	sp.learn(100 * time.Millisecond) // one PPO update
	if sp.cur < sp.max/2 {
		t.Fatalf("one long wait cut the budget to %v", sp.cur)
	}
}
