package plots

import (
	"errors"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Band is one series of a sweep: the mean over seeds along training with
// a confidence band around it.
type Band struct {
	Label        string
	X            []float64 // environment steps
	Mean, Lo, Hi []float64
	// Seeds, if set, are the series of each seed at X, drawn as faint
	// lines under the band so a reader sees what the mean summarises.
	Seeds [][]float64
}

// BandPanel is one panel of a Bands figure.
type BandPanel struct {
	Title, YLabel string
	Series        []Band
}

// Bands draws panels side by side, each with its series as mean lines
// over translucent bands, so seeds' spread reads at a glance.
func Bands(figTitle string, panels []BandPanel, path string) error {
	return bandsOver(figTitle, "environment steps", stepTicks{}, panels, path)
}

// LayerBands is Bands against the layer index (X holds layers, 0 the
// input): a supervised sweep's Betti numbers through the network, one
// series per activation, its band the spread over networks.
func LayerBands(figTitle string, panels []BandPanel, path string) error {
	return bandsOver(figTitle, "layer (0 = input)", intTicks{}, panels, path)
}

func bandsOver(figTitle, xlabel string, ticks plot.Ticker, panels []BandPanel, path string) error {
	if len(panels) == 0 {
		return errors.New("plot " + path + ": no panels")
	}
	f := figure{title: figTitle, cols: len(panels), rows: 1, w: vg.Length(6*len(panels)) * vg.Inch, h: 5 * vg.Inch}
	drawn := 0
	for _, bp := range panels {
		p := newPanel(bp.Title, xlabel, bp.YLabel)
		p.X.Tick.Marker = ticks
		n := 0
		// Seeds' traces, then every band, so nothing hides a series' line.
		for i, s := range bp.Series {
			if err := addTraces(p, s, palette[i%len(palette)]); err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
		}
		for i, s := range bp.Series {
			if err := addBand(p, s, palette[i%len(palette)]); err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
		}
		for i, s := range bp.Series {
			l, err := addLine(p, s.Label, s.X, s.Mean, colorOf(i), nil, glyphOf(i), len(s.X) <= 30)
			if err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
			if l != nil {
				n++
			}
		}
		drawn += n
		roomForLegend(p, n)
		f.panels = append(f.panels, p)
	}
	if drawn == 0 {
		return errors.New("plot " + path + ": no finite values to draw")
	}
	return f.save(path)
}

// addTraces draws each seed's series as a thin translucent line.
func addTraces(p *plot.Plot, s Band, c color.RGBA) error {
	for _, ys := range s.Seeds {
		var pts plotter.XYs
		for i := range s.X {
			if i < len(ys) && finite(s.X[i]) && finite(ys[i]) {
				pts = append(pts, plotter.XY{X: s.X[i], Y: ys[i]})
			}
		}
		if len(pts) < 2 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = color.NRGBA{c.R, c.G, c.B, 0x50}
		l.Width = vg.Points(0.6)
		p.Add(l)
	}
	return nil
}

// addBand fills the area between Lo and Hi, skipping non-finite points.
func addBand(p *plot.Plot, s Band, c color.RGBA) error {
	var up, down plotter.XYs
	for i := range s.X {
		if finite(s.X[i]) && finite(s.Lo[i]) && finite(s.Hi[i]) {
			up = append(up, plotter.XY{X: s.X[i], Y: s.Hi[i]})
			down = append(down, plotter.XY{X: s.X[i], Y: s.Lo[i]})
		}
	}
	if len(up) < 2 {
		return nil
	}
	ring := append(plotter.XYs(nil), up...)
	for i := len(down) - 1; i >= 0; i-- {
		ring = append(ring, down[i])
	}
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return err
	}
	poly.Color = color.NRGBA{c.R, c.G, c.B, 0x40} // non-premultiplied: the tab10 colour at 25%
	poly.LineStyle.Width = 0
	p.Add(poly)
	return nil
}
