package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// heavyLibs are the libraries only simulation, rendering and in-process
// training need. Linked into nthost they were loaded at every start:
// libOSMesa brought libLLVM-15 (about 45 MB of relocated pages), and
// OpenBLAS's constructor started a thread pool spinning on sched_yield.
var heavyLibs = []string{"libopenblas", "libmujoco", "libOSMesa", "libLLVM", "libgfortran"}

// TestNthostDoesNotLinkHeavyLibraries: the binary names none of them as
// a dependency (they are opened with dlopen on first use).
func TestNthostDoesNotLinkHeavyLibraries(t *testing.T) {
	f, err := elf.Open(filepath.Join(bins(t), "nthost"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		for _, h := range heavyLibs {
			if strings.HasPrefix(l, h) {
				t.Errorf("nthost links %s (all it links: %v); open it lazily instead", l, libs)
			}
		}
	}
}

// TestTDAStartsWithoutHeavyLibraries reads the memory map of a running
// `nthost tda` (held at the open of its input, a FIFO): no heavy library
// may be loaded, also not by dlopen from an init function. Then the run
// must finish normally.
func TestTDAStartsWithoutHeavyLibraries(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "cloud.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bins(t), "nthost"), "tda", "--points", fifo, "--maxdim", "1", "--log-level", "warn")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until a thread of nthost blocks opening the FIFO (the kernel
	// calls that wait wait_for_partner): its start-up is over by then.
	proc := filepath.Join("/proc", itoa(cmd.Process.Pid))
	maps := filepath.Join(proc, "maps")
	deadline := time.Now().Add(60 * time.Second)
	for !openingFIFO(proc) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("nthost tda never opened its input:\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	m, err := os.ReadFile(maps)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range heavyLibs {
		if strings.Contains(string(m), "/"+h) {
			t.Errorf("nthost tda has %s loaded before reading its input", h)
		}
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	pts := plugintest.RandomCloud(20, 3, 1)
	for i, v := range pts.Data {
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		if (i+1)%pts.Cols == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(',')
		}
	}
	if _, err := w.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nthost tda: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "20 points") {
		t.Fatalf("nthost tda did not read the 20 points:\n%s", errb.String())
	}
}

// tdaPeakKB bounds the peak resident memory of `nthost tda` on 20
// points, the host and its plugin process together (the largest of
// them, as /usr/bin/time's %M): 80 MB before the libraries were opened
// lazily, about 25-30 MB after, most of it nthost's own code pages. The
// bound leaves room for page-cache variation and catches the return of
// any of the heavy libraries (libLLVM alone is about 45 MB).
const tdaPeakKB = 50 << 10

// TestTDAPeakMemoryOnTinyInput runs `nthost tda` on a tiny cloud under
// /usr/bin/time and checks the peak resident memory it reports (%M: the
// largest of nthost and its plugin processes). Not from this process's
// wait4: Go starts children with vfork, and Linux records the hiwater
// RSS of the memory the child leaves at exec (this test binary's, tens
// of MB after the other tests) as the child's own ru_maxrss.
func TestTDAPeakMemoryOnTinyInput(t *testing.T) {
	timeCmd, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		t.Fatal("no /usr/bin/time: install the Debian package time (make deps does)")
	}
	dir := t.TempDir()
	if err := matio.Write(filepath.Join(dir, "cloud.csv"), plugintest.RandomCloud(20, 3, 1)); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"tda", "--points", "cloud.csv", "--maxdim", "1", "--log-level", "warn"},
		{"--help"},
	} {
		cmd := exec.Command(timeCmd, append([]string{"-f", "peak %M KB", filepath.Join(bins(t), "nthost")}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "NT_PLUGIN_DIR=")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil && args[0] != "--help" {
			t.Fatalf("nthost %v: %v\n%s", args, err, errb.String())
		}
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		var kb int64
		if _, err := fmt.Sscanf(lines[len(lines)-1], "peak %d KB", &kb); err != nil || kb <= 0 {
			t.Fatalf("nthost %v: no peak from /usr/bin/time:\n%s", args, errb.String())
		}
		t.Logf("nthost %s: peak RSS %d KB", args[0], kb)
		if kb > tdaPeakKB {
			t.Errorf("nthost %v peaked at %d KB resident, above the %d KB bound", args, kb, tdaPeakKB)
		}
	}
}

// openingFIFO reports whether a thread of process dir (/proc/PID) waits
// in the open of a FIFO for a writer.
func openingFIFO(proc string) bool {
	tasks, _ := os.ReadDir(filepath.Join(proc, "task"))
	for _, task := range tasks {
		w, _ := os.ReadFile(filepath.Join(proc, "task", task.Name(), "wchan"))
		if strings.Contains(string(w), "partner") || strings.Contains(string(w), "fifo") {
			return true
		}
	}
	return false
}
