// Package rundiff compares two run directories result for result: the
// check behind "a resumed run is the run that was never interrupted".
// Every file must match byte for byte, except fields that record wall
// time, which are left out: charts/SPS in the scalars, seconds in the
// topology records and latest.json, timings.json, and the wall time and
// file names of TensorBoard events (their (step, tag, value) multiset
// must match). report.html and plots/ are left out: they are drawn from
// the compared records (and SPS).
package rundiff

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/tbevents"
)

// wallFields are the JSON keys and CSV columns that hold wall time.
var wallFields = map[string]bool{"charts/SPS": true, "seconds": true}

// Diff lists the differences between run directories a and b, at most a
// few per file; none means the runs wrote the same results.
func Diff(a, b string) ([]string, error) {
	fa, err := files(a)
	if err != nil {
		return nil, err
	}
	fb, err := files(b)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rel := range union(fa, fb) {
		if !fa[rel] || !fb[rel] {
			where := a
			if !fb[rel] {
				where = b
			}
			out = append(out, fmt.Sprintf("%s: missing in %s", rel, where))
			continue
		}
		x, err := os.ReadFile(filepath.Join(a, rel))
		if err != nil {
			return nil, err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return nil, err
		}
		if d := diffFile(rel, x, y); d != "" {
			out = append(out, rel+": "+d)
		}
	}
	ea, err := events(a)
	if err != nil {
		return nil, err
	}
	eb, err := events(b)
	if err != nil {
		return nil, err
	}
	if len(ea) != len(eb) {
		out = append(out, fmt.Sprintf("tb: %d scalar events vs %d", len(ea), len(eb)))
	} else {
		for i := range ea {
			if ea[i] != eb[i] {
				out = append(out, fmt.Sprintf("tb: event %d: %s vs %s", i, ea[i], eb[i]))
				break
			}
		}
	}
	return out, nil
}

// files lists the files of a run directory that are compared as files.
func files(dir string) (map[string]bool, error) {
	m := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel == "tb" || rel == "plots" {
				return filepath.SkipDir
			}
			return nil
		}
		// transport.json says how the host spoke to its plugins, which a
		// resume may change (--in-process), and provenance.json gains a
		// record per start: neither is what the run computed.
		if rel == "timings.json" || rel == "report.html" || rel == "transport.json" || rel == "provenance.json" {
			return nil
		}
		m[rel] = true
		return nil
	})
	return m, err
}

func union(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if !a[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// diffFile compares one file's content, or says how it differs.
func diffFile(rel string, x, y []byte) string {
	switch {
	case strings.HasSuffix(rel, ".jsonl"):
		return diffLines(stripJSONLines(x), stripJSONLines(y))
	case strings.HasSuffix(rel, ".csv"):
		return diffLines(stripCSV(x), stripCSV(y))
	case rel == filepath.Join("checkpoints", "latest.json"):
		return diffLines(stripJSONLines(x), stripJSONLines(y))
	}
	if !bytes.Equal(x, y) {
		return fmt.Sprintf("contents differ (%d vs %d bytes)", len(x), len(y))
	}
	return ""
}

func diffLines(x, y []string) string {
	if len(x) != len(y) {
		return fmt.Sprintf("%d records vs %d", len(x), len(y))
	}
	for i := range x {
		if x[i] != y[i] {
			return fmt.Sprintf("record %d differs:\n  %s\n  %s", i+1, x[i], y[i])
		}
	}
	return ""
}

// stripJSONLines re-encodes each JSON value of b without wall-time
// fields, at any depth.
func stripJSONLines(b []byte) []string {
	var out []string
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			if err.Error() != "EOF" {
				out = append(out, "unreadable: "+err.Error())
			}
			return out
		}
		s, _ := json.Marshal(strip(v))
		out = append(out, string(s))
	}
}

func strip(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k := range t {
			if wallFields[k] {
				delete(t, k)
			} else {
				t[k] = strip(t[k])
			}
		}
	case []any:
		for i := range t {
			t[i] = strip(t[i])
		}
	}
	return v
}

// stripCSV returns the rows of a CSV file without wall-time columns.
func stripCSV(b []byte) []string {
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return []string{"unreadable: " + err.Error()}
	}
	if len(rows) == 0 {
		return nil
	}
	var keep []int
	for i, h := range rows[0] {
		if !wallFields[h] {
			keep = append(keep, i)
		}
	}
	out := make([]string, len(rows))
	for r, row := range rows {
		var f []string
		for _, i := range keep {
			if i < len(row) {
				f = append(f, row[i])
			}
		}
		out[r] = strings.Join(f, ",")
	}
	return out
}

// events returns every scalar of a run's TensorBoard files as "step tag
// value", sorted: the order in which snapshot workers and training
// interleave their events is not a result.
func events(dir string) ([]string, error) {
	paths, _ := filepath.Glob(filepath.Join(dir, "tb", "*tfevents*"))
	var out []string
	for _, p := range paths {
		evs, err := tbevents.Read(p)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			for _, v := range e.Values {
				if wallFields[v.Tag] {
					continue
				}
				out = append(out, fmt.Sprintf("%d %s %v", e.Step, v.Tag, v.Value))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
