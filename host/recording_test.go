package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/circular"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/recording"
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
	SignificantBetti []int       `json:"significant_betti"`
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
	// The p-values must be the stated formula over the shuffles' maxima.
	for _, d := range r.Diagrams {
		for j, p := range d.Pairs {
			if p[1] == nil {
				continue
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

// TestRecordingHeadDirection: simulated head-direction populations
// (10 minutes, 80 units, three seeds) import with the defaults, show
// significant Betti numbers (1, 1, 0) against 19 shuffles, and circular
// coordinates decode the true heading written in the file: |Fisher-Lee
// circular correlation| of their circular ranks >= 0.9 (blind to
// rotation and reflection, and to the decoded angle's uneven speed,
// which follows the population's geometry; the raw correlation is
// logged).
func TestRecordingHeadDirection(t *testing.T) {
	dir := t.TempDir()
	for _, seed := range []int{1, 2, 3} {
		nwb := simNWB(t, dir, "hd", seed, 600, 80)
		r := importAndTest(t, dir, nwb, 19, 2)
		if !sameInts(r.SignificantBetti, []int{1, 1, 0}) {
			t.Errorf("seed %d: significant Betti numbers %v, want [1 1 0] (shuffle maxima %v)", seed, r.SignificantBetti, r.ShuffleMaxBars)
		}
		cloud := strings.TrimSuffix(nwb, ".nwb") + ".npz"
		angles := filepath.Join(dir, fmt.Sprintf("angle-%d.npz", seed))
		_, errs, code := nthost(t, dir, "circular", "--points", cloud, "--out", angles,
			"--nwb", nwb, "--behaviour", "/processing/behavior/CompassDirection/heading/data", "--plot", filepath.Join(dir, "angle.png"))
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
		if len(got["angle"]) != len(truth) || len(truth) < 5000 {
			t.Fatalf("seed %d: %d angles for %d times", seed, len(got["angle"]), len(truth))
		}
		rank := math.Abs(circular.RankCorrelation(got["angle"], truth))
		raw := math.Abs(circular.Correlation(got["angle"], truth))
		if rank < 0.9 {
			t.Errorf("seed %d: |circular rank correlation| of decoded and true heading %.3f, want >= 0.9 (%s)", seed, rank, errs)
		}
		t.Logf("seed %d: betti %v, |circular correlation| %.3f, of circular ranks %.3f", seed, r.SignificantBetti, raw, rank)
	}
}

// TestRecordingGridModule: a simulated grid-cell module (10 minutes, 100
// units, two seeds) is a torus: one significant component, at least its
// two loops, and its void.
// The module has square fields (two plane waves): a hexagonal module's
// Rips complex also carries a third, shorter loop (its three equal
// shortest directions), which docs/recordings.md discusses.
func TestRecordingGridModule(t *testing.T) {
	dir := t.TempDir()
	for _, seed := range []int{1, 2} {
		nwb := simNWB(t, dir, "squaregrid", seed, 600, 100)
		r := importAndTest(t, dir, nwb, 19, 2)
		// One component and the torus's void, exactly; its two loops at
		// least. A third, shorter H1 bar sometimes also beats every
		// shuffle (seed 2 of these: (1, 3, 1)); docs/recordings.md says
		// how to read it.
		b := r.SignificantBetti
		if b[0] != 1 || b[2] != 1 || b[1] < 2 || b[1] > 3 {
			t.Errorf("seed %d: significant Betti numbers %v, want (1, 2, 1) (or a third H1 bar) (shuffle maxima %v)", seed, b, r.ShuffleMaxBars)
		}
		t.Logf("seed %d: significant Betti numbers %v", seed, b)
	}
}

// nullRepeats is how many independent Poisson populations the null test
// runs: 20 in CI (NT_NULL_REPEATS for a longer validation run).
func nullRepeats(t *testing.T) int {
	if v := os.Getenv("NT_NULL_REPEATS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("NT_NULL_REPEATS=%q", v)
		}
		return n
	}
	return 20
}

// TestRecordingPoissonNull: independent Poisson units have no loop; the
// shuffle test (29 shuffles: a bar is significant when it beats all of
// them, probability 1/30 under the null) must find none in at least 95%
// of independent repeats.
func TestRecordingPoissonNull(t *testing.T) {
	dir := t.TempDir()
	repeats := nullRepeats(t)
	false1 := 0
	for seed := 1; seed <= repeats; seed++ {
		nwb := simNWB(t, dir, "poisson", 1000+seed, 120, 40)
		r := importAndTest(t, dir, nwb, 29, 1, "--subsample", "150")
		if r.SignificantBetti[1] > 0 {
			false1++
		}
		os.Remove(nwb)
	}
	t.Logf("%d of %d Poisson populations with a significant loop", false1, repeats)
	if float64(repeats-false1) < 0.95*float64(repeats) {
		t.Fatalf("%d of %d null populations show a significant loop, want at most 5%%", false1, repeats)
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
