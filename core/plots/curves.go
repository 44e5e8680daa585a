package plots

import (
	"fmt"
	"image/color"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/neuraltopology/neuraltopology/core/summary"
)

// BettiCurves draws, for one snapshot, the Betti curve of every cloud
// (bars alive against filtration scale, over [0, diameter]) with one
// panel per dimension and a dashed line at the scale the Betti numbers
// are read at. It shows how much the fixed-scale numbers depend on that
// one choice of scale.
func BettiCurves(recs []summary.TopologyRecord, step int, path string) error {
	f, err := bettiCurvesFigure(recs, step)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return f.save(path)
}

// BettiCurvesPNG is BettiCurves as PNG bytes (for TensorBoard).
func BettiCurvesPNG(recs []summary.TopologyRecord, step int) ([]byte, error) {
	f, err := bettiCurvesFigure(recs, step)
	if err != nil {
		return nil, err
	}
	return f.render()
}

func bettiCurvesFigure(recs []summary.TopologyRecord, step int) (figure, error) {
	var sel []summary.TopologyRecord
	for _, r := range summary.LatestTopology(recs) {
		if r.Step == step && len(r.Summary.Scales) > 0 {
			sel = append(sel, r)
		}
	}
	if len(sel) == 0 {
		return figure{}, fmt.Errorf("no topology records with Betti curves at step %d: %w", step, ErrNoData)
	}
	nets := Nets(sel)
	rank := map[string]int{summary.NetInput: -1}
	for i, n := range nets {
		rank[n] = i
	}
	sort.SliceStable(sel, func(i, j int) bool {
		if rank[sel[i].Net] != rank[sel[j].Net] {
			return rank[sel[i].Net] < rank[sel[j].Net]
		}
		return sel[i].Layer < sel[j].Layer
	})
	var panels []*plot.Plot
	for k := 0; k <= maxDim(sel); k++ {
		p := newPanel(fmt.Sprintf("β%d", k), "filtration scale (distance)", "bars alive (count)")
		p.Legend.Left = false
		top, right := 0.0, 0.0
		for i, r := range sel {
			d, ok := r.Summary.Dim(k)
			if !ok || len(d.BettiCurve) != len(r.Summary.Scales) {
				continue
			}
			ys := make([]float64, len(d.BettiCurve))
			for j, v := range d.BettiCurve {
				ys[j] = float64(v)
				top = max(top, ys[j])
			}
			right = max(right, settled(r.Summary.Scales, ys))
			l, err := addLine(p, r.Cloud, r.Summary.Scales, ys, colorOf(i), dashOf(r.Layer), glyphOf(i), false)
			if err != nil {
				return figure{}, err
			}
			if l != nil {
				// The count at scale t holds until the next sample.
				l.StepStyle = plotter.PostStep
			}
		}
		if t := sel[0].Summary.BettiScale; t > 0 {
			l, err := plotter.NewLine(plotter.XYs{{X: t, Y: 0}, {X: t, Y: max(top, 1)}})
			if err != nil {
				return figure{}, err
			}
			l.Color = color.Gray{0x40}
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("scale %g", t), l)
		}
		p.Y.Min = 0
		if right > 0 {
			// The axis ends where the last curve stops changing, not at
			// the largest diameter, where most panels are a flat line.
			p.X.Min, p.X.Max = 0, max(right, sel[0].Summary.BettiScale*1.05)
		}
		roomForLegend(p, len(sel)+1)
		p.Y.Tick.Marker = intTicks{}
		panels = append(panels, p)
	}
	return figure{
		title: fmt.Sprintf("Betti curves at step %s", groupDigits(step)),
		cols:  len(panels), rows: 1, panels: panels,
		w: vg.Length(len(panels)) * 6 * vg.Inch, h: 5.5 * vg.Inch,
	}, nil
}

// settled is the scale one sample after the curve ys (at scales) last
// changes: beyond it the curve is flat.
func settled(scales, ys []float64) float64 {
	last := 0
	for j := range ys {
		if ys[j] != ys[len(ys)-1] {
			last = j
		}
	}
	return scales[min(last+2, len(scales)-1)]
}
