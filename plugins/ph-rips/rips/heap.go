package rips

import (
	"sync"
	"unsafe"
)

// entry is one term of a (co)chain: a simplex, named by its index in the
// combinatorial number system, with its diameter and a coefficient in Z/p.
type entry struct {
	idx  int64
	diam float32
	coef int32
}

// older reports whether a precedes b in the filtration: by diameter, and
// among equal diameters the larger index first. Every part of the engine
// (union-find order, column order, pivots, apparent pairs) uses this one
// total order; a different tie-break would still give the same barcode
// but the apparent-pair shortcuts rely on it being the same everywhere.
func older(aDiam float32, aIdx int64, bDiam float32, bIdx int64) bool {
	return aDiam < bDiam || (aDiam == bDiam && aIdx > bIdx)
}

// The working column's heap lives in fixed-size blocks rather than one
// slice. A slice grows by allocating a larger one and copying: on a
// column that piles up tens of millions of terms (dragon-like, dim 1)
// every growth step faults in fresh pages and briefly holds old and new
// copies, which was most of the engine's system time and twice ripser's
// peak memory. Blocks are never copied, and a finished column's blocks
// go to a pool the reducer's workers share, so each page is faulted once
// and the peak is the largest columns reduced at the same time.
const (
	heapBlockShift = 13 // 8192 entries, 128 KiB per block
	heapBlockSize  = 1 << heapBlockShift
	heapBlockMask  = heapBlockSize - 1
)

// chainHeap is a 4-ary min-heap of entries in filtration order, so the
// top is the pivot candidate of a coboundary column. Hand-written rather
// than container/heap to keep the interface calls out of the hot loop.
type chainHeap struct {
	blocks [][]entry // each heapBlockSize long
	n      int
	// pool, shared by the workers of one reducer, takes the blocks of a
	// finished column beyond its first, so a huge column on one worker
	// leaves its pages to the next huge column on any worker instead of
	// each worker keeping its own largest column.
	pool *blockPool
	// packed selects the Z/2 form (see packKey): terms are single words
	// in kblocks and blocks stays unused.
	packed  bool
	kblocks [][]uint64
}

// blockPool is a free list of heap blocks, and where new ones come from.
//
// New blocks are carved from mappings of regionBytes outside the Go heap,
// 2 MiB aligned and advised for transparent huge pages: the first touch
// of a column's pages was most of the engine's remaining system time
// (seed-like: 54% of its page faults, each ~20 us on this VM), and a
// huge page is one fault for 512 small ones. The memory holds no Go
// pointers, so the collector need not see it, and release unmaps all of
// it when the reduction of a dimension ends: the next dimension's peak
// does not carry this one's columns, and no garbage collection has to
// notice first.
type blockPool struct {
	mu     sync.Mutex
	free   [][]entry
	kfree  [][]uint64
	region []byte   // the unused rest of the newest mapping
	maps   [][]byte // every mapping, for release
}

const (
	hugePage    = 2 << 20
	regionBytes = 16 << 20
	blockBytes  = heapBlockSize * int(unsafe.Sizeof(entry{}))
)

// raw returns blockBytes of fresh mapped memory, or nil (call with mu held).
func (p *blockPool) raw() unsafe.Pointer {
	if len(p.region) < blockBytes {
		mem, whole := mapHuge(regionBytes)
		if mem == nil {
			return nil
		}
		p.maps = append(p.maps, whole)
		p.region = mem
	}
	b := p.region[:blockBytes]
	p.region = p.region[blockBytes:]
	return unsafe.Pointer(&b[0])
}

func (p *blockPool) get() []entry {
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		if k := len(p.free); k > 0 {
			b := p.free[k-1]
			p.free = p.free[:k-1]
			return b
		}
		if m := p.raw(); m != nil {
			return unsafe.Slice((*entry)(m), heapBlockSize)
		}
	}
	return make([]entry, heapBlockSize)
}

func (p *blockPool) put(bs [][]entry) {
	if p == nil || len(bs) == 0 {
		return
	}
	p.mu.Lock()
	p.free = append(p.free, bs...)
	p.mu.Unlock()
}

// release unmaps every block the pool ever handed out. No heap may use
// them afterwards: the reducer drops its workers' heaps first.
func (p *blockPool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.maps {
		unmapHuge(m)
	}
	p.maps, p.region, p.free, p.kfree = nil, nil, nil, nil
}

func (h *chainHeap) len() int { return h.n }

// reset empties the heap for the next column, keeping one block and
// handing the rest to the pool.
func (h *chainHeap) reset() {
	h.n = 0
	if h.packed {
		h.resetKeys()
		return
	}
	if len(h.blocks) > 1 && h.pool != nil {
		h.pool.put(h.blocks[1:])
		clear(h.blocks[1:])
		h.blocks = h.blocks[:1]
	}
}

// The heap is 4-ary: a sift down reads the four children of a node from
// one 64-byte cache line, and a heap of N terms has half the levels of a
// binary one, so half the cache misses on columns far beyond the caches.
// Term i is stored heapPad places on, which puts the children 4i+1..4i+4
// of every node at a multiple of four: one cache line, one block.
const heapPad = 3

func (h *chainHeap) at(i int) *entry {
	i += heapPad
	return &h.blocks[i>>heapBlockShift][i&heapBlockMask]
}

// append adds e at the end without restoring the heap property; fix
// does that once a whole coboundary has been appended.
func (h *chainHeap) append(e entry) {
	if h.packed {
		h.appendKey(packKey(e.diam, e.idx))
		return
	}
	i := h.n + heapPad
	b := i >> heapBlockShift
	if b == len(h.blocks) {
		h.blocks = append(h.blocks, h.pool.get())
	}
	h.blocks[b][i&heapBlockMask] = e
	h.n++
}

// up sifts the entry at i up.
func (h *chainHeap) up(i int) {
	e := *h.at(i)
	for i > 0 {
		p := (i - 1) / 4
		pe := h.at(p)
		if !older(e.diam, e.idx, pe.diam, pe.idx) {
			break
		}
		*h.at(i) = *pe
		i = p
	}
	*h.at(i) = e
}

func (h *chainHeap) push(e entry) {
	h.append(e)
	h.up(h.n - 1)
}

// fix restores the heap property after entries were appended beyond
// the first old ones: sifting each up when few were added, otherwise
// rebuilding bottom-up in linear time.
func (h *chainHeap) fix(old int) {
	if h.packed {
		h.fixKeys(old)
		return
	}
	n := h.n
	if n-old < old/4 {
		for i := old; i < n; i++ {
			h.up(i)
		}
		return
	}
	for i := (n - 2) / 4; n > 1 && i >= 0; i-- {
		h.down(i)
	}
}

// down sifts the entry at i down.
func (h *chainHeap) down(i int) {
	n := h.n
	e := *h.at(i)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		// The children share a block (see heapPad).
		j := c + heapPad
		kids := h.blocks[j>>heapBlockShift][j&heapBlockMask:]
		kids = kids[:min(4, n-c)]
		m := 0
		for k := 1; k < len(kids); k++ {
			if older(kids[k].diam, kids[k].idx, kids[m].diam, kids[m].idx) {
				m = k
			}
		}
		if !older(kids[m].diam, kids[m].idx, e.diam, e.idx) {
			break
		}
		*h.at(i) = kids[m]
		i = c + m
	}
	*h.at(i) = e
}

func (h *chainHeap) top() *entry { return &h.blocks[0][heapPad] }

func (h *chainHeap) pop() entry {
	top := *h.top()
	h.n--
	if h.n > 0 {
		*h.top() = *h.at(h.n)
		h.down(0)
	}
	return top
}

// pivot removes and sums the leading terms of h until one with a nonzero
// coefficient mod p is found; that term is left on the heap and returned.
// ok is false when the chain is zero.
func (h *chainHeap) pivot(p int32) (e entry, ok bool) {
	if h.packed {
		return h.pivotKeys()
	}
	for h.n > 0 {
		// Equal terms sort next to each other, so the top has a twin
		// only if one of its children (terms 1..4) is one. Without a
		// twin the top is the pivot as it stands (terms are never stored
		// as zero), and popping and pushing it back would cost two sifts
		// for nothing.
		t := h.top()
		twin := false
		for k := 1; k <= 4 && k < h.n; k++ {
			twin = twin || h.at(k).idx == t.idx
		}
		if !twin {
			return *t, true
		}
		e = h.pop()
		for h.n > 0 && h.top().idx == e.idx {
			e.coef += h.pop().coef
			if e.coef >= p {
				e.coef -= p
			}
		}
		if e.coef != 0 {
			h.push(e)
			return e, true
		}
	}
	return entry{}, false
}
