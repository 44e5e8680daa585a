package summary

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestFinalReturn checks the one definition of a run's final return: the
// mean of the last 100 episodes, whatever updates they fell in.
func TestFinalReturn(t *testing.T) {
	var recs []ScalarRecord
	var all []float64
	for u := 1; u <= 30; u++ {
		var eps []Episode
		for k := range 7 { // 210 episodes
			r := float64(u*u - 3*k)
			eps = append(eps, Episode{Step: u*1000 + k, Return: r, Length: 10})
			all = append(all, r)
		}
		recs = append(recs, ScalarRecord{Step: u * 1000, Update: u, Values: map[string]float64{}, Episodes: eps})
	}
	want := 0.0
	for _, r := range all[len(all)-100:] {
		want += r / 100
	}
	got, ok := FinalReturn(recs)
	if !ok || math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("FinalReturn = %v, %v; want %v (mean of the last 100)", got, ok, want)
	}
	if m, _ := MeanReturn(all); m != got {
		t.Errorf("MeanReturn of the same returns = %v, FinalReturn %v", m, got)
	}
	if m, ok := MeanReturn([]float64{1, math.NaN(), 3}); !ok || m != 2 {
		t.Errorf("MeanReturn skips NaN: %v %v", m, ok)
	}
	if _, ok := FinalReturn(nil); ok {
		t.Error("FinalReturn of no records: ok")
	}
}

// TestReadScalarsLegacy: a file written before episodes were recorded one
// by one held the 100-episode mean under charts/episodic_return; it is
// read under charts/episodic_return_mean100, and its final return is the
// last of those means (what that run's log printed).
func TestReadScalarsLegacy(t *testing.T) {
	p := filepath.Join(t.TempDir(), ScalarsFile)
	old := `{"step":2048,"update":1,"values":{"charts/episodic_return":10,"charts/episodic_length":20,"losses/value_loss":1}}
{"step":4096,"update":2,"values":{"charts/episodic_return":221.6,"charts/episodic_length":90,"losses/value_loss":0.5}}
`
	if err := os.WriteFile(p, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadScalars(p)
	if err != nil {
		t.Fatal(err)
	}
	v := recs[1].Values
	if _, has := v[EpisodicReturn]; has || v[ReturnMean] != 221.6 || v[LengthMean] != 90 || v["losses/value_loss"] != 0.5 {
		t.Errorf("legacy record read as %v", v)
	}
	if got, ok := FinalReturn(recs); !ok || got != 221.6 {
		t.Errorf("legacy FinalReturn = %v, %v; want 221.6", got, ok)
	}
}
