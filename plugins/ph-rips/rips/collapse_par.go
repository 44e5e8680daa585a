package rips

import (
	"context"
	"runtime"
	"sync/atomic"
)

// The backward pass orders every edge's search after the commits of
// all later edges, but an edge's time depends only on the edges among
// its ends and their common neighbours (the set S below). So a batch of
// consecutive edges is searched by several workers at once against the
// graph as it stands before the batch, then committed one by one in
// order; an edge whose S holds both ends of an edge committed earlier
// in the batch with a new time is searched again before its commit, now
// against the graph the sequential pass would show it. The committed
// times are therefore exactly the sequential pass's.
//
// Why S suffices: the search reads the rows of u and v, but an edge uy
// matters only if y is a common neighbour (then y is in S), and the
// times of edges between common neighbours; times only grow during the
// pass and removed edges never come back, so the common neighbours at
// commit time are among those the search saw.

// collapseBatch is how many edges the workers search at once. Larger
// batches synchronise less but more of their edges meet a change made
// earlier in the batch.
var collapseBatch = 64

// parallel visits the edges in batches searched by workers goroutines
// (the caller's among them). Where most edges of a batch have to be
// searched again (on small dense clouds nearly every pair of edges shares
// common neighbours), it goes back to visiting edges one by one for a
// stretch that doubles each time the batches fail again.
func (p *pass) parallel(ctx context.Context, workers int) error {
	c := p.c
	sweeps := make([]*sweep, workers)
	for w := range sweeps {
		sweeps[w] = c.newSweep()
	}
	type slot struct {
		s   float32
		s64 float64
		cn  []int32 // the common neighbours the search saw
	}
	slots := make([]slot, collapseBatch)
	readies := make([]atomic.Bool, collapseBatch)
	stamp := make([]uint32, c.n)
	var gen uint32
	var changed []cEdge
	backoff := collapseBatch
	for p.done < len(p.edges) && !p.gaveUp {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		batch := p.edges[p.done:min(len(p.edges), p.done+collapseBatch)]
		// Up to the early stop's probe, so it is checked where the
		// sequential pass checks it.
		if pe := probeEdges(len(p.edges)); p.done < pe && p.done+len(batch) > pe {
			batch = batch[:pe-p.done]
		}
		// The slots are claimed one at a time, so when a helper's
		// thread is off the CPU (the machine is shared) this one takes
		// its edges instead of waiting for it; at most the edge it is
		// searching is waited for.
		var claim atomic.Int32
		ready := readies[:len(batch)]
		for k := range ready {
			ready[k].Store(false)
		}
		search := func(sw *sweep) {
			for {
				k := int(claim.Add(1)) - 1
				if k >= len(batch) {
					return
				}
				sl := &slots[k]
				sl.s, sl.s64 = sw.delay(batch[k])
				sl.cn = append(sl.cn[:0], sw.cx...)
				ready[k].Store(true)
			}
		}
		for w := 1; w < workers; w++ {
			go search(sweeps[w])
		}
		sw := sweeps[0]
		search(sw)
		for k := range ready {
			for !ready[k].Load() {
				runtime.Gosched()
			}
		}
		p.batches++
		changed = changed[:0]
		again := 0
		for k, ed := range batch {
			sl := &slots[k]
			if len(changed) > 0 {
				gen++
				stamp[ed.u], stamp[ed.v] = gen, gen
				for _, x := range sl.cn {
					stamp[x] = gen
				}
				for _, ch := range changed {
					if stamp[ch.u] == gen && stamp[ch.v] == gen {
						sl.s, sl.s64 = sw.delay(ed)
						again++
						break
					}
				}
			}
			if sl.s != ed.t {
				changed = append(changed, ed)
			}
			p.commit(ed, sl.s, sl.s64)
			if p.gaveUp {
				return nil
			}
		}
		p.recomputed += again
		if 2*again <= len(batch) {
			backoff = collapseBatch
			continue
		}
		// The batch was mostly searched twice: one by one for a while.
		stop := min(len(p.edges), p.done+backoff)
		backoff = min(2*backoff, max(collapseBatch, len(p.edges)/16))
		for p.done < stop && !p.gaveUp {
			if p.done&0xfff == 0 {
				if err := ctxErr(ctx); err != nil {
					return err
				}
			}
			ed := p.edges[p.done]
			s, s64 := sw.delay(ed)
			p.commit(ed, s, s64)
			p.seqEdges++
		}
	}
	return nil
}
