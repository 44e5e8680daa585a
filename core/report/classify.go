package report

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
)

// fitFile is the supervised run's account of its training
// (core/classify.FitFile; named here so report does not import the job).
const fitFile = "fit.json"

// isSupervised reports whether r is a supervised run: its topology
// records carry a class.
func isSupervised(r *run) bool {
	for _, t := range r.Topology {
		if t.Class != "" {
			return true
		}
	}
	return false
}

// classes lists the classes of r's records in order of appearance.
func classes(r *run) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range r.Topology {
		if !seen[t.Class] {
			seen[t.Class] = true
			out = append(out, t.Class)
		}
	}
	return out
}

// supervised is the page of one supervised run: how training ended, the
// Betti numbers of each class against the layer (the figure of Naitzat et
// al.), the scale-free counts, every cloud's numbers, timings and config.
func (b *builder) supervised(r *run) (*page, error) {
	pg := &page{Title: "NeuralTopology supervised run " + r.Name}
	fit := section{ID: "run", Title: "Training (" + fitFile + ")", Notes: r.Notes}
	if raw, err := os.ReadFile(filepath.Join(r.Dir, fitFile)); err == nil {
		fit.Pre = string(raw)
	} else {
		fit.Notes = append(fit.Notes, "no "+fitFile+": training did not finish")
	}
	if n := len(r.Scalars); n > 0 {
		last := r.Scalars[n-1].Values
		fit.Notes = append(fit.Notes, fmt.Sprintf("%d epochs; last epoch: training loss %s, training accuracy %s.", n, fmtFloat(last["losses/train_loss"]), fmtFloat(last["charts/train_accuracy"])))
	}
	pg.Sections = append(pg.Sections, fit)

	maxDim := 0
	for _, t := range r.Topology {
		maxDim = max(maxDim, t.Summary.MaxDim())
	}
	topo := section{ID: "topology", Title: "Betti numbers against layer, per class (layer 0 is the input)"}
	for _, ms := range []struct{ name, label string }{{"betti", "Betti number"}, {"persistent", "scale-free count"}} {
		var panels []plots.BandPanel
		for dim := 0; dim <= maxDim; dim++ {
			bp := plots.BandPanel{Title: fmt.Sprintf("beta_%d", dim), YLabel: ms.label}
			for _, class := range classes(r) {
				band := plots.Band{Label: "class " + class}
				recs := classRecords(r, class)
				for _, t := range recs {
					d, ok := t.Summary.Dim(dim)
					if !ok {
						continue
					}
					v := float64(d.Betti)
					if ms.name == "persistent" {
						v = float64(d.Persistent)
					}
					band.X = append(band.X, float64(t.Layer))
					band.Mean, band.Lo, band.Hi = append(band.Mean, v), append(band.Lo, v), append(band.Hi, v)
				}
				if len(band.X) > 0 {
					bp.Series = append(bp.Series, band)
				}
			}
			if len(bp.Series) > 0 {
				panels = append(panels, bp)
			}
		}
		f, err := b.fig("layers_"+ms.name, ms.label+" against layer", func(p string) error {
			return plots.LayerBands(ms.label+" against layer", panels, p)
		})
		if err != nil {
			return nil, err
		}
		f.Wide = true
		topo.Figures = append(topo.Figures, f)
	}
	pg.Sections = append(pg.Sections, topo)

	t := table{Head: []string{"class", "cloud", "layer", "points", "duplicates", "dim", "metric"}}
	for k := 0; k <= maxDim; k++ {
		t.Head = append(t.Head, fmt.Sprintf("β%d", k))
	}
	for k := 0; k <= maxDim; k++ {
		t.Head = append(t.Head, fmt.Sprintf("persistent H%d", k))
	}
	t.Head = append(t.Head, "seconds")
	for _, class := range classes(r) {
		for _, x := range classRecords(r, class) {
			row := []string{x.Class, x.Cloud, strconv.Itoa(x.Layer), strconv.Itoa(x.Points), strconv.Itoa(x.Duplicates), strconv.Itoa(x.Dim), x.Metric}
			for _, stat := range []func(summary.DimSummary) int{
				func(d summary.DimSummary) int { return d.Betti },
				func(d summary.DimSummary) int { return d.Persistent },
			} {
				for k := 0; k <= maxDim; k++ {
					if d, ok := x.Summary.Dim(k); ok {
						row = append(row, strconv.Itoa(stat(d)))
					} else {
						row = append(row, "—")
					}
				}
			}
			t.Rows = append(t.Rows, append(row, fmtFloat(x.Seconds)))
		}
	}
	if len(r.Topology) > 0 {
		s := r.Topology[0].Summary
		t.Caption = fmt.Sprintf("Betti numbers at scale %g; persistent bars longer than %g%% of the diameter (with homology computed only up to the run's threshold, bars alive there count as infinite).", s.BettiScale, s.Fraction*100)
	}
	pg.Sections = append(pg.Sections, section{ID: "numbers", Title: "Clouds", Tables: []table{t}})
	if len(r.Timings) > 0 {
		pg.Sections = append(pg.Sections, timingsSection(r.Timings))
	}
	cfg := section{ID: "config", Title: "Configuration (" + runstore.ConfigFile + ")", Pre: r.Config}
	pg.Sections = append(pg.Sections, cfg)
	return pg, nil
}

// classRecords are r's records of one class, by layer.
func classRecords(r *run, class string) []summary.TopologyRecord {
	var out []summary.TopologyRecord
	for _, t := range r.Topology {
		if t.Class == class {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Layer < out[j].Layer })
	return out
}
