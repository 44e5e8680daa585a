package sdk_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// niceOf returns the niceness of a task from its /proc stat line (field
// 19; the command name in field 2 may hold spaces, so count from its ')').
func niceOf(t *testing.T, statPath string) int {
	t.Helper()
	b, err := os.ReadFile(statPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	n, err := strconv.Atoi(fields[16]) // field 19 of the line
	if err != nil {
		t.Fatalf("%s: %v", statPath, err)
	}
	return n
}

// TestPluginStartsNiced checks that OpenOptions.Nice reaches every thread
// of the plugin process, relative to the host's own niceness, and that a
// plugin opened without it runs at the host's.
func TestPluginStartsNiced(t *testing.T) {
	own := niceOf(t, "/proc/self/stat")
	for _, nice := range []int{0, 7} {
		c, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{Nice: nice})
		if err != nil {
			t.Fatal(err)
		}
		want := min(own+nice, 19)
		tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(c.Pid()), "task", "*", "stat"))
		if err != nil || len(tasks) < 2 {
			c.Close()
			t.Fatalf("threads of plugin %d: %v %v", c.Pid(), tasks, err)
		}
		for _, task := range tasks {
			if got := niceOf(t, task); got != want {
				c.Close()
				t.Fatalf("Nice %d: %s has niceness %d, want %d", nice, task, got, want)
			}
		}
		c.Close()
	}
	if _, err := sdk.Open(context.Background(), faulty(t), sdk.OpenOptions{Nice: 20}); err == nil || !strings.Contains(err.Error(), "20") {
		t.Fatalf("Nice 20: error %v, want one naming the niceness", err)
	}
}
