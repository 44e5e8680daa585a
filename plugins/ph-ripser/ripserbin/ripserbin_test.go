package ripserbin

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/rips"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func cloud(n, d int, seed uint64) sdk.Matrix {
	r := rand.New(rand.NewPCG(seed, 7))
	m := sdk.NewMatrix(n, d)
	for i := range m.Data {
		m.Data[i] = r.NormFloat64()
	}
	return m
}

func mustEuclid(t *testing.T, pts sdk.Matrix) sdk.Matrix {
	t.Helper()
	d, err := Euclidean(pts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sameDiagrams reports where two diagram lists differ as multisets of pairs
// with values equal up to a float32 rounding.
func sameDiagrams(a, b []sdk.Diagram) string {
	if len(a) != len(b) {
		return "different numbers of dimensions"
	}
	for k := range a {
		pa, pb := sorted(a[k].Pairs), sorted(b[k].Pairs)
		if len(pa) != len(pb) {
			return "dim " + string(rune('0'+k)) + ": different pair counts"
		}
		for i := range pa {
			for j := 0; j < 2; j++ {
				x, y := pa[i][j], pb[i][j]
				if x == y {
					continue
				}
				if math.Abs(x-y) > 3e-7*math.Max(1, math.Abs(x)) {
					return "dim " + string(rune('0'+k)) + ": pairs differ"
				}
			}
		}
	}
	return ""
}

func sorted(p [][2]float64) [][2]float64 {
	q := slices.Clone(p)
	slices.SortFunc(q, func(x, y [2]float64) int {
		if x[1] != y[1] {
			if x[1] < y[1] {
				return -1
			}
			return 1
		}
		if x[0] < y[0] {
			return -1
		}
		if x[0] > y[0] {
			return 1
		}
		return 0
	})
	return q
}

func TestUnitSquare(t *testing.T) {
	// Corners of a unit square: sides 1, diagonals sqrt 2. Three
	// components merge at 1, the 4-cycle is born at 1 and filled at sqrt 2.
	pts := sdk.Matrix{Rows: 4, Cols: 2, Data: []float64{0, 0, 1, 0, 1, 1, 0, 1}}
	d := mustEuclid(t, pts)
	for _, p := range []int{2, 3, 5, MaxCoeff} {
		ds, err := Runner{}.Compute(context.Background(), d, Options{MaxDim: 2, Coeff: p})
		if err != nil {
			t.Fatalf("Z/%d: %v", p, err)
		}
		want := []sdk.Diagram{
			{Dim: 0, Pairs: [][2]float64{{0, 1}, {0, 1}, {0, 1}, {0, math.Inf(1)}}},
			{Dim: 1, Pairs: [][2]float64{{1, math.Sqrt2}}},
			{Dim: 2},
		}
		if msg := sameDiagrams(ds, want); msg != "" {
			t.Errorf("Z/%d: %s: got %v", p, msg, ds)
		}
		// Snapping must give back the exact input value, not ripser's
		// six printed digits (1.41421).
		if len(ds[1].Pairs) == 1 && ds[1].Pairs[0][1] != math.Sqrt2 {
			t.Errorf("Z/%d: H1 death %v, want exactly sqrt 2", p, ds[1].Pairs[0][1])
		}
	}
}

// TestCoefficientsRipserCannotHold: ripser-coeff keeps coefficients in
// 8 bits; from modulus 257 on it grew to 5 GB on 40 points. Such a field
// is refused in one line, and the plugin declares what it computes.
func TestCoefficientsRipserCannotHold(t *testing.T) {
	pts := sdk.Matrix{Rows: 4, Cols: 2, Data: []float64{0, 0, 1, 0, 1, 1, 0, 1}}
	d := mustEuclid(t, pts)
	for _, p := range []int{257, 1009} {
		_, err := Runner{}.Compute(context.Background(), d, Options{MaxDim: 1, Coeff: p})
		if err == nil || !strings.Contains(err.Error(), "8 bits") {
			t.Errorf("Z/%d: got %v, want a refusal", p, err)
		}
	}
	info, _ := Plugin{}.Describe(context.Background())
	if sdk.SupportsCoeff(info, 257) || !sdk.SupportsCoeff(info, MaxCoeff) {
		t.Errorf("declared coefficients %q", info.Capabilities[sdk.CapCoeff])
	}
}

func TestAgreesWithRips(t *testing.T) {
	n := 60
	if testing.Short() {
		n = 35
	}
	ctx := context.Background()
	for seed := uint64(1); seed <= 4; seed++ {
		d := mustEuclid(t, cloud(n, 3, seed))
		for _, opt := range []Options{
			{MaxDim: 2},
			{MaxDim: 2, Coeff: 3},
			{MaxDim: 1, Threshold: 1.2},
		} {
			got, err := Runner{}.Compute(ctx, d, opt)
			if err != nil {
				t.Fatalf("seed %d %+v: %v", seed, opt, err)
			}
			want, err := rips.Compute(ctx, &d, rips.Options{MaxDim: opt.MaxDim, Threshold: opt.Threshold, Coeff: opt.Coeff})
			if err != nil {
				t.Fatalf("rips seed %d %+v: %v", seed, opt, err)
			}
			if msg := sameDiagrams(got, want); msg != "" {
				t.Errorf("seed %d %+v: ripser and rips differ: %s\nripser %v\nrips   %v", seed, opt, msg, got, want)
			}
		}
	}
}

func TestPointsEqualDistances(t *testing.T) {
	pts := cloud(25, 4, 9)
	d := mustEuclid(t, pts)
	p := Plugin{}
	a, err := p.Compute(context.Background(), sdk.HomologyRequest{Points: &pts, MaxDim: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Compute(context.Background(), sdk.HomologyRequest{Distances: &d, MaxDim: 1})
	if err != nil {
		t.Fatal(err)
	}
	if msg := sameDiagrams(a, b); msg != "" || len(a[0].Pairs) != 25 {
		t.Errorf("points and their distances differ (%s): %v vs %v", msg, a, b)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	d := mustEuclid(t, cloud(5, 2, 1))
	cases := map[string]struct {
		m   sdk.Matrix
		opt Options
	}{
		"not square":   {sdk.Matrix{Rows: 2, Cols: 3, Data: make([]float64, 6)}, Options{}},
		"empty":        {sdk.Matrix{}, Options{}},
		"asymmetric":   {func() sdk.Matrix { m := d; m.Data = slices.Clone(d.Data); m.Data[1] += 1; return m }(), Options{}},
		"nan":          {func() sdk.Matrix { m := d; m.Data = slices.Clone(d.Data); m.Data[1] = math.NaN(); return m }(), Options{}},
		"not prime":    {d, Options{Coeff: 4}},
		"dim":          {d, Options{MaxDim: -1}},
		"threshold":    {d, Options{Threshold: -1}},
		"nonzero diag": {func() sdk.Matrix { m := d; m.Data = slices.Clone(d.Data); m.Data[0] = 1; return m }(), Options{}},
	}
	for name, c := range cases {
		if _, err := (Runner{}).Compute(ctx, c.m, c.opt); err == nil {
			t.Errorf("%s: want an error", name)
		} else if !strings.HasPrefix(err.Error(), "ripser: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q should be one line starting with the plugin's name", name, err)
		}
	}
}

func TestSinglePoint(t *testing.T) {
	ds, err := Runner{}.Compute(context.Background(), sdk.Matrix{Rows: 1, Cols: 1, Data: []float64{0}}, Options{MaxDim: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || len(ds[0].Pairs) != 1 || !math.IsInf(ds[0].Pairs[0][1], 1) || len(ds[1].Pairs) != 0 {
		t.Errorf("one point: got %v, want one essential H0 class", ds)
	}
}

func TestMissingBinary(t *testing.T) {
	d := mustEuclid(t, cloud(5, 2, 1))
	_, err := Runner{Z2: "/nonexistent/ripser"}.Compute(context.Background(), d, Options{})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing binary: got %v, want a 'not found' error", err)
	}
}

func TestChildFailureNamesStderr(t *testing.T) {
	// A stand-in executable that fails the way ripser does on an
	// assertion: a message on stderr and an abnormal exit.
	fake := filepath.Join(t.TempDir(), "fake-ripser")
	script := "#!/bin/sh\ncat >/dev/null\necho 'ripser: something went wrong' >&2\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d := mustEuclid(t, cloud(5, 2, 1))
	_, err := Runner{Z2: fake}.Compute(context.Background(), d, Options{})
	if err == nil || !strings.Contains(err.Error(), "status 3") || !strings.Contains(err.Error(), "something went wrong") {
		t.Errorf("failing child: got %v, want exit status and its stderr line", err)
	}
}

func TestTimeoutKillsChild(t *testing.T) {
	// H2 of 400 points in R^8 takes ripser many seconds.
	d := mustEuclid(t, cloud(400, 8, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Runner{}.Compute(ctx, d, Options{MaxDim: 2})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: got %v, want context.DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	_, err = Runner{}.Compute(ctx, d, Options{MaxDim: 2})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: got %v, want context.Canceled", err)
	}
}

func TestParseOutput(t *testing.T) {
	text := "value range: [1,2]\ndistance matrix with 3 points, using threshold at enclosing radius 2\n" +
		"persistence intervals in dim 0:\n [0,1)\n [0, )\npersistence intervals in dim 1:\n [1.5,1.75)\n"
	ds, err := ParseOutput(strings.NewReader(text), 1, plain)
	if err != nil {
		t.Fatal(err)
	}
	want := []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 1}, {0, math.Inf(1)}}}, {Dim: 1, Pairs: [][2]float64{{1.5, 1.75}}}}
	if msg := sameDiagrams(ds, want); msg != "" {
		t.Errorf("%s: %v", msg, ds)
	}
	if _, err := ParseOutput(strings.NewReader("persistence intervals in dim 0:\n [0;1)\n"), 0, plain); err == nil {
		t.Errorf("a malformed interval must be an error")
	}
	ds, err = ParseOutput(strings.NewReader(text), 0, plain)
	if err != nil || len(ds) != 1 || len(ds[0].Pairs) != 2 {
		t.Errorf("parsing up to dim 0 must stop at the dim 1 header: %v %v", ds, err)
	}
}

func plain(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

func TestCodesPrintExactly(t *testing.T) {
	// Every code must survive six-digit printing, across decades.
	for _, r := range []int{0, 1, 899999, 900000, 900001, 1799999, 1800000, 5_000_000, 37_800_000, maxRanks - 1} {
		c := code(r)
		printed := strconv.FormatFloat(float64(c), 'g', 6, 32)
		v, _ := strconv.ParseFloat(printed, 64)
		got, ok := rank(v)
		if !ok || got != r {
			t.Errorf("rank %d: code %v printed %q decodes to %d (%v)", r, c, printed, got, ok)
		}
		if c32 := float32(c); c32 == 0 || math.IsInf(float64(c32), 0) || c32 < 1.1754944e-38 {
			t.Errorf("rank %d: code %v is not a normal float32", r, c)
		}
		if r > 0 && !(code(r-1) < c) {
			t.Errorf("codes not increasing at rank %d: %v !< %v", r, code(r-1), c)
		}
	}
}

func TestCloseDistancesStayApart(t *testing.T) {
	// Two H0 deaths that print alike at six digits (1.000001 and
	// 1.000002) must come back as themselves.
	a, b := 1.000001, 1.000002
	d := sdk.Matrix{Rows: 3, Cols: 3, Data: []float64{0, a, 5, a, 0, b, 5, b, 0}}
	ds, err := Runner{}.Compute(context.Background(), d, Options{MaxDim: 0})
	if err != nil {
		t.Fatal(err)
	}
	want := []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, a}, {0, b}, {0, math.Inf(1)}}}}
	if msg := sameDiagrams(ds, want); msg != "" || ds[0].Pairs[0][1] == ds[0].Pairs[1][1] {
		t.Errorf("got %v, want %v", ds, want)
	}
}

// TestRefusesOverBudget: ripser never refused anything and grew until the
// kernel killed it; now a plan over the memory budget is one line.
func TestRefusesOverBudget(t *testing.T) {
	d := mustEuclid(t, cloud(300, 8, 2))
	t.Setenv(sdk.MemoryBudgetEnv, "64M")
	_, err := Runner{}.Compute(context.Background(), d, Options{MaxDim: 3})
	if err == nil || !strings.Contains(err.Error(), "memory budget") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("want one line refusing H3 of 300 points under 64 MiB, got %v", err)
	}
	// What fits still runs under the same budget.
	if _, err := (Runner{}).Compute(context.Background(), d, Options{MaxDim: 1}); err != nil {
		t.Fatalf("H1 of 300 points under 64 MiB: %v", err)
	}
}

// TestEdgesMatchDense gives ripser a sparse edge list (--format sparse)
// and the same pairs as a dense matrix (sdk.Edges.Dense, the binary
// format): the diagrams must be the same, with pairs missing, with the
// last points isolated (ripser's sparse reader drops them), with a
// threshold (which ripser ignores on sparse input) and with none kept.
func TestEdgesMatchDense(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 5))
	for seed := uint64(1); seed <= 4; seed++ {
		d := mustEuclid(t, cloud(40, 3, seed))
		e := sdk.Edges{N: 43} // three isolated points after the cloud
		for i := range 40 {
			for j := range i {
				if rng.Float64() < 0.7 {
					e.I, e.J, e.D = append(e.I, int32(j)), append(e.J, int32(i)), append(e.D, d.At(i, j))
				}
			}
		}
		for _, opt := range []Options{{MaxDim: 2}, {MaxDim: 1, Coeff: 3, Threshold: 1.1}, {MaxDim: 0, Threshold: 1e-9}} {
			got, err := Runner{}.ComputeEdges(ctx, &e, opt)
			if err != nil {
				t.Fatalf("seed %d %+v: %v", seed, opt, err)
			}
			m, thr := e.Dense(opt.Threshold)
			dense := opt
			dense.Threshold = thr
			want, err := Runner{}.Compute(ctx, m, dense)
			if err != nil {
				t.Fatalf("dense seed %d %+v: %v", seed, opt, err)
			}
			if msg := sameDiagrams(got, want); msg != "" {
				t.Errorf("seed %d %+v: sparse and dense differ: %s\nsparse %v\ndense  %v", seed, opt, msg, got, want)
			}
			if n := len(got[0].Pairs); n != 43 {
				t.Errorf("seed %d %+v: %d H0 pairs, want one per point (43)", seed, opt, n)
			}
		}
	}
	bad := sdk.Edges{N: 3, I: []int32{0, 1}, J: []int32{1, 0}, D: []float64{1, 1}}
	if _, err := (Runner{}).ComputeEdges(ctx, &bad, Options{MaxDim: 1}); err == nil || !strings.Contains(err.Error(), "(0, 1) is given twice") {
		t.Errorf("a repeated pair: got %v, want it named", err)
	}
}
