package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// cmdPlugins lists every plugin binary found, started once each to ask
// what it is; a binary that fails to start is listed with its error.
func cmdPlugins(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "plugins", "nthost plugins [--plugin-dir DIR]")
	c.register(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := a.setup(c); err != nil {
		return err
	}
	list := discover(a.dirs)
	if len(list) == 0 {
		return fmt.Errorf("no plugins found in %s; `make build` builds ours into ./bin", strings.Join(a.dirs, ", "))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tPROTOCOL\tDESCRIPTION\tCAPABILITIES\tPATH")
	for _, f := range list {
		octx, cancel := context.WithTimeout(ctx, 20*time.Second)
		cl, err := a.open(octx, f.Kind, f.Name)
		cancel()
		if err != nil {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\tERROR: %s\t\t%s\n", f.Kind, f.Name, oneLine(err.Error()), f.Path)
			continue
		}
		i := cl.Info
		var caps []string
		for k, v := range i.Capabilities {
			caps = append(caps, k+"="+v)
		}
		sort.Strings(caps)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", i.Kind, i.Name, i.Version, i.Protocol, i.Description, strings.Join(caps, " "), f.Path)
		cl.Close()
	}
	return tw.Flush()
}
