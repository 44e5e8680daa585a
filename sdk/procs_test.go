package sdk

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestSparePLeavesOneIdleP: after SpareP the runtime has one P more than
// Cores, which stays what it was, so worker pools do not grow; a user's
// GOMAXPROCS wins. Run in a child process, since GOMAXPROCS is global.
func TestSparePLeavesOneIdleP(t *testing.T) {
	if os.Getenv("NT_SPAREP_CHILD") != "" {
		before := runtime.GOMAXPROCS(0)
		SpareP()
		os.Stdout.WriteString(strconv.Itoa(before) + " " + strconv.Itoa(Cores()) + " " + strconv.Itoa(runtime.GOMAXPROCS(0)) + "\n")
		return
	}
	run := func(env ...string) []int {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestSparePLeavesOneIdleP$")
		cmd.Env = append(os.Environ(), append(env, "NT_SPAREP_CHILD=1")...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		f := strings.Fields(strings.Split(string(out), "\n")[0])
		var v []int
		for _, s := range f {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("child printed %q", out)
			}
			v = append(v, n)
		}
		return v
	}
	if v := run("GOMAXPROCS="); v[1] != v[0] || v[2] != v[0]+1 {
		t.Errorf("default: GOMAXPROCS %d, Cores %d, after SpareP %d; want Cores = GOMAXPROCS and one P more", v[0], v[1], v[2])
	}
	if v := run("GOMAXPROCS=1"); v[1] != 1 || v[2] != 1 {
		t.Errorf("GOMAXPROCS=1 set by the user: Cores %d, after SpareP %d; want 1 and 1", v[1], v[2])
	}
}
