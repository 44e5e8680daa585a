package matio

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// Headers declaring shapes the file does not hold, or that the memory
// budget cannot take, are refused in one line before anything of their
// size is allocated: a .npy claiming 10^9 rows, and a compressed .npz
// member (written by numpy) that inflates to 80 MB under a 32 MiB budget.
func TestReadersRefuseAbsurdShapesBeforeAllocating(t *testing.T) {
	dir := t.TempDir()
	lying := filepath.Join(dir, "lying.npy")
	os.WriteFile(lying, npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }", make([]byte, 16)), 0o644)
	bomb := filepath.Join(dir, "bomb.npz")
	py := python(t)
	if out, err := exec.Command(py, "-c", "import numpy, sys; numpy.savez_compressed(sys.argv[1], dgm0=numpy.zeros((10**7, 1)))", bomb).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v: %s", err, out)
	}
	if st, _ := os.Stat(bomb); st.Size() > 1<<20 {
		t.Fatalf("the compressed member is %d bytes; the test wants it small", st.Size())
	}
	for _, c := range []struct {
		name, path, want string
		budget           string
	}{
		{"npy claiming 1e9 rows", lying, "shape [1000000000] of <f8 needs 8000000000 bytes, but only", ""},
		{"npz member over the budget", bomb, "dgm0.npy", "32M"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.budget != "" {
				t.Setenv("NT_MEMORY_BUDGET", c.budget)
			}
			var err error
			n := allocated(func() { _, err = Read(c.path) })
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("want one line containing %q, got %v", c.want, err)
			}
			if n > 8<<20 {
				t.Errorf("allocated %d bytes before refusing", n)
			}
			t.Log(err)
		})
	}
	// Under a budget it fits, the same member reads.
	if m, err := Read(bomb); err != nil || m.Rows != 10_000_000 {
		t.Fatalf("the member under the machine's budget: %v", err)
	}
}

// A text matrix larger than the memory budget is refused as it grows.
func TestCSVOverBudget(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.csv")
	os.WriteFile(p, []byte(strings.Repeat("0,0,0,0,0,0,0,0\n", 400_000)), 0o644)
	t.Setenv("NT_MEMORY_BUDGET", "32M")
	_, err := Read(p)
	if err == nil || !strings.Contains(err.Error(), "text matrix at line") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line refusing the text matrix, got %v", err)
	}
	t.Log(err)
	t.Setenv("NT_MEMORY_BUDGET", "")
	if m, err := Read(p); err != nil || m.Rows != 400_000 {
		t.Fatalf("without a budget: %v", err)
	}
}
