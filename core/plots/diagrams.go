package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// CloudDiagrams are the persistence diagrams of one point cloud.
type CloudDiagrams struct {
	Cloud    string // e.g. "actor/1"; the panel title
	Diagrams []sdk.Diagram
}

// Diagrams draws one persistence-diagram panel per cloud (three per row)
// under a common title, e.g. every cloud of one snapshot.
func Diagrams(clouds []CloudDiagrams, figTitle string, path string) error {
	f, err := diagramsFigure(clouds, figTitle)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return f.save(path)
}

// DiagramsPNG is Diagrams as PNG bytes (for TensorBoard).
func DiagramsPNG(clouds []CloudDiagrams, figTitle string) ([]byte, error) {
	f, err := diagramsFigure(clouds, figTitle)
	if err != nil {
		return nil, err
	}
	return f.render()
}

func diagramsFigure(clouds []CloudDiagrams, figTitle string) (figure, error) {
	if len(clouds) == 0 {
		return figure{}, fmt.Errorf("no clouds given: %w", ErrNoData)
	}
	cols := min(len(clouds), 3)
	rows := (len(clouds) + cols - 1) / cols
	panels := make([]*plot.Plot, rows*cols)
	for i, c := range clouds {
		p, err := diagramPanel(c)
		if err != nil {
			return figure{}, err
		}
		panels[i] = p
	}
	return figure{title: figTitle, cols: cols, rows: rows, panels: panels,
		w: vg.Length(cols) * 5 * vg.Inch, h: vg.Length(rows)*4.8*vg.Inch + 0.5*vg.Inch}, nil
}

// Diagram draws the persistence diagram of one cloud.
func Diagram(cloud CloudDiagrams, path string) error {
	p, err := diagramPanel(cloud)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return figure{cols: 1, rows: 1, panels: []*plot.Plot{p}, w: 7 * vg.Inch, h: 6.5 * vg.Inch}.save(path)
}

// diagramPanel plots (birth, death) per dimension, the diagonal, and
// essential classes on a dashed line above every finite death, labelled
// "inf" on the death axis.
func diagramPanel(c CloudDiagrams) (*plot.Plot, error) {
	top := 0.0 // largest finite value, birth or death
	for _, d := range c.Diagrams {
		for _, pr := range d.Pairs {
			for _, v := range pr {
				if finite(v) {
					top = math.Max(top, v)
				}
			}
		}
	}
	if top == 0 {
		top = 1
	}
	infY := top * 1.1
	p := newPanel(c.Cloud, "birth (distance)", "death (distance)")
	p.Legend.Left = false
	p.Legend.Top = false
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: infY, Y: infY}})
	if err != nil {
		return nil, err
	}
	diag.Color = color.Gray{0x60}
	diag.Width = vg.Points(1)
	p.Add(diag)
	infLine, err := plotter.NewLine(plotter.XYs{{X: 0, Y: infY}, {X: infY, Y: infY}})
	if err != nil {
		return nil, err
	}
	infLine.Color = color.Gray{0x60}
	infLine.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	infLine.Width = vg.Points(1)
	p.Add(infLine)
	for _, d := range c.Diagrams {
		pts := make(plotter.XYs, 0, len(d.Pairs))
		for _, pr := range d.Pairs {
			b, e := pr[0], pr[1]
			if !finite(b) || math.IsNaN(e) {
				continue
			}
			if math.IsInf(e, 1) {
				e = infY
			}
			pts = append(pts, plotter.XY{X: b, Y: e})
		}
		if len(pts) == 0 {
			continue
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("cloud %s dim %d: %w", c.Cloud, d.Dim, err)
		}
		s.Color = colorOf(d.Dim)
		s.Shape = draw.CircleGlyph{}
		s.Radius = vg.Points(2.5)
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("H%d (%d)", d.Dim, len(pts)), s)
	}
	p.X.Min, p.Y.Min = 0, 0
	p.X.Max, p.Y.Max = infY*1.04, infY*1.04
	p.Y.Tick.Marker = infTicks{top: top, inf: infY}
	return p, nil
}

// infTicks are the default ticks up to the largest finite value plus an
// "inf" tick on the line of essential classes.
type infTicks struct{ top, inf float64 }

func (t infTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, tk := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if tk.Value <= t.top*1.02 {
			out = append(out, tk)
		}
	}
	return append(out, plot.Tick{Value: t.inf, Label: "inf"})
}
