package euclid

import (
	"context"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// brute is the textbook double loop, summing in coordinate order as the
// package does, so results must agree to the bit.
func brute(p sdk.Matrix) sdk.Matrix {
	n := p.Rows
	d := sdk.NewMatrix(n, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for k := 0; k < p.Cols; k++ {
				t := p.At(i, k) - p.At(j, k)
				s += t * t
			}
			d.Data[i*n+j] = math.Sqrt(s)
		}
	}
	return d
}

func TestMatchesBruteForce(t *testing.T) {
	for _, c := range []struct{ n, d int }{{1, 1}, {2, 3}, {17, 1}, {50, 11}, {400, 64}} {
		p := plugintest.RandomCloud(c.n, c.d, uint64(c.n))
		for i := range p.Data {
			p.Data[i] = 10*p.Data[i] - 5
		}
		got, err := Matrix(p)
		if err != nil {
			t.Fatalf("%dx%d: %v", c.n, c.d, err)
		}
		want := brute(p)
		for k := range want.Data {
			if got.Data[k] != want.Data[k] {
				t.Fatalf("%dx%d: d[%d][%d] = %v, brute force %v", c.n, c.d, k/c.n, k%c.n, got.Data[k], want.Data[k])
			}
		}
		if c.n > 1 {
			plugintest.CheckDistanceMatrix(t, got, c.n)
		}
	}
}

func TestKnownGeometry(t *testing.T) {
	// The corners of the unit cube: edges 1, face diagonals sqrt 2, body
	// diagonals sqrt 3, decided by the Hamming distance of the corners.
	p := sdk.NewMatrix(8, 3)
	for i := 0; i < 8; i++ {
		for b := 0; b < 3; b++ {
			p.Data[i*3+b] = float64(i >> b & 1)
		}
	}
	d, err := Matrix(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		for j := 0; j < 8; j++ {
			h := 0
			for x := i ^ j; x > 0; x >>= 1 {
				h += x & 1
			}
			if want := math.Sqrt(float64(h)); d.At(i, j) != want {
				t.Errorf("corners %03b and %03b: %v, want sqrt(%d)", i, j, d.At(i, j), h)
			}
		}
	}
}

// TestFarFromOrigin pins the reason for computing differences: a 3-4-5
// triangle shifted to 1e8 is exact this way, while |x|^2+|y|^2-2<x,y>
// loses every digit (the squares are ~2e16, where float64 spacing is 4).
func TestFarFromOrigin(t *testing.T) {
	const o = 1e8
	p := sdk.Matrix{Rows: 3, Cols: 2, Data: []float64{o, o, o + 3, o, o + 3, o + 4}}
	d, err := Matrix(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		i, j int
		want float64
	}{{0, 1, 3}, {1, 2, 4}, {0, 2, 5}} {
		if got := d.At(c.i, c.j); got != c.want {
			t.Errorf("d(%d,%d) = %v, want %v", c.i, c.j, got, c.want)
		}
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	p := plugintest.RandomCloud(300, 20, 7)
	old := runtime.GOMAXPROCS(1)
	one, err := Matrix(p)
	runtime.GOMAXPROCS(4)
	four, err2 := Matrix(p)
	runtime.GOMAXPROCS(old)
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	for k := range one.Data {
		if one.Data[k] != four.Data[k] {
			t.Fatalf("element %d: %v with 1 worker, %v with 4", k, one.Data[k], four.Data[k])
		}
	}
}

func TestBadInput(t *testing.T) {
	nan := plugintest.RandomCloud(5, 2, 1)
	nan.Data[7] = math.NaN()
	inf := plugintest.RandomCloud(5, 2, 1)
	inf.Data[0] = math.Inf(-1)
	for _, c := range []struct {
		name string
		p    sdk.Matrix
		want string
	}{
		{"nan", nan, "coordinate 1 of point 3 is NaN"},
		{"inf", inf, "coordinate 0 of point 0 is -Inf"},
		{"ragged", sdk.Matrix{Rows: 3, Cols: 2, Data: []float64{1, 2, 3}}, "needs 6 values, got 3"},
		{"empty", sdk.Matrix{}, "empty"},
		{"no columns", sdk.Matrix{Rows: 4}, "empty"},
	} {
		_, err := Matrix(c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestPlugin(t *testing.T) {
	ctx := context.Background()
	info, err := Plugin{}.Describe(ctx)
	if err != nil || info.Name != "euclid" || info.Kind != sdk.KindDist || info.Protocol != sdk.ProtocolVersion {
		t.Fatalf("describe: %+v, %v", info, err)
	}
	p := plugintest.RandomCloud(30, 3, 3)
	r, err := Plugin{}.Compute(ctx, p, nil)
	if err != nil || r.Components != 1 {
		t.Fatalf("compute: components %d, %v", r.Components, err)
	}
	plugintest.CheckDistanceMatrix(t, r.Distances, 30)
	if _, err := (Plugin{}).Compute(ctx, p, map[string]string{"k": "15"}); err == nil || !strings.Contains(err.Error(), "k") {
		t.Errorf("a parameter must be refused, naming it; got %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (Plugin{}).Compute(cancelled, plugintest.RandomCloud(500, 3, 1), nil); err == nil {
		t.Errorf("a cancelled context must stop the computation with an error")
	}
}

func TestConformance(t *testing.T) {
	bin := plugintest.Build(t, "github.com/neuraltopology/neuraltopology/plugins/dist-euclid", "nt-dist-euclid")
	plugintest.Run(t, bin)
}

// expansion is the |x|^2+|y|^2-2<x,y> method, the usual fast alternative,
// kept here only as the benchmark's reference.
func expansion(p sdk.Matrix) sdk.Matrix {
	n := p.Rows
	sq := make([]float64, n)
	for i := range sq {
		for _, v := range p.Row(i) {
			sq[i] += v * v
		}
	}
	d := sdk.NewMatrix(n, n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var dot float64
			xj := p.Row(j)
			for k, v := range p.Row(i) {
				dot += v * xj[k]
			}
			r := math.Sqrt(max(0, sq[i]+sq[j]-2*dot))
			d.Data[i*n+j], d.Data[j*n+i] = r, r
		}
	}
	return d
}

// BenchmarkMatrix compares this package (both cores) with the serial
// brute force and the serial dot-product expansion on a 2,000 x 64 cloud.
func BenchmarkMatrix(b *testing.B) {
	p := plugintest.RandomCloud(2000, 64, 1)
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			if _, err := Matrix(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("brute-serial", func(b *testing.B) {
		for b.Loop() {
			brute(p)
		}
	})
	b.Run("expansion-serial", func(b *testing.B) {
		for b.Loop() {
			expansion(p)
		}
	})
}

// TestHugeCoordinatesAreRefused: points of 1e300 once gave +Inf
// distances and a clean exit; they are refused, and the largest accepted
// coordinates still give finite distances.
func TestHugeCoordinatesAreRefused(t *testing.T) {
	p := sdk.Matrix{Rows: 2, Cols: 1, Data: []float64{1e300, -1e300}}
	if _, err := Matrix(p); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Errorf("1e300: got %v", err)
	}
	p = sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{MaxCoordinate, MaxCoordinate, MaxCoordinate, -MaxCoordinate, -MaxCoordinate, -MaxCoordinate}}
	m, err := Matrix(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ValidateDistances(); err != nil {
		t.Errorf("largest accepted coordinates: %v", err)
	}
}
