package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin/runner"
)

// pipeGrace is how long the plugin's stdout and stderr stay open after the
// plugin process ended. Its own children die with it (the whole process
// group is killed), which closes the pipes at once; a descendant that left
// the group and keeps them open must not keep the host waiting longer.
const pipeGrace = 300 * time.Millisecond

// groupRunner runs a plugin as the leader of its own process group, so that
// everything it starts (ripser, a forked Python worker, a stray background
// job of a shell script) is killed with it.
//
// go-plugin's own runner reads the plugin's stdout and stderr to the end
// before it waits for the process, so a child that inherited the pipes and
// outlives the plugin would make every later call (Kill included) wait for
// that child forever. This runner reaps the process as soon as it exits,
// kills its group, and closes the pipes itself after pipeGrace.
type groupRunner struct {
	path string
	cmd  *exec.Cmd
	tag  string // the plugin's instanceEnv value, inherited by its descendants

	stdoutR, stderrR *drainedPipe

	mu      sync.Mutex
	pid     int
	reaped  bool
	waitErr error
	done    chan struct{} // closed once the process is reaped and the pipes are closed
}

var _ runner.Runner = (*groupRunner)(nil)

// newGroupRunner builds a runner that starts cmd, the command for the
// plugin binary at path (see command). spec is the command go-plugin
// prepared: only its environment (handshake cookie, socket folder, client
// certificate) is used.
func newGroupRunner(path string, cmd, spec *exec.Cmd) *groupRunner {
	tag := newInstanceTag()
	cmd.Env = append(spec.Env, instanceEnv+"="+tag)
	// Stdin is not the terminal: a plugin in another process group that
	// read it would be stopped by SIGTTIN.
	cmd.Stdin = nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The pipes are *os.File, so Wait copies nothing; WaitDelay is the
	// safety net should that ever change.
	cmd.WaitDelay = pipeGrace
	return &groupRunner{path: path, cmd: cmd, tag: tag, done: make(chan struct{})}
}

// Start starts the plugin process.
func (g *groupRunner) Start(context.Context) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	g.cmd.Stdout, g.cmd.Stderr = outW, errW
	err = g.cmd.Start()
	// The child holds the write ends now; ours would keep the pipes open.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return err
	}
	g.stdoutR, g.stderrR = newDrainedPipe(outR), newDrainedPipe(errR)
	g.mu.Lock()
	g.pid = g.cmd.Process.Pid
	g.mu.Unlock()
	go g.reap()
	return nil
}

// reap waits for the plugin to exit, kills what is left of its process
// group, and closes the pipes once they are drained or pipeGrace passed.
func (g *groupRunner) reap() {
	err := g.cmd.Wait()
	g.mu.Lock()
	g.waitErr = err
	g.reaped = true
	pid := g.pid
	g.mu.Unlock()
	// The group id cannot have been reused: it is ours until every member
	// is gone, and members still alive are exactly what this kills.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	// Descendants that left the group (setsid, a daemon's double fork)
	// still carry the plugin's tag in their environment.
	killTagged(g.tag)
	// Usually go-plugin's readers reach the end of both pipes at once;
	// only a descendant outside the group that still holds the write ends
	// makes us wait, and then no longer than pipeGrace.
	grace := time.After(pipeGrace)
	for _, p := range []*drainedPipe{g.stdoutR, g.stderrR} {
		select {
		case <-p.eof:
		case <-grace:
		}
	}
	// Closing unblocks go-plugin's readers if a descendant outside the
	// group still holds the write ends.
	g.stdoutR.Close()
	g.stderrR.Close()
	close(g.done)
}

// drainedPipe is the read end of a plugin's stdout or stderr that tells
// when its reader has seen the end.
type drainedPipe struct {
	f    *os.File
	once sync.Once
	eof  chan struct{} // closed once a Read returned an error (EOF, closed)

	mu    sync.Mutex
	first []byte // the start of what was read, up to the first newline: the handshake line
	full  bool   // first holds the whole first line, or as much as is kept
	// extra counts the bytes read after the first line, and extraHead
	// keeps their start: on stdout, output go-plugin silently discards.
	extra     int
	extraHead []byte
}

// extraHeadMax bounds what drainedPipe keeps of the bytes after the
// first line.
const extraHeadMax = 256

func newDrainedPipe(f *os.File) *drainedPipe {
	return &drainedPipe{f: f, eof: make(chan struct{})}
}

func (p *drainedPipe) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	p.mu.Lock()
	chunk := b[:n]
	if !p.full {
		head := chunk
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			head, chunk, p.full = chunk[:i], chunk[i+1:], true
		} else {
			chunk = nil
		}
		p.first = append(p.first, head...)
		if len(p.first) >= 64<<10 {
			p.full = true
		}
	}
	if len(chunk) > 0 {
		p.extra += len(chunk)
		if k := extraHeadMax - len(p.extraHead); k > 0 {
			p.extraHead = append(p.extraHead, chunk[:min(k, len(chunk))]...)
		}
	}
	p.mu.Unlock()
	if err != nil {
		p.once.Do(func() { close(p.eof) })
	}
	return n, err
}

func (p *drainedPipe) Close() error { return p.f.Close() }

// firstLine is the first line read so far (the handshake line, on stdout).
func (p *drainedPipe) firstLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.first)
}

// exitStatus says how the plugin process ended: "exit status N" or
// "killed by signal N (name)"; "" while it runs.
func (g *groupRunner) exitStatus() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.reaped {
		return ""
	}
	return describeExit(g.cmd.ProcessState, g.waitErr)
}

// describeExit renders how a reaped process ended.
func describeExit(ps *os.ProcessState, waitErr error) string {
	if ps == nil {
		if waitErr != nil {
			return waitErr.Error()
		}
		return ""
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ps.ExitCode())
}

// after returns how many bytes were read after the first line, and the
// first of them.
func (p *drainedPipe) after() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.extra, string(p.extraHead)
}

// Wait blocks until the plugin process has exited and been reaped.
func (g *groupRunner) Wait(ctx context.Context) error {
	select {
	case <-g.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waitErr
}

// Kill kills the plugin and every process in its group.
func (g *groupRunner) Kill(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pid == 0 || g.reaped {
		return nil
	}
	err := syscall.Kill(-g.pid, syscall.SIGKILL)
	killTagged(g.tag)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// instanceEnv is the variable each plugin process is started with, set
// to a value unique to that process. Its descendants inherit it, also
// those that leave the plugin's process group and session (setsid), so
// they can be found and killed with the plugin without cgroups.
const instanceEnv = "NT_PLUGIN_INSTANCE"

var instanceSeq atomic.Uint64

// newInstanceTag returns a value for instanceEnv no other plugin
// process of this or another host has: the host's pid, a counter and
// the time.
func newInstanceTag() string {
	return fmt.Sprintf("%d-%d-%d", os.Getpid(), instanceSeq.Add(1), time.Now().UnixNano())
}

// killTagged kills every process of this user whose environment, as it
// was when the process started, holds instanceEnv=tag. A descendant that
// started a program with a cleared environment escapes it.
func killTagged(tag string) {
	if tag == "" {
		return
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	want := []byte(instanceEnv + "=" + tag + "\x00")
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil { // another user's process, or gone
			continue
		}
		if bytes.HasPrefix(env, want) || bytes.Contains(env, append([]byte{0}, want...)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Diagnose has nothing to add to go-plugin's start errors: the host quotes
// the plugin's last stderr line instead.
func (g *groupRunner) Diagnose(context.Context) string { return "" }

// Stdout is the pipe go-plugin reads the handshake line from.
func (g *groupRunner) Stdout() io.ReadCloser { return g.stdoutR }

// Stderr is the pipe go-plugin reads the plugin's log from.
func (g *groupRunner) Stderr() io.ReadCloser { return g.stderrR }

// Name is the plugin binary's path.
func (g *groupRunner) Name() string { return g.path }

// ID is the plugin's process id, also its process group id.
func (g *groupRunner) ID() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pid == 0 {
		return ""
	}
	return strconv.Itoa(g.pid)
}

// PluginToHost leaves addresses alone: plugin and host share a machine.
func (g *groupRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

// HostToPlugin leaves addresses alone.
func (g *groupRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
