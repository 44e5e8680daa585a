package rips

import (
	"syscall"
	"unsafe"
)

// mapHuge maps size bytes of anonymous memory, starting on a 2 MiB
// boundary and advised for transparent huge pages (this machine's THP
// setting is "madvise", so nothing gets them unasked). whole is the
// mapping to give unmapHuge; mem is nil when nothing could be mapped.
func mapHuge(size int) (mem, whole []byte) {
	b, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, nil
	}
	off := (hugePage - int(uintptr(unsafe.Pointer(&b[0])))%hugePage) % hugePage
	mem = b[off : off+size : off+size]
	// Without huge pages the memory still works, with 4 KiB faults.
	_ = syscall.Madvise(mem, 14) // MADV_HUGEPAGE
	return mem, b
}

func unmapHuge(whole []byte) { _ = syscall.Munmap(whole) }
