package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSlurm brings up a one-node SLURM cluster on this machine for the
// test: munged on a private socket, slurmctld and slurmd with a config in
// a temp dir (docs/sweeps.md, "A single-node SLURM for tests"). The two
// daemons listen on ports free at the time, written into the generated
// slurm.conf, so a machine already running SLURM on its fixed ports 6817
// and 6818 (a cluster login node) runs the test too. It returns the
// environment the SLURM commands need, and stops every daemon when the
// test ends. Anything missing fails the test, naming the Debian
// package; it never skips.
func startSlurm(t testing.TB) []string {
	t.Helper()
	for _, c := range []string{"munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Fatalf("%s not found: install the Debian packages slurm-wlm and munge (make deps does)", c)
		}
	}
	if os.Getuid() != 0 {
		t.Fatal("the SLURM test starts slurmd and munged and needs root")
	}
	mu, err := user.Lookup("munge")
	if err != nil {
		t.Fatalf("no munge user: install the Debian package munge (%v)", err)
	}
	if _, err := os.Stat("/etc/munge/munge.key"); err != nil {
		t.Fatalf("no munge key (%v): `mungekey -c` as the munge user makes one", err)
	}
	ctldPort, dPort := freePort(t), freePort(t)
	dir, err := os.MkdirTemp("", "nt-slurm-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	md := filepath.Join(dir, "munge")
	for _, d := range []string{md, filepath.Join(dir, "state"), filepath.Join(dir, "spool")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(mu.Uid)
	gid, _ := strconv.Atoi(mu.Gid)
	if err := os.Chown(md, uid, gid); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(md, "munge.socket")
	logs := func() string {
		var b strings.Builder
		for _, f := range []string{"munge/munged.log", "slurmctld.log", "slurmd.log"} {
			data, _ := os.ReadFile(filepath.Join(dir, f))
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			fmt.Fprintf(&b, "\n--- %s (tail):\n%s", f, strings.Join(lines[max(0, len(lines)-8):], "\n"))
		}
		return b.String()
	}
	pidOf := func(rel string) int {
		b, _ := os.ReadFile(filepath.Join(dir, rel))
		p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return p
	}
	conf := filepath.Join(dir, "slurm.conf")
	env := []string{"SLURM_CONF=" + conf}
	t.Cleanup(func() {
		// scontrol shutdown stops slurmctld and slurmd; whatever is left,
		// and munged, is stopped by its pid.
		cmd := exec.Command("scontrol", "shutdown")
		cmd.Env = append(os.Environ(), env...)
		cmd.Run()
		for _, pf := range []string{"slurmctld.pid", "slurmd.pid", "munge/munged.pid"} {
			p := pidOf(pf)
			if p <= 0 {
				continue
			}
			if pf == "munge/munged.pid" {
				syscall.Kill(p, syscall.SIGTERM)
			}
			for i := 0; i < 50 && syscall.Kill(p, 0) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
			syscall.Kill(p, syscall.SIGKILL)
		}
		os.RemoveAll(dir)
	})
	out, err := exec.Command("su", "-s", "/bin/sh", "munge", "-c",
		fmt.Sprintf("munged --socket=%s --pid-file=%s/munged.pid --log-file=%s/munged.log --seed-file=%s/seed", sock, md, md, md)).CombinedOutput()
	if err != nil {
		t.Fatalf("munged did not start: %v: %s%s", err, out, logs())
	}
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	// Leave memory for the rest of the machine: half of it is the node's.
	memMB := 4000
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			memMB = kb / 1024 / 2
		}
	}
	cfg := fmt.Sprintf(`ClusterName=nttest
SlurmctldHost=%[1]s
AuthType=auth/munge
AuthInfo=socket=%[2]s
SlurmUser=root
SlurmdUser=root
SlurmctldPort=%[6]d
SlurmdPort=%[7]d
StateSaveLocation=%[3]s/state
SlurmdSpoolDir=%[3]s/spool
SlurmctldPidFile=%[3]s/slurmctld.pid
SlurmdPidFile=%[3]s/slurmd.pid
SlurmctldLogFile=%[3]s/slurmctld.log
SlurmdLogFile=%[3]s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=%[1]s CPUs=%[4]d RealMemory=%[5]d State=UNKNOWN
PartitionName=debug Nodes=%[1]s Default=YES MaxTime=INFINITE State=UP
`, host, sock, dir, runtime.NumCPU(), memMB, ctldPort, dPort)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"slurmctld", "slurmd"} {
		cmd := exec.Command(d, "-f", conf)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s did not start: %v: %s%s", d, err, out, logs())
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		cmd := exec.Command("sinfo", "-h", "-o", "%t")
		cmd.Env = append(os.Environ(), env...)
		out, _ := cmd.CombinedOutput()
		if strings.TrimSpace(string(out)) == "idle" {
			return env
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SLURM node is not idle after 30 s (sinfo: %q)%s", bytes.TrimSpace(out), logs())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// freePort returns a TCP port nothing listens on now. The listener is
// closed before the daemon binds it; another process could take the port
// in between, which the daemon's start then reports.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
