package sdk

import (
	"strings"
	"testing"
)

// TestStderrTailIsShortAndDeduplicated: what an error quotes of a dead
// plugin's stderr is its panic line if it has one, else its last few
// non-log lines, a line repeated in a row given once, each cut short, all
// on one line.
func TestStderrTailIsShortAndDeduplicated(t *testing.T) {
	for _, c := range []struct {
		name, stderr, want string
	}{
		{"panic", "starting\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n", ": panic: boom"},
		{"one line", "{\"@level\":\"info\"}\nTraceback: bad\n", ": last stderr line: Traceback: bad"},
		{"repeated", "a\n" + strings.Repeat("retrying\n", 50) + "{\"@level\":\"info\"}\n", ": last stderr lines: a | retrying"},
		{"last three", "1\n2\n3\n4\n", ": last stderr lines: 2 | 3 | 4"},
		{"long", strings.Repeat("y", 1000) + "\n", ": last stderr line: " + strings.Repeat("y", tailLineRune) + "..."},
		{"log only", "{\"@level\":\"info\"}\n", ""},
		// Under an address-space limit the runtime may die starting a
		// thread: an abort and a register dump, no "fatal error:" line.
		{"thread", "runtime/cgo: pthread_create failed: Resource temporarily unavailable\nSIGABRT: abort\nPC=0x4 m=3\n" + strings.Repeat("r 0x0\n", 300) + "cs 0x33\nfs 0x0\ngs 0x0\n", ": runtime/cgo: pthread_create failed: Resource temporarily unavailable"},
		{"signal", "SIGSEGV: segmentation violation\nPC=0x1 m=0 sigcode=1\n" + strings.Repeat("r 0x0\n", 300), ": SIGSEGV: segmentation violation"},
		{"not a signal", "SIGNALS: none here\n", ": last stderr line: SIGNALS: none here"},
	} {
		b := &tailBuffer{max: 4096}
		b.Write([]byte(c.stderr))
		if got := b.suffix(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
