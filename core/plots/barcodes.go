package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarcodeMaxBars is the number of bars per dimension a barcode panel
// draws: the longest ones. Hundreds of H0 bars of a 500-point cloud
// would be a solid block; the diagram beside it shows every pair.
const BarcodeMaxBars = 60

// Barcodes draws one barcode panel per cloud (three per row): each bar
// [birth, death) a horizontal segment, grouped by dimension, the longest
// BarcodeMaxBars of each dimension, essential bars running to the right
// edge marked "inf".
func Barcodes(clouds []CloudDiagrams, figTitle string, path string) error {
	if len(clouds) == 0 {
		return fmt.Errorf("plot %s: no clouds given: %w", path, ErrNoData)
	}
	cols := min(len(clouds), 3)
	rows := (len(clouds) + cols - 1) / cols
	panels := make([]*plot.Plot, rows*cols)
	for i, c := range clouds {
		panels[i] = barcodePanel(c)
	}
	return figure{title: figTitle, cols: cols, rows: rows, panels: panels,
		w: vg.Length(cols) * 5 * vg.Inch, h: vg.Length(rows)*5*vg.Inch + 0.5*vg.Inch}.save(path)
}

// bars is a plot.Plotter of horizontal segments, one per bar.
type bars struct {
	segs  [][3]float64 // birth, death, y
	color color.Color
	width vg.Length
}

func (b bars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	sty := draw.LineStyle{Color: b.color, Width: b.width}
	for _, s := range b.segs {
		y := ty(s[2])
		c.StrokeLine2(sty, tx(s[0]), y, tx(s[1]), y)
	}
}

func (b bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, s := range b.segs {
		xmin, xmax = min(xmin, s[0]), max(xmax, s[1])
		ymin, ymax = min(ymin, s[2]), max(ymax, s[2])
	}
	return xmin, xmax, ymin, ymax
}

func barcodePanel(c CloudDiagrams) *plot.Plot {
	top := 0.0
	for _, d := range c.Diagrams {
		for _, pr := range d.Pairs {
			for _, v := range pr {
				if finite(v) {
					top = max(top, v)
				}
			}
		}
	}
	if top == 0 {
		top = 1
	}
	infX := top * 1.1
	p := newPanel(c.Cloud, "filtration scale (distance)", "")
	p.Legend.Left = false
	p.Y.Tick.Marker = plot.ConstantTicks(nil)
	y := 0.0
	for _, d := range c.Diagrams {
		type bar struct{ b, e, len float64 }
		var bs []bar
		for _, pr := range d.Pairs {
			b, e := pr[0], pr[1]
			if !finite(b) || math.IsNaN(e) {
				continue
			}
			l := e - b
			if math.IsInf(e, 1) {
				e, l = infX, math.Inf(1)
			}
			bs = append(bs, bar{b, e, l})
		}
		if len(bs) == 0 {
			continue
		}
		sort.SliceStable(bs, func(i, j int) bool { return bs[i].len > bs[j].len })
		shown := min(len(bs), BarcodeMaxBars)
		bs = bs[:shown]
		// Within a dimension, by birth then death, as barcodes are read.
		sort.SliceStable(bs, func(i, j int) bool {
			if bs[i].b != bs[j].b {
				return bs[i].b < bs[j].b
			}
			return bs[i].e > bs[j].e
		})
		pl := bars{color: colorOf(d.Dim), width: vg.Points(max(0.6, min(2.5, 150/float64(shown+20))))}
		for _, b := range bs {
			y++
			pl.segs = append(pl.segs, [3]float64{b.b, b.e, y})
		}
		y += 3 // a gap between dimensions
		p.Add(pl)
		label := fmt.Sprintf("H%d (%d bars)", d.Dim, len(d.Pairs))
		if shown < len(d.Pairs) {
			label = fmt.Sprintf("H%d (longest %d of %d)", d.Dim, shown, len(d.Pairs))
		}
		sw, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}})
		sw.Color, sw.Width = colorOf(d.Dim), vg.Points(3)
		p.Legend.Add(label, sw)
	}
	inf, _ := plotter.NewLine(plotter.XYs{{X: infX, Y: 0}, {X: infX, Y: max(y, 1)}})
	inf.Color = color.Gray{0x60}
	inf.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(inf)
	p.X.Min, p.X.Max = 0, infX*1.02
	p.Y.Min, p.Y.Max = 0, max(y, 1)*1.25 // room for the legend above the bars
	p.X.Tick.Marker = infTicks{top: top, inf: infX}
	return p
}
