// Package provenance records what produced a result: the project's
// version (commit and whether the tree was modified, from the build
// information Go stamps into every binary built in a checkout), the Go
// version, each plugin's name, version and SHA-256, and the machine's CPU.
// A run directory keeps one record per start (the first and every resume)
// in provenance.json, so a result can be traced to the code that made it
// and a sweep that mixes versions can say so.
package provenance

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

// File is the name of the provenance file inside a run directory.
const File = "provenance.json"

// Plugin is one plugin a run used.
type Plugin struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"` // what the plugin says of itself
	Path    string `json:"path,omitempty"`    // the binary; empty when linked in
	SHA256  string `json:"sha256,omitempty"`  // of the binary
	// Code lists the files a script launcher declares as the code it
	// runs (a Python plugin's .py files), each with its SHA-256: the
	// launcher's own hash says nothing of them.
	Code      []CodeFile `json:"code,omitempty"`
	Transport string     `json:"transport,omitempty"`
}

// CodeFile is one file of a plugin's declared code: its path relative to
// the launcher's folder and its SHA-256.
type CodeFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// codeDigest is a short digest of a plugin's declared code, empty when
// it declares none.
func (p Plugin) codeDigest() string {
	if len(p.Code) == 0 {
		return ""
	}
	h := sha256.New()
	for _, f := range p.Code {
		fmt.Fprintf(h, "%s %s\n", f.Path, f.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Record is the provenance of one start of a run.
type Record struct {
	Module     string    `json:"module"`
	Version    string    `json:"version"`               // the module version, "(devel)" for a checkout build
	Commit     string    `json:"commit,omitempty"`      // vcs.revision
	CommitTime string    `json:"commit_time,omitempty"` // vcs.time
	Dirty      bool      `json:"dirty"`                 // vcs.modified: built from a tree with uncommitted changes
	GoVersion  string    `json:"go_version"`
	OS         string    `json:"os"`
	Arch       string    `json:"arch"`
	CPUModel   string    `json:"cpu_model,omitempty"`
	Cores      int       `json:"cores"`
	Started    time.Time `json:"started"`
	Resumed    bool      `json:"resumed,omitempty"`
	Plugins    []Plugin  `json:"plugins,omitempty"`
}

// Collect describes this process: its build, the Go version and the
// machine. Plugins are the caller's to fill in.
func Collect(now time.Time) Record {
	r := Record{GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Cores: runtime.NumCPU(), CPUModel: cpuModel(), Started: now.UTC(), Version: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		r.Module = bi.Main.Path
		r.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				r.Commit = s.Value
			case "vcs.time":
				r.CommitTime = s.Value
			case "vcs.modified":
				r.Dirty = s.Value == "true"
			}
		}
	}
	return r
}

// Code names the code that made a record: the short commit, "+dirty" when
// the tree had uncommitted changes, or the module version when the binary
// carries no commit (built outside a checkout, or by go test).
func (r Record) Code() string {
	if r.Commit == "" {
		if r.Version == "" {
			return "unknown"
		}
		return r.Version
	}
	c := r.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if r.Dirty {
		c += "+dirty"
	}
	return c
}

// PluginKey names the plugins' binaries of a record, so two records that
// ran different plugin builds differ: kind/name@sha256 prefix, sorted,
// with "+code:" and a digest of the declared code for a script plugin.
func (r Record) PluginKey() string {
	var ks []string
	for _, p := range r.Plugins {
		h := p.SHA256
		if len(h) > 12 {
			h = h[:12]
		}
		if h == "" {
			h = "in-process"
		}
		if c := p.codeDigest(); c != "" {
			h += "+code:" + c
		}
		ks = append(ks, fmt.Sprintf("%s/%s@%s", p.Kind, p.Name, h))
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// maxFile bounds what Read takes: a record is about a kilobyte, and a
// run has one per start.
const maxFile = 4 << 20

// Read returns the records of a run directory's provenance file, oldest
// first; none (and no error) for a run made before runs recorded it.
func Read(path string) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("%s: larger than %d bytes; not a provenance file", path, maxFile)
	}
	var rs []Record
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

// Append returns the provenance file's content with r added after the
// records in old (the file's current content, empty for a new run).
func Append(old []Record, r Record) ([]byte, error) {
	all := append(append([]Record(nil), old...), r)
	return json.MarshalIndent(all, "", " ")
}

// Codes lists the distinct code versions of records, in first-seen order.
func Codes(rs []Record) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		k := r.Code()
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// cpuModel reads the CPU's model name on Linux; empty elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
