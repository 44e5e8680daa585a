package plugintest

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Running reports whether process pid exists and is not a zombie (Linux,
// from /proc). Tests use it to check that a killed plugin took its
// children (a forked worker, an external binary) with it.
func Running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	// The state follows the command name, which is in parentheses and may
	// itself hold spaces or parentheses.
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// KillMidCall kills the plugin process pid with SIGKILL while a call is in
// flight (its result arrives on done) and checks what a user would see:
// one line naming the plugin binary as crashed, within a second, and
// never a hang. child, if not 0, is a process the plugin started (an
// external binary, a forked worker); it must be gone within two seconds.
func KillMidCall(t T, binary string, pid, child int, done <-chan error) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", binary, err)
	}
	killed := time.Now()
	select {
	case err := <-done:
		if took := time.Since(killed); took > time.Second {
			t.Errorf("the kill took %v to be reported, want under a second", took)
		}
		if err == nil || !strings.Contains(err.Error(), binary) || !strings.Contains(err.Error(), "crashed") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("want one line naming the crashed plugin %s, got %q", binary, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("a call on the killed plugin %s hung", binary)
	}
	if child == 0 {
		return
	}
	for end := time.Now().Add(2 * time.Second); Running(child) && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if Running(child) {
		_ = syscall.Kill(child, syscall.SIGKILL)
		t.Fatalf("process %d, started by %s, outlived it", child, binary)
	}
}
