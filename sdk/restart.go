package sdk

import (
	"context"
	"fmt"
	"path/filepath"
)

// A pure plugin (dist, ph) holds no state between calls, so when its
// process crashes the host loses nothing by starting it again: a long run
// survives a transient crash (a rare native-library fault, the kernel's
// OOM killer picking the wrong victim). Each call is retried once; a crash
// of the retried call is the plugin's own fault and ends the call with one
// line. Environments and algorithms carry state a restart would lose, so
// their crashes stay errors.

// restart replaces a crashed plugin process by a fresh one from the same
// binary. Calls already holding the old interface fail; new ones use the
// new process.
func (c *Client) restart(ctx context.Context) error {
	nc, err := Open(ctx, c.Path, c.opt)
	if err != nil {
		return err
	}
	c.mu.Lock()
	old := &Client{pc: c.pc, closeFast: c.closeFast}
	c.pc, c.proc, c.impl, c.stderr, c.stdout, c.Info = nc.pc, nc.proc, nc.impl, nc.stderr, nc.stdout, nc.Info
	c.transport, c.closeFast = nc.transport, nc.closeFast
	c.restarts++
	c.mu.Unlock()
	old.Close()
	c.opt.Logger.Warn("plugin crashed and was restarted", "plugin", filepath.Base(c.Path), "restarts", c.restarts)
	return nil
}

// current returns the interface of the running process.
func (c *Client) current() Describer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.impl
}

// Restarts counts how often a crashed pure plugin was started again.
func (c *Client) Restarts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}

// retry runs call on the current process; if that process crashed (and the
// caller did not give up), it restarts the plugin and runs call once more.
func (c *Client) retry(ctx context.Context, call func(Describer) error) error {
	err := call(c.current())
	if err == nil || ctx.Err() != nil || !c.Exited() {
		return err
	}
	if rerr := c.restart(ctx); rerr != nil {
		return fmt.Errorf("%v; starting it again failed: %v", err, rerr)
	}
	if err = call(c.current()); err != nil && c.Exited() {
		return fmt.Errorf("plugin %s crashed again on the retried call, giving up: %v", filepath.Base(c.Path), err)
	}
	return err
}

// restartingPH is a Homology backend that survives one crash per call.
type restartingPH struct{ c *Client }

func (r restartingPH) Describe(ctx context.Context) (Info, error) {
	return r.c.current().Describe(ctx)
}

func (r restartingPH) Compute(ctx context.Context, req HomologyRequest) ([]Diagram, error) {
	var out []Diagram
	err := r.c.retry(ctx, func(d Describer) error {
		var err error
		out, err = asPH(d).Compute(ctx, req)
		return err
	})
	return out, err
}

// ComputeResult is Compute with the plugin's scalars.
func (r restartingPH) ComputeResult(ctx context.Context, req HomologyRequest) (HomologyResult, error) {
	var out HomologyResult
	err := r.c.retry(ctx, func(d Describer) error {
		var err error
		out, err = ComputeHomology(ctx, asPH(d), req)
		return err
	})
	return out, err
}

// restartingDist is a Distance that survives one crash per call.
type restartingDist struct{ c *Client }

func (r restartingDist) Describe(ctx context.Context) (Info, error) {
	return r.c.current().Describe(ctx)
}

func (r restartingDist) Compute(ctx context.Context, points Matrix, params map[string]string) (DistanceResult, error) {
	var out DistanceResult
	err := r.c.retry(ctx, func(d Describer) error {
		var err error
		out, err = asDist(d).Compute(ctx, points, params)
		return err
	})
	return out, err
}
