package summary

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRecordsRoundTrip(t *testing.T) {
	s := Summarize([]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, 1}, {0, inf}}}}, 4, Options{CurvePoints: 4})
	topo := []TopologyRecord{
		{Step: 2048, Update: 1, Cloud: "input", Net: "input", Layer: 0, Points: 500, Dim: 11, Metric: "geodesic k=15", Summary: s, Seconds: 1.5},
		{Step: 2048, Update: 1, Cloud: "actor/1", Net: "actor", Layer: 1, Points: 500, Dim: 64, Metric: "geodesic k=15", Summary: s, Seconds: 2},
	}
	var buf bytes.Buffer
	for _, r := range topo {
		if err := AppendLine(&buf, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadTopology(writeFile(t, buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Cloud != "actor/1" || got[1].Dim != 64 || got[0].Summary.Betti(0) != 1 || got[0].Summary.Dims[0].BettiCurve[3] != 1 {
		t.Errorf("round trip lost data: %+v", got)
	}
	if !strings.Contains(buf.String(), `"total_persistence":1`) || !strings.Contains(buf.String(), `"betti_curve":[2,1,1,1]`) {
		t.Errorf("JSON keys are not snake_case as documented: %s", buf.String())
	}

	buf.Reset()
	sc := ScalarRecord{Step: 4096, Update: 2, Values: map[string]float64{
		"charts/episodic_return_mean100": 12.5, "losses/explained_variance": math.NaN(),
		"a": math.Inf(1), "b": math.Inf(-1),
	}, Episodes: []Episode{{Step: 4000, Return: 11, Length: 70}}}
	if err := AppendLine(&buf, sc); err != nil {
		t.Fatalf("a NaN scalar must still be written: %v", err)
	}
	gs, err := ReadScalars(writeFile(t, buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	v := gs[0].Values
	if gs[0].Step != 4096 || gs[0].Update != 2 || v["charts/episodic_return_mean100"] != 12.5 || len(gs[0].Episodes) != 1 || gs[0].Episodes[0] != (Episode{4000, 11, 70}) ||
		!math.IsNaN(v["losses/explained_variance"]) || !math.IsInf(v["a"], 1) || !math.IsInf(v["b"], -1) {
		t.Errorf("scalars round trip: %+v", gs[0])
	}
}

func TestReadJSONLDamage(t *testing.T) {
	good := `{"step":1,"update":1,"values":{"x":1}}`
	tests := []struct {
		name    string
		content string
		n       int
		errLine string // "" for no error
	}{
		{"clean", good + "\n" + good + "\n", 2, ""},
		{"blank lines", "\n" + good + "\n\n" + good, 2, ""},
		{"truncated last line", good + "\n" + good + "\n" + `{"step":3,"upd`, 2, ""},
		{"corrupt middle line", good + "\n{oops}\n" + good + "\n", 1, "line 2"},
		{"corrupt complete last line", good + "\n" + `{"step":"x"}` + "\n", 1, "line 2"},
		{"bad value string", `{"step":1,"update":1,"values":{"x":"y"}}` + "\n", 0, "line 1"},
		{"empty file", "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.content)
			got, err := ReadScalars(p)
			if tc.errLine == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.errLine != "" && (err == nil || !strings.Contains(err.Error(), tc.errLine) || !strings.Contains(err.Error(), p)) {
				t.Fatalf("error %v should name %s and %q", err, p, tc.errLine)
			}
			if len(got) != tc.n {
				t.Errorf("%d records, want %d", len(got), tc.n)
			}
		})
	}
	if _, err := ReadTopology(filepath.Join(t.TempDir(), "missing.jsonl")); err == nil {
		t.Error("missing file: no error")
	}
}

func readCSV(t *testing.T, b []byte) (map[string]int, [][]string) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	return col, rows[1:]
}

func TestWriteTopologyCSV(t *testing.T) {
	full := Summarize([]sdk.Diagram{
		{Dim: 0, Pairs: [][2]float64{{0, 1}, {0, inf}}},
		{Dim: 1, Pairs: [][2]float64{{1, 3}}},
		{Dim: 2, Pairs: [][2]float64{{2, 2.75}, {2, 2.75}}},
	}, 4, Options{})
	small := Summarize([]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{0, inf}}}}, 4, Options{})
	recs := []TopologyRecord{
		{Step: 10, Update: 1, Cloud: "actor/2", Net: "actor", Layer: 2, Points: 500, Dim: 64, Metric: "euclidean", Summary: full},
		{Step: 20, Update: 2, Cloud: "input", Net: "input", Summary: small},
	}
	var buf bytes.Buffer
	if err := WriteTopologyCSV(&buf, recs); err != nil {
		t.Fatal(err)
	}
	col, rows := readCSV(t, buf.Bytes())
	for _, h := range []string{"step", "cloud", "betti_0", "betti_1", "betti_2", "persistent_2", "total_persistence_0", "entropy_1"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("column %s missing from %v", h, col)
		}
	}
	if _, ok := col["betti_3"]; ok {
		t.Error("betti_3 column with no dim-3 data")
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	r := rows[0]
	if r[col["cloud"]] != "actor/2" || r[col["betti_0"]] != "1" || r[col["betti_1"]] != "1" || r[col["betti_2"]] != "2" ||
		r[col["total_persistence_2"]] != "1.5" || r[col["total_persistence_0"]] != "1" {
		t.Errorf("row 1 wrong: %v", r)
	}
	if rows[1][col["betti_0"]] != "1" || rows[1][col["betti_1"]] != "" {
		t.Errorf("an uncomputed dim must be empty, not zero: %v", rows[1])
	}
}

func TestWriteScalarsCSV(t *testing.T) {
	recs := []ScalarRecord{
		{Step: 1, Update: 1, Values: map[string]float64{"losses/value_loss": 0.5, "charts/SPS": 100}},
		{Step: 2, Update: 2, Values: map[string]float64{"charts/episodic_return": -3}},
	}
	var buf bytes.Buffer
	if err := WriteScalarsCSV(&buf, recs); err != nil {
		t.Fatal(err)
	}
	col, rows := readCSV(t, buf.Bytes())
	if len(col) != 5 || col["charts/SPS"] != 2 || col["losses/value_loss"] != 4 {
		t.Fatalf("header %v: want step, update, then sorted names", col)
	}
	if rows[0][col["losses/value_loss"]] != "0.5" || rows[0][col["charts/episodic_return"]] != "" || rows[1][col["charts/episodic_return"]] != "-3" {
		t.Errorf("rows %v", rows)
	}
}

func TestLatest(t *testing.T) {
	topo := []TopologyRecord{
		{Step: 10, Cloud: "input", Seconds: 1},
		{Step: 10, Cloud: "actor/1", Seconds: 2},
		{Step: 20, Cloud: "input", Seconds: 3},
		{Step: 10, Cloud: "input", Seconds: 4}, // the resumed run redoes step 10
	}
	got := LatestTopology(topo)
	if len(got) != 3 || got[0].Seconds != 4 || got[1].Seconds != 2 || got[2].Seconds != 3 {
		t.Errorf("LatestTopology = %+v", got)
	}
	sc := []ScalarRecord{{Update: 1, Step: 1}, {Update: 2, Step: 2}, {Update: 1, Step: 9}}
	gs := LatestScalars(sc)
	if len(gs) != 2 || gs[0].Step != 9 || gs[1].Step != 2 {
		t.Errorf("LatestScalars = %+v", gs)
	}
}

func TestNetTotalBetti(t *testing.T) {
	s := func(pairs ...[2]float64) Summary {
		return Summarize([]sdk.Diagram{{Dim: 0, Pairs: pairs}}, 5, Options{})
	}
	recs := []TopologyRecord{
		{Net: "input", Layer: 0, Summary: s([2]float64{0, inf})},
		{Net: "actor", Layer: 1, Summary: s([2]float64{0, inf}, [2]float64{0, 3})}, // 2 alive at 2.5
		{Net: "actor", Layer: 2, Summary: s([2]float64{0, inf}, [2]float64{0, 1})}, // 1 alive
		{Net: "critic", Layer: 1, Summary: s([2]float64{0, inf})},
	}
	if got := NetTotalBetti(recs, "actor"); got != 3 {
		t.Errorf("actor total %d, want 3 (input excluded)", got)
	}
	if got := NetTotalBetti(recs, "policy"); got != 0 {
		t.Errorf("unknown net total %d", got)
	}
}
