// Package plugintest is the conformance kit for NeuralTopology plugins. A
// plugin author runs it from an ordinary Go test against the plugin's
// binary:
//
//	func TestConformance(t *testing.T) {
//		bin := plugintest.Build(t, "example.com/me/nt-ph-mine", "nt-ph-mine")
//		plugintest.Run(t, bin)
//	}
//
// Run starts the binary as the host would, checks the handshake and the
// self-description, then exercises the calls of the plugin's kind with
// small inputs, bad inputs that must give errors (not crashes), and a
// payload larger than gRPC's default 4 MB message limit.
package plugintest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Build compiles the Go package pkg (an import path, or a path relative to
// the test's working folder starting with "./" or "../") into a temporary
// folder as a binary named name, and returns its path.
func Build(t testing.TB, pkg, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = os.Environ()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, b)
	}
	return out
}

// Open starts a plugin binary for a test and stops it when the test ends.
func Open(t testing.TB, bin string) *sdk.Client {
	t.Helper()
	return OpenWith(t, bin, sdk.OpenOptions{})
}

// OpenWith is Open with options, such as NoRestart for a test that kills
// the plugin and wants to see the failure rather than a restart.
func OpenWith(t testing.TB, bin string, opt sdk.OpenOptions) *sdk.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := sdk.Open(ctx, bin, opt)
	if err != nil {
		t.Fatalf("open %s: %v", bin, err)
	}
	t.Cleanup(c.Close)
	return c
}

// Run checks the plugin binary at bin against the contract of its kind,
// with the checks Checks chooses from what the plugin declares, each as a
// subtest.
func Run(t *testing.T, bin string) {
	t.Helper()
	// No restarts: a crash is what the kit must see.
	c := OpenWith(t, bin, sdk.OpenOptions{NoRestart: true})
	for _, ch := range Checks(c.Info) {
		ch := ch
		t.Run(ch.Name, func(t *testing.T) { ch.Run(t, c) })
	}
	if c.Exited() {
		t.Fatalf("plugin %s exited during the conformance run", bin)
	}
}

// CheckDescribe verifies the self-description: name, version, description,
// protocol, and well-formed declared parameters and capabilities.
func CheckDescribe(t T, i sdk.Info) {
	t.Helper()
	if i.Name == "" || i.Version == "" || i.Description == "" {
		t.Errorf("describe must give name, version and description; got %+v", i)
	}
	if !sdk.SupportedProtocol(i.Protocol) {
		t.Errorf("protocol %d is not one this sdk speaks (%v)", i.Protocol, sdk.ProtocolVersions)
	}
	if parts := strings.Split(i.Version, "."); len(parts) != 3 {
		t.Errorf("version %q is not MAJOR.MINOR.PATCH", i.Version)
	}
	if err := sdk.CheckDeclaration(i); err != nil {
		t.Errorf("declaration: %v", err)
	}
}

func ctx(t T) context.Context {
	base := context.Background()
	if tc, ok := t.(interface{ Context() context.Context }); ok {
		base = tc.Context() // the reporter's per-check deadline, or the test's
	}
	// Generous: a loaded shared machine can be ten times slower than a quiet one.
	c, cancel := context.WithTimeout(base, 10*time.Minute)
	t.Cleanup(cancel)
	return c
}

// CheckQuietStdout checks that the plugin wrote nothing to its stdout
// after the handshake line. go-plugin reads a plugin's stdout for the
// handshake and silently discards the rest, so a debug print there is
// lost (and one before the handshake breaks the start). Run it after the
// other checks, so that it sees what they made the plugin print.
func CheckQuietStdout(t T, c *sdk.Client) {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // output still in the pipe
	if n, first := c.StrayStdout(); n > 0 {
		t.Errorf("the plugin wrote %d bytes to stdout after its handshake line (first line %q); want none: go-plugin owns stdout and discards them, log to stderr (Go: sdk.Logger; Python: ntplugin.log)", n, first)
	}
}

// RandomCloud returns n points in R^d with coordinates uniform in [0, 1).
func RandomCloud(n, d int, seed uint64) sdk.Matrix {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	m := sdk.NewMatrix(n, d)
	for i := range m.Data {
		m.Data[i] = r.Float64()
	}
	return m
}

// Circle returns n points evenly spaced on the unit circle.
func Circle(n int) sdk.Matrix {
	m := sdk.NewMatrix(n, 2)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		m.Data[2*i], m.Data[2*i+1] = math.Cos(a), math.Sin(a)
	}
	return m
}

// CheckDistanceMatrix verifies that d is an n x n pseudometric: symmetric,
// zero diagonal, non-negative, finite, and satisfying the triangle
// inequality up to a relative tolerance.
func CheckDistanceMatrix(t T, d sdk.Matrix, n int) {
	t.Helper()
	CheckDissimilarityMatrix(t, d, n)
	CheckTriangleInequality(t, d)
}

// CheckDissimilarityMatrix verifies what every distance plugin promises:
// d is n x n, finite, non-negative, symmetric, zero on the diagonal.
func CheckDissimilarityMatrix(t T, d sdk.Matrix, n int) {
	t.Helper()
	if d.Rows != n || d.Cols != n || len(d.Data) != n*n {
		t.Fatalf("want a %dx%d distance matrix (%d values), got %dx%d with %d values", n, n, n*n, d.Rows, d.Cols, len(d.Data))
	}
	for i := 0; i < n; i++ {
		if d.At(i, i) != 0 {
			t.Fatalf("d[%d][%d] = %v, want 0", i, i, d.At(i, i))
		}
		for j := 0; j < n; j++ {
			v := d.At(i, j)
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("d[%d][%d] = %v", i, j, v)
			}
			if v != d.At(j, i) {
				t.Fatalf("d[%d][%d] = %v but d[%d][%d] = %v", i, j, v, j, i, d.At(j, i))
			}
		}
	}
}

// CheckTriangleInequality verifies d(i,k) <= d(i,j) + d(j,k) on a sample
// of triples, up to a relative tolerance.
func CheckTriangleInequality(t T, d sdk.Matrix) {
	t.Helper()
	n := d.Rows
	step := max(1, n/40) // a sample of triples keeps large n cheap
	for i := 0; i < n; i += step {
		for j := 0; j < n; j += step {
			for k := 0; k < n; k += step {
				if d.At(i, k) > (d.At(i, j)+d.At(j, k))*(1+1e-9)+1e-12 {
					t.Fatalf("triangle inequality fails: d(%d,%d)=%v > d(%d,%d)+d(%d,%d)=%v", i, k, d.At(i, k), i, j, j, k, d.At(i, j)+d.At(j, k))
				}
			}
		}
	}
}

// CheckDistance computes the distances of 60 random points and checks the
// result is a dissimilarity matrix, and that bad input (a NaN coordinate,
// a matrix whose data does not match its shape) is an error.
func CheckDistance(t T, d sdk.Distance) {
	t.Helper()
	pts := RandomCloud(60, 4, 1)
	r, err := d.Compute(ctx(t), pts, nil)
	if err != nil {
		t.Fatalf("compute on 60 random points: %v", err)
	}
	CheckDissimilarityMatrix(t, r.Distances, 60)
	if r.Components < 1 {
		t.Errorf("components = %d, want >= 1", r.Components)
	}
	bad := pts
	bad.Data = append([]float64(nil), pts.Data...)
	bad.Data[5] = math.NaN()
	_, err = d.Compute(ctx(t), bad, nil)
	wantRefusal(t, "a NaN coordinate", err)
	ragged := sdk.Matrix{Rows: 3, Cols: 2, Data: []float64{1, 2, 3}}
	_, err = d.Compute(ctx(t), ragged, nil)
	wantRefusal(t, "a 3x2 matrix with 3 values", err)
}

// CheckDistanceMetric checks the triangle inequality on 60 random points:
// for a plugin that declares capability metric=true.
func CheckDistanceMetric(t T, d sdk.Distance) {
	t.Helper()
	r, err := d.Compute(ctx(t), RandomCloud(60, 4, 1), nil)
	if err != nil {
		t.Fatalf("compute on 60 random points: %v", err)
	}
	CheckTriangleInequality(t, r.Distances)
}

// CheckDistanceParams computes with every declared parameter set to its
// default, which must be accepted, and with an undeclared parameter, which
// must be an error.
func CheckDistanceParams(t T, d sdk.Distance, info sdk.Info) {
	t.Helper()
	pts := RandomCloud(20, 3, 5)
	if _, err := d.Compute(ctx(t), pts, Defaults(info)); err != nil {
		t.Errorf("compute with the declared defaults %v: %v", Defaults(info), err)
	}
	_, err := d.Compute(ctx(t), pts, map[string]string{"no_such_param": "1"})
	wantRefusal(t, "an undeclared parameter no_such_param", err)
}

// Defaults returns every declared parameter with its default value.
func Defaults(info sdk.Info) map[string]string {
	m := map[string]string{}
	for _, p := range info.Params {
		if p.Default != "" {
			m[p.Name] = p.Default
		}
	}
	return m
}

// CheckDistanceLarge sends 2,000 points, whose 32 MB result is far past
// gRPC's 4 MB default message size.
func CheckDistanceLarge(t T, d sdk.Distance) {
	t.Helper()
	r, err := d.Compute(ctx(t), RandomCloud(2000, 3, 2), nil)
	if err != nil {
		t.Fatalf("compute on 2,000 points (32 MB result): %v", err)
	}
	if r.Distances.Rows != 2000 || r.Distances.Cols != 2000 || len(r.Distances.Data) != 2000*2000 {
		t.Fatalf("2,000 points: want a 2000x2000 matrix (4,000,000 values), got %dx%d with %d values", r.Distances.Rows, r.Distances.Cols, len(r.Distances.Data))
	}
}

// Euclid returns the Euclidean distance matrix of pts; the kit needs one
// independent of any plugin under test.
func Euclid(pts sdk.Matrix) sdk.Matrix {
	n := pts.Rows
	d := sdk.NewMatrix(n, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for k := 0; k < pts.Cols; k++ {
				x := pts.At(i, k) - pts.At(j, k)
				s += x * x
			}
			d.Data[i*n+j] = math.Sqrt(s)
		}
	}
	return d
}

// pairsByDim gathers a result's pairs by dimension, checking each pair
// (and naming the first bad one of a dimension, with their count).
func pairsByDim(t T, ds []sdk.Diagram) map[int][][2]float64 {
	t.Helper()
	byDim := map[int][][2]float64{}
	for _, d := range ds {
		byDim[d.Dim] = append(byDim[d.Dim], d.Pairs...)
		bad, first := 0, [2]float64{}
		for _, p := range d.Pairs {
			if !(p[0] <= p[1]) || p[0] < 0 {
				if bad == 0 {
					first = p
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("dimension %d: want 0 <= birth <= death in every pair, got %d pairs that are not, the first %v", d.Dim, bad, first)
		}
	}
	return byDim
}

// showPairs renders at most five pairs of a diagram, with their count.
func showPairs(pairs [][2]float64) string {
	if len(pairs) <= 5 {
		return fmt.Sprint(pairs)
	}
	return fmt.Sprintf("%v ... (%d pairs)", pairs[:5], len(pairs))
}

// wantRefusal checks that a call given bad input (described by what) was
// refused by the plugin with an error: not answered, not answered with a
// result the host had to refuse, not a crash.
func wantRefusal(t T, what string, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: want an error, got a result", what)
	case strings.Contains(err.Error(), " crashed ("):
		t.Errorf("%s: want an error, got a crash: %v", what, err)
	case strings.Contains(err.Error(), ": bad result: "):
		t.Errorf("%s: want an error, got a result the host refuses: %v", what, err)
	}
}

// checkCircleH0 checks H0 of a 40-point circle: 40 pairs (zero-length
// pairs omitted, none here), one of them essential (death +Inf).
func checkCircleH0(t T, what string, pairs [][2]float64) {
	t.Helper()
	if len(pairs) != 40 {
		t.Errorf("%s: H0 of a 40-point circle: want 40 pairs (39 finite, 1 essential), got %d", what, len(pairs))
	}
	inf := 0
	for _, p := range pairs {
		if math.IsInf(p[1], 1) {
			inf++
		}
	}
	if inf != 1 {
		t.Errorf("%s: H0 of a 40-point circle: want 1 essential class (death +Inf), got %d", what, inf)
	}
}

// CheckHomologyH0 computes H0 of a 40-point circle from its distance
// matrix (MaxDim 0, which every homology plugin serves).
func CheckHomologyH0(t T, h sdk.Homology) {
	t.Helper()
	dm := Euclid(Circle(40))
	ds, err := h.Compute(ctx(t), sdk.HomologyRequest{Distances: &dm, MaxDim: 0})
	if err != nil {
		t.Fatalf("H0 of a 40-point circle: %v", err)
	}
	checkCircleH0(t, "max_dim 0", pairsByDim(t, ds)[0])
}

// CheckHomologyCircle computes H0 and H1 of a 40-point circle: one
// essential H0 class and one long H1 bar. For plugins with max_dim >= 1.
func CheckHomologyCircle(t T, h sdk.Homology) {
	t.Helper()
	dm := Euclid(Circle(40))
	ds, err := h.Compute(ctx(t), sdk.HomologyRequest{Distances: &dm, MaxDim: 1})
	if err != nil {
		t.Fatalf("compute on a 40-point circle: %v", err)
	}
	byDim := pairsByDim(t, ds)
	checkCircleH0(t, "max_dim 1", byDim[0])
	long := 0
	for _, p := range byDim[1] {
		if p[1]-p[0] > 1.0 {
			long++
		}
	}
	if long != 1 {
		t.Errorf("H1 of a 40-point circle: want 1 bar longer than 1, got %d: %s", long, showPairs(byDim[1]))
	}
}

// CheckHomologyBadInput checks that bad requests are errors: a negative
// distance, a non-square matrix, a dimension above the declared max_dim.
func CheckHomologyBadInput(t T, h sdk.Homology, info sdk.Info) {
	t.Helper()
	dm := Euclid(Circle(10))
	bad := dm
	bad.Data = append([]float64(nil), dm.Data...)
	bad.Data[1] = -1
	_, err := h.Compute(ctx(t), sdk.HomologyRequest{Distances: &bad})
	wantRefusal(t, "a negative distance", err)
	nonSquare := sdk.Matrix{Rows: 2, Cols: 3, Data: make([]float64, 6)}
	_, err = h.Compute(ctx(t), sdk.HomologyRequest{Distances: &nonSquare})
	wantRefusal(t, "a 2x3 distance matrix", err)
	if d, ok := sdk.MaxDim(info); ok && d < math.MaxInt {
		ds, err := h.Compute(ctx(t), sdk.HomologyRequest{Distances: &dm, MaxDim: d + 1})
		if err == nil {
			t.Errorf("MaxDim %d, above the declared max_dim %d: want an error, got %d diagrams (the plugin computes above what it declares, or returns dimensions it was not asked for)", d+1, d, len(ds))
		} else {
			wantRefusal(t, fmt.Sprintf("MaxDim %d, above the declared max_dim %d", d+1, d), err)
		}
	}
}

// CheckHomologyCoefficients computes H0 of a circle over each declared
// field Z/p (up to three of them); H0 does not depend on the field.
func CheckHomologyCoefficients(t T, h sdk.Homology, info sdk.Info) {
	t.Helper()
	dm := Euclid(Circle(40))
	for _, p := range sdk.Coeffs(info, 3) {
		ds, err := h.Compute(ctx(t), sdk.HomologyRequest{Distances: &dm, Coeff: p})
		if err != nil {
			t.Errorf("coefficients Z/%d (declared %s=%q): %v", p, sdk.CapCoeff, info.Capabilities[sdk.CapCoeff], err)
			continue
		}
		checkCircleH0(t, "Z/"+strconv.Itoa(p), pairsByDim(t, ds)[0])
	}
}

// CheckHomologyPoints sends the circle as points instead of distances: for
// plugins whose capability input lists points.
func CheckHomologyPoints(t T, h sdk.Homology) {
	t.Helper()
	pts := Circle(40)
	ds, err := h.Compute(ctx(t), sdk.HomologyRequest{Points: &pts})
	if err != nil {
		t.Fatalf("H0 of a 40-point circle given as points: %v", err)
	}
	checkCircleH0(t, "points", pairsByDim(t, ds)[0])
}

// CheckHomologyEdges sends the circle as a sparse edge list, for plugins
// whose capability input lists edges: each point joined to its nearest
// five on either side, plus two points with no pair at all, which must
// stay separate components. H0: 39 finite classes, 3 essential.
func CheckHomologyEdges(t T, h sdk.Homology) {
	t.Helper()
	dm := Euclid(Circle(40))
	e := sdk.Edges{N: 42}
	for i := range 40 {
		for s := 1; s <= 5; s++ {
			j := (i + s) % 40
			e.I, e.J, e.D = append(e.I, int32(i)), append(e.J, int32(j)), append(e.D, dm.At(i, j))
		}
	}
	ds, err := h.Compute(ctx(t), sdk.HomologyRequest{Edges: &e, MaxDim: 0})
	if err != nil {
		t.Fatalf("H0 of a 40-point circle and 2 lone points given as edges: %v", err)
	}
	pairs := pairsByDim(t, ds)[0]
	inf := 0
	for _, p := range pairs {
		if math.IsInf(p[1], 1) {
			inf++
		}
	}
	if len(pairs) != 42 || inf != 3 {
		t.Errorf("edges: H0 has %d pairs, %d essential; want 42 and 3 (the circle and two lone points)", len(pairs), inf)
	}
}

// CheckHomologyParams computes with every declared parameter set to its
// default, which must be accepted. (The host refuses undeclared ones.)
func CheckHomologyParams(t T, h sdk.Homology, info sdk.Info) {
	t.Helper()
	dm := Euclid(Circle(10))
	if _, err := h.Compute(ctx(t), sdk.HomologyRequest{Distances: &dm, Params: Defaults(info)}); err != nil {
		t.Errorf("compute with the declared defaults %v: %v", Defaults(info), err)
	}
}

// CheckHomologyLarge sends a 2,000-point matrix (32 MB on the wire) and
// asks for H0 alone, which keeps it cheap.
func CheckHomologyLarge(t T, h sdk.Homology) {
	t.Helper()
	big := Euclid(RandomCloud(2000, 3, 3))
	ds, err := h.Compute(ctx(t), sdk.HomologyRequest{Distances: &big, MaxDim: 0})
	if err != nil {
		t.Fatalf("H0 of 2,000 points (32 MB request): %v", err)
	}
	if h0 := pairsByDim(t, ds)[0]; len(h0) != 2000 {
		t.Fatalf("H0 of 2,000 distinct points: want 2,000 pairs, got %d", len(h0))
	}
}
