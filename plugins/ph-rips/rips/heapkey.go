package rips

import (
	"math"
	"unsafe"
)

// The Z/2 form of the working column. Over Z/2 every coefficient is 1,
// so a term is its simplex and diameter alone, and when the coface
// indices fit in 32 bits (C(n, dim+2) <= 2^32: dragon-like's dimension 1
// has C(2000,3) = 1.3e9, seed-like's dimension 2 C(500,4) = 2.6e9) it
// packs into one word whose integer order is the filtration order:
//
//	key = bits(diameter) << 32 | ^index
//
// Non-negative float32s order like their bit patterns, and among equal
// diameters the larger index is older, hence the complement. A term is
// then 8 bytes instead of 16 - half the memory, page faults and cache
// misses of the huge columns - and a comparison is one integer compare.
// The heap's shape (4-ary, padded, pooled blocks) is the general one's.
// A key block is as many bytes as an entry block, so both come from the
// same mapped memory (blockPool.raw).
const (
	keyBlockShift = 14 // 16384 keys, 128 KiB per block
	keyBlockSize  = 1 << keyBlockShift
	keyBlockMask  = keyBlockSize - 1
)

// packKey is the key of a term of diameter d (>= 0) and index idx < 2^32.
func packKey(d float32, idx int64) uint64 {
	b := math.Float32bits(d)
	if b == 1<<31 { // -0 is 0
		b = 0
	}
	return uint64(b)<<32 | uint64(^uint32(idx))
}

// unpackKey is the term of a key, with coefficient 1.
func unpackKey(k uint64) entry {
	return entry{idx: int64(^uint32(k)), diam: math.Float32frombits(uint32(k >> 32)), coef: 1}
}

// packable reports whether dimension dim's columns can use packed
// terms: coefficients in Z/2 and coface indices below 2^32.
func (e *engine) packable(dim int) bool {
	return packTerms && e.p == 2 && e.binom[dim+2][e.n] <= 1<<32
}

// packTerms, cleared by tests, turns the packed form off so that both
// forms can be compared on the same inputs.
var packTerms = true

func (p *blockPool) getKeys() []uint64 {
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		if k := len(p.kfree); k > 0 {
			b := p.kfree[k-1]
			p.kfree = p.kfree[:k-1]
			return b
		}
		if m := p.raw(); m != nil {
			return unsafe.Slice((*uint64)(m), keyBlockSize)
		}
	}
	return make([]uint64, keyBlockSize)
}

func (p *blockPool) putKeys(bs [][]uint64) {
	if p == nil || len(bs) == 0 {
		return
	}
	p.mu.Lock()
	p.kfree = append(p.kfree, bs...)
	p.mu.Unlock()
}

func (h *chainHeap) resetKeys() {
	if len(h.kblocks) > 1 && h.pool != nil {
		h.pool.putKeys(h.kblocks[1:])
		clear(h.kblocks[1:])
		h.kblocks = h.kblocks[:1]
	}
}

func (h *chainHeap) key(i int) *uint64 {
	i += heapPad
	return &h.kblocks[i>>keyBlockShift][i&keyBlockMask]
}

func (h *chainHeap) appendKey(k uint64) {
	i := h.n + heapPad
	b := i >> keyBlockShift
	if b == len(h.kblocks) {
		h.kblocks = append(h.kblocks, h.pool.getKeys())
	}
	h.kblocks[b][i&keyBlockMask] = k
	h.n++
}

func (h *chainHeap) upKey(i int) {
	k := *h.key(i)
	for i > 0 {
		p := (i - 1) / 4
		pk := *h.key(p)
		if pk <= k {
			break
		}
		*h.key(i) = pk
		i = p
	}
	*h.key(i) = k
}

func (h *chainHeap) downKey(i int) {
	n := h.n
	k := *h.key(i)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		// The children share a block (heapPad).
		j := c + heapPad
		kids := h.kblocks[j>>keyBlockShift][j&keyBlockMask:]
		kids = kids[:min(4, n-c)]
		m := 0
		for x := 1; x < len(kids); x++ {
			if kids[x] < kids[m] {
				m = x
			}
		}
		if kids[m] >= k {
			break
		}
		*h.key(i) = kids[m]
		i = c + m
	}
	*h.key(i) = k
}

// fixKeys is fix for the packed form.
func (h *chainHeap) fixKeys(old int) {
	n := h.n
	if n-old < old/4 {
		for i := old; i < n; i++ {
			h.upKey(i)
		}
		return
	}
	for i := (n - 2) / 4; n > 1 && i >= 0; i-- {
		h.downKey(i)
	}
}

func (h *chainHeap) popKey() uint64 {
	top := h.kblocks[0][heapPad]
	h.n--
	if h.n > 0 {
		h.kblocks[0][heapPad] = *h.key(h.n)
		h.downKey(0)
	}
	return top
}

// pivotKeys is pivot for the packed form: equal terms cancel in pairs.
func (h *chainHeap) pivotKeys() (entry, bool) {
	for h.n > 0 {
		t := h.kblocks[0][heapPad]
		twin := false
		for k := 1; k <= 4 && k < h.n; k++ {
			twin = twin || *h.key(k) == t
		}
		if !twin {
			return unpackKey(t), true
		}
		k := h.popKey()
		odd := true
		for h.n > 0 && h.kblocks[0][heapPad] == k {
			h.popKey()
			odd = !odd
		}
		if odd {
			h.appendKey(k)
			h.upKey(h.n - 1)
			return unpackKey(k), true
		}
	}
	return entry{}, false
}

// Both block kinds must have one size (see blockPool.raw); a constant
// index out of range fails the build otherwise.
var _ = [1]struct{}{}[blockBytes-keyBlockSize*8]
