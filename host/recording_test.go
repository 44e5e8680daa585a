package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/circular"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/recording"
	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/rips"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// python is Debian's python3 (where python3-h5py lives), not whatever
// python3 comes first in PATH; NT_PYTHON overrides it.
func python() string {
	if p := os.Getenv("NT_PYTHON"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// simNWB writes a simulated NWB file with testdata/simnwb.py (h5py).
func simNWB(t *testing.T, dir, kind string, seed, seconds, units int, extra ...string) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.nwb", kind, seed))
	args := append([]string{"testdata/simnwb.py", kind, strconv.Itoa(seed), strconv.Itoa(seconds), strconv.Itoa(units), path}, extra...)
	cmd := exec.Command(python(), args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("simnwb.py %v: %v\n%s", args, err, out)
	}
	return path
}

// shuffleResult is what the tests read of tda's JSON.
type shuffleResult struct {
	Diagrams []struct {
		Dim     int           `json:"dim"`
		Pairs   [][2]*float64 `json:"pairs"`
		PValues []*float64    `json:"p_values"`
	} `json:"diagrams"`
	Shuffles         int         `json:"shuffles"`
	Gap              float64     `json:"gap"`
	SignificantBetti []int       `json:"significant_betti"`
	BeyondGap        []int       `json:"beyond_gap"`
	ShuffleMaxBars   [][]float64 `json:"shuffle_max_bars"`
}

// importAndTest imports an NWB file and runs the shuffle test on it.
func importAndTest(t *testing.T, dir, nwb string, shuffles, maxDim int, importArgs ...string) shuffleResult {
	t.Helper()
	cloud := strings.TrimSuffix(nwb, ".nwb") + ".npz"
	args := append([]string{"recording", "import", nwb, "--out", cloud}, importArgs...)
	if _, errs, code := nthost(t, dir, args...); code != 0 {
		t.Fatalf("recording import: %s", errs)
	}
	out, errs, code := nthost(t, dir, "tda", "--points", cloud, "--shuffles", strconv.Itoa(shuffles), "--maxdim", strconv.Itoa(maxDim))
	if code != 0 {
		t.Fatalf("tda --shuffles: %s", errs)
	}
	var r shuffleResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("tda JSON: %v\n%s", err, out)
	}
	if r.Shuffles != shuffles || len(r.SignificantBetti) != maxDim+1 || len(r.ShuffleMaxBars) != maxDim+1 || len(r.ShuffleMaxBars[1]) != shuffles {
		t.Fatalf("tda JSON: %d shuffles, betti %v, %d dims of shuffle maxima", r.Shuffles, r.SignificantBetti, len(r.ShuffleMaxBars))
	}
	// The p-values must be the stated formula over the shuffles' maxima,
	// and significant_betti the essential classes plus the bars with
	// p <= 0.05 down to the first gap of the stated factor.
	for _, d := range r.Diagrams {
		var sig []float64
		essential := 0
		for j, p := range d.Pairs {
			if p[1] == nil {
				essential++
				continue
			}
			if l := *p[1] - *p[0]; d.PValues[j] != nil && *d.PValues[j] <= 0.05 {
				sig = append(sig, l)
			}
			ge := 0
			for _, m := range r.ShuffleMaxBars[d.Dim] {
				if m >= *p[1]-*p[0] {
					ge++
				}
			}
			want := float64(1+ge) / float64(shuffles+1)
			if d.PValues[j] == nil || *d.PValues[j] != want {
				t.Fatalf("dim %d bar %v: p-value %v, want %v", d.Dim, p, d.PValues[j], want)
			}
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(sig)))
		kept := len(sig)
		for i := 1; i < len(sig); i++ {
			if sig[i]*r.Gap <= sig[i-1] {
				kept = i
				break
			}
		}
		if r.Gap < 1 || r.SignificantBetti[d.Dim] != essential+kept || r.BeyondGap[d.Dim] != len(sig)-kept {
			t.Fatalf("dim %d: significant %d, beyond the gap %d; from the p-values and gap %v: %d and %d",
				d.Dim, r.SignificantBetti[d.Dim], r.BeyondGap[d.Dim], r.Gap, essential+kept, len(sig)-kept)
		}
	}
	return r
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// recordingShuffles is how many shuffled controls the recording tests
// compare with: 29, so a bar is significant (p <= 0.05) only when it
// beats every one of them, which the longest bar of a population without
// structure does with probability 1/30.
const recordingShuffles = 29

// simCase is one simulated recording of a test: the seeds are not those
// the defaults were chosen on (1-20), and vary draws the simulation's
// parameters (rates, tuning widths, speeds; grid spacing, orientation,
// arena) from the seed.
type simCase struct {
	seed, seconds, units int
	extra                []string
}

// TestRecordingHeadDirection: simulated head-direction populations
// import with the defaults, show significant Betti numbers (1, 1, 0)
// against 29 shuffles, and nthost circular, with its defaults, decodes
// the true heading written in the file: |Fisher-Lee circular
// correlation| >= 0.9 of the decoded angle itself (the absolute value:
// the agreement after the best rotation and reflection). The first case
// is the 10-minute, 80-unit recording of the fixed simulation; the
// others draw their parameters from the seed.
func TestRecordingHeadDirection(t *testing.T) {
	dir := t.TempDir()
	bins(t)
	for _, c := range []simCase{{1001, 600, 80, nil}, {1002, 300, 60, []string{"vary"}}, {1003, 300, 100, []string{"vary"}}} {
		t.Run(strconv.Itoa(c.seed), func(t *testing.T) {
			t.Parallel()
			nwb := simNWB(t, dir, "hd", c.seed, c.seconds, c.units, c.extra...)
			r := importAndTest(t, dir, nwb, recordingShuffles, 2)
			if !sameInts(r.SignificantBetti, []int{1, 1, 0}) {
				t.Errorf("significant Betti numbers %v, want [1 1 0] (shuffle maxima %v)", r.SignificantBetti, r.ShuffleMaxBars)
			}
			cloud := strings.TrimSuffix(nwb, ".nwb") + ".npz"
			angles := strings.TrimSuffix(nwb, ".nwb") + "-angle.npz"
			_, errs, code := nthost(t, dir, "circular", "--points", cloud, "--out", angles,
				"--nwb", nwb, "--behaviour", "/processing/behavior/CompassDirection/heading/data", "--plot", strings.TrimSuffix(nwb, ".nwb")+"-angle.png")
			if code != 0 {
				t.Fatalf("circular: %s", errs)
			}
			arrs, err := matio.ReadNPZ(angles)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]float64{}
			for _, a := range arrs {
				got[a.Name] = a.Matrix.Data
			}
			// The true heading, read from the file independently of the tool.
			s, err := recording.ReadSeries(nwb, "/processing/behavior/CompassDirection/heading")
			if err != nil {
				t.Fatal(err)
			}
			truth, err := recording.SampleAt(s, got["times"], 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got["angle"]) != len(truth) || len(truth) < 10*c.seconds-10 {
				t.Fatalf("%d angles for %d times", len(got["angle"]), len(truth))
			}
			rho := math.Abs(circular.Correlation(got["angle"], truth))
			if rho < 0.9 {
				t.Errorf("|circular correlation| of decoded and true heading %.3f, want >= 0.9 (%s)", rho, errs)
			}
			t.Logf("betti %v, |circular correlation| %.3f", r.SignificantBetti, rho)
		})
	}
}

// TestRecordingGridModule: simulated grid-cell modules (hexagonal
// fields; spacing, orientation, field width, rates, the animal's speed
// and arena drawn from each seed) are a torus: significant Betti numbers
// exactly (1, 2, 1) against 29 shuffles, with the defaults.
func TestRecordingGridModule(t *testing.T) {
	dir := t.TempDir()
	bins(t)
	for _, c := range []simCase{{1001, 600, 80, []string{"vary"}}, {1002, 600, 100, []string{"vary"}}, {1003, 600, 120, []string{"vary"}}} {
		t.Run(strconv.Itoa(c.seed), func(t *testing.T) {
			t.Parallel()
			nwb := simNWB(t, dir, "grid", c.seed, c.seconds, c.units, c.extra...)
			r := importAndTest(t, dir, nwb, recordingShuffles, 2)
			if !sameInts(r.SignificantBetti, []int{1, 2, 1}) {
				t.Errorf("significant Betti numbers %v, want [1 2 1] (shuffle maxima %v)", r.SignificantBetti, r.ShuffleMaxBars)
			}
			t.Logf("significant Betti numbers %v", r.SignificantBetti)
		})
	}
}

// nullRepeats is how many independent Poisson populations the null test
// runs, and the seed of the first: 20 from seed 1 in CI (NT_NULL_REPEATS
// and NT_NULL_SEED for longer validation runs on other populations;
// docs/recordings.md has their counts).
func nullRepeats(t *testing.T) (int, int) {
	get := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a whole number >= 1", name, v)
		}
		return n
	}
	return get("NT_NULL_REPEATS", 20), get("NT_NULL_SEED", 1)
}

// TestRecordingPoissonNull: independent Poisson units (40 units, 2
// minutes, each at its own constant rate of 2 to 20 Hz) have no loop;
// the shuffle test with the import defaults (150 points, H1, 29
// shuffles: the longest bar beats all of them with probability 1/30)
// must find none in at least 95% of independent populations. The
// populations are simulated here and the test runs in process, on the
// ph-rips plugin's own engine, so that many repeats are cheap; the
// NWB path of the same test is the other recording tests'.
func TestRecordingPoissonNull(t *testing.T) {
	repeats, first := nullRepeats(t)
	ph := func(ctx context.Context, pts sdk.Matrix) ([]sdk.Diagram, error) {
		return rips.ComputePoints(ctx, &pts, rips.Options{MaxDim: 1, Coeff: 2})
	}
	const units, seconds, m = 40, 120.0, 150
	falses := make([]bool, repeats)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				seed := uint64(first + i)
				rng := rand.New(rand.NewPCG(seed, 0x9015))
				spikes := make([][]float64, units)
				for u := range spikes {
					rate := 2 + 18*rng.Float64()
					for s := rng.ExpFloat64() / rate; s < seconds; s += rng.ExpFloat64() / rate {
						spikes[u] = append(spikes[u], s)
					}
				}
				b, err := recording.BinSpikes(spikes, 0, seconds, recording.DefaultBin)
				if err != nil {
					t.Error(err)
					continue
				}
				c, err := recording.Make(b, recording.Options{SmoothBins: recording.DefaultSmoothBy, Sqrt: true, PCA: recording.DefaultPCA})
				if err != nil {
					t.Error(err)
					continue
				}
				res, err := recording.ShuffleTest(context.Background(), c, recordingShuffles, m, seed, ph)
				if err != nil {
					t.Error(err)
					continue
				}
				falses[i] = res.SignificantBetti[1] > 0
			}
		}()
	}
	for i := range repeats {
		work <- i
	}
	close(work)
	wg.Wait()
	n := 0
	for _, f := range falses {
		if f {
			n++
		}
	}
	t.Logf("%d of %d Poisson populations with a significant loop", n, repeats)
	if float64(repeats-n) < 0.95*float64(repeats) {
		t.Fatalf("%d of %d null populations show a significant loop, want at most 5%%", n, repeats)
	}
}

// TestRecordingImportErrors: a file that is not NWB, a truncated file,
// a ragged index that does not add up and a missing index are refused
// with one line naming the file and the missing part; an existing
// output file is left as it was.
func TestRecordingImportErrors(t *testing.T) {
	dir := t.TempDir()
	good := simNWB(t, dir, "poisson", 7, 20, 5)
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "truncated.nwb")
	if err := os.WriteFile(trunc, b[:len(b)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text.nwb")
	if err := os.WriteFile(text, []byte("not hdf5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "keep.npz")
	if err := os.WriteFile(out, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file string
		want []string
	}{
		{simNWB(t, dir, "poisson", 8, 20, 5, "notnwb"), []string{"not NWB", "nwb_version"}},
		{simNWB(t, dir, "poisson", 9, 20, 5, "ragged"), []string{"/units/spike_times_index", "does not add up"}},
		{simNWB(t, dir, "poisson", 10, 20, 5, "noindex"), []string{"no /units/spike_times_index"}},
		{trunc, []string{"truncated"}},
		{text, []string{"not an HDF5 file"}},
	}
	for _, c := range cases {
		_, errs, code := nthost(t, dir, "recording", "import", c.file, "--out", out)
		if code == 0 {
			t.Fatalf("%s: imported", c.file)
		}
		line := strings.TrimSpace(errs)
		if strings.Count(line, "\n") > 0 {
			t.Errorf("%s: want one line, got\n%s", c.file, errs)
		}
		for _, w := range append(c.want, c.file) {
			if !strings.Contains(line, w) {
				t.Errorf("%s: %q does not say %q", c.file, line, w)
			}
		}
		if got, _ := os.ReadFile(out); string(got) != "precious" {
			t.Fatalf("%s: the existing output was changed", c.file)
		}
	}
	// The good file's spikes are what the file holds: import with one
	// unit and no smoothing and compare the counts with h5py's.
	_, errs, code := nthost(t, dir, "recording", "import", good, "--out", filepath.Join(dir, "g.npz"), "--units", "3", "--smooth", "0", "--pca", "0", "--interval", "0:20", "--bin", "1s")
	if code != 0 {
		t.Fatalf("import: %s", errs)
	}
	c, err := recording.LoadCloud(filepath.Join(dir, "g.npz"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command(python(), "-c", `import h5py,numpy as np,sys
f=h5py.File(sys.argv[1],'r'); ix=f['units/spike_times_index'][:]; st=f['units/spike_times'][:]
print(' '.join(str(int(x)) for x in np.histogram(st[ix[2]:ix[3]],bins=np.arange(21))[0]))`, good).Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range c.Rates.Data {
		got = append(got, strconv.Itoa(int(v)))
	}
	if strings.Join(got, " ") != strings.TrimSpace(string(want)) {
		t.Fatalf("unit 3's counts per second: got %v, h5py %s", got, want)
	}
}

// TestCompareLayersWithRecording: a layer that encodes the simulated
// heading (a random nonlinear map of it, matched in time with the
// recording) must look more like the head-direction recording than a
// layer of noise: a smaller H1 distance and a larger linear CKA.
func TestCompareLayersWithRecording(t *testing.T) {
	dir := t.TempDir()
	nwb := simNWB(t, dir, "hd", 4, 180, 60)
	cloud := filepath.Join(dir, "hd.npz")
	if _, errs, code := nthost(t, dir, "recording", "import", nwb, "--out", cloud); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	c, err := recording.LoadCloud(cloud)
	if err != nil {
		t.Fatal(err)
	}
	s, err := recording.ReadSeries(nwb, "/processing/behavior/CompassDirection/heading/data")
	if err != nil {
		t.Fatal(err)
	}
	head, err := recording.SampleAt(s, c.Times, 0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	ring, noise := sdk.NewMatrix(len(head), 16), sdk.NewMatrix(len(head), 16)
	w := make([]float64, 32)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	for i, h := range head {
		for k := range 16 {
			ring.Data[i*16+k] = math.Tanh(w[2*k]*math.Cos(h) + w[2*k+1]*math.Sin(h) + 0.1*rng.NormFloat64())
			noise.Data[i*16+k] = rng.NormFloat64()
		}
	}
	for name, m := range map[string]sdk.Matrix{"ring": ring, "noise": noise} {
		if err := matio.WriteNPZ(filepath.Join(dir, name+".npz"), []matio.NamedArray{{Name: "points", Matrix: m}}); err != nil {
			t.Fatal(err)
		}
	}
	csv := filepath.Join(dir, "cmp.csv")
	out, errs, code := nthost(t, dir, "compare", "--layers", "ring.npz,noise.npz", "--recordings", cloud, "--points", "150", "--repeats", "6",
		"--csv", csv, "--plot", filepath.Join(dir, "cmp.png"), "--plot-cka", filepath.Join(dir, "cka.png"))
	if code != 0 {
		t.Fatalf("compare: %s", errs)
	}
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	row := map[string][]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		f := strings.Split(line, ",")
		var v []float64
		for _, x := range f[3:] {
			y, _ := strconv.ParseFloat(x, 64)
			v = append(v, y)
		}
		row[f[0]] = v // distance, null, p, cka
	}
	r, n := row["ring"], row["noise"]
	if len(r) != 4 || len(n) != 4 {
		t.Fatalf("compare CSV:\n%s", b)
	}
	if !(r[0] < n[0]) || !(r[3] > n[3]+0.3) {
		t.Fatalf("ring layer (distance %.3g, CKA %.3f) should be closer to the head-direction recording than noise (distance %.3g, CKA %.3f)\n%s", r[0], r[3], n[0], n[3], out)
	}
}
