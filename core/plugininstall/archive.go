package plugininstall

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// isArchive tells an archive by its name.
func isArchive(p string) bool {
	l := strings.ToLower(p)
	return strings.HasSuffix(l, ".tar.gz") || strings.HasSuffix(l, ".tgz") || strings.HasSuffix(l, ".zip")
}

// entry is one member of an archive, whatever its format.
type entry struct {
	name string
	mode os.FileMode
	dir  bool
	link string // a symbolic link's target; "" otherwise
	open func() (io.ReadCloser, error)
}

// unpack extracts the archive at file into the new folder dst. Members
// must stay inside dst (no absolute names, no "..", no link leading
// out), and the whole must stay within maxArchiveBytes and
// maxArchiveFiles: an archive is outside data.
func unpack(file, dst string) error {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return err
	}
	var total int64
	n := 0
	put := func(e entry) error {
		n++
		if n > maxArchiveFiles {
			return fmt.Errorf("more than %d members", maxArchiveFiles)
		}
		clean := path.Clean(strings.TrimPrefix(e.name, "./"))
		if clean == "." {
			return nil
		}
		if path.IsAbs(e.name) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("member %q leaves the archive's folder", e.name)
		}
		to := filepath.Join(dst, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		switch {
		case e.dir:
			return os.MkdirAll(to, 0o755)
		case e.link != "":
			target := path.Join(path.Dir(clean), e.link)
			if path.IsAbs(e.link) || target == ".." || strings.HasPrefix(target, "../") {
				return fmt.Errorf("member %q links outside the archive's folder (%s)", e.name, e.link)
			}
			return os.Symlink(e.link, to)
		}
		r, err := e.open()
		if err != nil {
			return err
		}
		defer r.Close()
		out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, e.mode.Perm()&0o755|0o600)
		if err != nil {
			return err
		}
		// Counted as it is written: a member's declared size is not trusted.
		w, err := io.Copy(out, io.LimitReader(r, maxArchiveBytes-total+1))
		total += w
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if total > maxArchiveBytes {
			return fmt.Errorf("unpacks to more than %d MiB", maxArchiveBytes>>20)
		}
		return nil
	}
	if strings.HasSuffix(strings.ToLower(file), ".zip") {
		z, err := zip.OpenReader(file)
		if err != nil {
			return fmt.Errorf("not a zip archive: %v", err)
		}
		defer z.Close()
		for _, f := range z.File {
			m := f.Mode()
			e := entry{name: f.Name, mode: m, dir: m.IsDir(), open: f.Open}
			if m&os.ModeSymlink != 0 {
				r, err := f.Open()
				if err != nil {
					return err
				}
				b, _ := io.ReadAll(io.LimitReader(r, 4096))
				r.Close()
				e.link = string(b)
			} else if !m.IsDir() && !m.IsRegular() {
				continue
			}
			if err := put(e); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("not a gzip-compressed tar archive: %v", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar: %v", err)
		}
		e := entry{name: h.Name, mode: os.FileMode(h.Mode), open: func() (io.ReadCloser, error) { return io.NopCloser(tr), nil }}
		switch h.Typeflag {
		case tar.TypeDir:
			e.dir = true
		case tar.TypeSymlink:
			e.link = h.Linkname
		case tar.TypeReg:
		default:
			continue // devices, FIFOs, hard links: not part of a plugin
		}
		if err := put(e); err != nil {
			return err
		}
	}
}

// topFolder descends into dir while it holds nothing but one folder, as
// `tar czf x.tar.gz folder` makes.
func topFolder(dir string) string {
	for {
		ents, err := os.ReadDir(dir)
		if err != nil || len(ents) != 1 || !ents[0].IsDir() {
			return dir
		}
		dir = filepath.Join(dir, ents[0].Name())
	}
}
