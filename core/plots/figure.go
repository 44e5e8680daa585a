// Package plots draws the figures users of the seed know - Betti numbers
// across layers, persistence diagrams, Betti numbers and total Betti
// number over training, learning curves - as PNG files from a run's
// records, with several runs overlaid where that makes sense.
//
// Every function writes its PNG atomically (a temporary file renamed into
// place), so a reader never sees half an image, and returns one clear
// error when there is nothing to draw.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
)

// DPI is the resolution of every PNG. A figure of w x h inches is
// w*DPI x h*DPI pixels; the single-panel figures are 10 x 6 inches
// (1200 x 720 pixels).
const DPI = 120

// RunData is what the over-training figures need of one run.
type RunData struct {
	Name     string // legend label when several runs are overlaid
	Topology []summary.TopologyRecord
	Scalars  []summary.ScalarRecord
}

// palette is matplotlib's tab10, the colours of the seed's figures, so
// beta_0 is blue, beta_1 orange and beta_2 green as users expect.
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

func colorOf(i int) color.Color { return palette[((i%len(palette))+len(palette))%len(palette)] }

// dashes tells runs apart when colours already encode a layer or a dim.
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)}}

func dashOf(i int) []vg.Length { return dashes[i%len(dashes)] }

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}}

func glyphOf(i int) draw.GlyphDrawer { return glyphs[i%len(glyphs)] }

// newPanel returns a plot with the house style: a larger title, labelled
// axes, a light dashed grid, and the legend in the top-left corner.
func newPanel(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(15)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = vg.Points(13)
	p.Y.Label.TextStyle.Font.Size = vg.Points(13)
	p.X.Tick.Label.Font.Size = vg.Points(11)
	p.Y.Tick.Label.Font.Size = vg.Points(11)
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.Padding = vg.Points(2)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{0xcc}
	g.Horizontal.Color = color.Gray{0xcc}
	g.Vertical.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	g.Horizontal.Dashes = g.Vertical.Dashes
	p.Add(g)
	return p
}

// addLine adds a line with point markers. Non-finite points are dropped
// (a NaN return of an update with no finished episode is not data), and
// a series left empty is skipped rather than drawn as nothing.
func addLine(p *plot.Plot, label string, xs, ys []float64, c color.Color, dash []vg.Length, g draw.GlyphDrawer, marks bool) (*plotter.Line, error) {
	pts := make(plotter.XYs, 0, len(xs))
	for i := range xs {
		if finite(xs[i]) && finite(ys[i]) {
			pts = append(pts, plotter.XY{X: xs[i], Y: ys[i]})
		}
	}
	if len(pts) == 0 {
		return nil, nil
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, fmt.Errorf("line %q: %w", label, err)
	}
	l.Color = c
	l.Width = vg.Points(1.8)
	l.Dashes = dash
	p.Add(l)
	var thumb []plot.Thumbnailer
	thumb = append(thumb, l)
	if marks {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("points %q: %w", label, err)
		}
		s.Color = c
		s.Shape = g
		s.Radius = vg.Points(3)
		p.Add(s)
		thumb = append(thumb, s)
	}
	if label != "" {
		p.Legend.Add(label, thumb...)
	}
	return l, nil
}

// roomForLegend raises the top of the y axis so a top-corner legend of n
// entries sits above the data instead of over it (gonum draws legends
// inside the data area).
func roomForLegend(p *plot.Plot, n int) {
	if n == 0 {
		return
	}
	frac := min(0.055*float64(n), 0.6)
	span := max(p.Y.Max-p.Y.Min, 1)
	p.Y.Max += span * frac / (1 - frac)
}

// finite reports whether v can be drawn: not NaN and small enough that
// an axis span between two such values stays finite (a return of
// 1.797e308 beside -1.797e308 overflowed the span to +Inf and the tick
// loops never ended). The CSVs keep every value.
func finite(v float64) bool { return !math.IsNaN(v) && math.Abs(v) <= maxPlotted }

const maxPlotted = 1e150

// stepTicks labels environment-step axes as 200k, 1.5M, ... instead of
// 1e+06, so the axis reads in steps without a hidden multiplier.
type stepTicks struct{}

func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = humanSteps(ts[i].Value)
		}
	}
	return ts
}

func humanSteps(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// intTicks puts labelled ticks on whole numbers only, a "nice" integer
// step apart (1, 2, 5, 10, ...): a Betti number of 2.5 is not a thing.
type intTicks struct{}

func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	if !finite(lo) || !finite(hi) || hi < lo {
		return nil
	}
	step := 1.0
	for (hi-lo)/step > 10 {
		switch m := step / math.Pow(10, math.Floor(math.Log10(step))); m {
		case 1:
			step *= 2
		case 2:
			step *= 2.5
		default:
			step *= 2
		}
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi && len(out) <= 20; v += step {
		v += 0 // turns -0 into 0 so the label reads "0"
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return out
}

// figure is a grid of panels under an optional common title.
type figure struct {
	title      string
	cols, rows int
	panels     []*plot.Plot // row-major; nil leaves a tile empty
	w, h       vg.Length
}

// render draws the figure into PNG bytes.
func (f figure) render() ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(f.w, f.h), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(c)
	if f.title != "" {
		sty := draw.TextStyle{
			Color:   color.Black,
			Font:    font.From(plot.DefaultFont, vg.Points(17)),
			XAlign:  draw.XCenter,
			YAlign:  draw.YTop,
			Handler: plot.DefaultTextHandler,
		}
		top := dc.Max.Y - vg.Points(6)
		dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: top}, f.title)
		dc = draw.Crop(dc, 0, 0, 0, -(sty.Height(f.title) + vg.Points(12)))
	}
	tiles := draw.Tiles{Cols: f.cols, Rows: f.rows, PadX: vg.Points(16), PadY: vg.Points(16),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	for i, p := range f.panels {
		if p != nil {
			p.Draw(tiles.At(dc, i%f.cols, i/f.cols))
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// save renders the figure and writes it to path atomically.
func (f figure) save(path string) error {
	b, err := f.render()
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return writeAtomic(path, b)
}

// writeAtomic writes b through runstore.WriteFileAtomic (renamed into
// place, or in place for a device such as /dev/null).
func writeAtomic(path string, b []byte) error {
	if err := runstore.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
