package main

import (
	"os"
	"strings"
)

// lazyFree is the GODEBUG setting the host hands every plugin it starts:
// the Go runtime then gives freed heap pages back with MADV_FREE, which
// the kernel reclaims only under memory pressure, instead of
// MADV_DONTNEED, which unmaps them at once. The homology plugin frees
// and reallocates its buffers on every cloud, so with MADV_DONTNEED each
// snapshot faults its pages in afresh: in the main job that was 92% of
// ph-rips's minor page faults and a quarter of the run's system time
// (measured with scripts/proc-cpu.py; git log -p docs/benchmarks.md). Results
// do not change; only when the kernel takes the pages back does.
const lazyFree = "madvdontneed=0"

// lazyFreeForPlugins adds lazyFree to $GODEBUG in the host's environment,
// which every plugin process (and every nthost a local sweep starts)
// inherits. A user's own madvdontneed setting wins. The host's own
// runtime read GODEBUG at start and keeps its setting: the runtime
// re-reads only a few settings on a change, and madvdontneed is not one.
func lazyFreeForPlugins() {
	cur := os.Getenv("GODEBUG")
	for _, kv := range strings.Split(cur, ",") {
		if k, _, _ := strings.Cut(strings.TrimSpace(kv), "="); k == "madvdontneed" {
			return
		}
	}
	if cur != "" {
		cur += ","
	}
	os.Setenv("GODEBUG", cur+lazyFree)
}
