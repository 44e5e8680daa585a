package ripserbin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// childrenOf lists the pids whose parent is pid.
func childrenOf(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// TestRipserDiesWithItsParent kills (SIGKILL, nothing can clean up) a
// process in the middle of a long ripser computation and checks that
// ripser does not run on as an orphan. The process is this test binary
// re-run in helper mode, in the test's own process group, so only the
// kernel's parent-death signal can stop ripser.
func TestRipserDiesWithItsParent(t *testing.T) {
	if os.Getenv("NT_RIPSER_DEATHSIG_HELPER") == "1" {
		d, _ := Euclidean(cloud(400, 8, 2))
		_, err := Runner{}.Compute(context.Background(), d, Options{MaxDim: 2})
		fmt.Println("helper finished:", err)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestRipserDiesWithItsParent$")
	cmd.Env = append(os.Environ(), "NT_RIPSER_DEATHSIG_HELPER=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var ripser int
	for end := time.Now().Add(20 * time.Second); ripser == 0 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		for _, c := range childrenOf(cmd.Process.Pid) {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c)); strings.HasPrefix(string(b), "ripser") {
				ripser = c
			}
		}
	}
	if ripser == 0 {
		t.Fatal("the helper never started ripser")
	}
	// Past its first outputs ripser computes H2 for many seconds without
	// writing: a broken pipe would not stop it then.
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(2 * time.Second); plugintest.Running(ripser) && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if plugintest.Running(ripser) {
		_ = exec.Command("kill", "-9", strconv.Itoa(ripser)).Run()
		t.Fatalf("ripser (pid %d) outlived the process that started it", ripser)
	}
}
