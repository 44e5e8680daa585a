package sdk

import (
	"os"
	"runtime"
	"sync"
)

// A plugin whose hot path is cgo calls (physics, BLAS kernels) keeps the
// Go runtime's sysmon thread busy: while a goroutine is in a cgo call its
// P counts as in a system call, and when every P is there for more than
// 20 us sysmon takes them back, hands them off, and keeps polling every
// 20 us instead of backing off to 10 ms. On a 2-core machine a PPO
// update (two goroutines in BLAS) or a batch step on two cores (two in
// MuJoCo) is exactly that: ~50,000 nanosleep calls a second, each a
// system call and a context switch on a core that has real work. One P
// more than there are cores leaves one idle, so sysmon lets the calls
// run. The spare P never adds parallelism the plugin asks for: worker
// pools size themselves from Cores, not GOMAXPROCS.

var (
	coresOnce sync.Once
	cores     int
)

// Cores is how many cores the runtime would use by itself (GOMAXPROCS as
// it was before SpareP): the size for a pool of busy workers.
func Cores() int {
	coresOnce.Do(func() { cores = runtime.GOMAXPROCS(0) })
	return cores
}

// SpareP raises GOMAXPROCS to Cores()+1 for a cgo-bound plugin (see
// above), unless the user set GOMAXPROCS, which wins. Call it at the
// start of main, before starting goroutines.
func SpareP() {
	n := Cores()
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(n + 1)
	}
}
