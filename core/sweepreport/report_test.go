package sweepreport

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/sweep"
)

// synthSweep makes a sweep of 6 seeds whose records are made up so each
// claim's answer is known: every net's total Betti number rises with the
// step, hidden layers 1 and 2 carry more features than the input and
// layer 3 none (below the input), and beta2
// follows beta1. Seed s adds s to the input's beta0 only.
func synthSweep(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sw")
	spec, err := sweep.ParseSpec([]byte("base: {env_id: Hopper-v4, total_timesteps: 4000}\ngrid: {seed: [1, 2, 3, 4, 5, 6]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := sweep.Create(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range m.Trials {
		st, _ := runstore.Open(m.RunDir(tr))
		seed := i + 1
		for snap := 1; snap <= 5; snap++ {
			step := snap * 800
			dims := func(b0, b1, b2 int) summary.Summary {
				return summary.Summary{Dims: []summary.DimSummary{{Dim: 0, Betti: b0, Persistent: b0}, {Dim: 1, Betti: b1, Persistent: b1}, {Dim: 2, Betti: b2, Persistent: b2}}}
			}
			recs := []summary.TopologyRecord{
				{Step: step, Update: snap, Cloud: "input", Net: "input", Layer: 0, Summary: dims(seed, 0, 0)},
				{Step: step, Update: snap, Cloud: "actor/1", Net: "actor", Layer: 1, Summary: dims(10, snap, snap)},
				{Step: step, Update: snap, Cloud: "actor/2", Net: "actor", Layer: 2, Summary: dims(10, 2*snap, 2*snap)},
				{Step: step, Update: snap, Cloud: "actor/3", Net: "actor", Layer: 3, Summary: dims(0, 0, 0)},
			}
			for _, r := range recs {
				if err := st.Append(summary.TopologyFile, r); err != nil {
					t.Fatal(err)
				}
			}
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
	path, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	claims := readCSV(t, filepath.Join(dir, Dir, ClaimsCSV))
	find := func(statement string) map[string]string {
		for _, c := range claims {
			if c["statement"] == statement {
				return c
			}
		}
		t.Fatalf("no claim %q in %v", statement, claims)
		return nil
	}
	// (a) all 6 seeds rise: sign test p = 2/64.
	a := find("actor: total Betti number rises over training")
	if a["n"] != "6" || a["p_value"] != "0.03125" || a["verdict"] != "supported at 0.05" {
		t.Errorf("claim a: %v", a)
	}
	// (b) layer 2 (10 + 4 snap) above the input (seed <= 6) in all 30 pairs.
	b := find("actor layer 2: Betti number above the input's")
	if b["n"] != "30" || !strings.HasPrefix(b["statistic"], "above in 30, below in 0") || b["verdict"] != "supported at 0.05" {
		t.Errorf("claim b: %v", b)
	}
	// (b) layer 3 (nothing) below the input in all 30 pairs: the statement
	// takes the data's side.
	b3 := find("actor layer 3: Betti number below the input's")
	if b3["n"] != "30" || !strings.HasPrefix(b3["statistic"], "above in 0, below in 30") || b3["verdict"] != "supported at 0.05" {
		t.Errorf("claim b, layer 3: %v", b3)
	}
	// (c) beta2 = beta1 in every seed: rho 1 per seed, combined rho 1.
	c := find("actor: beta1 and beta2 (Betti number) move together over training")
	if c["n"] != "6" || !strings.HasPrefix(c["statistic"], "combined rho 1.00") || c["verdict"] != "supported at 0.05" {
		t.Errorf("claim c: %v", c)
	}
	// The input's beta0 is the seed: mean over seeds 1..6 is 3.5, and the
	// bootstrap band lies inside [1, 6] around it.
	var seen bool
	for _, r := range readCSV(t, filepath.Join(dir, Dir, BettiCSV)) {
		if r["net"] == "input" && r["dim"] == "0" && r["measure"] == "betti" && r["step"] == "800" {
			seen = true
			var lo, hi float64
			fmt.Sscan(r["ci_low"], &lo)
			fmt.Sscan(r["ci_high"], &hi)
			if r["mean"] != "3.5" || r["n"] != "6" || !(lo >= 1 && lo < 3.5 && hi > 3.5 && hi <= 6) {
				t.Errorf("input beta0 at 800: %v", r)
			}
		}
	}
	if !seen {
		t.Error("betti.csv lacks the input's beta0")
	}
	// Learning curve: at step 4000 the returns are 500+seed, mean 503.5.
	lc := readCSV(t, filepath.Join(dir, Dir, LearningCSV))
	if last := lc[len(lc)-1]; last["step"] != "4000" || last["n"] != "6" || last["group"] != "Hopper-v4" {
		t.Errorf("learning curve end: %v", last)
	}
	for _, want := range []string{"supported at 0.05", "Hopper-v4_total_betti.png", "data:image/png;base64,", "6 of 6 trials done"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
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
