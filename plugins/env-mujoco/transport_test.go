package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// openEnvOver starts the env plugin asking for one transport and checks
// that it is the one in use: a fast path that silently fell back to gRPC
// must not pass for itself.
func openEnvOver(t *testing.T, bin, transport string) (*sdk.Client, sdk.Environment) {
	t.Helper()
	t.Setenv("NT_TRANSPORT", transport)
	c := plugintest.Open(t, bin)
	if got := c.Transport(); got != transport {
		t.Fatalf("NT_TRANSPORT=%s: the plugin is spoken to over %q", transport, got)
	}
	for _, k := range []string{sdk.ShmKey, sdk.FastPathKey, sdk.FastTokenKey} {
		if _, ok := c.Info.Capabilities[k]; ok {
			t.Fatalf("the transport offer %s must not be listed among capabilities", k)
		}
	}
	e, err := c.Env()
	if err != nil {
		t.Fatal(err)
	}
	return c, e
}

// stepRollout steps a 3-env Hopper batch 300 times with actions that depend on
// the observations, so any difference in what crosses the boundary shows
// in everything after it.
func stepRollout(t *testing.T, e sdk.Environment) []sdk.StepResult {
	t.Helper()
	ctx := context.Background()
	h, spec, err := e.Open(ctx, sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	obs, err := e.Reset(ctx, h, 7)
	if err != nil {
		t.Fatal(err)
	}
	var out []sdk.StepResult
	act := sdk.NewMatrix(3, spec.ActDim)
	for i := 0; i < 300; i++ {
		for j := range act.Data {
			act.Data[j] = math.Sin(float64(i) + 3*obs.Data[j%len(obs.Data)])
		}
		r, err := e.Step(ctx, h, act)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		out = append(out, r)
		obs = r.Obs
	}
	return out
}

func TestTransportsAgreeBitForBit(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-env-mujoco")
	ref := stepRollout(t, mjenv.New()) // linked in: no boundary at all
	for _, tr := range []string{sdk.TransportShm, sdk.TransportSocket, sdk.TransportGRPC} {
		_, e := openEnvOver(t, bin, tr)
		got := stepRollout(t, e)
		ended := 0
		for i := range got {
			if !reflect.DeepEqual(got[i], ref[i]) {
				t.Fatalf("%s: step %d differs from the linked-in environment:\n%+v\n%+v", tr, i, got[i], ref[i])
			}
			ended += len(got[i].Episodes)
		}
		if ended == 0 {
			t.Fatalf("%s: no episode ended in 300 steps; the comparison misses resets", tr)
		}
	}
}

// TestKilledPluginNamedWithinASecond kills the env plugin while a step is
// in flight over each transport: the caller must get one line naming the
// plugin, soon, and never hang.
func TestKilledPluginNamedWithinASecond(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-env-mujoco")
	for _, tr := range []string{sdk.TransportShm, sdk.TransportSocket, sdk.TransportGRPC} {
		c, e := openEnvOver(t, bin, tr)
		ctx := context.Background()
		h, spec, err := e.Open(ctx, sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 64, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Reset(ctx, h, 1); err != nil {
			t.Fatal(err)
		}
		act := sdk.NewMatrix(64, spec.ActDim)
		done := make(chan error, 1)
		go func() {
			for {
				if _, err := e.Step(ctx, h, act); err != nil {
					done <- err
					return
				}
			}
		}()
		time.Sleep(100 * time.Millisecond)
		killed := time.Now()
		if err := syscall.Kill(c.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			msg := err.Error()
			if !strings.Contains(msg, "nt-env-mujoco") || !strings.Contains(msg, "crashed") || strings.Contains(msg, "\n") {
				t.Fatalf("%s: want one line naming the killed plugin, got %q", tr, msg)
			}
			if d := time.Since(killed); d > time.Second {
				t.Fatalf("%s: the killed plugin was named after %v", tr, d)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: a step on a killed plugin hung", tr)
		}
	}
}

// TestCancelledShmCallRecovers abandons a long step on shared memory when
// its context times out; the next call must get its own reply, not the
// abandoned one's, and match the linked-in environment.
func TestCancelledShmCallRecovers(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-env-mujoco")
	_, e := openEnvOver(t, bin, sdk.TransportShm)
	ref := stepRollout(t, mjenv.New())
	ctx := context.Background()
	// A big batch whose step takes far longer than the timeout below.
	big, spec, err := e.Open(ctx, sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 800, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reset(ctx, big, 1); err != nil {
		t.Fatal(err)
	}
	h, _, err := e.Open(ctx, sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	obs, err := e.Reset(ctx, h, 7)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Millisecond)
	defer cancel()
	if _, err := e.Step(short, big, sdk.NewMatrix(800, spec.ActDim)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a step past its deadline: want context.DeadlineExceeded, got %v", err)
	}
	act := sdk.NewMatrix(3, spec.ActDim)
	for j := range act.Data {
		act.Data[j] = math.Sin(3 * obs.Data[j%len(obs.Data)]) // rollout's first action
	}
	r, err := e.Step(ctx, h, act)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, ref[0]) {
		t.Fatalf("the step after an abandoned one got another reply:\n%+v\nwant\n%+v", r, ref[0])
	}
}

// TestChannelsArePrivate starts a process as user nobody that knows
// everything a snooper could find (the plugin's pid, the memfd's
// descriptor number, the abstract socket's name in /proc/net/unix) and
// tries to step the environment over each fast path. It must fail; a
// process of the same user without the handshake's token must fail on the
// socket too.
func TestChannelsArePrivate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test starts a process as user nobody and must run as root (as CI does)")
	}
	bin := plugintest.Build(t, ".", "nt-env-mujoco")
	t.Setenv("NT_TRANSPORT", "")
	c := plugintest.Open(t, bin)
	pid := strconv.Itoa(c.Pid())
	// What a snooper sees: the memfd among the plugin's descriptors...
	fds, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	var memfd string
	for _, fd := range fds {
		if l, _ := os.Readlink("/proc/" + pid + "/fd/" + fd.Name()); strings.Contains(l, "neuraltopology-shm") {
			memfd = "/proc/" + pid + "/fd/" + fd.Name()
		}
	}
	if memfd == "" {
		t.Fatal("the plugin holds no shared-memory segment")
	}
	// ...and the socket's name in /proc/net/unix.
	unixTab, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		t.Fatal(err)
	}
	var sock string
	for _, f := range strings.Fields(string(unixTab)) {
		if strings.HasPrefix(f, "@neuraltopology-"+pid+"-") {
			sock = f
		}
	}
	if sock == "" {
		t.Fatal("no fast-path socket of the plugin in /proc/net/unix")
	}
	// The intruder is this test binary, copied where nobody can run it.
	dir, err := os.MkdirTemp("", "nt-intruder-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	intruder := filepath.Join(dir, "intruder")
	if err := os.WriteFile(intruder, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"nobody", "same-user"} {
		cmd := exec.Command(intruder, "-test.run=^TestIntruder$")
		cmd.Env = append(os.Environ(), "NT_INTRUDE_SHM="+memfd, "NT_INTRUDE_SOCK="+sock)
		if who == "nobody" {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		} else {
			cmd.Env = append(cmd.Env, "NT_INTRUDE_SAME_USER=1")
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: the intruder failed to run: %v\n%s", who, err, out)
		}
		s := string(out)
		t.Logf("%s intruder:\n%s", who, s)
		if who == "nobody" && !strings.Contains(s, "shm: refused") {
			t.Errorf("%s reached the shared memory:\n%s", who, s)
		}
		if !strings.Contains(s, "socket: refused") {
			t.Errorf("%s was answered on the socket:\n%s", who, s)
		}
	}
	// The plugin still serves its host.
	e, _ := c.Env()
	if _, _, err := e.Open(context.Background(), sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 1, Seed: 1}); err != nil {
		t.Fatalf("after the intrusions: %v", err)
	}
}

// TestIntruder is the intruding process of TestChannelsArePrivate, run
// from a copy of the test binary; on its own it does nothing.
func TestIntruder(t *testing.T) {
	memfd, sock := os.Getenv("NT_INTRUDE_SHM"), os.Getenv("NT_INTRUDE_SOCK")
	if memfd == "" {
		return
	}
	if f, err := os.OpenFile(memfd, os.O_RDWR, 0); err != nil {
		fmt.Println("shm: refused:", err)
	} else {
		f.Close()
		fmt.Println("shm: opened")
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Println("socket: refused:", err)
		return
	}
	defer c.Close()
	// A guessed token, then a Step frame with an empty body: an admitted
	// client gets a reply frame (an error, but an answer).
	msg := append(make([]byte, 32), 1, 0, 0, 0, 0)
	c.Write(msg)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var b [16]byte
	if n, err := c.Read(b[:]); n > 0 {
		fmt.Println("socket: answered", b[:n])
	} else {
		fmt.Println("socket: refused:", err)
	}
}
