package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// cmdFunc is how a command is written: it parses its own flags
// (newFlags, parse) and does its work.
type cmdFunc = func(ctx context.Context, a *app, args []string) error

// purposes is the line `nthost -h` shows for each command in commands.
var purposes = map[string]string{
	"run":       "train an agent with topology snapshots (the main job; the default command)",
	"tda":       "persistent homology of a point cloud or distance matrix file",
	"dist":      "distance matrix of a point cloud file",
	"compare":   "distances between two files of persistence diagrams, or layer clouds against recordings",
	"recording": "neural recordings (NWB) as point clouds over time",
	"circular":  "circular coordinates: decode the angle of a ring",
	"plot":      "draw a saved persistence diagram (.npz, .json, ripser text) or its barcode",
	"report":    "rebuild report.html of one or more runs, or of a sweep",
	"sweep":     "a grid of runs, locally or on SLURM",
	"bench":     "benchmarks",
	"env":       "environment tools",
	"plugins":   "list the plugins found, or one plugin's parameters",
	"plugin":    "tools for plugin authors",
	"version":   "print version, commit and Go version",
}

// subcommand is the second word of a command that has several.
type subcommand struct {
	name, purpose string
	run           cmdFunc
}

// subcommands lists, for a command with second words, each of them; the
// command's own function still receives any other word.
var subcommands = map[string][]subcommand{
	"sweep": {
		{"run", "run a sweep spec (or continue a sweep directory)", sweepRun},
		{"status", "each trial's state and progress", sweepStatus},
		{"trial", "run one trial (what each local child and SLURM array task runs)", sweepTrial},
	},
	"bench":     {{"ph", "homology backends side by side: time, memory, agreement", cmdBenchPH}},
	"recording": {{"import", "an NWB file's units (or a TimeSeries) as population vectors over time", recordingImport}},
	"env":       {{"rollout", "run a fixed policy in an environment; JSON lines and a GIF", cmdRollout}},
	"plugins":   {{"lock", "write the plugin lock (name, version, checksum of each binary)", cmdPluginsLock}},
	"plugin": {
		{"new", "write a new plugin project (Go or Python) that passes the conformance kit", cmdPluginNew},
		{"test", "run the conformance kit against a plugin binary", cmdPluginTest},
		{"install", "install a plugin from a folder, an archive or a Go module path@version, and lock it", cmdPluginInstall},
	},
}

// commandOrder is the order `nthost -h` lists commands in; commands not
// named here follow in alphabetical order.
var commandOrder = []string{"run", "tda", "dist", "compare", "recording", "circular", "plot", "report", "sweep", "bench", "env", "plugins", "plugin", "version"}

// execute runs the command line args. With no command but flags it is
// `nthost run`, so `nthost --env mujoco --algo ppo --ph rips` trains.
func execute(ctx context.Context, a *app, args []string) error {
	completing := len(args) > 0 && strings.HasPrefix(args[0], cobra.ShellCompRequestCmd)
	root := newRoot(ctx, a, completing)
	if !completing {
		// A run switch given its value as the next word (--capture-video
		// false) must not read as a command.
		args = prepareArgs(root.Flags(), args)
	}
	root.SetArgs(args)
	_, err := root.ExecuteContextC(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command ") {
		return unknownCommand(root, err)
	}
	return err
}

// newRoot builds the command tree. Commands parse their own flags, so
// cobra's parsing is off except when completing a command line, where it
// needs each command's flags (described by running it to its parse).
func newRoot(ctx context.Context, a *app, completing bool) *cobra.Command {
	root := &cobra.Command{
		Use:                "nthost",
		Short:              "train agents and watch the topology of their networks",
		DisableFlagParsing: !completing,
		SilenceErrors:      true,
		SilenceUsage:       true,
		RunE: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) == 0 || len(args) == 1 && isHelp(args[0]):
				rootHelp(a.stdout)
				return nil
			case slices.Contains(args, "--version"):
				return cmdVersion(ctx, a, nil)
			}
			return cmdRun(ctx, a, args)
		},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	// The run flags on the root let cobra tell a switch (--save-clouds)
	// from a flag that takes the next word when it looks for a command
	// after them, and let the shell complete them.
	if fs := describe(cmdRun); fs != nil {
		root.Flags().SetNormalizeFunc(kebab)
		root.Flags().AddFlagSet(fs)
	}
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		run := commands[name]
		cmd := &cobra.Command{
			Use:                name,
			Short:              purpose(name),
			DisableFlagParsing: !completing,
			RunE:               leafRunE(ctx, a, name, run),
		}
		if completing {
			if fs := describe(run); fs != nil {
				cmd.Flags().AddFlagSet(fs)
			}
		}
		for _, sub := range subcommands[name] {
			sc := &cobra.Command{
				Use:                sub.name,
				Short:              sub.purpose,
				DisableFlagParsing: !completing,
				RunE:               leafRunE(ctx, a, name+" "+sub.name, sub.run),
			}
			if completing {
				if fs := describe(sub.run); fs != nil {
					sc.Flags().AddFlagSet(fs)
				}
			}
			cmd.AddCommand(sc)
			cmd.SuggestionsMinimumDistance = 2
		}
		root.AddCommand(cmd)
	}
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		if cmd == root {
			rootHelp(a.stdout)
			return
		}
		// `nthost help X` is `nthost X -h`.
		_ = cmd.RunE(cmd, []string{"--help"})
	})
	return root
}

// leafRunE wraps a command function for cobra. A command that only
// dispatches to its second words lists them when asked for help or given
// none.
func leafRunE(ctx context.Context, a *app, path string, run cmdFunc) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if cmd.HasSubCommands() && describe(run) == nil {
			switch {
			case len(args) == 0 || isHelp(args[0]):
				groupHelp(a.stdout, path, cmd)
				return nil
			case !strings.HasPrefix(args[0], "-"):
				// Not one of cmd's subcommands, or cobra would have
				// chosen it.
				msg := fmt.Sprintf("%s: unknown subcommand %q", path, args[0])
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += "; did you mean " + strings.Join(s, " or ") + "?"
				}
				return fmt.Errorf("%s (nthost %s -h lists them)", msg, path)
			}
		}
		return run(ctx, a, args)
	}
}

// describe runs a command only as far as its flag parsing and returns its
// flags, or nil for a command that defines none (a dispatcher).
func describe(run cmdFunc) *pflag.FlagSet {
	fs, _ := describeWithSynopsis(run)
	return fs
}

// describeWithSynopsis is describe with the command's usage line.
func describeWithSynopsis(run cmdFunc) (*pflag.FlagSet, string) {
	var fs *pflag.FlagSet
	a := &app{stdout: io.Discard, stderr: io.Discard, describeTo: &fs}
	_ = run(context.Background(), a, nil)
	if fs != nil {
		describing.Delete(fs)
	}
	return fs, a.synopsis
}

// purpose is the line `nthost -h` shows for a command: its entry in
// purposes, else its usage line.
func purpose(name string) string {
	if p := purposes[name]; p != "" {
		return p
	}
	if _, syn := describeWithSynopsis(commands[name]); syn != "" {
		return syn
	}
	return "(nthost " + name + " -h)"
}

func isHelp(s string) bool { return s == "-h" || s == "--help" || s == "help" }

// rootHelp is `nthost -h`: every command with its purpose.
func rootHelp(w io.Writer) {
	fmt.Fprint(w, `nthost trains reinforcement-learning agents through plugin processes and
computes the persistent homology of what their networks compute.

usage:
  nthost [run] [flags]          train (nthost run -h lists every training key)
  nthost COMMAND [args] [flags]

commands:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range orderedCommands() {
		subs := subcommands[name]
		if len(subs) == 0 || describe(commands[name]) != nil {
			fmt.Fprintf(tw, "  %s\t%s\n", name, purpose(name))
		}
		for _, s := range subs {
			fmt.Fprintf(tw, "  %s %s\t%s\n", name, s.name, s.purpose)
		}
	}
	fmt.Fprintf(tw, "  completion bash|zsh|fish\t%s\n", "print a shell completion script")
	fmt.Fprintf(tw, "  help COMMAND\t%s\n", "a command's flags, as nthost COMMAND -h")
	tw.Flush()
	fmt.Fprint(w, `
flags:
  -h, --help     this help
      --version  version, commit and Go version

nthost COMMAND -h lists a command's flags; flags may come before or after
arguments. Shell completion: source <(nthost completion bash)
`)
}

// groupHelp lists the second words of a command that has several.
func groupHelp(w io.Writer, name string, cmd *cobra.Command) {
	fmt.Fprintf(w, "%s\n\nusage:\n", purposes[name])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range cmd.Commands() {
		fmt.Fprintf(tw, "  nthost %s %s\t%s\n", name, c.Name(), c.Short)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nnthost %s SUBCOMMAND -h lists its flags.\n", name)
}

// orderedCommands lists the commands in help order.
func orderedCommands() []string {
	var out []string
	for _, n := range commandOrder {
		if _, ok := commands[n]; ok {
			out = append(out, n)
		}
	}
	var rest []string
	for n := range commands {
		if !slices.Contains(out, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// unknownCommand words cobra's unknown-command error as one line with
// its suggestions.
func unknownCommand(root *cobra.Command, err error) error {
	name := err.Error()
	if i := strings.IndexByte(name, '"'); i >= 0 {
		name = name[i+1:]
		if j := strings.IndexByte(name, '"'); j >= 0 {
			name = name[:j]
		}
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := root.SuggestionsFor(name); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return errors.New(msg + " (nthost -h lists the commands)")
}

// cmdVersion prints the host's version, the commit it was built from and
// the Go version, from the build information Go records in the binary.
func cmdVersion(_ context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("version: unexpected argument %q", args[0])
	}
	commit, modified, goVersion := "unknown", "", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				commit = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				modified = " (with uncommitted changes)"
			}
		}
	}
	fmt.Fprintf(a.stdout, "nthost %s (plugin protocol %d)\ncommit %s%s\n%s\n", version, sdk.ProtocolVersion, commit, modified, goVersion)
	return nil
}
