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
// precedence: --plugin-dir, $NT_PLUGIN_DIR (each a list separated by the
// OS path separator), the folder of the nthost binary, and ./bin.
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
	for _, d := range filepath.SplitList(os.Getenv("NT_PLUGIN_DIR")) {
		add(d)
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		add(filepath.Dir(exe))
	}
	add("bin")
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
			if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
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
	have := "none"
	if len(others) > 0 {
		have = strings.Join(others, ", ")
	}
	return "", fmt.Errorf("%s plugin %q not found: no executable nt-%s-%s in %s (available %s plugins: %s; `make build` builds ours into ./bin)",
		kind, name, kind, name, strings.Join(dirs, ", "), kind, have)
}
