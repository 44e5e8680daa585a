package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/plugininstall"
	"github.com/neuraltopology/neuraltopology/sdk"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// cmdPlugin is for plugin authors: `nthost plugin new` writes a project
// that builds and passes the conformance kit as generated, and `nthost
// plugin test` runs the kit against any plugin binary.
func cmdPlugin(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("plugin: want a subcommand: new, test or install (`nthost plugin new -h`)")
	}
	switch args[0] {
	case "test":
		return cmdPluginTest(ctx, a, args[1:])
	case "new":
		return cmdPluginNew(ctx, a, args[1:])
	case "install":
		return cmdPluginInstall(ctx, a, args[1:])
	}
	return fmt.Errorf("plugin: unknown subcommand %q (want new, test or install)", args[0])
}

// cmdPluginTest runs the conformance checks that apply to what the plugin
// declares, and fails if any fails.
func cmdPluginTest(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "plugin test", "nthost plugin test [--timeout 60s] [--json] BINARY   (a plugin binary nt-<kind>-<name>, in any language)")
	c.register(fs)
	timeout := fs.Duration("timeout", plugintest.DefaultTimeout, "bound on each check; a check past it fails and the plugin is restarted for the next")
	asJSON := fs.Bool("json", false, "print one JSON object per check: name, status (pass, fail, skip), message, duration (seconds)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if *timeout <= 0 {
		return fmt.Errorf("plugin test: --timeout %v: want a duration > 0", *timeout)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("plugin test: want the path of one plugin binary")
	}
	if err := a.setup(c); err != nil {
		return err
	}
	bin, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	if err := trustNamed(a, bin); err != nil {
		return err
	}
	rep, err := plugintest.RunReport(ctx, bin, a.stdout, plugintest.Options{Timeout: *timeout, JSON: *asJSON})
	if err != nil {
		return err
	}
	if len(rep.Failed) > 0 {
		return fmt.Errorf("plugin test: %s failed %d of %d checks: %s", filepath.Base(bin), len(rep.Failed), len(rep.Results), strings.Join(rep.Failed, ", "))
	}
	if !*asJSON {
		fmt.Fprintf(a.stdout, "PASS: %s passed all %d checks\n", filepath.Base(bin), len(rep.Passed))
	}
	return nil
}

// trustNamed lets `nthost plugin test PATH` test the binary it is given
// when the lock in force does not list it: naming it is the author's
// choice, as with a build of one's own. A binary the lock lists with
// another hash is still refused (that is what the lock is for).
func trustNamed(a *app, bin string) error {
	l := sdk.CurrentLock()
	if l == nil {
		return nil
	}
	if _, listed := l.Find(bin); listed {
		return nil
	}
	kind, name, ok := sdk.ParseBinaryName(filepath.Base(bin))
	if !ok {
		return nil // the kit names the problem
	}
	e, err := sdk.NewLockEntry(kind, name, "", bin)
	if err != nil {
		return fmt.Errorf("plugin test: %v", err)
	}
	sdk.SetLock(l.With(e))
	fmt.Fprintf(a.stderr, "nthost: %s is not in the plugin lock %s; testing it as named (`nthost plugins lock --out %s %s` records it for runs)\n", bin, l.File(), l.File(), bin)
	return nil
}

// cmdPluginInstall installs a plugin (core/plugininstall) into the first
// --plugin-dir folder, else nthost's own, after starting it and checking
// what it describes, and adds it to the plugin lock in force (keeping
// every other entry).
func cmdPluginInstall(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "plugin install", "nthost plugin install SOURCE [--plugin-dir DIR]   (SOURCE: a plugin folder (Go module or launcher), a .tar.gz or .zip of one, or a Go module path@version)")
	c.register(fs)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("plugin install: want one SOURCE")
	}
	if err := a.setup(c); err != nil {
		return err
	}
	lock := sdk.CurrentLock()
	dir, _, _ := strings.Cut(c.pluginDir, ":")
	if dir == "" {
		d, err := nthostDir()
		if err != nil {
			return fmt.Errorf("plugin install: cannot find nthost's folder (%v): give --plugin-dir DIR", err)
		}
		dir = d
	}
	// The staged plugin is not in the lock yet: it is started unverified,
	// then locked below.
	sdk.SetLock(nil)
	check := func(ctx context.Context, bin string) error {
		cl, err := sdk.Open(ctx, bin, sdk.OpenOptions{Logger: pluginLogger(a.log), NoRestart: true})
		if err != nil {
			return err
		}
		defer cl.Close()
		var rec recorder
		plugintest.CheckDescribe(&rec, cl.Info)
		if len(rec.errs) > 0 {
			return fmt.Errorf("describe: %s", strings.Join(rec.errs, "; "))
		}
		return nil
	}
	res, err := plugininstall.Install(ctx, fs.Arg(0), plugininstall.Options{Dir: dir, Check: check})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "installed %s (%s) as %s\n", filepath.Base(res.Path), res.Built, res.Path)
	if lock == nil {
		fmt.Fprintf(a.stdout, "no plugin lock in force: not locked\n")
		return nil
	}
	return cmdPluginsLock(ctx, a, []string{"--out", lock.File(), "--log-level", c.logLevel, "--log-format", c.logFormat, res.Path})
}

// recorder collects a conformance check's failures (plugintest.T).
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}
func (r *recorder) Fatalf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Cleanup(func())      {}
