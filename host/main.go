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
//	nthost compare --layers ... a network's layer clouds against recordings
//	nthost recording import ... a neural recording (NWB) as a point cloud
//	nthost circular ...         circular coordinates (decode a ring's angle)
//	nthost bench ph ...         homology backends side by side
//	nthost sweep run|status ... a grid of runs, locally or on SLURM
//
// `nthost <command> -h` lists a command's flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	runcore "github.com/neuraltopology/neuraltopology/core/run"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// version is the host's own version, printed by `nthost version` and
// `nthost --version` with the build's commit and Go version.
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
	// describeTo, when set, receives the command's FlagSet and the command
	// stops at parse (cli.go's describe).
	describeTo **pflag.FlagSet
	// synopsis is the described command's usage line (newFlags).
	synopsis string
}

// common are the flags every command takes.
type common struct {
	pluginDir string
	logFormat string
	logLevel  string
	// pluginLock is --plugin-lock; see lockFile.
	pluginLock string
}

func (c *common) register(fs *pflag.FlagSet) {
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
	if v := os.Getenv(sdk.MemoryBudgetEnv); v != "" {
		if b, err := sdk.ParseBytes(v); err != nil || b <= 0 {
			return fmt.Errorf("%s=%s: want a size in bytes, or with K, M, G or T (e.g. 8G)", sdk.MemoryBudgetEnv, v)
		}
	}
	for _, d := range filepath.SplitList(c.pluginDir) {
		if st, err := os.Stat(d); d != "" && (err != nil || !st.IsDir()) {
			return fmt.Errorf("--plugin-dir %s: not a folder", d)
		}
	}
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

// commands maps a subcommand to its implementation; purposes (cli.go)
// holds the line `nthost -h` shows for it.
var commands = map[string]func(ctx context.Context, a *app, args []string) error{
	"run":       cmdRun,
	"plugins":   cmdPlugins,
	"plugin":    cmdPlugin,
	"dist":      cmdDist,
	"tda":       cmdTDA,
	"env":       cmdEnv,
	"report":    cmdReport,
	"compare":   cmdCompare,
	"recording": cmdRecording,
	"circular":  cmdCircular,
	"plot":      cmdPlot,
	"bench":     cmdBench,
	"sweep":     cmdSweep,
	"version":   cmdVersion,
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &app{stdout: os.Stdout, stderr: os.Stderr, log: zerolog.New(os.Stderr)}
	a.watchSignals(cancel)
	// A host killed with SIGKILL could not remove its plugin socket
	// folder; this one removes such leftovers of this user's dead hosts.
	sdk.RemoveStaleSocketDirs(os.TempDir())
	err := execute(ctx, a, os.Args[1:])
	a.closeAll()
	sdk.RemoveSocketDir()
	switch {
	case err == nil:
	case errors.Is(err, errHelpShown):
		// Help was asked for and printed.
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
// log expects, with control characters (a plugin's or a file name's
// terminal escapes) shown escaped.
func oneLine(s string) string {
	return sdk.Printable(strings.Join(strings.Fields(s), " "))
}
