package run

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

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

// pool computes snapshots on a few workers beside training. Finished
// snapshots are written strictly in the order they were taken. Its queue
// holds up to queueDepth snapshots: homology that falls behind for a
// while (a burst of dear snapshots, a busy machine) costs training
// nothing, and only a lag of more than queueDepth snapshots makes submit
// block, which bounds memory.
type pool struct {
	ctx   context.Context
	dist  sdk.Distance
	ph    sdk.Homology
	opt   snapshot.Options
	write func(job, []snapshot.Result) error
	log   zerolog.Logger // one debug line per cloud and per written snapshot

	jobs    chan job
	wg      sync.WaitGroup
	workers int // started so far

	mu     sync.Mutex
	done   map[int][]snapshot.Result // finished, not yet written, by seq
	jobOf  map[int]job
	next   int // seq of the next snapshot to write
	queued int // submitted but not yet written
	last   int // seq of the last snapshot submitted
	later  []deferred
	err    error
	busy   float64 // worker seconds spent on homology and distances
	// The same time split by call, and the time spent writing finished
	// snapshots (diagrams, records, TensorBoard) in order.
	distSec, phSec, writeSec float64
}

// queueDepth is how many snapshots may wait for a worker. One holds a few
// clouds of states x layer width float64s (five clouds of 500 x 64 by
// default: 1.3 MB), so a deep queue is cheap; the default main job takes
// 48 snapshots.
const queueDepth = 16

// deferred is work that must wait until every snapshot up to seq is
// written (a checkpoint).
type deferred struct {
	seq int
	fn  func() error
}

func newPool(ctx context.Context, dist sdk.Distance, ph sdk.Homology, opt snapshot.Options, workers int, write func(job, []snapshot.Result) error) *pool {
	p := &pool{ctx: ctx, dist: dist, ph: ph, opt: opt, write: write, log: zerolog.Nop(),
		jobs: make(chan job, queueDepth), done: map[int][]snapshot.Result{}, jobOf: map[int]job{}, next: -1}
	p.widen(workers)
	return p
}

// widen raises the number of workers to n (never lowers it). The run
// calls it once training has ended: the snapshots still queued then have
// the machine to themselves, and more of them at once keep every core
// busy where one engine call alone leaves cores idle (its serial parts,
// the distance call, the hand-offs). Results do not change: each cloud's
// homology is a pure function of the cloud, and snapshots are written in
// the order they were taken. Call it before wait.
func (p *pool) widen(n int) {
	for ; p.workers < n; p.workers++ {
		p.wg.Add(1)
		go p.worker()
	}
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
		p.log.Debug().Int("snapshot", j.seq).Int("update", j.update).Str("cloud", c.Name).
			Int("points", c.Points.Rows).Int("dim", c.Points.Cols).
			Float64("dist_s", r.DistSeconds).Float64("ph_s", r.PHSeconds).Msg("cloud analysed")
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
	for _, r := range res {
		p.distSec += r.DistSeconds
		p.phSec += r.PHSeconds
	}
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
			start := time.Now()
			if werr := p.write(jj, r); werr != nil {
				p.err = werr
			}
			w := time.Since(start).Seconds()
			p.writeSec += w
			p.log.Debug().Int("snapshot", jj.seq).Int("update", jj.update).Float64("write_s", w).Msg("snapshot written")
		}
		p.next++
		p.queued--
		p.runDeferred()
	}
}

// runDeferred runs, in order, the deferred work whose snapshots are all
// written; after an error it runs nothing more. The caller holds p.mu.
func (p *pool) runDeferred() {
	for len(p.later) > 0 && p.later[0].seq < p.next {
		d := p.later[0]
		p.later = p.later[1:]
		if p.err == nil {
			p.err = d.fn()
		}
	}
}

// after runs fn once every snapshot submitted so far is written: now, in
// the caller, if none is outstanding, else on the worker that writes the
// last of them, so the caller need not wait. An error from fn is returned
// by the next submit or by wait.
func (p *pool) after(fn func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.queued == 0 {
		p.err = fn()
		return p.err
	}
	p.later = append(p.later, deferred{seq: p.last, fn: fn})
	return nil
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
	p.last = j.seq
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
	p.last = j.seq
	p.mu.Unlock()
	res, busy, err := p.compute(j)
	p.finish(j, res, busy, err)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// wait stops the workers after the queue empties.
func (p *pool) wait() error {
	close(p.jobs)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// poolTimes are the pool's seconds so far (worker wall time; with more
// than one worker at once they add up to more than the wall clock).
type poolTimes struct {
	busy, dist, ph, write float64
}

// times returns the worker time spent on distances and homology, that
// time split by call, and the time spent writing snapshots.
func (p *pool) times() poolTimes {
	p.mu.Lock()
	defer p.mu.Unlock()
	return poolTimes{busy: p.busy, dist: p.distSec, ph: p.phSec, write: p.writeSec}
}
