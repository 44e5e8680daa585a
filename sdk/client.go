package sdk

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"
)

// Client is a running plugin process and the typed interface it serves.
type Client struct {
	Path string // the plugin binary
	Name string // the <name> of nt-<kind>-<name>
	Kind Kind
	Info Info // what the plugin said about itself

	opt OpenOptions

	// mu guards the fields below, which a restart (restart.go) replaces.
	mu        sync.Mutex
	pc        *plugin.Client
	proc      *groupRunner
	impl      Describer
	stderr    *tailBuffer
	stdout    *strayOutput // what a Go plugin writes to os.Stdout after go-plugin's Serve redirected it
	log       hclog.Logger
	transport string // how Step and Act travel: TransportDirect, TransportShm, TransportSocket or TransportGRPC
	shmOffer  string // the plugin's shared-memory segment, as offered (ShmKey)
	direct    bool   // an algorithm plugin that can Drive (DirectKey)
	sample    bool   // an algorithm plugin that can also Sample over the link (SampleKey)
	closeFast func()
	restarts  int
}

// Transports by which a plugin's per-step calls (Step, Act) can travel
// between the host and the plugin; TransportDirect (direct.go) takes the
// host off that path altogether. Every other call, and every call to a
// dist or ph plugin, goes over gRPC.
const (
	TransportShm    = "shm"    // shared memory (shm.go)
	TransportSocket = "socket" // frames on a unix socket (fastpath.go)
	TransportGRPC   = "grpc"
)

// OpenOptions tune how a plugin is started.
type OpenOptions struct {
	// Logger receives the plugin's log lines; nil discards them.
	Logger hclog.Logger
	// StartTimeout bounds the handshake; 0 means $NT_PLUGIN_START_TIMEOUT
	// (a Go duration) or, unset, 60 seconds.
	StartTimeout time.Duration
	// NoRestart turns off restarting a crashed dist or ph plugin (see
	// restart.go): benchmarks measure, and limit, one process.
	NoRestart bool
	// Nice, if positive, is added to the host's niceness for the plugin
	// process (as nice(1) -n does; at most 19 in all): higher yields the
	// CPU sooner, e.g. for work beside training that should not slow it.
	Nice int
}

// ParseBinaryName splits a plugin binary's file name nt-<kind>-<name> into
// its kind and name.
func ParseBinaryName(file string) (Kind, string, bool) {
	base := filepath.Base(file)
	rest, ok := strings.CutPrefix(base, "nt-")
	if !ok {
		return "", "", false
	}
	kind, name, ok := strings.Cut(rest, "-")
	if !ok || name == "" {
		return "", "", false
	}
	for _, k := range Kinds {
		if Kind(kind) == k {
			return k, name, true
		}
	}
	return "", "", false
}

// Open starts the plugin binary at path, completes the handshake, and asks
// it to describe itself. It refuses a plugin whose self-description does
// not match its file name or this sdk's protocol version.
func Open(ctx context.Context, path string, opt OpenOptions) (*Client, error) {
	kind, name, ok := ParseBinaryName(path)
	if !ok {
		return nil, fmt.Errorf("plugin %s: file name must be nt-<kind>-<name> with kind one of %v", path, Kinds)
	}
	logger := opt.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if opt.StartTimeout == 0 {
		d, err := startTimeout()
		if err != nil {
			return nil, err
		}
		opt.StartTimeout = d
	}
	opt.Logger = logger
	// Verified before anything starts, restarts included (see lock.go).
	if l := CurrentLock(); l != nil {
		if err := l.verify(path); err != nil {
			return nil, err
		}
	}
	cmd, err := command(path, opt.Nice)
	if err != nil {
		return nil, err
	}
	if _, err := CallTimeouts(); err != nil {
		return nil, err
	}
	tlsOn, err := pluginTLS()
	if err != nil {
		return nil, err
	}
	base, err := socketBase()
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %v", filepath.Base(path), err)
	}
	c := &Client{Path: path, Name: name, Kind: kind, opt: opt, stderr: &tailBuffer{max: 4096}, stdout: &strayOutput{}, log: logger}
	c.pc = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: versionedPlugins(),
		// The plugin runs in its own process group (see process.go).
		// With a RunnerFunc, go-plugin puts the plugin's gRPC socket in a
		// fresh 0700 folder and removes it on Kill, so sockets of killed
		// plugins do not pile up in the temp folder; that folder lives in
		// this process's own (sockdir.go), which the next host removes
		// should this one be killed before it could.
		RunnerFunc: func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			c.proc = newGroupRunner(path, cmd, spec)
			return c.proc, nil
		},
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: base},
		// Mutual TLS with certificates made for this one plugin process:
		// only the host, holding the client key, can talk to the plugin,
		// and only this plugin can answer it (see tls.go).
		AutoMTLS:         tlsOn,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger.Named(filepath.Base(path)),
		Stderr:           c.stderr,
		// A Go plugin's os.Stdout reaches the host through go-plugin's
		// stdio stream, not the pipe: counted, as stray output.
		SyncStdout:   c.stdout,
		StartTimeout: opt.StartTimeout,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
			// No call waits forever on a hung plugin (deadline.go).
			grpc.WithChainUnaryInterceptor(deadlineInterceptor)},
	})
	rpc, err := c.pc.Client()
	if tlsOn && c.proc != nil && c.proc.stdoutR != nil {
		// A first line that is no handshake at all is stray output,
		// reported below.
		if line := c.proc.stdoutR.firstLine(); strings.Count(line, "|") >= 3 && !handshakeHasCert(line) {
			c.Close()
			return nil, fmt.Errorf("plugin %s: refused: it does not serve TLS (its handshake line carries no server certificate); rebuild it with a current sdk (Go: sdk.Serve; Python: ntplugin), or set %s=off to accept plaintext gRPC from every plugin (docs/plugins.md, Private channels)", filepath.Base(path), TLSEnv)
		}
	}
	if err != nil {
		c.Close()
		if line, ok := strings.CutPrefix(err.Error(), "Unrecognized remote plugin message: "); ok {
			if strings.Contains(line, "Failed to read any lines from plugin's stdout") && c.proc != nil {
				// Its stdout closed: it exited, or is about to.
				for i := 0; i < 50 && c.proc.exitStatus() == ""; i++ {
					time.Sleep(20 * time.Millisecond)
				}
				if st := c.proc.exitStatus(); st != "" {
					err = fmt.Errorf("it exited before printing its handshake line (%s)", st)
				}
			}
			if line, _, _ = strings.Cut(line, "\n"); line != "" {
				// Something printed to stdout before the handshake.
				err = fmt.Errorf("its first line on stdout is %q, not the handshake line (CORE|PROTOCOL|unix|SOCKET|grpc): a plugin must write nothing else to stdout, which go-plugin reads; log to stderr (Go: sdk.Logger; Python: ntplugin.log)", cut(line, 120))
			}
		}
		if strings.Contains(strings.ToLower(err.Error()), "incompatible api version") {
			err = fmt.Errorf("%v (this nthost speaks plugin protocols %v, sdk %s): rebuild the plugin against a matching sdk, or update nthost", err, ProtocolVersions, Version)
		}
		if strings.Contains(err.Error(), "timeout while waiting for plugin to start") {
			// The usual cause in a plugin not built with sdk.Serve: the
			// handshake line sits in a stdout buffer nobody flushes.
			err = fmt.Errorf("%v: no handshake line on its stdout within %v; a plugin must print it and flush stdout (Python: print(..., flush=True); docs/plugins.md, Symptoms)", err, opt.StartTimeout)
		}
		return nil, fmt.Errorf("plugin %s: start failed: %v%s", filepath.Base(path), err, c.stderr.suffix())
	}
	raw, err := rpc.Dispense(string(kind))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("plugin %s: %v", filepath.Base(path), err)
	}
	// Every client shim embeds errWrap; point it at this process.
	switch x := raw.(type) {
	case *envClient:
		x.onFail = c.failure
	case *algoClient:
		x.onFail = c.failure
	case *distClient:
		x.onFail = c.failure
	case *phClient:
		x.onFail = c.failure
	case *dataClient:
		x.onFail = c.failure
	}
	c.impl = raw.(Describer)
	info, err := c.impl.Describe(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	if err := c.useFastPath(&info); err != nil {
		c.Close()
		return nil, err
	}
	c.Info = info
	switch {
	case info.Kind != kind:
		err = fmt.Errorf("plugin %s: says it is kind %q, its file name says %q", filepath.Base(path), info.Kind, kind)
	case info.Name != name:
		err = fmt.Errorf("plugin %s: says its name is %q, its file name says %q", filepath.Base(path), info.Name, name)
	case info.Protocol != c.pc.NegotiatedVersion():
		err = fmt.Errorf("plugin %s: its handshake chose protocol %d but it says it speaks %d: set Info.Protocol to sdk.ProtocolVersion", filepath.Base(path), c.pc.NegotiatedVersion(), info.Protocol)
	default:
		if e := CheckHostSDK(info); e != nil {
			err = fmt.Errorf("plugin %s: %v", filepath.Base(path), e)
		}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// command is the command that starts the plugin at path. With nice > 0
// it runs under nice(1), which sets the niceness and execs the plugin in
// its place: every thread the plugin's runtime starts inherits it, which
// renicing the process after it started would not do (on Linux the
// niceness belongs to each thread).
func command(path string, nice int) (*exec.Cmd, error) {
	if nice <= 0 {
		return exec.Command(path), nil
	}
	if nice > 19 {
		return nil, fmt.Errorf("plugin %s: niceness %d is above 19", filepath.Base(path), nice)
	}
	bin, err := exec.LookPath("nice")
	if err != nil {
		return nil, fmt.Errorf("plugin %s: starting it at niceness %d needs nice(1) (Debian package coreutils): %v", filepath.Base(path), nice, err)
	}
	return exec.Command(bin, "-n", strconv.Itoa(nice), path), nil
}

// failure names the plugin in an error and says whether its process died,
// with the last lines it wrote to stderr (a panic, usually).
func (c *Client) failure(err error) error {
	// The process exit is noticed a moment after the connection drops.
	for i := 0; i < 100 && !c.pc.Exited(); i++ {
		if !strings.Contains(err.Error(), "Unavailable") && !strings.Contains(err.Error(), "EOF") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c.pc.Exited() {
		return fmt.Errorf("plugin %s crashed (%s%v)%s", filepath.Base(c.Path), c.exitPrefix(), err, c.stderr.suffix())
	}
	return fmt.Errorf("plugin %s: %w", filepath.Base(c.Path), err)
}

// exitPrefix is how the plugin process ended, ready to start a
// parenthesis ("exit status 2; "), or "" if that is not known.
func (c *Client) exitPrefix() string {
	c.mu.Lock()
	proc := c.proc
	c.mu.Unlock()
	if proc == nil {
		return ""
	}
	if s := proc.exitStatus(); s != "" {
		return s + "; "
	}
	return ""
}

// StrayStdout returns how many bytes the plugin wrote to its stdout after
// the handshake line, and the first line of them. go-plugin owns a
// plugin's stdout and discards what follows the handshake, so output
// there (a debug print) is lost, and before the handshake it breaks the
// start; the conformance kit refuses either.
func (c *Client) StrayStdout() (int, string) {
	c.mu.Lock()
	proc, synced := c.proc, c.stdout
	c.mu.Unlock()
	var n int
	var head string
	if proc != nil && proc.stdoutR != nil {
		n, head = proc.stdoutR.after()
	}
	if m, h := synced.get(); m > 0 {
		n += m
		if strings.TrimSpace(head) == "" {
			head = h
		}
	}
	head, _, _ = strings.Cut(strings.TrimLeft(head, "\r\n"), "\n")
	return n, Printable(strings.TrimSpace(head))
}

// strayOutput counts what is written to it and keeps the start.
type strayOutput struct {
	mu   sync.Mutex
	n    int
	head []byte
}

func (s *strayOutput) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n += len(p)
	if k := extraHeadMax - len(s.head); k > 0 {
		s.head = append(s.head, p[:min(k, len(p))]...)
	}
	return len(p), nil
}

func (s *strayOutput) get() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, string(s.head)
}

// Pid returns the operating-system process id of the plugin, or 0 when it
// is not running; benchmarks read its memory use from /proc/<pid>.
func (c *Client) Pid() int {
	c.mu.Lock()
	pc, proc := c.pc, c.proc
	c.mu.Unlock()
	if proc == nil || pc.Exited() {
		return 0
	}
	proc.mu.Lock()
	defer proc.mu.Unlock()
	return proc.pid
}

// Exited reports whether the plugin process has ended.
func (c *Client) Exited() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pc.Exited()
}

// Transport says how the plugin's Step and Act calls travel:
// TransportDirect (once Link has put the algorithm plugin in charge of
// stepping the environment), TransportShm, TransportSocket or
// TransportGRPC. Runs record it, so a
// fast path that silently fell back shows.
func (c *Client) Transport() string { return c.transport }

// useFastPath connects to the best fast path a plugin advertises (see
// fastpath.go and shm.go), or the one NT_TRANSPORT asks for, and takes
// the advertisements out of its capabilities, which describe the plugin,
// not the transport.
func (c *Client) useFastPath(info *Info) error {
	shm, addr, token := info.Capabilities[ShmKey], info.Capabilities[FastPathKey], info.Capabilities[FastTokenKey]
	c.shmOffer, c.direct = shm, info.Capabilities[DirectKey] != ""
	c.sample = c.direct && info.Capabilities[SampleKey] != ""
	caps := make(map[string]string, len(info.Capabilities))
	for k, v := range info.Capabilities {
		if k != FastPathKey && k != FastTokenKey && k != ShmKey && k != DirectKey && k != SampleKey {
			caps[k] = v
		}
	}
	info.Capabilities = caps
	c.transport = TransportGRPC
	want := os.Getenv("NT_TRANSPORT")
	if want == "" && os.Getenv("NT_FASTPATH") == "0" {
		want = TransportGRPC
	}
	switch want {
	case "", TransportShm, TransportSocket, TransportGRPC:
	case TransportDirect:
		// Link then insists on the direct mode, which needs the host's
		// own link to the plugins to be shared memory.
		want = TransportShm
	default:
		return fmt.Errorf("NT_TRANSPORT=%q: want %s, %s, %s or %s", want, TransportDirect, TransportShm, TransportSocket, TransportGRPC)
	}
	if c.Kind != KindEnv && c.Kind != KindAlgo {
		return nil // no per-step calls
	}
	base := filepath.Base(c.Path)
	var fast stepCaller
	if shm != "" && (want == "" || want == TransportShm) {
		s, err := attachShm(shm, c.Pid(), func() bool { return !c.pc.Exited() })
		switch {
		case err == nil:
			fast, c.transport, c.closeFast = s, TransportShm, s.close
		case want == TransportShm:
			return fmt.Errorf("plugin %s: shared memory: %v", base, err)
		default:
			c.log.Warn("shared memory unavailable, trying the socket", "plugin", base, "error", err)
		}
	}
	if fast == nil && addr != "" && (want == "" || want == TransportSocket) {
		f, err := dialFast(addr, token)
		if err != nil {
			return fmt.Errorf("plugin %s: fast path %s: %v", base, addr, err)
		}
		fast, c.transport, c.closeFast = f, TransportSocket, f.close
	}
	if want != "" && c.transport != want {
		return fmt.Errorf("plugin %s does not offer the %s transport that NT_TRANSPORT asks for", base, want)
	}
	switch x := c.impl.(type) {
	case *envClient:
		x.fast = fast
	case *algoClient:
		x.fast = fast
	}
	return nil
}

// Close stops the plugin process, gracefully if it still answers, and
// removes what it leaves behind.
func (c *Client) Close() {
	c.mu.Lock()
	pc, closeFast := c.pc, c.closeFast
	c.mu.Unlock()
	// The process goes first: a call still waiting on a fast path then
	// ends at once instead of holding Close up.
	pc.Kill()
	if closeFast != nil {
		closeFast()
	}
}

// Plugin returns the plugin's interface; assert it to the kind's type, or
// use Env, Algo, Dist or PH.
// A dist or ph plugin comes wrapped so that a crash restarts it and
// retries the call once (see restart.go), unless NoRestart was asked for.
func (c *Client) Plugin() Describer {
	switch {
	case c.opt.NoRestart:
	case c.Kind == KindDist && asDist(c.current()) != nil:
		return restartingDist{c}
	case c.Kind == KindPH && asPH(c.current()) != nil:
		return restartingPH{c}
	}
	return c.current()
}

// Env returns the plugin as an Environment, or an error naming its kind.
func (c *Client) Env() (Environment, error) {
	if e := asEnv(c.impl); e != nil && c.Kind == KindEnv {
		return e, nil
	}
	return nil, c.wrongKind(KindEnv)
}

// Algo returns the plugin as an Algorithm.
func (c *Client) Algo() (Algorithm, error) {
	if a := asAlgo(c.impl); a != nil && c.Kind == KindAlgo {
		return a, nil
	}
	return nil, c.wrongKind(KindAlgo)
}

// Dist returns the plugin as a Distance.
func (c *Client) Dist() (Distance, error) {
	if d := asDist(c.current()); d != nil && c.Kind == KindDist {
		if c.opt.NoRestart {
			return d, nil
		}
		return restartingDist{c}, nil
	}
	return nil, c.wrongKind(KindDist)
}

// PH returns the plugin as a Homology backend.
func (c *Client) PH() (Homology, error) {
	if h := asPH(c.current()); h != nil && c.Kind == KindPH {
		if c.opt.NoRestart {
			return h, nil
		}
		return restartingPH{c}, nil
	}
	return nil, c.wrongKind(KindPH)
}

func (c *Client) wrongKind(want Kind) error {
	return fmt.Errorf("plugin %s is a %s plugin, not %s", filepath.Base(c.Path), c.Kind, want)
}

// cut shortens s to at most n characters, marking the cut.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

// tailBuffer keeps the last max bytes written to it, and the first line
// that starts a panic or a fatal runtime error: a goroutine dump after it
// can be longer than the tail.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	fatal string
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fatal == "" {
		for _, l := range strings.Split(string(p), "\n") {
			if l = strings.TrimSpace(l); CrashLine(l) {
				t.fatal = l
				break
			}
		}
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// CrashLine reports whether a line of a plugin's stderr starts a Go
// runtime's crash report: a panic, a fatal error, or the death of a
// process that could not start a thread or took a signal (under an
// address-space limit a thread's stack may be what fails to map, and the
// runtime then aborts with "runtime/cgo: pthread_create failed" and a
// register dump rather than "fatal error: runtime: out of memory").
func CrashLine(l string) bool {
	for _, p := range []string{"panic:", "fatal error:", "runtime: out of memory", "runtime/cgo: pthread_create failed", "runtime: failed to create new OS thread"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	// The runtime's report of a fatal signal: "SIGSEGV: segmentation
	// violation", "SIGABRT: abort", ...
	sig, _, ok := strings.Cut(l, ": ")
	return ok && slices.Contains([]string{"SIGABRT", "SIGBUS", "SIGFPE", "SIGILL", "SIGQUIT", "SIGSEGV", "SIGSYS", "SIGTRAP"}, sig)
}

// Limits of what suffix quotes from a plugin's stderr: a traceback or a
// log loop must not flood the one line an error is.
const (
	tailLines    = 3
	tailLineRune = 160
)

// suffix renders what the process said last as a short addition to an
// error: its panic or fatal error if any, else its last few non-log
// lines (at most tailLines, each cut at tailLineRune characters, a line
// repeated in a row given once), on one line.
func (t *tailBuffer) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fatal != "" {
		return ": " + Printable(t.fatal)
	}
	lines := strings.Split(string(bytes.TrimSpace(t.buf)), "\n")
	var last []string
	for i := len(lines) - 1; i >= 0 && len(last) < tailLines; i-- {
		// JSON lines are the plugin's own log, already forwarded.
		s := strings.TrimSpace(lines[i])
		if s == "" || strings.HasPrefix(s, "{") {
			continue
		}
		if r := []rune(s); len(r) > tailLineRune {
			s = string(r[:tailLineRune]) + "..."
		}
		if len(last) > 0 && last[len(last)-1] == s {
			continue
		}
		last = append(last, s)
	}
	switch len(last) {
	case 0:
		return ""
	case 1:
		return ": last stderr line: " + Printable(last[0])
	}
	slices.Reverse(last)
	return ": last stderr lines: " + Printable(strings.Join(last, " | "))
}
