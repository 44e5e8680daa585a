package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/summary"
)

// TestSupervisedRun is the contract of `nthost --data naitzat`: the real
// plugins train a network to 100% training accuracy and write, per class,
// the input's (layer 0) and every hidden layer's topology with the class
// column, the fit, and the report. The homology set is cut to 400 points
// and the network to 15 x 3 to keep the test short.
func TestSupervisedRun(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	_, errs, code := nthost(t, dir, "--data", "naitzat", "--data-id", "D-I", "--algo", "mlp", "--algo-param", "activation=relu",
		"--hidden-size", "15,15,15", "--tda-samples", "400", "--seed", "3", "--run-dir", run, "--snapshot-nice", "0")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var fit struct {
		Reached  bool    `json:"reached"`
		Accuracy float64 `json:"train_accuracy"`
		Train    int     `json:"train_points"`
	}
	b, err := os.ReadFile(filepath.Join(run, "fit.json"))
	if err != nil || json.Unmarshal(b, &fit) != nil || !fit.Reached || fit.Accuracy != 1 || fit.Train != 7800 {
		t.Fatalf("fit.json: %s (%v)", b, err)
	}
	recs, err := summary.ReadTopology(filepath.Join(run, summary.TopologyFile))
	if err != nil {
		t.Fatal(err)
	}
	layers := map[string][]int{}
	for _, r := range recs {
		layers[r.Class] = append(layers[r.Class], r.Layer)
		if r.Points+r.Duplicates != 200 || !strings.Contains(r.Metric, "k=14 hops") {
			t.Errorf("%s class %s: %d points + %d duplicates, metric %q", r.Cloud, r.Class, r.Points, r.Duplicates, r.Metric)
		}
	}
	for _, c := range []string{"a", "b"} {
		if got := layers[c]; len(got) != 4 || got[0] != 0 || got[3] != 3 {
			t.Errorf("class %s: layers %v, want 0..3", c, got)
		}
	}
	f, err := os.Open(filepath.Join(run, "topology.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 9 || rows[0][3] != "class" || rows[1][3] != "a" {
		t.Fatalf("topology.csv: %v rows, header %v (%v)", len(rows), rows[0], err)
	}
	for _, f := range []string{"report.html", "scalars.csv", "config.yaml", "diagrams/a/input.npz", "diagrams/b/mlp_3.npz"} {
		if _, err := os.Stat(filepath.Join(run, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
}

// TestSupervisedRunRefusals: a bad data set or a learner that is not
// supervised is refused in one line before any work.
func TestSupervisedRunRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", "naitzat", "--data-id", "D-IX", "--algo", "mlp"}, "--data-id D-IX: data plugin \"naitzat\" does not generate it"},
		{[]string{"--data", "naitzat", "--data-id", "D-I", "--algo", "ppo"}, "not a supervised learner"},
		{[]string{"--data", "naitzat", "--algo", "mlp"}, "needs data_id"},
	} {
		_, errs, code := nthost(t, dir, append(tc.args, "--run-dir", filepath.Join(dir, "r"))...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
}
