package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// On a unit circle (diameter 2), `nthost tda` without --betti-at counts
// one persistent component and one persistent loop, and reports Betti
// numbers [1 1] at a scale it chose and names; the JSON carries the same
// numbers. With --betti-at 2.5 (above the diameter) only the component
// is left, as the ground truth of a filled disc says.
func TestTDASummaryFitsTheCloud(t *testing.T) {
	dir := t.TempDir()
	const n = 60
	pts := sdk.NewMatrix(n, 2)
	for i := range n {
		a := 2 * math.Pi * float64(i) / n
		pts.Data[2*i], pts.Data[2*i+1] = math.Cos(a), math.Sin(a)
	}
	if err := matio.Write(filepath.Join(dir, "circle.csv"), pts); err != nil {
		t.Fatal(err)
	}
	out, errs, code := nthost(t, dir, "tda", "--points", "circle.csv", "--maxdim", "1", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "Betti numbers at") || !strings.Contains(errs, "(the midpoint of the longest H1 bar): [1 1]") ||
		!strings.Contains(errs, "bars longer than 0.1 x diameter: [1 1]") {
		t.Errorf("summary line: %s", errs)
	}
	var doc struct {
		Summary tdaSummary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Summary
	if s.Points != n || s.Diameter == nil || math.Abs(*s.Diameter-2) > 1e-9 || len(s.Betti) != 2 || s.Betti[0] != 1 || s.Betti[1] != 1 ||
		len(s.Persistent) != 2 || s.Persistent[1] != 1 || s.BettiScale <= 0.2 || s.BettiScale >= 2 {
		t.Errorf("JSON summary %+v", s)
	}
	_, errs, code = nthost(t, dir, "tda", "--points", "circle.csv", "--maxdim", "1", "--betti-at", "2.5", "--log-level", "warn", "--out", "d.json")
	if code != 0 || !strings.Contains(errs, "Betti numbers at 2.5 (--betti-at): [1 0]") {
		t.Errorf("--betti-at 2.5: exit %d: %s", code, errs)
	}
}
