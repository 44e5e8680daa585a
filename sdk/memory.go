package sdk

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// MemoryBudgetEnv names the variable that lowers the memory budget, in
// bytes or with a K, M, G or T suffix (powers of 1024).
const MemoryBudgetEnv = "NT_MEMORY_BUDGET"

// MemoryBudget returns how many bytes one computation may plan to use:
// what the machine can give now (MemAvailable in /proc/meminfo, capped by
// the cgroup's memory.max), lowered by $NT_MEMORY_BUDGET when that is set.
// It is never more than the machine has: a budget above it would let the
// kernel's OOM killer, not a clear error, end a computation too big.
func MemoryBudget() int64 {
	total, avail := meminfo()
	b := avail
	if b <= 0 {
		b = total
	}
	if cg := cgroupLimit(); cg > 0 && cg < b {
		b = cg
	}
	if v, err := ParseBytes(os.Getenv(MemoryBudgetEnv)); err == nil && v > 0 && (b <= 0 || v < b) {
		b = v
	}
	if b <= 0 {
		b = 8 << 30 // no /proc: assume a small machine
	}
	return b
}

// CheckMemory refuses, with one line, a plan of need bytes for what that
// is over the memory budget.
func CheckMemory(what string, need float64) error {
	if b := MemoryBudget(); need > float64(b) {
		return fmt.Errorf("%s needs about %s, over the memory budget of %s (what this machine has free; %s lowers it)",
			what, FormatBytes(need), FormatBytes(float64(b)), MemoryBudgetEnv)
	}
	return nil
}

// FormatBytes renders a size in GiB or MiB.
func FormatBytes(b float64) string {
	if b >= 1<<30 {
		return fmt.Sprintf("%.3g GiB", b/(1<<30))
	}
	return fmt.Sprintf("%.3g MiB", b/(1<<20))
}

// ParseBytes reads a size such as 4096, 512M or 2G (powers of 1024).
func ParseBytes(s string) (int64, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return 0, fmt.Errorf("empty size")
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'K':
		mult = 1 << 10
	case 'M':
		mult = 1 << 20
	case 'G':
		mult = 1 << 30
	case 'T':
		mult = 1 << 40
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(v * float64(mult)), nil
}

// meminfo returns MemTotal and MemAvailable in bytes (0 when unknown).
func meminfo() (total, avail int64) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fs := strings.Fields(s.Text())
		if len(fs) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fs[1], 10, 64)
		if err != nil {
			continue
		}
		switch fs[0] {
		case "MemTotal:":
			total = kb << 10
		case "MemAvailable:":
			avail = kb << 10
		}
	}
	return total, avail
}

// cgroupLimit returns the cgroup v2 memory.max of this process, or 0.
func cgroupLimit() int64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			v, err := os.ReadFile("/sys/fs/cgroup" + strings.TrimSpace(p) + "/memory.max")
			if err != nil {
				return 0
			}
			n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
			if err != nil {
				return 0 // "max"
			}
			return n
		}
	}
	return 0
}

// CheckSquare refuses an n x n float64 matrix held copies times (say, the
// result and its gRPC message) that would not fit the memory budget.
func CheckSquare(what string, n, copies int) error {
	return CheckMemory(fmt.Sprintf("%s: a %d x %d distance matrix", what, n, n), float64(n)*float64(n)*8*float64(copies))
}
