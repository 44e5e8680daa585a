package sdk

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Client is a running plugin process and the typed interface it serves.
type Client struct {
	Path string // the plugin binary
	Name string // the <name> of nt-<kind>-<name>
	Kind Kind
	Info Info // what the plugin said about itself

	pc     *plugin.Client
	impl   Describer
	stderr *tailBuffer
	fast   *fastConn
}

// OpenOptions tune how a plugin is started.
type OpenOptions struct {
	// Logger receives the plugin's log lines; nil discards them.
	Logger hclog.Logger
	// StartTimeout bounds the handshake; 0 means 20 seconds.
	StartTimeout time.Duration
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
		opt.StartTimeout = 20 * time.Second
	}
	cmd, err := command(path, opt.Nice)
	if err != nil {
		return nil, err
	}
	c := &Client{Path: path, Name: name, Kind: kind, stderr: &tailBuffer{max: 4096}}
	c.pc = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          pluginMap(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger.Named(filepath.Base(path)),
		Stderr:           c.stderr,
		StartTimeout:     opt.StartTimeout,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes))},
	})
	rpc, err := c.pc.Client()
	if err != nil {
		c.pc.Kill()
		return nil, fmt.Errorf("plugin %s: start failed: %v%s", filepath.Base(path), err, c.stderr.suffix())
	}
	raw, err := rpc.Dispense(string(kind))
	if err != nil {
		c.pc.Kill()
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
	}
	c.impl = raw.(Describer)
	info, err := c.impl.Describe(ctx)
	if err != nil {
		c.pc.Kill()
		return nil, err
	}
	if err := c.useFastPath(&info); err != nil {
		c.pc.Kill()
		return nil, err
	}
	c.Info = info
	switch {
	case info.Kind != kind:
		err = fmt.Errorf("plugin %s: says it is kind %q, its file name says %q", filepath.Base(path), info.Kind, kind)
	case info.Name != name:
		err = fmt.Errorf("plugin %s: says its name is %q, its file name says %q", filepath.Base(path), info.Name, name)
	case info.Protocol != ProtocolVersion:
		err = fmt.Errorf("plugin %s: speaks protocol %d, this host speaks %d: rebuild the plugin against this sdk", filepath.Base(path), info.Protocol, ProtocolVersion)
	}
	if err != nil {
		c.pc.Kill()
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
		return fmt.Errorf("plugin %s crashed (%v)%s", filepath.Base(c.Path), err, c.stderr.suffix())
	}
	return fmt.Errorf("plugin %s: %w", filepath.Base(c.Path), err)
}

// Pid returns the operating-system process id of the plugin, or 0 when it
// is not running; benchmarks read its memory use from /proc/<pid>.
func (c *Client) Pid() int {
	if rc := c.pc.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Exited reports whether the plugin process has ended.
func (c *Client) Exited() bool { return c.pc.Exited() }

// useFastPath connects to the fast path a plugin advertises (see
// fastpath.go) and takes the advertisement out of its capabilities, which
// describe the plugin, not the transport.
func (c *Client) useFastPath(info *Info) error {
	addr := info.Capabilities[FastPathKey]
	if addr == "" {
		return nil
	}
	caps := make(map[string]string, len(info.Capabilities))
	for k, v := range info.Capabilities {
		if k != FastPathKey {
			caps[k] = v
		}
	}
	info.Capabilities = caps
	if os.Getenv("NT_FASTPATH") == "0" {
		return nil
	}
	f, err := dialFast(addr)
	if err != nil {
		return fmt.Errorf("plugin %s: fast path %s: %v", filepath.Base(c.Path), addr, err)
	}
	c.fast = f
	switch x := c.impl.(type) {
	case *envClient:
		x.fast = f
	case *algoClient:
		x.fast = f
	}
	return nil
}

// Close stops the plugin process, gracefully if it still answers.
func (c *Client) Close() {
	if c.fast != nil {
		c.fast.close()
	}
	c.pc.Kill()
}

// Plugin returns the plugin's interface; assert it to the kind's type, or
// use Env, Algo, Dist or PH.
func (c *Client) Plugin() Describer { return c.impl }

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
	if d := asDist(c.impl); d != nil && c.Kind == KindDist {
		return d, nil
	}
	return nil, c.wrongKind(KindDist)
}

// PH returns the plugin as a Homology backend.
func (c *Client) PH() (Homology, error) {
	if h := asPH(c.impl); h != nil && c.Kind == KindPH {
		return h, nil
	}
	return nil, c.wrongKind(KindPH)
}

func (c *Client) wrongKind(want Kind) error {
	return fmt.Errorf("plugin %s is a %s plugin, not %s", filepath.Base(c.Path), c.Kind, want)
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
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") {
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

// suffix renders what the process said last as a short addition to an
// error: its panic or fatal error if any, else its last non-log line.
func (t *tailBuffer) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fatal != "" {
		return ": " + t.fatal
	}
	lines := strings.Split(string(bytes.TrimSpace(t.buf)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		// JSON lines are the plugin's own log, already forwarded.
		if s := strings.TrimSpace(lines[i]); s != "" && !strings.HasPrefix(s, "{") {
			return ": last stderr line: " + s
		}
	}
	return ""
}
