package sdk

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// ParamType is the type of a declared parameter's value.
type ParamType string

// The parameter types a plugin can declare.
const (
	ParamInt    ParamType = "int"
	ParamFloat  ParamType = "float"
	ParamBool   ParamType = "bool"
	ParamString ParamType = "string"
)

// ParamSpec declares one parameter a plugin takes. The host lists it in
// `nthost plugins NAME` and refuses an unknown or ill-typed value before
// any work starts; the plugin receives values as text (Distance.Compute's
// params, HomologyRequest.Params, EnvConfig.Options, AlgoConfig.Hyper).
type ParamSpec struct {
	Name    string
	Type    ParamType
	Default string   // as text: what the plugin uses when the parameter is unset
	Doc     string   // one line
	Choices []string // if set, the only values accepted
	// Min and Max bound an int or float parameter, as text of its type
	// ("" means unbounded on that side); a bound is inclusive unless
	// MinExclusive or MaxExclusive says otherwise. The host refuses a
	// value outside before anything runs, e.g. Min "1" for a neighbour
	// count, Min "0" with MinExclusive for a learning rate.
	Min, Max                   string
	MinExclusive, MaxExclusive bool
}

// Range renders the declared bounds for users: ">= 1", "> 0", "<= 10",
// "[0, 1)"; "" when there are none.
func (p ParamSpec) Range() string {
	lo, hi := p.Min != "", p.Max != ""
	switch {
	case lo && hi:
		l, r := "[", "]"
		if p.MinExclusive {
			l = "("
		}
		if p.MaxExclusive {
			r = ")"
		}
		return l + p.Min + ", " + p.Max + r
	case lo:
		if p.MinExclusive {
			return "> " + p.Min
		}
		return ">= " + p.Min
	case hi:
		if p.MaxExclusive {
			return "< " + p.Max
		}
		return "<= " + p.Max
	}
	return ""
}

// bound parses a declared bound of a numeric parameter.
func (p ParamSpec) bound(text string) (float64, error) {
	t := strings.TrimSpace(text)
	if p.Type == ParamInt {
		n, err := strconv.ParseInt(t, 10, 64)
		return float64(n), err
	}
	x, err := strconv.ParseFloat(t, 64)
	if err == nil && math.IsNaN(x) {
		err = fmt.Errorf("NaN")
	}
	return x, err
}

// inRange checks a value already known to be of the parameter's type
// against its declared bounds.
func (p ParamSpec) inRange(text string) error {
	if p.Type != ParamInt && p.Type != ParamFloat || p.Min == "" && p.Max == "" {
		return nil
	}
	t := strings.TrimSpace(text)
	below := func(lo string, excl bool) bool {
		if p.Type == ParamInt {
			v, _ := strconv.ParseInt(t, 10, 64)
			b, _ := strconv.ParseInt(strings.TrimSpace(lo), 10, 64)
			return v < b || excl && v == b
		}
		v, _ := strconv.ParseFloat(t, 64)
		b, _ := p.bound(lo)
		return v < b || excl && v == b
	}
	above := func(hi string, excl bool) bool {
		if p.Type == ParamInt {
			v, _ := strconv.ParseInt(t, 10, 64)
			b, _ := strconv.ParseInt(strings.TrimSpace(hi), 10, 64)
			return v > b || excl && v == b
		}
		v, _ := strconv.ParseFloat(t, 64)
		b, _ := p.bound(hi)
		return v > b || excl && v == b
	}
	if p.Min != "" && below(p.Min, p.MinExclusive) || p.Max != "" && above(p.Max, p.MaxExclusive) {
		return fmt.Errorf("%s is out of range (must be %s)", t, p.Range())
	}
	return nil
}

// The documented capability keys. Capabilities are text; a key's value has
// the form given here, so the host and the conformance kit can check it.
const (
	// CapTasks (env): the task ids the environment opens, comma separated,
	// e.g. "Hopper-v4,Walker2d-v4". The host refuses an env_id not listed.
	CapTasks = "tasks"
	// CapObsDims (env, optional): each task's observation size, as
	// "Hopper-v4=11,Walker2d-v4=17".
	CapObsDims = "obs_dims"
	// CapMaxObsDim (algo, optional): the largest observation size the
	// learner takes. The host compares it with the env's CapObsDims.
	CapMaxObsDim = "max_obs_dim"
	// CapActionSpace (algo, optional): "box" for continuous actions.
	CapActionSpace = "action_space"
	// CapMetric (dist): "true" when the distances satisfy the triangle
	// inequality. Absent or "false" promises only what every distance
	// plugin promises: symmetric, non-negative, zero diagonal.
	CapMetric = "metric"
	// CapMaxDim (ph): the highest homology dimension computed, e.g. "0" for
	// an H0-only backend, or "any" for a backend bounded only by memory.
	// The host refuses a run with a higher --maxdim.
	CapMaxDim = "max_dim"
	// CapCoeff (ph): the coefficient fields Z/p: a comma-separated list of
	// primes ("2" or "2,3,5"), "any" for every prime, or "any<N" for every
	// prime below N. Absent means "2".
	CapCoeff = "coeff"
	// CapInput (ph): the inputs taken, a comma-separated list of
	// "distances", "points" and "edges" (a sparse distance matrix,
	// HomologyRequest.Edges). Absent means "distances". The host sends
	// a plugin only what it lists, densifying edges for one that takes
	// distances alone.
	CapInput = "input"
)

// Param returns the declared parameter called name.
func (i Info) Param(name string) (ParamSpec, bool) {
	for _, p := range i.Params {
		if p.Name == name {
			return p, true
		}
	}
	return ParamSpec{}, false
}

// ParamNames lists the declared parameters' names, sorted.
func (i Info) ParamNames() []string {
	names := make([]string, len(i.Params))
	for k, p := range i.Params {
		names[k] = p.Name
	}
	sort.Strings(names)
	return names
}

// Check reports whether text is a valid value of the parameter.
func (p ParamSpec) Check(text string) error {
	switch p.Type {
	case ParamInt:
		if _, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64); err != nil {
			return fmt.Errorf("%q is not an int", text)
		}
	case ParamFloat:
		x, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil || math.IsNaN(x) {
			return fmt.Errorf("%q is not a number", text)
		}
	case ParamBool:
		if _, err := strconv.ParseBool(strings.TrimSpace(text)); err != nil {
			return fmt.Errorf("%q is not true or false", text)
		}
	case ParamString, "":
	default:
		return fmt.Errorf("declared type %q is not one of int, float, bool, string", p.Type)
	}
	if err := p.inRange(text); err != nil {
		return err
	}
	if len(p.Choices) > 0 {
		for _, c := range p.Choices {
			if c == text {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", text, strings.Join(p.Choices, ", "))
	}
	return nil
}

// CheckParams checks params against the parameters info declares. The
// error is one line naming the plugin and the first bad parameter.
func CheckParams(info Info, params map[string]string) error {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p, ok := info.Param(k)
		if !ok {
			takes := "no parameters"
			if len(info.Params) > 0 {
				takes = "parameters: " + strings.Join(info.ParamNames(), ", ")
			}
			return fmt.Errorf("%s plugin %q has no parameter %q (%s)", info.Kind, info.Name, k, takes)
		}
		if err := p.Check(params[k]); err != nil {
			return fmt.Errorf("%s plugin %q parameter %s: %v", info.Kind, info.Name, k, err)
		}
	}
	return nil
}

// CheckDeclaration checks that what info declares is well formed: named
// and typed parameters with valid defaults, and documented capability keys
// with values of the documented form.
func CheckDeclaration(info Info) error {
	seen := map[string]bool{}
	for _, p := range info.Params {
		if p.Name == "" || strings.ContainsAny(p.Name, "=, \t") {
			return fmt.Errorf("parameter name %q must be non-empty without '=', ',' or spaces", p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("parameter %q is declared twice", p.Name)
		}
		seen[p.Name] = true
		if p.Doc == "" {
			return fmt.Errorf("parameter %q has no doc line", p.Name)
		}
		if err := p.checkBounds(); err != nil {
			return fmt.Errorf("parameter %q: %v", p.Name, err)
		}
		if p.Default != "" {
			if err := p.Check(p.Default); err != nil {
				return fmt.Errorf("parameter %q default: %v", p.Name, err)
			}
		} else if p.Type != ParamString && p.Type != "" {
			return fmt.Errorf("parameter %q of type %s has no default", p.Name, p.Type)
		}
	}
	c := info.Capabilities
	if v, ok := c[CapMaxDim]; ok && v != "any" {
		if d, err := strconv.Atoi(v); err != nil || d < 0 {
			return fmt.Errorf("capability %s=%q is not a non-negative integer", CapMaxDim, v)
		}
	}
	if v, ok := c[CapMetric]; ok {
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("capability %s=%q is not true or false", CapMetric, v)
		}
	}
	if v, ok := c[CapSupervised]; ok {
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("capability %s=%q is not true or false", CapSupervised, v)
		}
	}
	if v, ok := c[CapMaxObsDim]; ok {
		if d, err := strconv.Atoi(v); err != nil || d < 1 {
			return fmt.Errorf("capability %s=%q is not a positive integer", CapMaxObsDim, v)
		}
	}
	if v, ok := c[CapHostSDK]; ok {
		if _, err := parseSemver(v); err != nil {
			return fmt.Errorf("capability %s: %v", CapHostSDK, err)
		}
	}
	if _, err := parseCoeff(c[CapCoeff]); err != nil {
		return err
	}
	for _, in := range Inputs(info) {
		if in != "distances" && in != "points" && in != "edges" {
			return fmt.Errorf("capability %s lists %q; want distances, points and/or edges", CapInput, in)
		}
	}
	if _, err := ObsDims(info); err != nil {
		return err
	}
	return nil
}

// MaxDim returns a ph plugin's declared highest dimension: math.MaxInt
// for "any".
func MaxDim(info Info) (int, bool) {
	v := info.Capabilities[CapMaxDim]
	if v == "any" {
		return math.MaxInt, true
	}
	d, err := strconv.Atoi(v)
	return d, err == nil
}

// Metric reports whether a dist plugin declares the triangle inequality.
func Metric(info Info) bool {
	ok, _ := strconv.ParseBool(info.Capabilities[CapMetric])
	return ok
}

// Tasks returns an env plugin's declared task ids.
func Tasks(info Info) []string { return list(info.Capabilities[CapTasks]) }

// Inputs returns the inputs a ph plugin takes (default: distances).
func Inputs(info Info) []string {
	if in := list(info.Capabilities[CapInput]); len(in) > 0 {
		return in
	}
	return []string{"distances"}
}

// TakesInput reports whether a ph plugin takes input kind "distances",
// "points" or "edges".
func TakesInput(info Info, kind string) bool {
	for _, in := range Inputs(info) {
		if in == kind {
			return true
		}
	}
	return false
}

// ObsDims returns an env plugin's declared observation sizes by task.
func ObsDims(info Info) (map[string]int, error) {
	out := map[string]int{}
	for _, kv := range list(info.Capabilities[CapObsDims]) {
		task, n, ok := strings.Cut(kv, "=")
		d, err := strconv.Atoi(n)
		if !ok || err != nil || d < 1 {
			return nil, fmt.Errorf("capability %s entry %q is not TASK=SIZE", CapObsDims, kv)
		}
		out[task] = d
	}
	return out, nil
}

// coeffSet is a parsed CapCoeff: any prime below below (0: no bound), or
// the listed primes.
type coeffSet struct {
	any    bool
	below  int
	primes []int
}

func parseCoeff(v string) (coeffSet, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return coeffSet{primes: []int{2}}, nil
	case v == "any":
		return coeffSet{any: true}, nil
	case strings.HasPrefix(v, "any<"):
		n, err := strconv.Atoi(v[4:])
		if err != nil || n < 3 {
			return coeffSet{}, fmt.Errorf("capability %s=%q: want any<N with N > 2", CapCoeff, v)
		}
		return coeffSet{any: true, below: n}, nil
	}
	var s coeffSet
	for _, f := range list(v) {
		p, err := strconv.Atoi(f)
		if err != nil || !IsPrime(p) {
			return coeffSet{}, fmt.Errorf("capability %s=%q: %q is not a prime (want a list of primes, any or any<N)", CapCoeff, v, f)
		}
		s.primes = append(s.primes, p)
	}
	return s, nil
}

// SupportsCoeff reports whether a ph plugin declares the field Z/p
// (p = 0 means 2).
func SupportsCoeff(info Info, p int) bool {
	if p == 0 {
		p = 2
	}
	s, err := parseCoeff(info.Capabilities[CapCoeff])
	if err != nil || !IsPrime(p) {
		return false
	}
	if s.any {
		return s.below == 0 || p < s.below
	}
	for _, q := range s.primes {
		if q == p {
			return true
		}
	}
	return false
}

// Coeffs returns up to n primes a ph plugin declares, smallest first, for
// tests that try each field.
func Coeffs(info Info, n int) []int {
	var out []int
	for p := 2; len(out) < n && p < 1000; p++ {
		if SupportsCoeff(info, p) {
			out = append(out, p)
		}
	}
	return out
}

// IsPrime reports whether p is a prime.
func IsPrime(p int) bool {
	if p < 2 {
		return false
	}
	for q := 2; q*q <= p; q++ {
		if p%q == 0 {
			return false
		}
	}
	return true
}

// list splits a comma-separated capability value, dropping blanks.
func list(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// checkBounds checks declared bounds: only on int and float parameters,
// each a number of the parameter's type, and min below max.
func (p ParamSpec) checkBounds() error {
	if p.Min == "" && p.Max == "" {
		if p.MinExclusive || p.MaxExclusive {
			return fmt.Errorf("exclusive bound without a bound")
		}
		return nil
	}
	if p.Type != ParamInt && p.Type != ParamFloat {
		return fmt.Errorf("a range (%s) needs type int or float, not %q", p.Range(), p.Type)
	}
	var lo, hi float64
	for _, b := range []struct {
		text string
		to   *float64
	}{{p.Min, &lo}, {p.Max, &hi}} {
		if b.text == "" {
			continue
		}
		x, err := p.bound(b.text)
		if err != nil {
			return fmt.Errorf("bound %q is not a %s", b.text, p.Type)
		}
		*b.to = x
	}
	if p.Min != "" && p.Max != "" && (lo > hi || lo == hi && (p.MinExclusive || p.MaxExclusive)) {
		return fmt.Errorf("range %s is empty", p.Range())
	}
	return nil
}
