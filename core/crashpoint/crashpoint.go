// Package crashpoint lets tests kill a real nthost at an exact moment:
// with NT_CRASHPOINT=name:n in its environment, the process sends itself
// SIGKILL the n-th time it reaches the point called name (n defaults to
// 1). Without the variable a point costs one atomic load.
package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

var (
	once  sync.Once
	name  string
	after int64
	hits  atomic.Int64
)

// Hit kills the process if this is the configured point's n-th hit.
func Hit(point string) {
	once.Do(func() {
		spec := os.Getenv("NT_CRASHPOINT")
		n := "1"
		name, n, _ = strings.Cut(spec, ":")
		if n == "" {
			n = "1"
		}
		after, _ = strconv.ParseInt(n, 10, 64)
	})
	if name == "" || point != name {
		return
	}
	if hits.Add(1) == after {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught; wait for it to land
	}
}
