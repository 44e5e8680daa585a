// Package sweep runs a grid of ordinary runs (a sweep): the spec that
// names the grid, the manifest that records it in SWEEP_DIR, each trial's
// state read back from its run directory, and the executors that run the
// trials, as local child processes or as a SLURM job array.
package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/runstore"
)

// Param is one config key and its value as text, as --config takes it.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Axis is one grid key and the values it takes, in the spec's order.
type Axis struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Slurm are the sbatch settings of the slurm executor; empty ones are left
// to the cluster's defaults.
type Slurm struct {
	Partition   string   `json:"partition,omitempty"`
	CPUsPerTask int      `json:"cpus_per_task,omitempty"`
	Mem         string   `json:"mem,omitempty"`
	Time        string   `json:"time,omitempty"`
	Account     string   `json:"account,omitempty"`
	Extra       []string `json:"extra,omitempty"` // further #SBATCH options, e.g. "--qos=short"
}

// Executor says how trials run. Kind and Parallel may be overridden on
// the command line; changing them does not change the sweep.
type Executor struct {
	Kind     string `json:"kind"`     // "local" or "slurm"
	Parallel int    `json:"parallel"` // local: trials at once; slurm: %M of --array; 0: default
	Slurm    Slurm  `json:"slurm"`
}

// Spec is a parsed sweep spec: a base config, a grid over config keys
// (every combination is one trial) and executor settings.
type Spec struct {
	Base     []Param  `json:"base"`
	Grid     []Axis   `json:"grid"`
	Executor Executor `json:"executor"`
}

// ReadSpec reads and parses a spec file.
func ReadSpec(path string) (*Spec, error) {
	b, err := runstore.ReadFileLimit(path, runstore.MaxSmallFile)
	if err != nil {
		return nil, fmt.Errorf("sweep spec: %w", err)
	}
	s, err := ParseSpec(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// keys the run directory of a trial is chosen by the sweep, so a spec may
// not set them.
var sweepOwned = map[string]bool{"run_dir": true}

// ParseSpec parses a spec's YAML. Every error is one line naming the key
// (and its line) at fault.
func ParseSpec(b []byte) (*Spec, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("sweep spec: %s", oneLine(err.Error()))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("sweep spec: empty; it needs at least base: or grid:")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("sweep spec: line %d: expected a mapping with base, grid and executor", root.Line)
	}
	s := &Spec{Executor: Executor{Kind: "local"}}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "base":
			s.Base, err = parseBase(v)
		case "grid":
			s.Grid, err = parseGrid(v)
		case "executor":
			err = parseExecutor(v, &s.Executor)
		default:
			err = fmt.Errorf("line %d: unknown key %q (known: base, grid, executor)", k.Line, k.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("sweep spec: %w", err)
		}
	}
	if !seen["base"] && !seen["grid"] {
		return nil, fmt.Errorf("sweep spec: neither base: nor grid: given")
	}
	// The base and every grid value together must make a valid run.
	cfg, err := s.baseConfig()
	if err != nil {
		return nil, fmt.Errorf("sweep spec: %w", err)
	}
	for _, a := range s.Grid {
		for _, v := range a.Values {
			c := cfg
			if err := c.Set(a.Key, v); err != nil {
				return nil, fmt.Errorf("sweep spec: grid: %v", err)
			}
		}
	}
	trials, err := s.Trials()
	if err != nil {
		return nil, err
	}
	for _, t := range trials {
		if _, err := s.Config(t); err != nil {
			return nil, fmt.Errorf("sweep spec: trial %s: %s", t.Name, oneLine(err.Error()))
		}
	}
	return s, nil
}

func parseBase(n *yaml.Node) ([]Param, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: base must be a mapping of config keys", n.Line)
	}
	var out []Param
	c := config.Default()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := canonicalKey(k.Value)
		if sweepOwned[key] {
			return nil, fmt.Errorf("line %d: base: %s is chosen by the sweep (SWEEP_DIR/runs/<trial>)", k.Line, key)
		}
		text, err := valueText(v)
		if err != nil {
			return nil, fmt.Errorf("line %d: base: %s: %v", v.Line, key, err)
		}
		if err := c.Set(key, text); err != nil {
			return nil, fmt.Errorf("line %d: base: %v", k.Line, oneLine(err.Error()))
		}
		out = append(out, Param{Key: key, Value: c.Get(key)})
	}
	return out, nil
}

func parseGrid(n *yaml.Node) ([]Axis, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: grid must map config keys to lists of values", n.Line)
	}
	var out []Axis
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := canonicalKey(k.Value)
		if sweepOwned[key] {
			return nil, fmt.Errorf("line %d: grid: %s is chosen by the sweep", k.Line, key)
		}
		for _, a := range out {
			if a.Key == key {
				return nil, fmt.Errorf("line %d: grid: key %s given twice", k.Line, key)
			}
		}
		c := config.Default()
		if err := c.Set(key, c.Get(key)); err != nil {
			return nil, fmt.Errorf("line %d: grid: %v", k.Line, oneLine(err.Error()))
		}
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("line %d: grid: %s must be a list of values, e.g. [1, 2, 3]", v.Line, key)
		}
		if len(v.Content) == 0 {
			return nil, fmt.Errorf("line %d: grid: %s is an empty list; a sweep over it has no trials", v.Line, key)
		}
		a := Axis{Key: key}
		at := map[string]int{}
		for _, e := range v.Content {
			text, err := valueText(e)
			if err != nil {
				return nil, fmt.Errorf("line %d: grid: %s: %v", e.Line, key, err)
			}
			if err := c.Set(key, text); err != nil {
				return nil, fmt.Errorf("line %d: grid: %v", e.Line, oneLine(err.Error()))
			}
			norm := c.Get(key)
			if l, ok := at[norm]; ok {
				return nil, fmt.Errorf("line %d: grid: %s lists %s twice (also line %d): duplicate trials", e.Line, key, norm, l)
			}
			at[norm] = e.Line
			a.Values = append(a.Values, norm)
		}
		out = append(out, a)
	}
	return out, nil
}

func parseExecutor(n *yaml.Node, e *Executor) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: executor must be a mapping (kind, parallel, slurm)", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "kind":
			if v.Value != "local" && v.Value != "slurm" {
				return fmt.Errorf("line %d: executor: kind %q is not local or slurm", v.Line, v.Value)
			}
			e.Kind = v.Value
		case "parallel":
			p, err := strconv.Atoi(v.Value)
			if err != nil || p < 0 {
				return fmt.Errorf("line %d: executor: parallel %q is not a count >= 0", v.Line, v.Value)
			}
			e.Parallel = p
		case "slurm":
			if err := parseSlurm(v, &e.Slurm); err != nil {
				return err
			}
		default:
			return fmt.Errorf("line %d: executor: unknown key %q (known: kind, parallel, slurm)", k.Line, k.Value)
		}
	}
	return nil
}

func parseSlurm(n *yaml.Node, s *Slurm) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: executor: slurm must be a mapping (partition, cpus_per_task, mem, time, account, extra)", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		bad := func(what string) error {
			return fmt.Errorf("line %d: executor: slurm: %s %q is not %s", v.Line, k.Value, v.Value, what)
		}
		// A value goes into a #SBATCH line: no line breaks or spaces.
		word := func() (string, error) {
			if v.Kind != yaml.ScalarNode || v.Value == "" || strings.ContainsAny(v.Value, " \t\r\n") {
				return "", bad("one word")
			}
			return v.Value, nil
		}
		var err error
		switch k.Value {
		case "partition":
			s.Partition, err = word()
		case "mem":
			s.Mem, err = word()
		case "time":
			s.Time, err = word()
		case "account":
			s.Account, err = word()
		case "cpus_per_task":
			c, cerr := strconv.Atoi(v.Value)
			if cerr != nil || c < 1 {
				return bad("a count >= 1")
			}
			s.CPUsPerTask = c
		case "extra":
			if v.Kind != yaml.SequenceNode {
				return bad("a list of sbatch options")
			}
			for _, e := range v.Content {
				if !strings.HasPrefix(e.Value, "-") || strings.ContainsAny(e.Value, "\r\n") {
					return fmt.Errorf("line %d: executor: slurm: extra %q is not an sbatch option like --qos=short", e.Line, e.Value)
				}
				s.Extra = append(s.Extra, e.Value)
			}
		default:
			return fmt.Errorf("line %d: executor: slurm: unknown key %q (known: partition, cpus_per_task, mem, time, account, extra)", k.Line, k.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// valueText renders a scalar, or a list of scalars (hidden sizes), as the
// text config.Set parses.
func valueText(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return "", fmt.Errorf("nested lists are not a value")
			}
			parts[i] = c.Value
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("a mapping is not a value")
}

// canonicalKey maps the seed's alternative spellings to the key.
func canonicalKey(k string) string {
	if k == "hidden_szie" {
		return "hidden_size"
	}
	return k
}

func (s *Spec) baseConfig() (config.Config, error) {
	c := config.Default()
	for _, p := range s.Base {
		if err := c.Set(p.Key, p.Value); err != nil {
			return c, fmt.Errorf("base: %v", err)
		}
	}
	return c, nil
}

// Trial is one combination of the grid.
type Trial struct {
	Index  int     `json:"index"`
	Name   string  `json:"name"`   // from its parameters; its run directory's name
	Params []Param `json:"params"` // the grid's values for this trial, in grid order
}

// Param returns the trial's value of a grid key, or "" if the key is not
// in the grid.
func (t Trial) Param(key string) string {
	for _, p := range t.Params {
		if p.Key == key {
			return p.Value
		}
	}
	return ""
}

// Trials lists every combination of the grid, the last key varying
// fastest. Two trials whose names coincide are an error.
func (s *Spec) Trials() ([]Trial, error) {
	combos := [][]Param{nil}
	for _, a := range s.Grid {
		var next [][]Param
		for _, c := range combos {
			for _, v := range a.Values {
				p := append(append([]Param(nil), c...), Param{Key: a.Key, Value: v})
				next = append(next, p)
			}
		}
		combos = next
	}
	out := make([]Trial, len(combos))
	byName := map[string]int{}
	for i, c := range combos {
		name := trialName(c)
		if j, ok := byName[name]; ok {
			return nil, fmt.Errorf("sweep spec: duplicate trials: %d and %d are both named %s", j, i, name)
		}
		byName[name] = i
		out[i] = Trial{Index: i, Name: name, Params: c}
	}
	return out, nil
}

// trialName joins key-value pairs with "__", keeping only characters safe
// in a file name on any system, so the run directory says what it holds.
func trialName(ps []Param) string {
	if len(ps) == 0 {
		return "base"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = safe(p.Key) + "-" + safe(p.Value)
	}
	return strings.Join(parts, "__")
}

func safe(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// Config returns the trial's full config: defaults, then the base, then
// the trial's grid values.
func (s *Spec) Config(t Trial) (config.Config, error) {
	c, err := s.baseConfig()
	if err != nil {
		return c, err
	}
	for _, p := range t.Params {
		if err := c.Set(p.Key, p.Value); err != nil {
			return c, fmt.Errorf("trial %s: %v", t.Name, err)
		}
	}
	return c, c.Validate()
}

// Fingerprint identifies what the sweep computes (base and grid, after
// normalising values), not how it runs: changing the executor or its
// parallelism continues the same sweep.
func (s *Spec) Fingerprint() string {
	base := append([]Param(nil), s.Base...)
	sort.Slice(base, func(i, j int) bool { return base[i].Key < base[j].Key })
	b, _ := json.Marshal(struct {
		Base []Param
		Grid []Axis
	}{base, s.Grid})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
