package plots

import (
	"fmt"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/neuraltopology/neuraltopology/core/summary"
)

// LearningCurveScalar is the scalar the learning curve draws: at each
// update, the mean return of the last 100 episodes (summary.ReturnMean).
const LearningCurveScalar = summary.ReturnMean

// scalarSeries returns the (step, value) pairs of name in step order.
func scalarSeries(recs []summary.ScalarRecord, name string) (xs, ys []float64) {
	sorted := summary.LatestScalars(recs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Step < sorted[j].Step })
	for _, r := range sorted {
		if v, ok := r.Values[name]; ok && finite(v) {
			xs = append(xs, float64(r.Step))
			ys = append(ys, v)
		}
	}
	return xs, ys
}

// scalarPanel draws name against steps for every run that logged it and
// reports whether any did.
func scalarPanel(runs []RunData, name, ptitle, ylabel string) (*plot.Plot, bool, error) {
	p := newPanel(ptitle, "environment steps", ylabel)
	any := false
	for ri, run := range runs {
		xs, ys := scalarSeries(run.Scalars, name)
		if len(xs) == 0 {
			continue
		}
		any = true
		label := ""
		if len(runs) > 1 {
			label = runName(runs, ri)
		}
		if _, err := addLine(p, label, xs, ys, colorOf(ri), nil, glyphOf(ri), false); err != nil {
			return nil, false, err
		}
	}
	if any && p.Y.Max-p.Y.Min <= 1e-9*max(1, abs(p.Y.Max)) {
		// A constant series: give the axis a range of its own, or
		// gonum labels every tick with the same rounded number.
		pad := max(1, abs(p.Y.Max)*0.05)
		p.Y.Min -= pad
		p.Y.Max += pad
	}
	if len(runs) > 1 {
		roomForLegend(p, len(runs))
	}
	p.X.Tick.Marker = stepTicks{}
	return p, any, nil
}

// LearningCurve draws the episodic return against environment steps,
// one line per run.
func LearningCurve(runs []RunData, path string) error {
	if err := checkRuns(runs, path); err != nil {
		return err
	}
	p, ok, err := scalarPanel(runs, LearningCurveScalar, "Learning curve", "episodic return, mean of the last 100 episodes")
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if !ok {
		return fmt.Errorf("plot %s: no run logged %s: %w", path, LearningCurveScalar, ErrNoData)
	}
	return figure{cols: 1, rows: 1, panels: []*plot.Plot{p}, w: 10 * vg.Inch, h: 6 * vg.Inch}.save(path)
}

// TrainingScalars draws one panel per scalar name (three per row), one
// line per run; names no run logged are left out.
func TrainingScalars(runs []RunData, names []string, path string) error {
	if err := checkRuns(runs, path); err != nil {
		return err
	}
	var panels []*plot.Plot
	for _, n := range names {
		p, ok, err := scalarPanel(runs, n, n, "value")
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		if ok {
			p.Y.Label.Text = ""
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		return fmt.Errorf("plot %s: no run logged any of %v: %w", path, names, ErrNoData)
	}
	cols := min(len(panels), 3)
	rows := (len(panels) + cols - 1) / cols
	for len(panels) < rows*cols {
		panels = append(panels, nil)
	}
	return figure{title: "Training statistics", cols: cols, rows: rows, panels: panels,
		w: vg.Length(cols) * 5 * vg.Inch, h: vg.Length(rows)*3.6*vg.Inch + 0.5*vg.Inch}.save(path)
}

func abs(v float64) float64 { return max(v, -v) }
