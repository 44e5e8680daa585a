package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// pluginEntry is one plugin binary found and what it said about itself;
// it is also the JSON form of `nthost plugins --json`.
type pluginEntry struct {
	Kind         sdk.Kind          `json:"kind"`
	Name         string            `json:"name"`
	Path         string            `json:"path"`
	Version      string            `json:"version,omitempty"`
	Protocol     int               `json:"protocol,omitempty"`
	Description  string            `json:"description,omitempty"`
	Capabilities map[string]string `json:"capabilities,omitempty"`
	Params       []paramJSON       `json:"params,omitempty"`
	Error        string            `json:"error,omitempty"`
}

// paramJSON is a declared parameter in `nthost plugins --json`.
type paramJSON struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Default string   `json:"default"`
	Doc     string   `json:"doc"`
	Choices []string `json:"choices,omitempty"`
	// The declared range (sdk.ParamSpec): bounds as text, inclusive
	// unless the *_exclusive says so, and rendered as in the table.
	Min          string `json:"min,omitempty"`
	Max          string `json:"max,omitempty"`
	MinExclusive bool   `json:"min_exclusive,omitempty"`
	MaxExclusive bool   `json:"max_exclusive,omitempty"`
	Range        string `json:"range,omitempty"`
}

// tableWidth is the width `nthost plugins` keeps its table to.
const tableWidth = 100

// cmdPlugins lists every plugin binary found, started once each to ask
// what it is; a binary that fails to start is listed with its error. With
// NAME (a name, or KIND/NAME) it shows that plugin's parameters and
// capabilities.
func cmdPlugins(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 && args[0] == "lock" {
		return cmdPluginsLock(ctx, a, args[1:])
	}
	var c common
	fs := newFlags(a, "plugins", "nthost plugins [--json] [--plugin-dir DIR] [NAME | KIND/NAME] | nthost plugins lock [--out FILE]")
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON: every plugin with its capabilities and parameters")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if err := a.setup(c); err != nil {
		return err
	}
	list := discover(a.dirs)
	if len(list) == 0 {
		return fmt.Errorf("no plugins found in %s; `make build` builds ours into ./bin", strings.Join(a.dirs, ", "))
	}
	if want := fs.Arg(0); want != "" {
		var keep []found
		for _, f := range list {
			if f.Name == want || string(f.Kind)+"/"+f.Name == want {
				keep = append(keep, f)
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("no plugin %q in %s; `nthost plugins` lists them", want, strings.Join(a.dirs, ", "))
		}
		list = keep
	}
	entries := make([]pluginEntry, 0, len(list))
	for _, f := range list {
		entries = append(entries, a.describe(ctx, f))
	}
	switch {
	case *asJSON:
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(entries)
	case fs.Arg(0) != "":
		for i, e := range entries {
			if i > 0 {
				fmt.Fprintln(a.stdout)
			}
			writeDetail(a.stdout, e)
		}
		return nil
	}
	return writeTable(a.stdout, entries)
}

// describe starts one plugin to ask what it is, and stops it.
func (a *app) describe(ctx context.Context, f found) pluginEntry {
	e := pluginEntry{Kind: f.Kind, Name: f.Name, Path: f.Path}
	octx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cl, err := a.open(octx, f.Kind, f.Name)
	if err != nil {
		e.Error = oneLine(err.Error())
		return e
	}
	defer cl.Close()
	i := cl.Info
	e.Version, e.Protocol, e.Description, e.Capabilities = i.Version, i.Protocol, i.Description, i.Capabilities
	for _, p := range i.Params {
		e.Params = append(e.Params, paramJSON{Name: p.Name, Type: string(p.Type), Default: p.Default, Doc: p.Doc, Choices: p.Choices,
			Min: p.Min, Max: p.Max, MinExclusive: p.MinExclusive, MaxExclusive: p.MaxExclusive, Range: p.Range()})
	}
	return e
}

// writeTable prints one line per plugin, the description cut so every
// line fits tableWidth columns; `nthost plugins NAME` shows the rest.
func writeTable(w io.Writer, entries []pluginEntry) error {
	const sep = 2
	head := []string{"KIND", "NAME", "VERSION", "PROTO"}
	widths := make([]int, len(head))
	for k, h := range head {
		widths[k] = len(h)
	}
	rows := make([][]string, len(entries))
	for r, e := range entries {
		proto := "-"
		if e.Protocol > 0 {
			proto = fmt.Sprint(e.Protocol)
		}
		rows[r] = []string{string(e.Kind), e.Name, orDash(e.Version), proto}
		for k, v := range rows[r] {
			widths[k] = max(widths[k], len(v))
		}
	}
	used := 0
	for _, wd := range widths {
		used += wd + sep
	}
	room := max(tableWidth-used, 20)
	line := func(cells []string, desc string) {
		var b strings.Builder
		for k, v := range cells {
			b.WriteString(v + strings.Repeat(" ", widths[k]-len(v)+sep))
		}
		b.WriteString(cut(desc, room))
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(head, "DESCRIPTION")
	for r, e := range entries {
		desc := e.Description
		if e.Error != "" {
			desc = "ERROR: " + e.Error
		}
		line(rows[r], desc)
	}
	fmt.Fprintln(w, "\n`nthost plugins NAME` shows a plugin's parameters, capabilities and path; --json all of it.")
	return nil
}

// writeDetail prints everything one plugin declares.
func writeDetail(w io.Writer, e pluginEntry) {
	fmt.Fprintf(w, "%s plugin %s %s (protocol %d)\n  %s\n  path: %s\n", e.Kind, e.Name, orDash(e.Version), e.Protocol, e.Description, e.Path)
	if e.Error != "" {
		fmt.Fprintf(w, "  ERROR: %s\n", e.Error)
		return
	}
	if len(e.Params) == 0 {
		fmt.Fprintf(w, "parameters: none\n")
	} else {
		fmt.Fprintf(w, "parameters (--%s-param NAME=VALUE, or %s: in a config file):\n", e.Kind, e.Kind+"_params")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tTYPE\tDEFAULT\tRANGE\tDOC")
		for _, p := range e.Params {
			doc := p.Doc
			if len(p.Choices) > 0 {
				doc += " (one of " + strings.Join(p.Choices, ", ") + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, p.Type, orDash(p.Default), orDash(p.Range), doc)
		}
		tw.Flush()
	}
	keys := make([]string, 0, len(e.Capabilities))
	for k := range e.Capabilities {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "capabilities:")
	if len(keys) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, k := range keys {
		fmt.Fprintf(w, "  %s = %s\n", k, e.Capabilities[k])
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cut shortens s to n columns, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// cmdPluginsLock writes the plugin lock: every plugin binary discovery
// finds (or each PATH given), with its kind, name, version (from its
// Info), path and SHA-256. Entries of the lock already there for other
// binaries that still match are kept, so locking a plugin of one's own
// folder does not drop the project's, and the other way round. The file
// is hashed before the plugin is started to ask its version, and again
// after, so a binary that changed meanwhile is not locked.
func cmdPluginsLock(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "plugins lock", "nthost plugins lock [--out FILE] [--plugin-dir DIR] [PATH ...]")
	c.register(fs)
	out := fs.String("out", "", "lock file to write (default: the lock in force, else "+sdk.LockFileName+" beside nthost)")
	if err := parse(fs, args, -1); err != nil {
		return err
	}
	// Where to write: --out, else the lock --plugin-lock or
	// $NT_PLUGIN_LOCK names, else the default beside nthost.
	file := *out
	for _, f := range []string{c.pluginLock, os.Getenv("NT_PLUGIN_LOCK")} {
		if file == "" && f != "none" {
			file = f
		}
	}
	if file == "" {
		d, err := nthostDir()
		if err != nil {
			return fmt.Errorf("plugins lock: cannot find nthost's folder (%v): give --out FILE", err)
		}
		file = filepath.Join(d, sdk.LockFileName)
	}
	// The lock being replaced must not stop us from starting what it
	// would refuse: that is what refreshing it is for.
	c.pluginLock = "none"
	if err := a.setup(c); err != nil {
		return err
	}
	var list []found
	if fs.NArg() > 0 {
		for _, p := range fs.Args() {
			abs, err := filepath.Abs(p)
			if err != nil {
				return err
			}
			kind, name, ok := sdk.ParseBinaryName(filepath.Base(abs))
			if !ok {
				return fmt.Errorf("plugins lock: %s is not named nt-<kind>-<name>", p)
			}
			if st, err := os.Stat(abs); err != nil || !st.Mode().IsRegular() {
				return fmt.Errorf("plugins lock: %s is not a plugin binary (%v)", p, err)
			}
			list = append(list, found{Kind: kind, Name: name, Path: abs})
		}
	} else {
		list = discover(a.dirs)
	}
	if len(list) == 0 {
		return fmt.Errorf("plugins lock: no plugins found in %s", strings.Join(a.dirs, ", "))
	}
	lock := keptEntries(file)
	var skipped []string
	n := 0
	for _, f := range list {
		before, err := sdk.NewLockEntry(f.Kind, f.Name, "", f.Path)
		if err != nil {
			return fmt.Errorf("plugins lock: %v", err)
		}
		version, err := a.describePath(ctx, f.Path)
		if err != nil {
			fmt.Fprintf(a.stderr, "nthost: not locked (it does not start): %s\n", oneLine(err.Error()))
			skipped = append(skipped, filepath.Base(f.Path))
			continue
		}
		after, err := sdk.NewLockEntry(f.Kind, f.Name, version, f.Path)
		if err != nil {
			return fmt.Errorf("plugins lock: %v", err)
		}
		before.Version = version
		if !reflect.DeepEqual(before, after) {
			return fmt.Errorf("plugins lock: %s (or the code it runs) changed while it was being locked; run again once it is built", f.Path)
		}
		lock = lock.With(after)
		n++
	}
	if err := lock.Write(file); err != nil {
		return err
	}
	noun := "plugins"
	if n == 1 {
		noun = "plugin"
	}
	fmt.Fprintf(a.stdout, "locked %d %s in %s (%d in all)\n", n, noun, file, len(lock.Plugins))
	if len(skipped) > 0 {
		return fmt.Errorf("plugins lock: %d plugins did not start and are not locked (they will be refused): %s", len(skipped), strings.Join(skipped, ", "))
	}
	return nil
}

// keptEntries is the lock in file reduced to the entries whose binary
// and code still exist with the recorded hashes (an empty lock if there is none).
func keptEntries(file string) *sdk.Lock {
	kept := &sdk.Lock{Version: sdk.LockVersion}
	old, err := sdk.ReadLock(file)
	if err != nil {
		return kept
	}
	for _, e := range old.Plugins {
		p := e.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(old.File()), p)
		}
		if e.Check(p) == nil {
			e.Path = p
			kept = kept.With(e)
		}
	}
	return kept
}

// describePath starts the plugin binary at path and returns the version
// its Info gives.
func (a *app) describePath(ctx context.Context, path string) (string, error) {
	octx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cl, err := sdk.Open(octx, path, sdk.OpenOptions{Logger: pluginLogger(a.log)})
	if err != nil {
		return "", err
	}
	defer cl.Close()
	return cl.Info.Version, nil
}
