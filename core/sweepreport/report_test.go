package sweepreport

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/sweep"
)

// synthSweep makes a Hopper-v4 sweep of 6 seeds x 8 snapshots whose
// records are made up so each claim's answer is known: the input's beta0
// is the seed (nothing else); actor layer 1 has no features (below the
// input); layer 2, the deepest, has 61 more features than the input
// (the seed's primary claim, above); beta1 in layer 2 rises with the
// step plus noise, and beta2 follows beta1's fluctuations.
func synthSweep(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sw")
	spec, err := sweep.ParseSpec([]byte("base: {env_id: Hopper-v4, total_timesteps: 6400}\ngrid: {seed: [1, 2, 3, 4, 5, 6]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := sweep.Create(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i, tr := range m.Trials {
		st, _ := runstore.Open(m.RunDir(tr))
		seed := i + 1
		for snap := 1; snap <= 8; snap++ {
			step := snap * 800
			dims := func(b0, b1, b2 int) summary.Summary {
				return summary.Summary{Dims: []summary.DimSummary{{Dim: 0, Betti: b0, Persistent: b0}, {Dim: 1, Betti: b1, Persistent: b1}, {Dim: 2, Betti: b2, Persistent: b2}}}
			}
			b1 := 3*snap + rng.IntN(7)
			b2 := b1 + rng.IntN(2)
			recs := []summary.TopologyRecord{
				{Step: step, Update: snap, Cloud: "input", Net: "input", Layer: 0, Summary: dims(seed, 0, 0)},
				{Step: step, Update: snap, Cloud: "actor/1", Net: "actor", Layer: 1, Summary: dims(0, 0, 0)},
				{Step: step, Update: snap, Cloud: "actor/2", Net: "actor", Layer: 2, Summary: dims(seed+61-b1-b2, b1, b2)},
			}
			for _, r := range recs {
				if err := st.Append(summary.TopologyFile, r); err != nil {
					t.Fatal(err)
				}
			}
			// The name of run directories written before episodes were
			// recorded one by one: read as charts/episodic_return_mean100.
			sc := summary.ScalarRecord{Step: step, Update: snap, Values: map[string]float64{"charts/episodic_return": float64(100*snap + seed)}}
			if err := st.Append(summary.ScalarsFile, sc); err != nil {
				t.Fatal(err)
			}
		}
		st.Close()
		if err := m.WriteMarker(tr, sweep.StateDone, nil); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func TestBuildKnownClaims(t *testing.T) {
	dir := synthSweep(t)
	res, err := Report(dir)
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(res.HTML)
	if err != nil {
		t.Fatal(err)
	}
	claims := readCSV(t, filepath.Join(dir, Dir, ClaimsCSV))
	find := func(family, statement string) map[string]string {
		for _, c := range claims {
			if c["statement"] == statement && c["family"] == family {
				return c
			}
		}
		t.Fatalf("no %s claim %q in %v", family, statement, claims)
		return nil
	}
	// The seed's Hopper claim, on both measures: layer 2 is 61 above the
	// input at every snapshot of every seed.
	for _, fam := range []string{FamilyPrimary, FamilyPrimaryFix} {
		m := "scale-free count"
		if fam == FamilyPrimaryFix {
			m = "Betti number at the fixed scale"
		}
		c := find(fam, "actor layer 2: "+m+" (summed over dims) above the input's")
		if c["n"] != "6" || c["effect"] != "61" || c["verdict"] != "supported" || c["unit"] != "seed" {
			t.Errorf("primary claim (%s): %v", fam, c)
		}
	}
	// Layer 1 is below the input (exploratory, two-sided): by 3.5 on
	// average, the mean of the seeds 1..6.
	b := find(FamilyExploratory, "actor layer 1: scale-free count (summed over dims) below the input's")
	if b["effect"] != "-3.5" || b["verdict"] != "significant (exploratory)" {
		t.Errorf("layer 1: %v", b)
	}
	// beta1 rises in every seed; beta2 follows beta1's fluctuations.
	for _, st := range []string{
		"actor: beta1 (scale-free count, summed over hidden layers) rises over training (slope per 1M steps)",
		"actor: beta1 and beta2 (scale-free count, summed over hidden layers) move together beyond their trends",
	} {
		if c := find(FamilyExploratory, st); c["verdict"] != "significant (exploratory)" {
			t.Errorf("%s: %v", st, c)
		}
	}
	// Each claim rests on one value per seed.
	perSeed := map[string]int{}
	for _, r := range readCSV(t, filepath.Join(dir, Dir, ClaimsSeedCSV)) {
		perSeed[r["family"]+" "+r["id"]]++
	}
	for k, n := range perSeed {
		if n != 6 {
			t.Errorf("claim %s has %d per-seed values, want 6", k, n)
		}
	}
	// Every seed's every measure, long format: 6 seeds x 8 snapshots x
	// 3 clouds x 3 dims x 2 measures.
	if rows := readCSV(t, filepath.Join(dir, Dir, PerSeedCSV)); len(rows) != 6*8*3*3*2 {
		t.Errorf("per_seed.csv has %d rows, want %d", len(rows), 6*8*3*3*2)
	}
	// The input's beta0 is the seed: mean 3.5, and the t interval with 5
	// degrees of freedom is 3.5 -+ 2.5706 x 1.8708 / sqrt(6).
	var seen bool
	for _, r := range readCSV(t, filepath.Join(dir, Dir, BettiCSV)) {
		if r["net"] == "input" && r["dim"] == "0" && r["measure"] == "betti" && r["step"] == "800" {
			seen = true
			var lo, hi float64
			fmt.Sscan(r["ci_low"], &lo)
			fmt.Sscan(r["ci_high"], &hi)
			half := 2.570582 * 1.870829 / math.Sqrt(6)
			if r["mean"] != "3.5" || r["n"] != "6" || math.Abs(lo-(3.5-half)) > 1e-4 || math.Abs(hi-(3.5+half)) > 1e-4 {
				t.Errorf("input beta0 at 800: %v, want [%.4f, %.4f]", r, 3.5-half, 3.5+half)
			}
		}
	}
	if !seen {
		t.Error("betti.csv lacks the input's beta0")
	}
	// Final returns: each seed's last 100-episode mean, as its log
	// printed it, 800 + seed; mean 803.5, and the IQM of 801..806 is the
	// mean of 802..805.
	fr := readCSV(t, filepath.Join(dir, Dir, ReturnsCSV))
	if len(fr) != 1 || fr[0]["mean"] != "803.5" || fr[0]["iqm"] != "803.5" || fr[0]["n"] != "6" {
		t.Errorf("final returns: %v", fr)
	}
	lc := readCSV(t, filepath.Join(dir, Dir, LearningCSV))
	if last := lc[len(lc)-1]; last["step"] != "6400" || last["n"] != "6" || last["group"] != "Hopper-v4" {
		t.Errorf("learning curve end: %v", last)
	}
	for _, want := range []string{"supported", "Hopper-v4_total_betti.png", "data:image/png;base64,", "6 of 6 trials done", "Holm"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, Dir, MarkdownFile))
	if err != nil || string(md) != res.Markdown || !strings.Contains(res.Markdown, "| Hopper-v4 | actor layer 2: scale-free count (summed over dims) above the input's | 6 | 61 ") {
		t.Errorf("results.md (%v):\n%s", err, res.Markdown)
	}
	// These made-up trials record no provenance, and the report says so.
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "no provenance") {
		t.Errorf("warnings: %v", res.Warnings)
	}
	for _, f := range []string{"Hopper-v4_actor_betti.png", "Hopper-v4_actor_persistent.png", "Hopper-v4_learning_curve.png", TotalCSV} {
		if _, err := os.Stat(filepath.Join(dir, Dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestBuildNothingDone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sw")
	spec, _ := sweep.ParseSpec([]byte("grid: {seed: [1, 2]}\n"))
	if _, err := sweep.Create(dir, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(dir); err == nil || !strings.Contains(err.Error(), "no trial") {
		t.Fatalf("err = %v", err)
	}
}
