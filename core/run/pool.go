package run

import (
	"context"
	"sync"
	"time"

	"github.com/neuraltopology/neuraltopology/core/crashpoint"
	"github.com/neuraltopology/neuraltopology/core/snapshot"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// job is one snapshot waiting for its homology.
type job struct {
	seq          int // 1-based order of snapshots in the run
	step, update int
	clouds       []snapshot.Cloud
}

// pool computes snapshots on a few workers beside training. Its queue is
// short: when homology falls behind, submit blocks, which bounds memory and
// keeps training from running away from its snapshots. Finished snapshots
// are written strictly in the order they were taken.
type pool struct {
	ctx   context.Context
	dist  sdk.Distance
	ph    sdk.Homology
	opt   snapshot.Options
	write func(job, []snapshot.Result) error

	jobs chan job
	wg   sync.WaitGroup

	mu     sync.Mutex
	cond   *sync.Cond
	done   map[int][]snapshot.Result // finished, not yet written, by seq
	jobOf  map[int]job
	next   int // seq of the next snapshot to write
	queued int // submitted but not yet written
	err    error
	busy   float64 // worker seconds spent on homology and distances
}

func newPool(ctx context.Context, dist sdk.Distance, ph sdk.Homology, opt snapshot.Options, workers int, write func(job, []snapshot.Result) error) *pool {
	p := &pool{ctx: ctx, dist: dist, ph: ph, opt: opt, write: write,
		jobs: make(chan job, 1), done: map[int][]snapshot.Result{}, jobOf: map[int]job{}, next: -1}
	p.cond = sync.NewCond(&p.mu)
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		go p.worker()
	}
	return p
}

func (p *pool) worker() {
	defer p.wg.Done()
	for j := range p.jobs {
		res, busy, err := p.compute(j)
		p.finish(j, res, busy, err)
	}
}

// compute analyses every cloud of a snapshot in order.
func (p *pool) compute(j job) ([]snapshot.Result, float64, error) {
	start := time.Now()
	out := make([]snapshot.Result, 0, len(j.clouds))
	for _, c := range j.clouds {
		r, err := snapshot.Analyze(p.ctx, p.dist, p.ph, c, p.opt)
		if err != nil {
			return nil, time.Since(start).Seconds(), err
		}
		crashpoint.Hit("homology") // tests: killed between two clouds of a snapshot
		out = append(out, r)
	}
	return out, time.Since(start).Seconds(), nil
}

// finish records a computed snapshot and writes every snapshot that is
// now next in order.
func (p *pool) finish(j job, res []snapshot.Result, busy float64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy += busy
	if err != nil && p.err == nil {
		p.err = err
	}
	p.done[j.seq] = res
	p.jobOf[j.seq] = j
	for {
		r, ok := p.done[p.next]
		if !ok {
			break
		}
		jj := p.jobOf[p.next]
		delete(p.done, p.next)
		delete(p.jobOf, p.next)
		if p.err == nil && r != nil {
			if werr := p.write(jj, r); werr != nil {
				p.err = werr
			}
		}
		p.next++
		p.queued--
	}
	p.cond.Broadcast()
}

// submit queues a snapshot; it blocks while the queue is full.
func (p *pool) submit(j job) error {
	p.mu.Lock()
	if p.err != nil {
		err := p.err
		p.mu.Unlock()
		return err
	}
	if p.next < 0 {
		p.next = j.seq
	}
	p.queued++
	p.mu.Unlock()
	select {
	case p.jobs <- j:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// runInline computes and writes a snapshot in the caller's goroutine.
func (p *pool) runInline(j job) error {
	p.mu.Lock()
	if p.next < 0 {
		p.next = j.seq
	}
	p.queued++
	p.mu.Unlock()
	res, busy, err := p.compute(j)
	p.finish(j, res, busy, err)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// drain waits until every submitted snapshot is written.
func (p *pool) drain() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.queued > 0 && p.err == nil && p.ctx.Err() == nil {
		p.cond.Wait()
	}
	if p.err != nil {
		return p.err
	}
	return p.ctx.Err()
}

// wait stops the workers after the queue empties.
func (p *pool) wait() error {
	close(p.jobs)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// busySeconds is the worker time spent on distances and homology.
func (p *pool) busySeconds() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy
}
