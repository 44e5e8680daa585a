package sdk

import (
	"strings"
	"testing"
)

func TestCheckParams(t *testing.T) {
	info := Info{Name: "geo", Kind: KindDist, Params: []ParamSpec{
		{Name: "k", Type: ParamInt, Default: "15", Doc: "neighbours"},
		{Name: "w", Type: ParamString, Default: "euclid", Doc: "weights", Choices: []string{"euclid", "unit"}},
		{Name: "f", Type: ParamFloat, Default: "0.5", Doc: "fraction"},
		{Name: "b", Type: ParamBool, Default: "true", Doc: "flag"},
	}}
	if err := CheckParams(info, map[string]string{"k": "3", "w": "unit", "f": "1e-3", "b": "false"}); err != nil {
		t.Fatalf("valid parameters refused: %v", err)
	}
	for _, c := range []struct {
		params map[string]string
		want   []string
	}{
		{map[string]string{"x": "1"}, []string{`dist plugin "geo"`, `no parameter "x"`, "b, f, k, w"}},
		{map[string]string{"k": "3.5"}, []string{"parameter k", `"3.5" is not an int`}},
		{map[string]string{"f": "abc"}, []string{"parameter f", "not a number"}},
		{map[string]string{"b": "maybe"}, []string{"parameter b", "not true or false"}},
		{map[string]string{"w": "cos"}, []string{"parameter w", "not one of euclid, unit"}},
	} {
		err := CheckParams(info, c.params)
		if err == nil {
			t.Errorf("%v accepted", c.params)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q lacks %q", c.params, err, w)
			}
		}
	}
	if err := CheckParams(Info{Name: "e", Kind: KindDist}, map[string]string{"k": "1"}); err == nil || !strings.Contains(err.Error(), "no parameters") {
		t.Errorf("a plugin without parameters: got %v", err)
	}
}

func TestCheckDeclaration(t *testing.T) {
	good := Info{Capabilities: map[string]string{CapMaxDim: "0", CapCoeff: "2,3", CapInput: "distances,points", CapMetric: "false", CapObsDims: "A-v0=3"}}
	if err := CheckDeclaration(good); err != nil {
		t.Fatalf("a good declaration refused: %v", err)
	}
	for _, bad := range []Info{
		{Capabilities: map[string]string{CapMaxDim: "two"}},
		{Capabilities: map[string]string{CapCoeff: "4"}},
		{Capabilities: map[string]string{CapCoeff: "prime p < 65536"}},
		{Capabilities: map[string]string{CapInput: "graphs"}},
		{Capabilities: map[string]string{CapMetric: "mostly"}},
		{Capabilities: map[string]string{CapObsDims: "A-v0"}},
		{Params: []ParamSpec{{Name: "k", Type: ParamInt, Doc: "no default"}}},
		{Params: []ParamSpec{{Name: "k", Type: ParamInt, Default: "x", Doc: "bad default"}}},
		{Params: []ParamSpec{{Name: "a b", Type: ParamString, Doc: "space"}}},
		{Params: []ParamSpec{{Name: "k", Type: ParamInt, Default: "1"}}},
	} {
		if err := CheckDeclaration(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestCoefficients(t *testing.T) {
	for _, c := range []struct {
		decl string
		p    int
		want bool
	}{
		{"", 2, true}, {"", 0, true}, {"", 3, false},
		{"2,3", 3, true}, {"2,3", 5, false},
		{"any", 65537, true}, {"any", 4, false},
		{"any<65536", 65521, true}, {"any<65536", 65537, false},
	} {
		info := Info{Capabilities: map[string]string{}}
		if c.decl != "" {
			info.Capabilities[CapCoeff] = c.decl
		}
		if got := SupportsCoeff(info, c.p); got != c.want {
			t.Errorf("coeff %q supports %d: %v, want %v", c.decl, c.p, got, c.want)
		}
	}
	if got := Coeffs(Info{Capabilities: map[string]string{CapCoeff: "any"}}, 3); len(got) != 3 || got[2] != 5 {
		t.Errorf("Coeffs(any, 3) = %v, want [2 3 5]", got)
	}
}

// Declared ranges: values at, inside and beyond each bound, exclusive
// bounds, and the error naming plugin, parameter, value and range.
func TestParamRanges(t *testing.T) {
	info := Info{Name: "p", Kind: KindAlgo, Params: []ParamSpec{
		{Name: "k", Type: ParamInt, Default: "15", Doc: "neighbours", Min: "1"},
		{Name: "lr", Type: ParamFloat, Default: "0.001", Doc: "learning rate", Min: "0", MinExclusive: true},
		{Name: "eps", Type: ParamFloat, Default: "0", Doc: "sparsity", Min: "0", Max: "1", MaxExclusive: true},
		{Name: "n", Type: ParamInt, Default: "3", Doc: "count", Max: "9223372036854775807"},
	}}
	if err := CheckDeclaration(info); err != nil {
		t.Fatal(err)
	}
	for _, ok := range []map[string]string{{"k": "1"}, {"k": "500"}, {"lr": "1e-300"}, {"eps": "0"}, {"eps": "0.999"}, {"n": "9223372036854775807"}} {
		if err := CheckParams(info, ok); err != nil {
			t.Errorf("%v refused: %v", ok, err)
		}
	}
	for _, c := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"k": "0"}, `algo plugin "p" parameter k: 0 is out of range (must be >= 1)`},
		{map[string]string{"k": "-7"}, "must be >= 1"},
		{map[string]string{"lr": "0"}, `parameter lr: 0 is out of range (must be > 0)`},
		{map[string]string{"lr": "-1e-9"}, "must be > 0"},
		{map[string]string{"eps": "1"}, `parameter eps: 1 is out of range (must be [0, 1))`},
		{map[string]string{"eps": "-0.1"}, "[0, 1)"},
		{map[string]string{"eps": "+Inf"}, "[0, 1)"},
	} {
		err := CheckParams(info, c.params)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: want one line containing %q, got %v", c.params, c.want, err)
		}
	}
	for _, bad := range []ParamSpec{
		{Name: "a", Type: ParamInt, Default: "0", Doc: "d", Min: "1"},                                 // default outside
		{Name: "a", Type: ParamInt, Default: "1", Doc: "d", Min: "0.5"},                               // not an int
		{Name: "a", Type: ParamString, Default: "x", Doc: "d", Min: "1"},                              // range on a string
		{Name: "a", Type: ParamFloat, Default: "1", Doc: "d", Min: "2", Max: "1"},                     // empty
		{Name: "a", Type: ParamFloat, Default: "1", Doc: "d", Min: "1", Max: "1", MaxExclusive: true}, // empty
		{Name: "a", Type: ParamFloat, Default: "1", Doc: "d", MinExclusive: true},                     // no bound
		{Name: "a", Type: ParamFloat, Default: "1", Doc: "d", Max: "NaN"},                             // NaN
	} {
		if err := CheckDeclaration(Info{Params: []ParamSpec{bad}}); err == nil {
			t.Errorf("declaration %+v accepted", bad)
		}
	}
	// The range crosses the wire unchanged.
	back := fromPBParams(toPBParams(info.Params))
	for k := range info.Params {
		if a, b := info.Params[k], back[k]; a.Min != b.Min || a.Max != b.Max || a.MinExclusive != b.MinExclusive || a.MaxExclusive != b.MaxExclusive || a.Range() != b.Range() {
			t.Errorf("parameter %s: %+v after the wire, want %+v", a.Name, b, a)
		}
	}
}
