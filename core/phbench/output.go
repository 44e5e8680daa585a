package phbench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WriteTable writes the rows as an aligned text table for a terminal.
func (r Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "input\tbackend\tgiven\tpoints\truns\tmedian s\tmin s\tmax s\tCPU s\tpeak MiB\tpairs\tvs\tbottleneck\t\n")
	for _, row := range r.Rows {
		if row.Runs == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t0\t-\t-\t-\t-\t%s\t-\t\t\t\n", row.Input, row.Backend, row.Given, row.Points, mib(row.PeakMemBytes))
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t\n",
				row.Input, row.Backend, row.Given, row.Points, row.Runs, row.Median, row.Min, row.Max, row.CPU,
				mib(row.PeakMemBytes), ints(row.Pairs), row.Reference, bottleneckText(row))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Reasons are long: list them below the table rather than in it.
	for _, row := range r.Rows {
		if row.Error != "" {
			if _, err := fmt.Fprintf(w, "%s on %s failed: %s\n", row.Backend, row.Input, row.Error); err != nil {
				return err
			}
		}
	}
	return nil
}

func mib(b int64) string {
	if b <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64)
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, "/")
}

func bottleneckText(row Row) string {
	if row.Reference == "" {
		return ""
	}
	return strconv.FormatFloat(row.MaxBottleneck(), 'g', 3, 64)
}

// CSVHeader is the first line WriteCSV writes.
var CSVHeader = []string{"input", "backend", "given", "points", "runs", "median_s", "min_s", "max_s",
	"cpu_s", "peak_mem_bytes", "pairs", "reference", "bottleneck_max", "bottleneck_per_dim", "error"}

// WriteCSV writes one line per row under CSVHeader; pairs and
// per-dimension bottleneck distances are joined with '/'.
func (r Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, row := range r.Rows {
		bmax, per := "", make([]string, len(row.Bottleneck))
		for i, b := range row.Bottleneck {
			per[i] = f(b)
		}
		if len(row.Bottleneck) > 0 {
			bmax = f(row.MaxBottleneck())
		}
		rec := []string{row.Input, row.Backend, row.Given, strconv.Itoa(row.Points), strconv.Itoa(row.Runs),
			f(row.Median), f(row.Min), f(row.Max), f(row.CPU), strconv.FormatInt(row.PeakMemBytes, 10),
			ints(row.Pairs), row.Reference, bmax, strings.Join(per, "/"), row.Error}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the whole result as indented JSON. An infinite
// bottleneck distance (diagrams with different numbers of essential
// classes) is written as null, which JSON can hold.
func (r Result) WriteJSON(w io.Writer) error {
	type jrow struct {
		Row
		Bottleneck []*float64 `json:"bottleneck,omitempty"`
	}
	out := struct {
		Result
		Rows []jrow `json:"rows"`
	}{Result: r}
	for _, row := range r.Rows {
		j := jrow{Row: row}
		for _, b := range row.Bottleneck {
			if math.IsInf(b, 0) || math.IsNaN(b) {
				j.Bottleneck = append(j.Bottleneck, nil)
			} else {
				j.Bottleneck = append(j.Bottleneck, &b)
			}
		}
		out.Rows = append(out.Rows, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WritePNG draws a bar chart of the median times, one group of bars per
// input and one colour per backend, and saves it at path. A failed
// backend has no bar.
func (r Result) WritePNG(path string) error {
	var inputs, backends []string
	seenIn, seenB := map[string]bool{}, map[string]bool{}
	for _, row := range r.Rows {
		if !seenIn[row.Input] {
			seenIn[row.Input] = true
			inputs = append(inputs, row.Input)
		}
		if !seenB[row.Backend] {
			seenB[row.Backend] = true
			backends = append(backends, row.Backend)
		}
	}
	if len(inputs) == 0 {
		return fmt.Errorf("phbench: no rows to plot")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Persistent homology, dimensions 0..%d: median wall time", r.MaxDim)
	p.Y.Label.Text = "seconds"
	p.Y.Min = 0
	// Input names are long; slanted labels do not run into each other.
	p.X.Tick.Label.Rotation = math.Pi / 12
	p.X.Tick.Label.XAlign = -0.8
	width := vg.Points(math.Max(6, 60/float64(len(backends))))
	for bi, b := range backends {
		vals := make(plotter.Values, len(inputs))
		for _, row := range r.Rows {
			if row.Backend == b && row.Runs > 0 {
				for ii, in := range inputs {
					if in == row.Input {
						vals[ii] = row.Median
					}
				}
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return fmt.Errorf("phbench: chart: %w", err)
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(bi)
		bars.Offset = width * vg.Length(float64(bi)-float64(len(backends)-1)/2)
		p.Add(bars)
		p.Legend.Add(b, bars)
	}
	p.Legend.Top = true
	p.NominalX(inputs...)
	p.Add(plotter.NewGrid())
	p.BackgroundColor = color.White
	w := vg.Length(math.Max(6, 1.8*float64(len(inputs))+2)) * vg.Inch
	if err := p.Save(w, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("phbench: saving %s: %w", path, err)
	}
	return nil
}
