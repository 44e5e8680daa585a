// Package plugininstall puts a plugin into a plugin folder from where it
// is published: a local folder (a Go module, built with `go build`, or a
// folder holding a launcher nt-<kind>-<name>, such as a Python plugin,
// copied), a .tar.gz or .zip of such a folder, or a Go module path with
// a version (`go install` through the Go module proxy). The plugin is
// staged in the folder, started and checked by the caller, and only
// then moved to its final name, so a plugin that does not build or
// start leaves the folder as it was.
package plugininstall

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Options tune Install.
type Options struct {
	// Dir is the plugin folder to install into; it must exist.
	Dir string
	// Go is the go command (default: "go" from PATH).
	Go string
	// Env is the environment of the go command (nil: this process's).
	Env []string
	// Check is called on the staged plugin binary before it is moved
	// into place; an error stops the installation. It typically starts
	// the plugin and checks what it describes.
	Check func(ctx context.Context, bin string) error
}

// Result is an installed plugin.
type Result struct {
	Kind sdk.Kind
	Name string
	// Path is the plugin's binary (or launcher) in Dir.
	Path string
	// Built says how: "go build", "go install" or "copied".
	Built string
}

// Limits of what an archive may unpack to.
const (
	maxArchiveBytes = 1 << 30
	maxArchiveFiles = 20000
)

// modulePath matches a Go module path with a version: host/path@vX.Y.Z
// (or a pseudo-version, or "latest").
var modulePath = regexp.MustCompile(`^[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}(/[A-Za-z0-9._~+-]+)+@[A-Za-z0-9._+-]+$`)

// Install installs the plugin source names into opt.Dir.
func Install(ctx context.Context, source string, opt Options) (Result, error) {
	if st, err := os.Stat(opt.Dir); err != nil || !st.IsDir() {
		return Result{}, fmt.Errorf("plugin install: %s is not a folder", opt.Dir)
	}
	// The go command runs in other folders.
	dir, err := filepath.Abs(opt.Dir)
	if err != nil {
		return Result{}, err
	}
	opt.Dir = dir
	stage, err := os.MkdirTemp(opt.Dir, ".install-")
	if err != nil {
		return Result{}, fmt.Errorf("plugin install: %v", err)
	}
	defer os.RemoveAll(stage)
	var res Result
	st, statErr := os.Stat(source)
	switch {
	case statErr == nil && st.IsDir():
		res, err = fromFolder(ctx, source, stage, opt)
	case statErr == nil && isArchive(source):
		src := filepath.Join(stage, "src")
		if err = unpack(source, src); err != nil {
			return Result{}, fmt.Errorf("plugin install: %s: %v", source, err)
		}
		res, err = fromFolder(ctx, topFolder(src), stage, opt)
	case statErr == nil:
		return Result{}, fmt.Errorf("plugin install: %s is neither a folder nor a .tar.gz, .tgz or .zip archive", source)
	case modulePath.MatchString(source):
		res, err = fromModule(ctx, source, stage, opt)
	case strings.Contains(source, "@") || strings.Count(source, "/") >= 2 && !strings.HasPrefix(source, "."):
		return Result{}, fmt.Errorf("plugin install: %q: a Go module needs a version, e.g. example.com/you/nt-dist-foo@v1.2.3 (or @latest)", source)
	default:
		return Result{}, fmt.Errorf("plugin install: %s: %v", source, statErr)
	}
	if err != nil {
		return Result{}, err
	}
	staged := filepath.Join(stage, filepath.Base(res.Path))
	if opt.Check != nil {
		if err := opt.Check(ctx, staged); err != nil {
			return Result{}, fmt.Errorf("plugin install: %s failed its check, nothing installed: %v", filepath.Base(staged), err)
		}
	}
	if err := place(stage, filepath.Base(res.Path), opt.Dir); err != nil {
		return Result{}, fmt.Errorf("plugin install: %v", err)
	}
	res.Path = filepath.Join(opt.Dir, filepath.Base(res.Path))
	return res, nil
}

// binName checks that a plugin's file name is nt-<kind>-<name>.
func binName(bin, from string) (sdk.Kind, string, error) {
	kind, name, ok := sdk.ParseBinaryName(bin)
	if !ok {
		return "", "", fmt.Errorf("plugin install: %s: the plugin's binary would be named %q, not nt-<kind>-<name> with kind one of %v (a Go module's last path element names its binary)", from, bin, sdk.Kinds)
	}
	return kind, name, nil
}

// fromFolder builds a Go module folder into stage, or copies a folder
// holding exactly one launcher nt-<kind>-<name> into stage as
// <launcher>.d, with <launcher> a symbolic link into it.
func fromFolder(ctx context.Context, dir, stage string, opt Options) (Result, error) {
	if mod, err := moduleName(filepath.Join(dir, "go.mod")); err == nil {
		bin := path.Base(mod)
		if regexp.MustCompile(`^v[0-9]+$`).MatchString(bin) {
			bin = path.Base(path.Dir(mod))
		}
		kind, name, err := binName(bin, dir)
		if err != nil {
			return Result{}, err
		}
		out := filepath.Join(stage, bin)
		// -mod=mod: a project without its go.sum (as `nthost plugin
		// new` writes it) gets one, as its own Makefile would.
		if err := goCmd(ctx, opt, dir, nil, "build", "-mod=mod", "-o", out, "."); err != nil {
			return Result{}, fmt.Errorf("plugin install: go build in %s: %v", dir, err)
		}
		return Result{Kind: kind, Name: name, Path: out, Built: "go build"}, nil
	} else if !os.IsNotExist(err) {
		return Result{}, fmt.Errorf("plugin install: %v", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return Result{}, fmt.Errorf("plugin install: %v", err)
	}
	var launchers []string
	for _, e := range ents {
		if _, _, ok := sdk.ParseBinaryName(e.Name()); ok && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil && info.Mode()&0o111 != 0 {
				launchers = append(launchers, e.Name())
			}
		}
	}
	if len(launchers) != 1 {
		return Result{}, fmt.Errorf("plugin install: %s has no go.mod and %d executable files named nt-<kind>-<name> (%s); want a Go module or a folder with one plugin launcher", dir, len(launchers), strings.Join(launchers, ", "))
	}
	bin := launchers[0]
	kind, name, _ := sdk.ParseBinaryName(bin)
	if err := copyTree(dir, filepath.Join(stage, bin+".d")); err != nil {
		return Result{}, fmt.Errorf("plugin install: copying %s: %v", dir, err)
	}
	if err := os.Symlink(filepath.Join(bin+".d", bin), filepath.Join(stage, bin)); err != nil {
		return Result{}, fmt.Errorf("plugin install: %v", err)
	}
	return Result{Kind: kind, Name: name, Path: filepath.Join(stage, bin), Built: "copied"}, nil
}

// fromModule runs `go install module@version` into stage.
func fromModule(ctx context.Context, mod, stage string, opt Options) (Result, error) {
	p, _, _ := strings.Cut(mod, "@")
	bin := path.Base(p)
	if regexp.MustCompile(`^v[0-9]+$`).MatchString(bin) {
		bin = path.Base(path.Dir(p))
	}
	kind, name, err := binName(bin, mod)
	if err != nil {
		return Result{}, err
	}
	gobin := filepath.Join(stage, "gobin")
	// Run outside any module: the folder nthost is started in must not
	// change what is built.
	if err := goCmd(ctx, opt, stage, []string{"GOBIN=" + gobin}, "install", mod); err != nil {
		return Result{}, fmt.Errorf("plugin install: go install %s: %v", mod, err)
	}
	if err := os.Rename(filepath.Join(gobin, bin), filepath.Join(stage, bin)); err != nil {
		return Result{}, fmt.Errorf("plugin install: go install %s made no %s: %v", mod, bin, err)
	}
	return Result{Kind: kind, Name: name, Path: filepath.Join(stage, bin), Built: "go install"}, nil
}

// goCmd runs the go command in dir; its error carries go's last lines.
func goCmd(ctx context.Context, opt Options, dir string, extra []string, args ...string) error {
	bin := opt.Go
	if bin == "" {
		bin = "go"
	}
	if _, err := exec.LookPath(bin); err != nil {
		return fmt.Errorf("installing a Go plugin needs the go command (%v)", err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	env := opt.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(append([]string(nil), env...), extra...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("%v: %s", err, strings.Join(lines[max(0, len(lines)-3):], " | "))
	}
	return nil
}

// moduleName reads the module path of a go.mod.
func moduleName(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s has no module line", file)
}

// place moves stage/bin (and stage/bin.d, for a copied folder) into dir,
// replacing what was there under those names. The folder goes first and
// the binary or link last, so discovery never sees a link into nothing.
func place(stage, bin, dir string) error {
	if _, err := os.Lstat(filepath.Join(stage, bin+".d")); err == nil {
		final := filepath.Join(dir, bin+".d")
		old := filepath.Join(stage, "old.d")
		if _, err := os.Lstat(final); err == nil {
			if err := os.Rename(final, old); err != nil {
				return err
			}
		}
		if err := os.Rename(filepath.Join(stage, bin+".d"), final); err != nil {
			return err
		}
	}
	return os.Rename(filepath.Join(stage, bin), filepath.Join(dir, bin))
}

// copyTree copies the regular files and folders under src to dst,
// keeping their modes; symbolic links are copied as links.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		case d.Type()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, to)
		case d.Type().IsRegular():
			return copyFile(p, to, info.Mode().Perm())
		}
		return nil // sockets, FIFOs: not part of a plugin
	})
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
