package phbench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// limitMemory sets RLIMIT_AS of process pid: limit bytes, 0 for half the
// physical memory, negative for none. Children started later inherit it.
func limitMemory(pid int, limit int64) error {
	if limit < 0 || pid <= 0 {
		return nil
	}
	if limit == 0 {
		var si unix.Sysinfo_t
		if err := unix.Sysinfo(&si); err != nil {
			return fmt.Errorf("phbench: reading the memory size: %v", err)
		}
		limit = int64(si.Totalram) * int64(si.Unit) / 2
	}
	rl := unix.Rlimit{Cur: uint64(limit), Max: uint64(limit)}
	if err := unix.Prlimit(pid, unix.RLIMIT_AS, &rl, nil); err != nil {
		return fmt.Errorf("phbench: limiting plugin memory to %d bytes: %v", limit, err)
	}
	return nil
}

// memWatch samples the resident memory of a process tree: the plugin and
// the processes it starts (ripser runs as a child of its plugin, gudhi
// computes in a forked child). Each sample sums VmHWM, the kernel's
// per-process peak, over the live processes; the result is the largest
// sum. A child that lives less than one interval may be missed.
type memWatch struct {
	stopc chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	peak  int64
}

func watchMemory(pid int, every time.Duration) *memWatch {
	w := &memWatch{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		if pid <= 0 {
			return
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			w.sample(pid)
			select {
			case <-w.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *memWatch) sample(pid int) {
	var sum int64
	for _, p := range tree(pid) {
		sum += vmHWM(p)
	}
	w.mu.Lock()
	w.peak = max(w.peak, sum)
	w.mu.Unlock()
}

// stop ends the sampling, after one last sample, and returns the peak in
// bytes.
func (w *memWatch) stop() int64 {
	close(w.stopc)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}

// tree returns pid and its descendants, from the children lists of each
// of their threads.
func tree(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out) && i < 1000; i++ {
		tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(out[i]) + "/task")
		for _, t := range tasks {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(out[i]) + "/task/" + t.Name() + "/children")
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// vmHWM reads a process's peak resident set size in bytes, 0 if gone.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			f := strings.Fields(rest) // "1234 kB"
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// cpuTime is the user+system CPU time, in seconds, of process pid and
// of the children it has waited for (ripser, gudhi's forked workers),
// from /proc/PID/stat; 0 if it cannot be read.
func cpuTime(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// f[0] is field 3 (state); utime, stime, cutime, cstime are fields
	// 14-17.
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, x := range f[11:15] {
		v, _ := strconv.ParseInt(x, 10, 64)
		ticks += v
	}
	// USER_HZ, the unit of these fields, is 100 on every Linux ABI.
	return float64(ticks) / 100
}
