package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/neuraltopology/neuraltopology/sdk"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// cmdPlugin is for plugin authors: `nthost plugin new` writes a project
// that builds and passes the conformance kit as generated, and `nthost
// plugin test` runs the kit against any plugin binary.
func cmdPlugin(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("plugin: want a subcommand: new or test (`nthost plugin new -h`)")
	}
	switch args[0] {
	case "test":
		return cmdPluginTest(ctx, a, args[1:])
	case "new":
		return cmdPluginNew(ctx, a, args[1:])
	}
	return fmt.Errorf("plugin: unknown subcommand %q (want new or test)", args[0])
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
