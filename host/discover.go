package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// pluginDirs returns the folders searched for plugin binaries, in order of
// precedence: --plugin-dir (a list separated by the OS path separator),
// the folder of the nthost binary (the project's own bin), then
// $NT_PLUGIN_DIR (same form). The environment comes after nthost's own
// folder so that a variable set elsewhere can add plugins but not silently
// replace the project's; an explicit --plugin-dir still can. ./bin of the
// current folder is not searched: any folder nthost is started in could
// plant a binary there.
func pluginDirs(flagDir string) []string {
	var dirs []string
	add := func(d string) {
		if d == "" {
			return
		}
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		for _, x := range dirs {
			if x == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	for _, d := range filepath.SplitList(flagDir) {
		add(d)
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		add(filepath.Dir(exe))
	}
	for _, d := range filepath.SplitList(os.Getenv("NT_PLUGIN_DIR")) {
		add(d)
	}
	return dirs
}

// found is one plugin binary on disk.
type found struct {
	Kind sdk.Kind
	Name string
	Path string
}

// discover lists the plugin binaries in dirs; when two folders hold the
// same kind and name, the earlier folder wins.
func discover(dirs []string) []found {
	seen := map[string]bool{}
	var out []found
	for _, d := range dirs {
		if worldWritable(d) {
			continue // anyone could plant a binary there
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			kind, name, ok := sdk.ParseBinaryName(e.Name())
			if !ok || e.IsDir() {
				continue
			}
			p := filepath.Join(d, e.Name())
			if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 || st.Mode()&0o002 != 0 {
				continue
			}
			key := string(kind) + "/" + name
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, found{Kind: kind, Name: name, Path: p})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// findPlugin returns the binary for kind and name, or an error that says
// where it looked and what it found instead.
func findPlugin(dirs []string, kind sdk.Kind, name string) (string, error) {
	var others []string
	for _, f := range discover(dirs) {
		if f.Kind != kind {
			continue
		}
		if f.Name == name {
			return f.Path, nil
		}
		others = append(others, f.Name)
	}
	for _, d := range dirs {
		if worldWritable(d) {
			others = append(others, "(refused world-writable folder "+d+")")
		}
	}
	have := "none"
	if len(others) > 0 {
		have = strings.Join(others, ", ")
	}
	return "", fmt.Errorf("%s plugin %q not found: no executable nt-%s-%s in %s (available %s plugins: %s; `make build` builds ours into ./bin)",
		kind, name, kind, name, strings.Join(dirs, ", "), kind, have)
}

// worldWritable reports whether anyone may write in folder d: plugins
// there are refused, as any local user could replace them.
func worldWritable(d string) bool {
	st, err := os.Stat(d)
	return err == nil && st.Mode()&0o002 != 0
}
