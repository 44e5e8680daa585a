package rips

// bitset is a fixed-size set of small integers (edge indices), one bit
// each: the per-edge flags of the clearing steps are C(n,2) long, and as
// bools they were 8x the memory and page faults (18 MB for 6,040 points).
type bitset []uint64

func newBitset(n int64) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int64)      { b[i>>6] |= 1 << (uint64(i) & 63) }
func (b bitset) has(i int64) bool { return b[i>>6]&(1<<(uint64(i)&63)) != 0 }
