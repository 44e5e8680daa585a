package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DecodedAngle draws a decoded circular coordinate (radians) against
// time (the first two minutes), and when behaviour is given (the variable it should decode,
// already rotated and reflected onto it) that too, beside a panel of
// decoded against behaviour.
func DecodedAngle(title string, times, angle, behaviour []float64, path string) error {
	if len(times) == 0 || len(times) != len(angle) {
		return fmt.Errorf("plot %s: %d times for %d angles", path, len(times), len(angle))
	}
	dots := func(p *plot.Plot, label string, xs, ys []float64, c color.Color) error {
		pts := make(plotter.XYs, 0, len(xs))
		for i := range xs {
			if finite(xs[i]) && finite(ys[i]) {
				pts = append(pts, plotter.XY{X: xs[i], Y: ys[i]})
			}
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		s.Color = c
		s.Shape = draw.CircleGlyph{}
		s.Radius = vg.Points(1.2)
		p.Add(s)
		if label != "" {
			p.Legend.Add(label, s)
		}
		return nil
	}
	// Two minutes show the angle following the variable; a whole
	// session at this size is a smear.
	const window = 120.0
	n := len(times)
	for n > 1 && times[n-1]-times[0] > window {
		n--
	}
	ptitle := "angle over time"
	if n < len(times) {
		ptitle = fmt.Sprintf("angle over the first %g s", window)
	}
	tp := newPanel(ptitle, "time (s)", "angle (rad)")
	tp.Y.Min, tp.Y.Max = 0, 2*math.Pi
	if behaviour != nil && len(behaviour) != len(angle) {
		return fmt.Errorf("plot %s: %d behaviour values for %d angles", path, len(behaviour), len(angle))
	}
	if behaviour != nil {
		if err := dots(tp, "behaviour", times[:n], behaviour[:n], colorOf(7)); err != nil {
			return err
		}
	}
	if err := dots(tp, "decoded", times[:n], angle[:n], colorOf(0)); err != nil {
		return err
	}
	f := figure{title: title, cols: 1, rows: 1, panels: []*plot.Plot{tp}, w: 10 * vg.Inch, h: 5 * vg.Inch}
	if behaviour != nil {
		if len(behaviour) != len(angle) {
			return fmt.Errorf("plot %s: %d behaviour values for %d angles", path, len(behaviour), len(angle))
		}
		sp := newPanel("decoded against behaviour", "behaviour (rad, aligned)", "decoded (rad)")
		sp.X.Min, sp.X.Max, sp.Y.Min, sp.Y.Max = 0, 2*math.Pi, 0, 2*math.Pi
		if err := dots(sp, "", behaviour, angle, colorOf(0)); err != nil {
			return err
		}
		f.cols, f.panels, f.w = 2, []*plot.Plot{tp, sp}, 15*vg.Inch
	}
	return f.save(path)
}

// Matrix draws a labelled matrix of values (rows x cols) as a heat map
// with each cell's value written in it: e.g. a network's layers against
// recordings. NaN cells are left grey.
func Matrix(title, rowLabel, colLabel string, rows, cols []string, vals [][]float64, path string) error {
	if len(rows) == 0 || len(cols) == 0 || len(vals) != len(rows) {
		return fmt.Errorf("plot %s: empty matrix", path)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range vals {
		if len(r) != len(cols) {
			return fmt.Errorf("plot %s: ragged matrix", path)
		}
		for _, v := range r {
			if finite(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	p := newPanel(title, colLabel, rowLabel)
	p.Add(cells{vals: vals, lo: lo, hi: hi})
	p.X.Min, p.X.Max = 0, float64(len(cols))
	p.Y.Min, p.Y.Max = 0, float64(len(rows))
	p.X.Tick.Marker = labelTicks(cols)
	// Row 0 is drawn at the top.
	rev := make(labelTicks, len(rows))
	for i, r := range rows {
		rev[len(rows)-1-i] = r
	}
	p.Y.Tick.Marker = rev
	w := vg.Length(max(7, 3+1.6*float64(len(cols)))) * vg.Inch
	h := vg.Length(2+0.6*float64(len(rows))) * vg.Inch
	return figure{cols: 1, rows: 1, panels: []*plot.Plot{p}, w: min(w, 20*vg.Inch), h: min(h, 16*vg.Inch)}.save(path)
}

// labelTicks puts label i at the centre of cell i.
type labelTicks []string

func (l labelTicks) Ticks(lo, hi float64) []plot.Tick {
	t := make([]plot.Tick, len(l))
	for i, s := range l {
		t[i] = plot.Tick{Value: float64(i) + 0.5, Label: s}
	}
	return t
}

// cells is a plotter of coloured squares with their values in them;
// row 0 is drawn at the top.
type cells struct {
	vals   [][]float64
	lo, hi float64
}

func (c cells) Plot(dc draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&dc)
	n := len(c.vals)
	sty := draw.TextStyle{Color: color.Black, Font: p.X.Tick.Label.Font, XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
	for i, row := range c.vals {
		y := float64(n - 1 - i)
		for j, v := range row {
			col := color.Color(color.Gray{0xdd})
			if finite(v) {
				f := (v - c.lo) / (c.hi - c.lo)
				// White to tab10 blue.
				col = color.RGBA{uint8(255 - f*(255-0x1f)), uint8(255 - f*(255-0x77)), uint8(255 - f*(255-0xb4)), 255}
			}
			rect := vg.Rectangle{Min: vg.Point{X: tx(float64(j)), Y: ty(y)}, Max: vg.Point{X: tx(float64(j + 1)), Y: ty(y + 1)}}
			dc.SetColor(col)
			dc.Fill(rect.Path())
			label := "-"
			if finite(v) {
				label = fmt.Sprintf("%.3g", v)
			}
			dc.FillText(sty, vg.Point{X: (rect.Min.X + rect.Max.X) / 2, Y: (rect.Min.Y + rect.Max.Y) / 2}, label)
		}
	}
}
