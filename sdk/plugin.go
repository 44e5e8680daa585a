package sdk

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the version of the plugin protocol in sdk/proto that
// this sdk's plugins serve. The policy (docs/plugins.md, "Versions"):
// changes to plugin.proto are additive only (new fields, messages and
// RPCs; nothing renamed, renumbered or removed), and the version is bumped
// whenever a plugin may rely on something a host of the previous version
// would not do, e.g. pass it parameters. Hosts keep speaking every earlier
// version (ProtocolVersions), so old plugin binaries keep running; go-plugin
// negotiates the newest version both sides speak at the handshake.
//
// Version 1: the four services. Version 2: declared parameters
// (Info.params), HomologyRequest.params, documented capability keys.
const ProtocolVersion = 2

// ProtocolVersions are the protocol versions a host built with this sdk
// accepts, oldest first.
var ProtocolVersions = []int{1, 2}

// SupportedProtocol reports whether v is one of ProtocolVersions.
func SupportedProtocol(v int) bool {
	for _, x := range ProtocolVersions {
		if x == v {
			return true
		}
	}
	return false
}

// MaxMessageBytes bounds one gRPC message in either direction. gRPC's 4 MB
// default is far too small: a 2,000-point distance matrix is 32 MB of
// float64, and activations of large batches are bigger still.
const MaxMessageBytes = 1 << 30

// Handshake is the go-plugin handshake every NeuralTopology plugin and host
// share. The cookie only guards against running a plugin binary by hand; it
// is not a security feature.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "NEURALTOPOLOGY_PLUGIN",
	MagicCookieValue: "b7e0c3f2-topology-of-learning",
}

// versionedPlugins is the host side's plugin sets, one per protocol version
// it speaks: the shims are the same, as every change is additive.
func versionedPlugins() map[int]plugin.PluginSet {
	m := make(map[int]plugin.PluginSet, len(ProtocolVersions))
	for _, v := range ProtocolVersions {
		m[v] = pluginMap(nil)
	}
	return m
}

// pluginMap returns the go-plugin plugin set, one entry per kind. impl is
// set on the serving side only.
func pluginMap(impl Describer) plugin.PluginSet {
	return plugin.PluginSet{
		string(KindEnv):  &envPlugin{impl: asEnv(impl)},
		string(KindAlgo): &algoPlugin{impl: asAlgo(impl)},
		string(KindDist): &distPlugin{impl: asDist(impl)},
		string(KindPH):   &phPlugin{impl: asPH(impl)},
		string(KindData): &dataPlugin{impl: asData(impl)},
	}
}

func asEnv(d Describer) Environment { e, _ := d.(Environment); return e }
func asAlgo(d Describer) Algorithm  { a, _ := d.(Algorithm); return a }
func asDist(d Describer) Distance   { x, _ := d.(Distance); return x }
func asPH(d Describer) Homology     { h, _ := d.(Homology); return h }
func asData(d Describer) Data       { x, _ := d.(Data); return x }

// KindOf reports which plugin kind impl implements, or an error if it
// implements none or more than one.
func KindOf(impl Describer) (Kind, error) {
	var kinds []Kind
	if asEnv(impl) != nil {
		kinds = append(kinds, KindEnv)
	}
	if asAlgo(impl) != nil {
		kinds = append(kinds, KindAlgo)
	}
	if asDist(impl) != nil {
		kinds = append(kinds, KindDist)
	}
	if asPH(impl) != nil {
		kinds = append(kinds, KindPH)
	}
	if asData(impl) != nil {
		kinds = append(kinds, KindData)
	}
	if len(kinds) != 1 {
		return "", fmt.Errorf("sdk: %T must implement exactly one of Environment, Algorithm, Distance, Homology, Data (implements %v)", impl, kinds)
	}
	return kinds[0], nil
}

// processStderr is the plugin process's real stderr, kept before
// go-plugin's Serve swaps os.Stderr for a pipe: the host parses log lines
// only from the real one.
var processStderr = os.Stderr

var (
	loggerOnce   sync.Once
	pluginLogger hclog.Logger
)

// Logger returns the logger a plugin should use: its lines go to stderr as
// JSON, where the host picks them up and forwards them into its own log
// under the plugin's name, at their level.
func Logger() hclog.Logger {
	loggerOnce.Do(func() {
		pluginLogger = hclog.New(&hclog.LoggerOptions{
			Level:      hclog.Debug,
			Output:     processStderr,
			JSONFormat: true,
		})
	})
	return pluginLogger
}

// UseLogger makes Logger return l. A host that serves built-in plugins in
// its own process calls it before using them, so their log lines join the
// host's log instead of going to stderr as JSON.
func UseLogger(l hclog.Logger) {
	loggerOnce.Do(func() {})
	pluginLogger = l
}

// exitWithParent ends the plugin when the host that started it is gone. A
// host killed with SIGKILL cannot stop its plugins, and go-plugin's server
// would otherwise wait on its socket forever; the kernel then gives the
// orphan a new parent, which is how we notice.
func exitWithParent(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}

// Serve runs impl as a plugin process and never returns. It is the whole
// body of a plugin's main:
//
//	func main() { sdk.Serve(myplugin.New()) }
//
// impl must implement exactly one of Environment, Algorithm, Distance,
// Homology and Data.
func Serve(impl Describer) { serve(impl, ProtocolVersion) }

// serve is Serve speaking protocol version; tests serve an older one to
// stand for a plugin built with an older sdk.
func serve(impl Describer, version int) {
	if _, err := KindOf(impl); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go exitWithParent(os.Getppid(), time.Second)
	// A scheduler (SLURM, systemd) stopping a job sends SIGTERM to every
	// process of it at once; the host then stops cleanly, which needs its
	// plugins to save a checkpoint. So plugins leave SIGTERM to the host,
	// which ends them when it is done (and they exit when it is gone);
	// go-plugin already ignores SIGINT the same way.
	signal.Ignore(syscall.SIGTERM)
	hs := Handshake
	hs.ProtocolVersion = uint(version)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         pluginMap(impl),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes))
			return grpc.NewServer(opts...)
		},
		Logger: Logger(),
	})
}
