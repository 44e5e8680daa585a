//go:build !linux

package rips

// mapHuge has no off-heap memory to give here: blocks come from the Go
// heap.
func mapHuge(size int) (mem, whole []byte) { return nil, nil }

func unmapHuge(whole []byte) {}
