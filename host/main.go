// Command nthost trains reinforcement-learning agents while watching the
// topology of what their networks compute, and offers the pieces of that
// pipeline as tools of their own. Every moving part (environment,
// algorithm, distance, homology) is a plugin process found by name.
//
// Usage:
//
//	nthost [run] [flags]        train with topology snapshots (the main job)
//	nthost plugins [NAME]       list the plugins found, or one plugin's parameters
//	nthost plugin new|test ...  write a new plugin project; run the conformance kit
//	nthost dist ...             distance matrix of a point cloud file
//	nthost tda ...              persistent homology of a file
//	nthost env rollout ...      run a policy in an environment
//	nthost report RUN_DIR...    rebuild a run's report.html
//	nthost compare A.npz B.npz  distances between persistence diagrams
//	nthost bench ph ...         homology backends side by side
//	nthost sweep run|status ... a grid of runs, locally or on SLURM
//
// `nthost <command> -h` lists a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	runcore "github.com/neuraltopology/neuraltopology/core/run"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// version is the host's own version, printed by `nthost version`.
const version = "0.1.0"

// app is what every command shares: the log, where plugins live, and the
// plugin processes started so far (all stopped on exit).
type app struct {
	log     zerolog.Logger
	dirs    []string
	stdout  io.Writer
	stderr  io.Writer
	clients []*sdk.Client
	// lockFile is the plugin lock in force ("" for none), see lockFile.
	lockFile string
	sig      *signals // SIGINT and SIGTERM handling (signals.go)
}

// common are the flags every command takes.
type common struct {
	pluginDir string
	logFormat string
	logLevel  string
	// pluginLock is --plugin-lock; see lockFile.
	pluginLock string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.pluginDir, "plugin-dir", "", "folder(s) searched first for nt-<kind>-<name> plugin binaries")
	fs.StringVar(&c.logFormat, "log-format", "console", "log format: console or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.pluginLock, "plugin-lock", "", "plugin lock file the binaries must match (default $NT_PLUGIN_LOCK, else "+sdk.LockFileName+" beside nthost if there is one; none: no check)")
}

// setup turns the common flags into the app's log and plugin folders,
// and sets the environment the plugins will inherit (memenv.go).
func (a *app) setup(c common) error {
	lazyFreeForPlugins()
	log, err := newLogger(c.logFormat, c.logLevel, a.stderr)
	if err != nil {
		return err
	}
	a.log = log
	a.dirs = pluginDirs(c.pluginDir)
	a.lockFile, err = lockFile(c.pluginLock)
	if err != nil {
		return err
	}
	if a.lockFile == "" {
		sdk.SetLock(nil)
		return nil
	}
	l, err := sdk.ReadLock(a.lockFile)
	if err != nil {
		return err
	}
	sdk.SetLock(l)
	return nil
}

// lockFile returns the plugin lock that applies, or "" for none: the
// --plugin-lock flag, else $NT_PLUGIN_LOCK, else plugins.lock.json in the
// folder of the nthost binary if it exists (`make build` writes it, so
// the project's own plugins are verified by default). "none" turns the
// check off. A lock named explicitly must exist.
func lockFile(flagFile string) (string, error) {
	f := flagFile
	if f == "" {
		f = os.Getenv("NT_PLUGIN_LOCK")
	}
	switch f {
	case "none":
		return "", nil
	case "":
		d, err := nthostDir()
		if err != nil {
			return "", nil
		}
		def := filepath.Join(d, sdk.LockFileName)
		if _, err := os.Stat(def); err != nil {
			return "", nil
		}
		return def, nil
	}
	if _, err := os.Stat(f); err != nil {
		return "", fmt.Errorf("plugin lock %s: %v (`nthost plugins lock --out %s` writes it; --plugin-lock none runs unverified plugins)", f, err, f)
	}
	return f, nil
}

// nthostDir is the folder of the running nthost binary, symlinks resolved.
func nthostDir() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return filepath.Dir(exe), nil
}

// open finds and starts a plugin; the app stops it on exit.
func (a *app) open(ctx context.Context, kind sdk.Kind, name string) (*sdk.Client, error) {
	return a.openNice(ctx, kind, name, 0)
}

// openNice is open with the plugin process niced by nice (0: not).
func (a *app) openNice(ctx context.Context, kind sdk.Kind, name string, nice int) (*sdk.Client, error) {
	path, err := findPlugin(a.dirs, kind, name)
	if err != nil {
		return nil, err
	}
	c, err := sdk.Open(ctx, path, sdk.OpenOptions{Logger: pluginLogger(a.log), Nice: nice})
	if err != nil {
		return nil, err
	}
	a.clients = append(a.clients, c)
	a.log.Debug().Str("plugin", c.Path).Str("version", c.Info.Version).Msg("plugin started")
	return c, nil
}

// closeAll stops every plugin process this app started.
func (a *app) closeAll() {
	for _, c := range a.clients {
		c.Close()
	}
	a.clients = nil
}

// commands maps a subcommand to its implementation.
var commands = map[string]func(ctx context.Context, a *app, args []string) error{
	"run":     cmdRun,
	"plugins": cmdPlugins,
	"plugin":  cmdPlugin,
	"dist":    cmdDist,
	"tda":     cmdTDA,
	"env":     cmdEnv,
	"report":  cmdReport,
	"compare": cmdCompare,
	"bench":   cmdBench,
	"sweep":   cmdSweep,
	"version": func(_ context.Context, a *app, _ []string) error {
		fmt.Fprintf(a.stdout, "nthost %s (plugin protocol %d)\n", version, sdk.ProtocolVersion)
		return nil
	},
}

// run dispatches args; with no subcommand, or flags first, it is the main
// job, so `nthost --env mujoco --algo ppo --ph rips` trains.
func run(ctx context.Context, a *app, args []string) error {
	name := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		fmt.Fprint(a.stdout, usage)
		return nil
	}
	cmd, ok := commands[name]
	if !ok {
		return fmt.Errorf("unknown command %q; `nthost help` lists the commands", name)
	}
	return cmd(ctx, a, args)
}

const usage = `nthost: train agents and watch the topology of their networks.

  nthost [run] [flags]        train with topology snapshots (the main job)
  nthost plugins [NAME]       list the plugins found, or one plugin's parameters
  nthost plugin new ...       write a new plugin project (Go or Python)
  nthost plugin test BINARY   run the conformance kit against a plugin binary
  nthost dist ...             distance matrix of a point cloud file
  nthost tda ...              persistent homology of a file
  nthost env rollout ...      run a policy in an environment
  nthost report RUN_DIR...    rebuild report.html of one or more runs
  nthost compare A.npz B.npz  distances between persistence diagrams
  nthost bench ph ...         homology backends side by side
  nthost sweep run|status ... a grid of runs, locally or on SLURM
  nthost version

'nthost <command> -h' lists a command's flags.
`

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &app{stdout: os.Stdout, stderr: os.Stderr, log: zerolog.New(os.Stderr)}
	a.watchSignals(cancel)
	// A host killed with SIGKILL could not remove its plugin socket
	// folder; this one removes such leftovers of this user's dead hosts.
	sdk.RemoveStaleSocketDirs(os.TempDir())
	err := run(ctx, a, os.Args[1:])
	a.closeAll()
	sdk.RemoveSocketDir()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.Is(err, runcore.ErrStopped):
		// Stopped cleanly on a signal, with a checkpoint.
		fmt.Fprintln(os.Stderr, "nthost:", oneLine(err.Error()))
		os.Exit(a.exitCode())
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "nthost: interrupted; plugins stopped")
		os.Exit(a.exitCode())
	default:
		fmt.Fprintln(os.Stderr, "nthost:", oneLine(err.Error()))
		os.Exit(1)
	}
}

// oneLine keeps an error to one line, as a user reading a terminal or a CI
// log expects.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newFlags returns a FlagSet for a command that reports errors instead of
// exiting, so main prints them the one way.
func newFlags(a *app, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "usage: %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and rejects stray positional arguments unless the
// command takes some (extra >= 0 allows that many, -1 any number).
func parse(fs *flag.FlagSet, args []string, extra int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if extra >= 0 && fs.NArg() > extra {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(extra))
	}
	return nil
}
