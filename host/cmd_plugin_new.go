package main

import (
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// scaffold holds the templates of `nthost plugin new`, one trivial but
// correct plugin per kind and language.
//
//go:embed scaffold
var scaffold embed.FS

// scaffoldFiles maps language and kind to the files written: output name
// -> template. Templates shared by every kind have no kind in their name.
var scaffoldFiles = map[string]map[sdk.Kind]map[string]string{
	"go": {
		sdk.KindDist: {"main.go": "go/dist.go.tmpl"},
		sdk.KindPH:   {"main.go": "go/ph.go.tmpl"},
		sdk.KindEnv:  {"main.go": "go/env.go.tmpl"},
		sdk.KindAlgo: {"main.go": "go/algo.go.tmpl"},
		sdk.KindData: {"main.go": "go/data.go.tmpl"},
	},
	"python": {
		sdk.KindDist: {"plugin.py": "python/dist.py.tmpl", "test_plugin.py": "python/dist_test.py.tmpl"},
		sdk.KindPH:   {"plugin.py": "python/ph.py.tmpl", "test_plugin.py": "python/ph_test.py.tmpl"},
		sdk.KindEnv:  {"plugin.py": "python/env.py.tmpl", "test_plugin.py": "python/env_test.py.tmpl"},
		sdk.KindAlgo: {"plugin.py": "python/algo.py.tmpl", "test_plugin.py": "python/algo_test.py.tmpl"},
	},
}

// scaffoldCommon are the files every project of a language gets.
var scaffoldCommon = map[string]map[string]string{
	"go":     {"go.mod": "go/go.mod.tmpl", "Makefile": "go/Makefile.tmpl", "main_test.go": "go/main_test.go.tmpl"},
	"python": {"Makefile": "python/Makefile.tmpl", "[[.Bin]]": "python/launcher.tmpl"},
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// cmdPluginNew writes a plugin project that builds and passes the
// conformance kit as generated.
func cmdPluginNew(_ context.Context, a *app, args []string) error {
	fs := newFlags(a, "plugin new", "nthost plugin new --kind env|algo|dist|ph|data --name NAME [--lang go|python] [--sdk DIR] DIR")
	kind := fs.String("kind", "", "plugin kind: env, algo, dist, ph or data")
	name := fs.String("name", "", "plugin name: the binary is nt-<kind>-<name>")
	lang := fs.String("lang", "go", "language: go or python")
	sdkDir := fs.String("sdk", "", "the NeuralTopology sdk folder (a checkout's or an unpacked release's sdk/); default: the sdk/ beside nthost's bin/, or for Python the installed ntplugin package")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("plugin new: want the folder to create")
	}
	k := sdk.Kind(*kind)
	files, ok := scaffoldFiles[*lang]
	if !ok {
		return fmt.Errorf("plugin new: --lang %q: want go or python", *lang)
	}
	tmpl, ok := files[k]
	if !ok {
		var have []string
		for _, kk := range sdk.Kinds {
			if _, ok := files[kk]; ok {
				have = append(have, string(kk))
			}
		}
		return fmt.Errorf("plugin new: --kind %q: want one of %s for --lang %s", *kind, strings.Join(have, ", "), *lang)
	}
	if !validName.MatchString(*name) {
		return fmt.Errorf("plugin new: --name %q: want lower-case letters, digits, '.', '_' or '-'", *name)
	}
	sdkPath, err := findSDK(*sdkDir)
	pythonSDK := ""
	switch {
	case err == nil:
		pythonSDK = filepath.Join(sdkPath, "python")
	case *lang == "python" && *sdkDir == "":
		// The generated Makefile then uses the installed ntplugin
		// (python3 -m pip install ./sdk/python).
		err = nil
	}
	if err != nil {
		return err
	}
	dir := fs.Arg(0)
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("plugin new: %s exists and is not empty; nothing written", dir)
	}
	data := struct{ Name, Kind, Bin, SDKDir, PythonSDK string }{*name, *kind, "nt-" + *kind + "-" + *name, sdkPath, pythonSDK}
	all := map[string]string{}
	for out, t := range scaffoldCommon[*lang] {
		all[out] = t
	}
	for out, t := range tmpl {
		all[out] = t
	}
	// Render every file before writing any, so a failure leaves nothing.
	rendered := map[string]string{}
	for out, src := range all {
		out = strings.ReplaceAll(out, "[[.Bin]]", data.Bin)
		body, err := scaffold.ReadFile("scaffold/" + src)
		if err != nil {
			return err
		}
		t, err := template.New(src).Delims("[[", "]]").Parse(string(body))
		if err != nil {
			return fmt.Errorf("plugin new: template %s: %v", src, err)
		}
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			return err
		}
		rendered[out] = b.String()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for out, body := range rendered {
		mode := os.FileMode(0o644)
		if out == data.Bin {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, out), []byte(body), mode); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "wrote a %s %s plugin %q in %s\n", *lang, *kind, *name, dir)
	if *lang == "python" && pythonSDK == "" {
		fmt.Fprintf(a.stdout, "  no sdk found beside nthost: make uses the installed ntplugin package (python3 -m pip install ./sdk/python; docs/plugins.md)\n")
	}
	fmt.Fprintf(a.stdout, "  cd %s && make test    builds %s and runs the conformance kit\n", dir, data.Bin)
	fmt.Fprintf(a.stdout, "  then put %s where nthost looks: --plugin-dir DIR, the folder of nthost, or $NT_PLUGIN_DIR (./bin of the current folder is not searched)\n", data.Bin)
	fmt.Fprintf(a.stdout, "  and use it: nthost --%s %s ...   (docs/plugins.md tells the contract)\n", *kind, *name)
	return nil
}

// findSDK returns the absolute path of the sdk folder: flagDir, or the
// sdk/ beside the folder of the nthost binary (a checkout's bin/).
func findSDK(flagDir string) (string, error) {
	cands := []string{flagDir}
	if flagDir == "" {
		cands = nil
		if exe, err := os.Executable(); err == nil {
			if real, err := filepath.EvalSymlinks(exe); err == nil {
				exe = real
			}
			cands = append(cands, filepath.Join(filepath.Dir(exe), "..", "sdk"))
		}
	}
	for _, c := range cands {
		b, err := os.ReadFile(filepath.Join(c, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/neuraltopology/neuraltopology/sdk") {
			return filepath.Abs(c)
		}
	}
	if flagDir != "" {
		return "", fmt.Errorf("plugin new: --sdk %s: no go.mod of module github.com/neuraltopology/neuraltopology/sdk there", flagDir)
	}
	return "", fmt.Errorf("plugin new: cannot find the sdk beside nthost; give --sdk DIR (the sdk/ folder of a NeuralTopology checkout or release)")
}
