package plots

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/neuraltopology/neuraltopology/core/summary"
)

// LayerName is the axis label of a layer: "input" for layer 0, else
// "layer N".
func LayerName(layer int) string {
	if layer == 0 {
		return "input"
	}
	return fmt.Sprintf("layer %d", layer)
}

// title capitalises a net name for titles ("actor" -> "Actor").
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// inNet reports whether r belongs to net's column of layers: the net's own
// hidden layers plus the shared input cloud at layer 0.
func inNet(r summary.TopologyRecord, net string) bool {
	return r.Net == net || (r.Net == summary.NetInput && r.Layer == 0)
}

// Nets lists the networks (not the input) the records cover, actor and
// critic first, others after in name order.
func Nets(recs []summary.TopologyRecord) []string {
	seen := map[string]bool{}
	var nets []string
	for _, r := range recs {
		if r.Net != summary.NetInput && r.Net != "" && !seen[r.Net] {
			seen[r.Net] = true
			nets = append(nets, r.Net)
		}
	}
	rank := func(n string) int {
		switch n {
		case summary.NetActor:
			return 0
		case summary.NetCritic:
			return 1
		}
		return 2
	}
	sort.Slice(nets, func(i, j int) bool {
		if rank(nets[i]) != rank(nets[j]) {
			return rank(nets[i]) < rank(nets[j])
		}
		return nets[i] < nets[j]
	})
	return nets
}

// Steps lists the snapshot steps of the records in increasing order.
func Steps(recs []summary.TopologyRecord) []int {
	seen := map[int]bool{}
	var steps []int
	for _, r := range recs {
		if !seen[r.Step] {
			seen[r.Step] = true
			steps = append(steps, r.Step)
		}
	}
	sort.Ints(steps)
	return steps
}

func maxDim(recs []summary.TopologyRecord) int {
	m := -1
	for _, r := range recs {
		m = max(m, r.Summary.MaxDim())
	}
	return m
}

// BettiAcrossLayers draws beta_0, beta_1, ... of one snapshot against the
// layers of one net (input, layer 1, layer 2), like the seed's
// actor_hopper_walk.png.
func BettiAcrossLayers(recs []summary.TopologyRecord, step int, net string, path string) error {
	recs = summary.LatestTopology(recs)
	var sel []summary.TopologyRecord
	own := false
	for _, r := range recs {
		if r.Step == step && inNet(r, net) {
			sel = append(sel, r)
			own = own || r.Net == net
		}
	}
	if !own {
		return fmt.Errorf("plot %s: no topology records of net %q at step %d: %w", path, net, step, ErrNoData)
	}
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].Layer < sel[j].Layer })
	names := make([]string, len(sel))
	xs := make([]float64, len(sel))
	for i, r := range sel {
		names[i] = LayerName(r.Layer)
		xs[i] = float64(i)
	}
	p := newPanel(fmt.Sprintf("%s network topology at step %s", title(net), groupDigits(step)),
		"layer", fmt.Sprintf("Betti number (bars alive at scale %g)", sel[0].Summary.BettiScale))
	for k := 0; k <= maxDim(sel); k++ {
		ys := make([]float64, len(sel))
		for i, r := range sel {
			ys[i] = float64(r.Summary.Betti(k))
		}
		if _, err := addLine(p, fmt.Sprintf("β%d", k), xs, ys, colorOf(k), nil, glyphOf(0), true); err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
	}
	p.Y.Min = min(p.Y.Min, 0)
	roomForLegend(p, maxDim(sel)+1)
	p.NominalX(names...)
	p.X.Padding = vg.Points(20)
	p.Y.Tick.Marker = intTicks{}
	return figure{cols: 1, rows: 1, panels: []*plot.Plot{p}, w: 10 * vg.Inch, h: 6 * vg.Inch}.save(path)
}

// GroupDigits writes 512000 as 512,000, as the figures' titles do.
func GroupDigits(n int) string { return groupDigits(n) }

// groupDigits writes 512000 as 512,000.
func groupDigits(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// series is one line of an over-training panel.
type series struct {
	xs, ys []float64
}

// layerSeries collects stat(summary, k) per layer of net against steps.
func layerSeries(recs []summary.TopologyRecord, net string, k int, stat func(summary.Summary, int) int) map[int]*series {
	out := map[int]*series{}
	sorted := summary.LatestTopology(recs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Step < sorted[j].Step })
	for _, r := range sorted {
		if !inNet(r, net) {
			continue
		}
		s := out[r.Layer]
		if s == nil {
			s = &series{}
			out[r.Layer] = s
		}
		s.xs = append(s.xs, float64(r.Step))
		s.ys = append(s.ys, float64(stat(r.Summary, k)))
	}
	return out
}

func checkRuns(runs []RunData, path string) error {
	if len(runs) == 0 {
		return fmt.Errorf("plot %s: no runs given: %w", path, ErrNoData)
	}
	return nil
}

// runLabel prefixes a series label with the run name when runs overlap.
func runLabel(runs []RunData, i int, label string) string {
	if len(runs) == 1 {
		return label
	}
	return runName(runs, i) + ": " + label
}

// runName is the run's name, or "run N" for an unnamed one.
func runName(runs []RunData, i int) string {
	if runs[i].Name == "" {
		return fmt.Sprintf("run %d", i+1)
	}
	return runs[i].Name
}

// layersOverTraining draws one panel per homology dimension with a line
// per layer of net; several runs share the colours of the layers and are
// told apart by dashes.
func layersOverTraining(runs []RunData, net, what, ylabel string, stat func(summary.Summary, int) int, path string) error {
	if err := checkRuns(runs, path); err != nil {
		return err
	}
	dims, own := -1, false
	for _, run := range runs {
		for _, r := range run.Topology {
			if inNet(r, net) {
				dims = max(dims, r.Summary.MaxDim())
				own = own || r.Net == net
			}
		}
	}
	if !own {
		return fmt.Errorf("plot %s: no topology records of net %q in any run: %w", path, net, ErrNoData)
	}
	var panels []*plot.Plot
	for k := 0; k <= dims; k++ {
		p := newPanel(fmt.Sprintf("β%d", k), "environment steps", ylabel)
		entries := 0
		for ri, run := range runs {
			ls := layerSeries(run.Topology, net, k, stat)
			layers := make([]int, 0, len(ls))
			for l := range ls {
				layers = append(layers, l)
			}
			sort.Ints(layers)
			for _, l := range layers {
				s := ls[l]
				if _, err := addLine(p, runLabel(runs, ri, LayerName(l)), s.xs, s.ys, colorOf(l), dashOf(ri), glyphOf(l), len(s.xs) <= 60); err != nil {
					return fmt.Errorf("plot %s: %w", path, err)
				}
				entries++
			}
		}
		p.Y.Min = min(p.Y.Min, 0)
		roomForLegend(p, entries)
		p.X.Tick.Marker = stepTicks{}
		p.Y.Tick.Marker = intTicks{}
		panels = append(panels, p)
	}
	return figure{
		title: fmt.Sprintf("%s: %s per layer over training", title(net), what),
		cols:  len(panels), rows: 1, panels: panels,
		w: vg.Length(len(panels)) * 6 * vg.Inch, h: 5.5 * vg.Inch,
	}.save(path)
}

// BettiOverTraining draws beta_k of each layer of net (input, layer 1,
// layer 2) against environment steps, one panel per dimension k.
func BettiOverTraining(runs []RunData, net string, path string) error {
	return layersOverTraining(runs, net, "Betti numbers", "Betti number (count)", summary.Summary.Betti, path)
}

// PersistentOverTraining is the scale-free variant of BettiOverTraining:
// it counts, per layer and dimension, the bars living longer than the
// Fraction of the cloud's diameter, so layers with different distance
// scales can be compared.
func PersistentOverTraining(runs []RunData, net string, path string) error {
	frac := 0.0
	for _, run := range runs {
		for _, r := range run.Topology {
			frac = r.Summary.Fraction
		}
	}
	ylabel := fmt.Sprintf("bars longer than %g%% of diameter (count)", frac*100)
	return layersOverTraining(runs, net, "persistent bars", ylabel, summary.Summary.Persistent, path)
}

// TotalBetti draws, for each net, the sum of the Betti numbers over its
// hidden layers and all dimensions against environment steps, like the
// seed's hopper_total_betti.png. The input cloud is left out: it belongs
// to neither net (the seed's critic curve sits at 2, beta_0 of two hidden
// layers, which shows it summed hidden layers only).
func TotalBetti(runs []RunData, path string) error {
	if err := checkRuns(runs, path); err != nil {
		return err
	}
	var all []summary.TopologyRecord
	for _, run := range runs {
		all = append(all, run.Topology...)
	}
	nets := Nets(all)
	if len(nets) == 0 {
		return fmt.Errorf("plot %s: no network topology records in any run: %w", path, ErrNoData)
	}
	p := newPanel("Total homology over training", "environment steps", "total Betti number (sum over hidden layers and dims)")
	p.Legend.Left = false
	for ri, run := range runs {
		for ni, net := range nets {
			xs, ys := totalBetti(run.Topology, net)
			c, dash := colorOf(ni), []vg.Length(nil)
			if len(runs) > 1 {
				c, dash = colorOf(ri), dashOf(ni)
			}
			if _, err := addLine(p, runLabel(runs, ri, title(net)), xs, ys, c, dash, glyphOf(ni), len(xs) <= 80); err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
		}
	}
	roomForLegend(p, len(runs)*len(nets))
	p.X.Tick.Marker = stepTicks{}
	p.Y.Tick.Marker = intTicks{}
	return figure{cols: 1, rows: 1, panels: []*plot.Plot{p}, w: 11 * vg.Inch, h: 6 * vg.Inch}.save(path)
}

// ErrNoData is wrapped by every error that means the input held nothing
// to draw, so a caller assembling many figures can skip those and still
// fail on real errors.
var ErrNoData = errors.New("nothing to draw")

// totalBetti sums, per snapshot step, the Betti numbers of every
// dimension over net's hidden layers (layer >= 1).
func totalBetti(recs []summary.TopologyRecord, net string) (xs, ys []float64) {
	byStep := map[int][]summary.TopologyRecord{}
	for _, r := range summary.LatestTopology(recs) {
		if r.Net == net && r.Layer >= 1 {
			byStep[r.Step] = append(byStep[r.Step], r)
		}
	}
	steps := make([]int, 0, len(byStep))
	for s := range byStep {
		steps = append(steps, s)
	}
	sort.Ints(steps)
	for _, s := range steps {
		xs = append(xs, float64(s))
		ys = append(ys, float64(summary.NetTotalBetti(byStep[s], net)))
	}
	return xs, ys
}
