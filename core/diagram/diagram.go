// Package diagram reads and writes persistence diagrams in the formats
// users take to other tools: ripser.py's .npz (dgm0, dgm1, ... as n x 2
// arrays with +inf deaths), JSON with null for an infinite death, and the
// text Debian's ripser prints, so results can be diffed against it.
package diagram

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Sorted returns a copy of ds ordered by dimension, each diagram's pairs
// by birth then death (infinite last), so output is stable whatever order
// a backend found the pairs in.
func Sorted(ds []sdk.Diagram) []sdk.Diagram {
	out := make([]sdk.Diagram, len(ds))
	for i, d := range ds {
		// Sort positions, so that cocycles move with their pairs.
		idx := make([]int, len(d.Pairs))
		for k := range idx {
			idx[k] = k
		}
		q := d.Pairs
		sort.SliceStable(idx, func(a, b int) bool {
			pa, pb := q[idx[a]], q[idx[b]]
			if pa[1] != pb[1] {
				return pa[1] < pb[1]
			}
			return pa[0] < pb[0]
		})
		p := make([][2]float64, len(idx))
		for k, j := range idx {
			p[k] = q[j]
		}
		out[i] = sdk.Diagram{Dim: d.Dim, Pairs: p}
		if len(d.Cocycles) == len(d.Pairs) && len(d.Cocycles) > 0 {
			out[i].Cocycles = make([]sdk.Cocycle, len(idx))
			for k, j := range idx {
				out[i].Cocycles[k] = d.Cocycles[j]
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Dim < out[b].Dim })
	return out
}

// jsonDoc is the JSON layout: {"diagrams":[{"dim":0,"pairs":[[b,d],...]}]}
// with d null for an infinite death.
type jsonDoc struct {
	Diagrams []jsonDiagram `json:"diagrams"`
	// Summary, when set, is written after the diagrams (WriteJSONWith);
	// readers of the diagrams ignore it.
	Summary any `json:"summary,omitempty"`
}

type jsonDiagram struct {
	Dim   int           `json:"dim"`
	Pairs [][2]*float64 `json:"pairs"`
}

// WriteJSON writes ds as JSON.
func WriteJSON(w io.Writer, ds []sdk.Diagram) error { return WriteJSONWith(w, ds, nil) }

// WriteJSONWith writes ds as JSON with summary (any JSON value, e.g. the
// Betti numbers) beside the diagrams under "summary"; nil leaves it out.
func WriteJSONWith(w io.Writer, ds []sdk.Diagram, summary any) error {
	doc := jsonDoc{Diagrams: []jsonDiagram{}, Summary: summary}
	for _, d := range Sorted(ds) {
		jd := jsonDiagram{Dim: d.Dim, Pairs: make([][2]*float64, len(d.Pairs))}
		for i, p := range d.Pairs {
			b, e := p[0], p[1]
			jd.Pairs[i][0] = &b
			if !math.IsInf(e, 1) {
				jd.Pairs[i][1] = &e
			}
		}
		doc.Diagrams = append(doc.Diagrams, jd)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(doc)
}

// MaxDim is the highest homology dimension a diagram file may hold. No
// backend computes beyond it (ripser's limit); a larger number is damage,
// and readers refuse it before anything is sized by it.
const MaxDim = 64

func checkDim(dim int) error {
	if dim < 0 || dim > MaxDim {
		return fmt.Errorf("dimension %d: want 0..%d", dim, MaxDim)
	}
	return nil
}

// WithScalars adds each of scalars (named numbers a backend reported,
// e.g. "covering_radius") as a top-level key to the JSON object doc
// (WriteJSON's or WriteJSONWith's output) and returns it re-encoded.
func WithScalars(doc []byte, scalars map[string]float64) ([]byte, error) {
	m := map[string]any{}
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	for k, v := range scalars {
		if _, taken := m[k]; taken {
			return nil, fmt.Errorf("diagram JSON: scalar name %q is taken", k)
		}
		m[k] = v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", " ")
	err := enc.Encode(m)
	return b.Bytes(), err
}

// ReadJSON reads diagrams written by WriteJSON.
func ReadJSON(r io.Reader) ([]sdk.Diagram, error) {
	var doc jsonDoc
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("diagram JSON: %v", err)
	}
	out := make([]sdk.Diagram, len(doc.Diagrams))
	for i, jd := range doc.Diagrams {
		if err := checkDim(jd.Dim); err != nil {
			return nil, fmt.Errorf("diagram JSON: %v", err)
		}
		out[i].Dim = jd.Dim
		for j, p := range jd.Pairs {
			if p[0] == nil {
				return nil, fmt.Errorf("diagram JSON: dim %d pair %d has no birth", jd.Dim, j)
			}
			d := math.Inf(1)
			if p[1] != nil {
				d = *p[1]
			}
			out[i].Pairs = append(out[i].Pairs, [2]float64{*p[0], d})
		}
	}
	return out, nil
}

// WriteRipserText writes ds as Debian's ripser prints them: a header line
// per dimension, then " [b,d)" or " [b, )" with 6 significant digits.
// Ripser lists pairs in the order its algorithm found them; ours are
// sorted, so compare sorted lines.
func WriteRipserText(w io.Writer, ds []sdk.Diagram) error {
	for _, d := range Sorted(ds) {
		if _, err := fmt.Fprintf(w, "persistence intervals in dim %d:\n", d.Dim); err != nil {
			return err
		}
		for _, p := range d.Pairs {
			var err error
			if math.IsInf(p[1], 1) {
				_, err = fmt.Fprintf(w, " [%s, )\n", g6(p[0]))
			} else {
				_, err = fmt.Fprintf(w, " [%s,%s)\n", g6(p[0]), g6(p[1]))
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// g6 formats like C++'s default ostream: 6 significant digits, no
// trailing zeros.
func g6(x float64) string {
	return strconv.FormatFloat(x, 'g', 6, 64)
}

// ParseRipserText reads ripser's output (header lines such as "value
// range" are skipped).
func ParseRipserText(r io.Reader) ([]sdk.Diagram, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var out []sdk.Diagram
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "persistence intervals in dim "); ok {
			dim, err := strconv.Atoi(strings.TrimSuffix(rest, ":"))
			if err == nil {
				err = checkDim(dim)
			}
			if err != nil {
				return nil, fmt.Errorf("ripser text line %d: bad dimension in %q", n+1, line)
			}
			out = append(out, sdk.Diagram{Dim: dim})
			continue
		}
		if !strings.HasPrefix(line, "[") {
			continue
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("ripser text line %d: interval before any dimension header", n+1)
		}
		body := strings.TrimSuffix(strings.TrimPrefix(line, "["), ")")
		bs, ds, ok := strings.Cut(body, ",")
		if !ok {
			return nil, fmt.Errorf("ripser text line %d: %q is not [b,d)", n+1, line)
		}
		birth, err := strconv.ParseFloat(strings.TrimSpace(bs), 64)
		if err != nil {
			return nil, fmt.Errorf("ripser text line %d: bad birth in %q", n+1, line)
		}
		death := math.Inf(1)
		if s := strings.TrimSpace(ds); s != "" {
			if death, err = strconv.ParseFloat(s, 64); err != nil {
				return nil, fmt.Errorf("ripser text line %d: bad death in %q", n+1, line)
			}
		}
		out[len(out)-1].Pairs = append(out[len(out)-1].Pairs, [2]float64{birth, death})
	}
	return out, nil
}

// NPZArrays lays ds out as ripser.py does: one n x 2 array per dimension
// named dgm<k>, for every dimension 0..maxdim (empty ones as 0 x 2).
func NPZArrays(ds []sdk.Diagram) []matio.NamedArray {
	maxDim := -1
	for _, d := range ds {
		if d.Dim < 0 {
			continue // no dgm-1; sdk.ValidateDiagrams refuses such answers
		}
		maxDim = max(maxDim, d.Dim)
	}
	byDim := make([][][2]float64, maxDim+1)
	for _, d := range ds {
		if d.Dim >= 0 {
			byDim[d.Dim] = append(byDim[d.Dim], d.Pairs...)
		}
	}
	out := make([]matio.NamedArray, maxDim+1)
	for k, pairs := range byDim {
		m := sdk.NewMatrix(len(pairs), 2)
		for i, p := range Sorted([]sdk.Diagram{{Pairs: pairs}})[0].Pairs {
			m.Data[2*i], m.Data[2*i+1] = p[0], p[1]
		}
		out[k] = matio.NamedArray{Name: fmt.Sprintf("dgm%d", k), Matrix: m}
	}
	return out
}

// WriteNPZ writes ds to path as dgm0, dgm1, ... (atomically).
func WriteNPZ(path string, ds []sdk.Diagram) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return matio.WriteNPZ(path, NPZArrays(ds))
}

// ReadNPZ reads the diagrams of a .npz file: arrays dgm0, dgm1, ... as
// WriteNPZ and `nthost tda --format npz` write them, or arr_0, arr_1,
// ... as numpy names the arrays of np.savez(f, *dgms), ripser.py's
// diagrams saved as they come; the number is the dimension. A file with
// both kinds is refused rather than guessed at.
func ReadNPZ(path string) ([]sdk.Diagram, error) {
	arrays, err := matio.ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	var out []sdk.Diagram
	prefix := ""
	for _, a := range arrays {
		p, rest := "dgm", ""
		var ok bool
		if rest, ok = strings.CutPrefix(a.Name, "dgm"); !ok {
			if rest, ok = strings.CutPrefix(a.Name, "arr_"); !ok {
				continue
			}
			p = "arr_"
		}
		dim, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		if err := checkDim(dim); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, a.Name, err)
		}
		if prefix != "" && prefix != p {
			return nil, fmt.Errorf("%s: has both dgm<k> and arr_<k> arrays; keep one kind", path)
		}
		prefix = p
		m := a.Matrix
		if m.Rows > 0 && m.Cols != 2 {
			return nil, fmt.Errorf("%s: %s is %dx%d, want n x 2 (birth, death)", path, a.Name, m.Rows, m.Cols)
		}
		d := sdk.Diagram{Dim: dim}
		for i := 0; i < m.Rows; i++ {
			d.Pairs = append(d.Pairs, [2]float64{m.At(i, 0), m.At(i, 1)})
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no dgm0, dgm1, ... (or arr_0, arr_1, ... from np.savez(f, *dgms)) arrays found", path)
	}
	return Sorted(out), nil
}

// ReadFile reads a saved diagram file by its extension: .npz (ReadNPZ),
// .json (`nthost tda --format json`), anything else as Ripser's text
// output.
func ReadFile(path string) ([]sdk.Diagram, error) {
	if strings.HasSuffix(strings.ToLower(path), ".npz") {
		return ReadNPZ(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ds []sdk.Diagram
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		ds, err = ReadJSON(f)
	} else {
		ds, err = ParseRipserText(f)
		if err == nil && len(ds) == 0 {
			err = fmt.Errorf("no \"persistence intervals in dim\" line: not Ripser's output (want .npz, .json or Ripser's text)")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return Sorted(ds), nil
}
