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
	} {
		b := &tailBuffer{max: 4096}
		b.Write([]byte(c.stderr))
		if got := b.suffix(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
