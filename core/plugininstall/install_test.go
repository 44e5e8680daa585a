package plugininstall

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// repo is the repository's root, two folders up.
func repo(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// describeCheck starts the staged plugin as the host does and checks
// what it describes against its file name (sdk.Open does).
func describeCheck(ctx context.Context, bin string) error {
	c, err := sdk.Open(ctx, bin, sdk.OpenOptions{NoRestart: true})
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

// goEnv is an environment for the go command that cannot reach the
// network: modules come from the file-system proxies given (the test's
// own, then this machine's module cache, which has the layout of a
// proxy), into a module cache of the test's, without the checksum
// database.
func goEnv(t *testing.T, proxies ...string) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, p := range append(proxies, filepath.Join(strings.TrimSpace(string(out)), "cache", "download")) {
		urls = append(urls, "file://"+p)
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "GOPROXY" && k != "GOMODCACHE" && k != "GOFLAGS" && k != "GOSUMDB" && k != "GONOSUMDB" && k != "GOPRIVATE" {
			env = append(env, kv)
		}
	}
	return append(env, "GOPROXY="+strings.Join(urls, ","), "GOMODCACHE="+filepath.Join(t.TempDir(), "modcache"),
		"GOFLAGS=-modcacherw -trimpath", "GOSUMDB=off", "GOTOOLCHAIN=local")
}

// publish lays out module mod at version v from folder src in a
// file-system module proxy (the GOPROXY protocol: list, .info, .mod,
// .zip under MODULE/@v/).
func publish(t *testing.T, proxy, mod, v, src string) {
	t.Helper()
	at := filepath.Join(proxy, filepath.FromSlash(mod), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": v, "Time": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Format(time.RFC3339)})
	os.WriteFile(filepath.Join(at, "list"), []byte(v+"\n"), 0o644)
	os.WriteFile(filepath.Join(at, v+".info"), info, 0o644)
	os.WriteFile(filepath.Join(at, v+".mod"), gomod, 0o644)
	f, err := os.Create(filepath.Join(at, v+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	var files []string
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	for _, p := range files {
		rel, _ := filepath.Rel(src, p)
		w, err := z.Create(mod + "@" + v + "/" + filepath.ToSlash(rel))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		w.Write(b)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// pluginModule writes the Manhattan example plugin as module mod
// requiring the sdk at sdkVersion, with replace (when sdkDir is given)
// or without (resolved through the proxy).
func pluginModule(t *testing.T, dir, mod, sdkVersion, sdkDir string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	src, err := os.ReadFile(filepath.Join(repo(t), "examples", "nt-dist-manhattan", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := fmt.Sprintf("module %s\n\ngo 1.26.0\n\nrequire github.com/neuraltopology/neuraltopology/sdk %s\n", mod, sdkVersion)
	if sdkDir != "" {
		gomod += "\nreplace github.com/neuraltopology/neuraltopology/sdk => " + sdkDir + "\n"
	}
	os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644)
}

// A Go module path with a version is installed with `go install`
// through a real module proxy (a file-system GOPROXY holding the
// repository's sdk as v0.1.0 and the plugin as v1.2.3): the binary is
// nt-dist-manhattan in the plugin folder, and it starts and describes
// itself. A version the proxy does not have installs nothing.
func TestInstallGoModuleThroughProxy(t *testing.T) {
	work := t.TempDir()
	proxy := filepath.Join(work, "proxy")
	const sdkMod, sdkV = "github.com/neuraltopology/neuraltopology/sdk", "v" + sdk.Version
	publish(t, proxy, sdkMod, sdkV, filepath.Join(repo(t), "sdk"))
	env := goEnv(t, proxy)
	const mod = "example.com/plug/nt-dist-manhattan"
	src := filepath.Join(work, "src")
	pluginModule(t, src, mod, sdkV, "")
	// The plugin's go.sum, as its author's `go mod tidy` would write it.
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir, tidy.Env = src, env
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	publish(t, proxy, mod, "v1.2.3", src)

	dir := filepath.Join(work, "plugins")
	os.Mkdir(dir, 0o755)
	res, err := Install(context.Background(), mod+"@v1.2.3", Options{Dir: dir, Env: env, Check: describeCheck})
	if err != nil {
		t.Fatal(err)
	}
	if res.Built != "go install" || res.Path != filepath.Join(dir, "nt-dist-manhattan") || res.Kind != sdk.KindDist || res.Name != "manhattan" {
		t.Fatalf("result %+v", res)
	}
	c, err := sdk.Open(context.Background(), res.Path, sdk.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := c.Dist()
	r, err := d.Compute(context.Background(), sdk.Matrix{Rows: 2, Cols: 2, Data: []float64{0, 0, 1, 2}}, nil)
	c.Close()
	if err != nil || r.Distances.At(0, 1) != 3 {
		t.Fatalf("the installed plugin computes %v, %v; want L1 distance 3", r.Distances.Data, err)
	}
	onlyPlugin(t, dir, "nt-dist-manhattan")

	_, err = Install(context.Background(), mod+"@v9.9.9", Options{Dir: dir, Env: env, Check: describeCheck})
	if err == nil || !strings.Contains(err.Error(), "go install "+mod+"@v9.9.9") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("an unknown version: want one line naming it, got %v", err)
	}
	onlyPlugin(t, dir, "nt-dist-manhattan")
}

// onlyPlugin checks that dir holds exactly the files named, no staging
// leftovers.
func onlyPlugin(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

// targz writes the folder src as a .tar.gz whose members start with
// top/, plus extra members given as name -> body.
func targz(t *testing.T, file, src, top string, extra map[string]string) {
	t.Helper()
	f, _ := os.Create(file)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		b, _ := os.ReadFile(p)
		st, _ := d.Info()
		tw.WriteHeader(&tar.Header{Name: top + "/" + filepath.ToSlash(rel), Mode: int64(st.Mode().Perm()), Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
		return nil
	})
	for name, body := range extra {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	f.Close()
}

// Archives: a .tar.gz of a Go module folder is built and installed; a
// .zip of a folder holding a launcher script is copied whole beside the
// link the host discovers; an archive with a member leaving its folder,
// and a plugin that fails its check, install nothing.
func TestInstallArchivesAndFolders(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "plugins")
	os.Mkdir(dir, 0o755)
	src := filepath.Join(work, "src")
	pluginModule(t, src, "example.com/plug/nt-dist-manhattan", "v0.0.0", filepath.Join(repo(t), "sdk"))
	tgz := filepath.Join(work, "manhattan.tar.gz")
	targz(t, tgz, src, "nt-dist-manhattan-0.1.0", nil)
	res, err := Install(context.Background(), tgz, Options{Dir: dir, Check: describeCheck})
	if err != nil {
		t.Fatal(err)
	}
	if res.Built != "go build" || res.Name != "manhattan" {
		t.Fatalf("result %+v", res)
	}

	// A launcher folder (as a Python plugin's): copied, and the link
	// runs the launcher in its own folder.
	py := filepath.Join(work, "launcher")
	os.MkdirAll(filepath.Join(py, "pb"), 0o755)
	os.WriteFile(filepath.Join(py, "nt-ph-echo"), []byte("#!/bin/sh\nexec cat \"$(dirname \"$(readlink -f \"$0\")\")/pb/data\"\n"), 0o755)
	os.WriteFile(filepath.Join(py, "pb", "data"), []byte("beside the launcher\n"), 0o644)
	zf := filepath.Join(work, "echo.zip")
	{
		f, _ := os.Create(zf)
		z := zip.NewWriter(f)
		for _, m := range []struct {
			name string
			mode os.FileMode
		}{{"nt-ph-echo", 0o755}, {"pb/data", 0o644}} {
			h := &zip.FileHeader{Name: m.name, Method: zip.Deflate}
			h.SetMode(m.mode)
			w, _ := z.CreateHeader(h)
			b, _ := os.ReadFile(filepath.Join(py, m.name))
			w.Write(b)
		}
		z.Close()
		f.Close()
	}
	ran := ""
	res, err = Install(context.Background(), zf, Options{Dir: dir, Check: func(_ context.Context, bin string) error {
		out, err := exec.Command(bin).Output()
		ran = string(out)
		return err
	}})
	if err != nil || res.Built != "copied" || ran != "beside the launcher\n" {
		t.Fatalf("launcher folder: %+v, %v, ran %q", res, err, ran)
	}
	if out, err := exec.Command(filepath.Join(dir, "nt-ph-echo")).Output(); err != nil || string(out) != ran {
		t.Fatalf("the installed launcher: %q, %v", out, err)
	}
	onlyPlugin(t, dir, "nt-dist-manhattan", "nt-ph-echo", "nt-ph-echo.d")

	// Refusals change nothing.
	evil := filepath.Join(work, "evil.tar.gz")
	targz(t, evil, src, "x", map[string]string{"../../escaped": "boo"})
	_, err = Install(context.Background(), evil, Options{Dir: dir, Check: describeCheck})
	if err == nil || !strings.Contains(err.Error(), `member "../../escaped" leaves the archive's folder`) {
		t.Fatalf("an archive escaping its folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(work, "escaped")); err == nil {
		t.Fatal("the escaping member was written")
	}
	_, err = Install(context.Background(), py, Options{Dir: dir, Check: func(context.Context, string) error { return fmt.Errorf("refused") }})
	if err == nil || !strings.Contains(err.Error(), "nt-ph-echo failed its check, nothing installed: refused") {
		t.Fatalf("a failed check: %v", err)
	}
	_, err = Install(context.Background(), "example.com/plug/nt-dist-x", Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "needs a version") {
		t.Fatalf("a module path without a version: %v", err)
	}
	onlyPlugin(t, dir, "nt-dist-manhattan", "nt-ph-echo", "nt-ph-echo.d")
}
