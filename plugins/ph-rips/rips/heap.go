package rips

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

// chainHeap is a binary min-heap of entries in filtration order, so the
// top is the pivot candidate of a coboundary column. Hand-written rather
// than container/heap to keep the interface calls out of the hot loop.
type chainHeap []entry

func (h *chainHeap) push(e entry) {
	s := append(*h, e)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !older(e.diam, e.idx, s[p].diam, s[p].idx) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = e
	*h = s
}

// fix restores the heap property after entries were appended beyond
// the first old ones: sifting each up when few were added, otherwise
// rebuilding bottom-up in linear time.
func (h *chainHeap) fix(old int) {
	s := *h
	n := len(s)
	if n-old < old/4 {
		for i := old; i < n; i++ {
			e := s[i]
			j := i
			for j > 0 {
				p := (j - 1) / 2
				if !older(e.diam, e.idx, s[p].diam, s[p].idx) {
					break
				}
				s[j] = s[p]
				j = p
			}
			s[j] = e
		}
		return
	}
	for i := n/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// down sifts s[i] down.
func (h *chainHeap) down(i int) {
	s := *h
	n := len(s)
	e := s[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && older(s[r].diam, s[r].idx, s[c].diam, s[c].idx) {
			c = r
		}
		if !older(s[c].diam, s[c].idx, e.diam, e.idx) {
			break
		}
		s[i] = s[c]
		i = c
	}
	s[i] = e
}

func (h *chainHeap) pop() entry {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	*h = s[:n]
	if n > 0 {
		h.down(0)
	}
	return top
}

// pivot removes and sums the leading terms of h until one with a nonzero
// coefficient mod p is found; that term is left on the heap and returned.
// ok is false when the chain is zero.
func (h *chainHeap) pivot(p int32) (e entry, ok bool) {
	for len(*h) > 0 {
		e = h.pop()
		for len(*h) > 0 && (*h)[0].idx == e.idx {
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
