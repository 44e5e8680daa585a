package sweepreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/neuraltopology/neuraltopology/core/classify"
	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/stats"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/sweep"
)

// Files of a supervised sweep's report, in SWEEP_DIR/report/.
const (
	LayersCSV   = "layers.csv"   // per configuration, activation, class, layer, dim and measure
	NetworksCSV = "networks.csv" // per network and class: where its topology became trivial
)

// network is one trained network (one trial) of a supervised sweep.
type network struct {
	Seed       string
	Activation string
	// betti[class][layer] are the Betti numbers at the fixed scale by
	// dimension; persistent the scale-free counts.
	betti, persistent map[string][][]int
	// fit is the trial's fit.json (nil if it has none); seconds its
	// timings.json total (0 if none).
	fit     *classify.FitSummary
	seconds float64
}

// netGroup is the trials of one data set and architecture; the
// activation and the seed vary inside it.
type netGroup struct {
	Name     string // e.g. "D-I__15x10"
	Nets     []network
	Classes  []string
	Layers   int // hidden layers (the last layer's index)
	Dims     int // dimensions computed
	Acts     []string
	supports map[string]bool
}

// supervised reports whether any done trial of m is a supervised run.
func supervised(m *sweep.Manifest) bool {
	for _, st := range m.Status() {
		if st.State != sweep.StateDone {
			continue
		}
		if cfg, err := m.Spec.Config(st.Trial); err == nil && cfg.Data != "" {
			return true
		}
	}
	return false
}

// archName writes hidden sizes "15,15,15" as "15x3", mixed ones as they are.
func archName(h string) string {
	parts := strings.Split(h, ",")
	for _, p := range parts {
		if strings.TrimSpace(p) != strings.TrimSpace(parts[0]) {
			return strings.ReplaceAll(h, ",", "-")
		}
	}
	return strings.TrimSpace(parts[0]) + "x" + strconv.Itoa(len(parts))
}

// loadNets groups a supervised sweep's done trials by data set and
// architecture.
func loadNets(m *sweep.Manifest) ([]*netGroup, error) {
	byName := map[string]*netGroup{}
	var groups []*netGroup
	for _, st := range m.Status() {
		if st.State != sweep.StateDone {
			continue
		}
		cfg, err := m.Spec.Config(st.Trial)
		if err != nil {
			return nil, err
		}
		if cfg.Data == "" {
			continue
		}
		name := cfg.DataID + "__" + archName(cfg.HiddenSize)
		if lg, _ := strconv.ParseBool(cfg.AlgoParams["logits"]); lg {
			// The output layer is analysed as the last layer: not the
			// same layers as the architecture without it.
			name += "+logits"
		}
		g := byName[name]
		if g == nil {
			g = &netGroup{Name: name, supports: map[string]bool{}}
			byName[name] = g
			groups = append(groups, g)
		}
		act := cfg.AlgoParams["activation"]
		if act == "" {
			act = "relu"
		}
		recs, err := readRecords(st.Dir, summary.TopologyFile, summary.ReadTopology)
		if err != nil {
			return nil, fmt.Errorf("trial %s: %w", st.Name, err)
		}
		recs = summary.LatestTopology(recs)
		n := network{Seed: strconv.FormatInt(cfg.Seed, 10), Activation: act, betti: map[string][][]int{}, persistent: map[string][][]int{}}
		n.fit, n.seconds, err = readFit(st.Dir)
		if err != nil {
			return nil, fmt.Errorf("trial %s: %w", st.Name, err)
		}
		for _, r := range recs {
			if r.Class == "" {
				continue
			}
			for len(n.betti[r.Class]) <= r.Layer {
				n.betti[r.Class] = append(n.betti[r.Class], nil)
				n.persistent[r.Class] = append(n.persistent[r.Class], nil)
			}
			for _, d := range r.Summary.Dims {
				n.betti[r.Class][r.Layer] = append(n.betti[r.Class][r.Layer], d.Betti)
				n.persistent[r.Class][r.Layer] = append(n.persistent[r.Class][r.Layer], d.Persistent)
				g.Dims = max(g.Dims, d.Dim+1)
			}
			g.Layers = max(g.Layers, r.Layer)
			if !contains(g.Classes, r.Class) {
				g.Classes = append(g.Classes, r.Class)
			}
		}
		if !contains(g.Acts, act) {
			g.Acts = append(g.Acts, act)
		}
		g.Nets = append(g.Nets, n)
	}
	for _, g := range groups {
		sort.Strings(g.Classes)
		sort.Slice(g.Acts, func(i, j int) bool { return actOrder(g.Acts[i]) < actOrder(g.Acts[j]) })
	}
	return groups, nil
}

// readFit reads a supervised trial's fit.json and the total of its
// timings.json; a trial without them (published before they were kept)
// gives nil and 0.
func readFit(dir string) (*classify.FitSummary, float64, error) {
	var fit *classify.FitSummary
	b, err := runstore.ReadFileLimit(filepath.Join(dir, classify.FitFile), runstore.MaxSmallFile)
	switch {
	case err == nil:
		fit = &classify.FitSummary{}
		if err := json.Unmarshal(b, fit); err != nil {
			return nil, 0, fmt.Errorf("%s: %v", classify.FitFile, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, 0, err
	}
	var timings map[string]float64
	b, err = runstore.ReadFileLimit(filepath.Join(dir, runstore.TimingsFile), runstore.MaxSmallFile)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &timings); err != nil {
			return nil, 0, fmt.Errorf("%s: %v", runstore.TimingsFile, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, 0, err
	}
	return fit, timings["total"], nil
}

// actOrder lists ReLU, leaky ReLU and tanh in the paper's order.
func actOrder(a string) string {
	switch a {
	case "relu":
		return "0"
	case "leaky_relu":
		return "1"
	case "tanh":
		return "2"
	}
	return "3" + a
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// value is a network's count in dim at layer for class, or false when it
// was not computed (a layer too narrow for the dimension).
func (n network) value(class, measure string, layer, dim int) (float64, bool) {
	src := n.betti
	if measure == "persistent" {
		src = n.persistent
	}
	ls := src[class]
	if layer >= len(ls) || dim >= len(ls[layer]) {
		return 0, false
	}
	return float64(ls[layer][dim]), true
}

// trivialAt reports whether class's Betti numbers at layer are (1, 0, ...).
func (n network) trivialAt(class string, layer int) bool {
	ls := n.betti[class]
	if layer >= len(ls) || len(ls[layer]) == 0 {
		return false
	}
	for d, b := range ls[layer] {
		if (d == 0 && b != 1) || (d > 0 && b != 0) {
			return false
		}
	}
	return true
}

// firstLayer is the first layer where ok holds, or last+1 when none does
// (the network never got there: ranked after every network that did).
func (n network) firstLayer(class string, last int, ok func(layer int) bool) int {
	for l := 0; l <= last; l++ {
		if ok(l) {
			return l
		}
	}
	return last + 1
}

// hiddenTotal sums class's Betti numbers over dims and hidden layers
// 1..last: the area under its curves, smaller when topology is reduced
// sooner.
func (n network) hiddenTotal(class string, last int) int {
	t := 0
	for l := 1; l <= last && l < len(n.betti[class]); l++ {
		for _, b := range n.betti[class][l] {
			t += b
		}
	}
	return t
}

func (n network) firstBeta0One(class string, last int) int {
	return n.firstLayer(class, last, func(l int) bool { v, ok := n.value(class, "betti", l, 0); return ok && v == 1 })
}

func (n network) firstTrivial(class string, last int) int {
	return n.firstLayer(class, last, func(l int) bool { return n.trivialAt(class, l) })
}

func (g *netGroup) byAct(act string) []network {
	var out []network
	for _, n := range g.Nets {
		if n.Activation == act {
			out = append(out, n)
		}
	}
	return out
}

// meanBetti is the mean over an activation's networks of a class's Betti
// numbers at the fixed scale at layer l, dimension by dimension, with
// prec decimals, comma-separated: the cells of the per-layer tables.
func (g *netGroup) meanBetti(act, class string, l, prec int) string {
	cells := make([]string, 0, g.Dims)
	for dim := 0; dim < g.Dims; dim++ {
		var vals []float64
		for _, n := range g.byAct(act) {
			if v, ok := n.value(class, "betti", l, dim); ok {
				vals = append(vals, v)
			}
		}
		cells = append(cells, strconv.FormatFloat(stats.Mean(vals), 'f', prec, 64))
	}
	return strings.Join(cells, ", ")
}

type supClaim struct {
	Group, Class, Claim, Statement, Test string
	N                                    int
	Statistic                            string
	// P is the test's own p-value, PAdj Holm's adjustment of it within
	// its family (the group's claims of the same number); the verdict
	// uses PAdj.
	P, PAdj         float64
	PText, PAdjText string
	// forward says the data lean the claim's way (for (ii), the fast
	// activation's median below tanh's); a claim is supported only then.
	forward   bool
	Supported bool
	Verdict   string
}

func (c *supClaim) finish() {
	c.PText, c.PAdjText = ptext(c.P), ptext(c.PAdj)
	switch {
	case math.IsNaN(c.P) || c.N == 0:
		c.Verdict = "not testable"
	case c.Supported:
		c.Verdict = fmt.Sprintf("supported at %.2f", Alpha)
	case c.Claim == "ii" && !c.forward && c.PAdj < Alpha:
		// The two-sided test rejects "no difference", but the data lean
		// the other way: say so rather than a bare "not supported".
		c.Verdict = fmt.Sprintf("opposite direction at %.2f", Alpha)
	default:
		c.Verdict = fmt.Sprintf("not supported at %.2f", Alpha)
	}
}

// claimsOf tests, with the network as the unit: (i) per activation and
// class, that most networks end with trivial topology (1, 0, ...) at
// the last layer (exact one-sided binomial test of a proportion above
// one half, with the Clopper-Pearson interval), and (ii) per class, that
// ReLU (and leaky ReLU) networks reduce topology faster than tanh
// networks: exact two-sided Mann-Whitney on each network's first layer
// with beta0 = 1 and with trivial topology (a network that never gets
// there counts as layer L+1), on its beta0 at the last layer, and on its
// Betti numbers summed over the hidden layers.
func (g *netGroup) claimsOf() []supClaim {
	var out []supClaim
	L := g.Layers
	for _, class := range g.Classes {
		for _, act := range g.Acts {
			nets := g.byAct(act)
			k := 0
			for _, n := range nets {
				if n.trivialAt(class, L) {
					k++
				}
			}
			lo, hi := stats.ClopperPearson(k, len(nets), Level)
			p := math.NaN()
			if len(nets) > 0 {
				p = distuv.Binomial{N: float64(len(nets)), P: 0.5}.Survival(float64(k) - 1)
				p = min(p, 1)
			}
			c := supClaim{Group: g.Name, Class: class, Claim: "i",
				Statement: fmt.Sprintf("%s: class %s's Betti numbers are (1, 0, ...) at the last layer (%d) in most networks", act, class, L),
				Test:      "exact binomial, one-sided, H0: proportion <= 1/2",
				N:         len(nets), Statistic: fmt.Sprintf("%d of %d (%.0f%% CI %.2f-%.2f)", k, len(nets), Level*100, lo, hi), P: p}
			c.forward = len(nets) > 0
			out = append(out, c)
		}
		for _, fast := range []string{"relu", "leaky_relu"} {
			if !contains(g.Acts, fast) || !contains(g.Acts, "tanh") {
				continue
			}
			for _, what := range []struct {
				name string
				f    func(n network) int
			}{
				{"first layer with beta0 = 1", func(n network) int { return n.firstBeta0One(class, L) }},
				{"first layer with Betti numbers (1, 0, ...)", func(n network) int { return n.firstTrivial(class, L) }},
				{"beta0 at the last layer", func(n network) int { v, _ := n.value(class, "betti", L, 0); return int(v) }},
				{"sum over hidden layers of the Betti numbers (all dims)", func(n network) int { return n.hiddenTotal(class, L) }},
			} {
				var x, y []float64
				for _, n := range g.byAct(fast) {
					x = append(x, float64(what.f(n)))
				}
				for _, n := range g.byAct("tanh") {
					y = append(y, float64(what.f(n)))
				}
				if all := append(slices.Clone(x), y...); len(all) == 0 || slices.Min(all) == slices.Max(all) {
					continue // every network alike (class b's beta0 is 1 throughout): nothing to compare
				}
				res := stats.MannWhitney(x, y)
				mx, my := medianOf(x), medianOf(y)
				c := supClaim{Group: g.Name, Class: class, Claim: "ii",
					Statement: fmt.Sprintf("class %s: %s networks have a lower %s than tanh networks", class, fast, what.name),
					Test:      "exact Mann-Whitney, two-sided (never = layer L+1)",
					N:         len(x) + len(y),
					Statistic: fmt.Sprintf("median %s %g vs tanh %g; P(%s > tanh) = %.2f", fast, mx, my, fast, res.Effect),
					P:         res.P}
				c.forward = mx < my
				out = append(out, c)
			}
		}
	}
	holmByClaim(out)
	return out
}

// holmByClaim adjusts the p-values of each claim's family (all of a
// group's (i) tests, all its (ii) tests: every class, activation and
// measure) by Holm's step-down method and decides each claim at Alpha on
// the adjusted value, so that the chance of calling any true null
// supported stays at most Alpha per family however many rows it has.
func holmByClaim(cs []supClaim) {
	fams := map[string][]int{}
	for i, c := range cs {
		fams[c.Claim] = append(fams[c.Claim], i)
	}
	for _, idx := range fams {
		p := make([]float64, len(idx))
		for k, i := range idx {
			p[k] = cs[i].P
		}
		for k, a := range stats.Holm(p) {
			c := &cs[idx[k]]
			c.PAdj = a
			c.Supported = c.forward && a < Alpha
			c.finish()
		}
	}
}

type supGroupSection struct {
	Name     string
	Networks string
	Claims   []supClaim
	Figures  []figure
	Table    [][]string
}

type supPage struct {
	Dir, Generated string
	Trials, Done   int
	Level, Alpha   float64
	Resamples      int
	Groups         []supGroupSection
	CSVs           []string
}

// buildSupervised writes the report of a sweep of supervised runs: per
// data set and architecture, the paper's figure (beta_k against layer,
// one line per activation, the mean over networks with its bootstrap
// band), each network's first trivial layer, and the claims' tests.
func buildSupervised(dir string, m *sweep.Manifest) (Result, error) {
	path, md, err := writeSupervised(dir, m)
	return Result{HTML: path, Markdown: md}, err
}

func writeSupervised(dir string, m *sweep.Manifest) (string, string, error) {
	groups, err := loadNets(m)
	if err != nil {
		return "", "", fmt.Errorf("sweep report: %w", err)
	}
	if len(groups) == 0 {
		return "", "", fmt.Errorf("sweep report: no trial of %s is done yet", dir)
	}
	out := filepath.Join(dir, Dir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", "", err
	}
	pg := supPage{Dir: dir, Trials: len(m.Trials), Generated: time.Now().UTC().Format("2006-01-02 15:04:05 UTC"), Level: Level * 100, Alpha: Alpha, Resamples: Resamples}
	layers := [][]string{{"group", "activation", "class", "layer", "dim", "measure", "n", "mean", "ci_low", "ci_high"}}
	nets := [][]string{{"group", "activation", "seed", "class", "last_layer", "betti_input", "betti_last", "trivial_at_last", "first_beta0_1", "first_trivial"}}
	claims := [][]string{{"group", "class", "claim", "statement", "test", "n", "statistic", "p_value", "p_holm", "verdict"}}
	for _, g := range groups {
		pg.Done += len(g.Nets)
		gs := supGroupSection{Name: g.Name}
		var counts []string
		for _, a := range g.Acts {
			counts = append(counts, fmt.Sprintf("%s %d", a, len(g.byAct(a))))
		}
		gs.Networks = strings.Join(counts, ", ")
		gs.Table = append(gs.Table, []string{"activation", "class", "layer", "mean Betti numbers (dims 0..)"})
		for _, class := range g.Classes {
			for _, ms := range Measures {
				var panels []plots.BandPanel
				for dim := 0; dim < g.Dims; dim++ {
					bp := plots.BandPanel{Title: fmt.Sprintf("class %s, beta_%d", class, dim), YLabel: measureName(ms)}
					for _, act := range g.Acts {
						b := plots.Band{Label: act}
						for l := 0; l <= g.Layers; l++ {
							var vals []float64
							for _, n := range g.byAct(act) {
								if v, ok := n.value(class, ms, l, dim); ok {
									vals = append(vals, v)
								}
							}
							if len(vals) == 0 {
								continue
							}
							lo, hi := stats.BootstrapCI(vals, Level, Resamples, uint64(l*10+dim)+1)
							mean := stats.Mean(vals)
							b.X, b.Mean, b.Lo, b.Hi = append(b.X, float64(l)), append(b.Mean, mean), append(b.Lo, lo), append(b.Hi, hi)
							layers = append(layers, []string{g.Name, act, class, strconv.Itoa(l), strconv.Itoa(dim), ms, strconv.Itoa(len(vals)), ftoa(mean), ftoa(lo), ftoa(hi)})
						}
						if len(b.X) > 0 {
							bp.Series = append(bp.Series, b)
						}
					}
					if len(bp.Series) > 0 {
						panels = append(panels, bp)
					}
				}
				name := fmt.Sprintf("%s_class_%s_%s.png", g.Name, class, ms)
				title := fmt.Sprintf("%s, class %s: %s against layer (mean over networks, %.0f%% band)", g.Name, class, measureName(ms), Level*100)
				if err := gs.plot(out, name, title, panels); err != nil {
					return "", "", err
				}
			}
			for _, act := range g.Acts {
				for l := 0; l <= g.Layers; l++ {
					gs.Table = append(gs.Table, []string{act, class, strconv.Itoa(l), "(" + g.meanBetti(act, class, l, 2) + ")"})
				}
			}
			for _, n := range g.Nets {
				nets = append(nets, []string{g.Name, n.Activation, n.Seed, class, strconv.Itoa(g.Layers),
					intsText(n.betti[class], 0), intsText(n.betti[class], g.Layers),
					strconv.FormatBool(n.trivialAt(class, g.Layers)), strconv.Itoa(n.firstBeta0One(class, g.Layers)), strconv.Itoa(n.firstTrivial(class, g.Layers))})
			}
		}
		for _, c := range g.claimsOf() {
			gs.Claims = append(gs.Claims, c)
			claims = append(claims, []string{c.Group, c.Class, c.Claim, c.Statement, c.Test, strconv.Itoa(c.N), c.Statistic, ftoa(c.P), ftoa(c.PAdj), c.Verdict})
		}
		pg.Groups = append(pg.Groups, gs)
	}
	for name, rows := range map[string][][]string{LayersCSV: layers, NetworksCSV: nets, ClaimsCSV: claims} {
		if err := writeCSV(filepath.Join(out, name), rows); err != nil {
			return "", "", err
		}
	}
	pg.CSVs = []string{LayersCSV, NetworksCSV, ClaimsCSV}
	md := supMarkdown(pg, groups)
	if err := runstore.WriteFileAtomic(filepath.Join(out, MarkdownFile), []byte(md)); err != nil {
		return "", "", err
	}
	var buf bytes.Buffer
	if err := supTmpl.Execute(&buf, pg); err != nil {
		return "", "", fmt.Errorf("sweep report: %w", err)
	}
	path := filepath.Join(dir, HTMLFile)
	return path, md, runstore.WriteFileAtomic(path, buf.Bytes())
}

// supMarkdown is a supervised sweep's results in Markdown (`nthost
// report SWEEP_DIR --markdown`): how well each activation's networks
// were trained, the mean Betti numbers at every layer per class and
// activation, and the claims' tests, so a README quoting it cannot drift
// from the data.
func supMarkdown(pg supPage, groups []*netGroup) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("Networks: %d of %d trials done.\n\n", pg.Done, pg.Trials)
	w("Training, per activation (each network's fit.json and timings.json): epochs (median, range), the largest training loss and homology-set error the host measured on the final networks, and the median wall time of a network (training and topology).\n\n")
	w("| group | activation | networks | epochs, median (range) | max training loss | max homology error | median wall s |\n|---|---|---|---|---|---|---|\n")
	for _, g := range groups {
		for _, act := range g.Acts {
			var epochs, secs []float64
			loss, herr := math.NaN(), math.NaN()
			for _, n := range g.byAct(act) {
				if n.fit != nil {
					epochs = append(epochs, float64(n.fit.Epochs))
					loss = nanMax(loss, n.fit.CheckedLoss)
					herr = nanMax(herr, 1-n.fit.HomologyAccuracy)
				}
				if n.seconds > 0 {
					secs = append(secs, n.seconds)
				}
			}
			ep := "-"
			if len(epochs) > 0 {
				ep = fmt.Sprintf("%g (%g-%g)", medianOf(epochs), slices.Min(epochs), slices.Max(epochs))
			}
			w("| %s | %s | %d | %s | %s | %s | %s |\n", g.Name, act, len(g.byAct(act)), ep, mdNum(loss, "%.2g"), mdPercent(herr), mdNum(medianOf(secs), "%.0f"))
		}
	}
	for _, g := range groups {
		var counts []string
		for _, a := range g.Acts {
			counts = append(counts, fmt.Sprintf("%s %d", a, len(g.byAct(a))))
		}
		head := "beta0"
		for d := 1; d < g.Dims; d++ {
			head += fmt.Sprintf(", beta%d", d)
		}
		for _, class := range g.Classes {
			w("\n**%s, class %s** (mean (%s) at the fixed scale over networks, layer 0 the input; n per activation: %s)\n\n", strings.ReplaceAll(g.Name, "__", ", "), class, head, strings.Join(counts, ", "))
			w("| layer |")
			for l := 0; l <= g.Layers; l++ {
				w(" %d |", l)
			}
			w("\n|---|%s\n", strings.Repeat("---|", g.Layers+1))
			for _, act := range g.Acts {
				w("| %s |", act)
				for l := 0; l <= g.Layers; l++ {
					w(" %s |", g.meanBetti(act, class, l, 1))
				}
				w("\n")
			}
		}
	}
	w("\nThe claims, with the network as the unit (exact one-sided binomial test of \"most networks\" with the Clopper-Pearson interval; exact two-sided Mann-Whitney between activations, each network one value, a network that never gets there counted at layer L+1). Each group's (i) rows are one family and its (ii) rows another: the result is decided on the Holm-adjusted p-value within the family, at %.2f:\n\n", Alpha)
	w("| group | class | claim | n | statistic | p | p (Holm) | result |\n|---|---|---|---|---|---|---|---|\n")
	for _, g := range pg.Groups {
		for _, c := range g.Claims {
			w("| %s | %s | (%s) %s | %d | %s | %s | %s | %s |\n", strings.ReplaceAll(c.Group, "__", " "), c.Class, c.Claim, c.Statement, c.N, c.Statistic, c.PText, c.PAdjText, c.Verdict)
		}
	}
	return b.String()
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) {
		return b
	}
	return max(a, b)
}

func mdNum(v float64, format string) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func mdPercent(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3g%%", 100*v)
}

// medianOf is the median of x (NaN for none).
func medianOf(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func intsText(ls [][]int, layer int) string {
	if layer >= len(ls) {
		return ""
	}
	parts := make([]string, len(ls[layer]))
	for i, v := range ls[layer] {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, " ")
}

func (gs *supGroupSection) plot(out, name, title string, panels []plots.BandPanel) error {
	return embedPlot(&gs.Figures, plots.LayerBands, out, name, title, panels)
}

var supTmpl = template.Must(template.New("sup").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sweep {{.Dir}}</title>
<style>
body{font-family:sans-serif;max-width:1300px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:14px}
th{background:#f3f3f3}.yes{color:#176d17;font-weight:bold}.no{color:#777}img{max-width:100%;margin:.5em 0}
</style></head><body>
<h1>Sweep {{.Dir}}</h1>
<p>{{.Done}} of {{.Trials}} trials (networks) done and counted. Lines are means over networks, bands {{.Level}}% percentile
bootstrap intervals ({{.Resamples}} resamples); the network is the unit of every test, at {{.Alpha}}. Generated {{.Generated}}.
CSVs: {{range .CSVs}}<a href="report/{{.}}">{{.}}</a> {{end}}</p>
<p>(i) a class's Betti numbers are (1, 0, ...) at the last hidden layer in most networks of an activation;
(ii) ReLU and leaky ReLU networks reduce topology faster than tanh networks: they reach beta0 = 1 (and trivial topology) in earlier
layers, keep a lower beta0 at the last layer, and a lower sum of Betti numbers over the hidden layers (one value per network each).</p>
{{range .Groups}}
<h2>{{.Name}}</h2>
<p>Networks: {{.Networks}}.</p>
<table><tr><th>class</th><th>claim</th><th>statement</th><th>test</th><th>n</th><th>statistic</th><th>p-value</th><th>p (Holm, within the claim)</th><th>result</th></tr>
{{range .Claims}}<tr><td>{{.Class}}</td><td>({{.Claim}})</td><td>{{.Statement}}</td><td>{{.Test}}</td><td>{{.N}}</td><td>{{.Statistic}}</td><td>{{.PText}}</td><td>{{.PAdjText}}</td><td class="{{if .Supported}}yes{{else}}no{{end}}">{{.Verdict}}</td></tr>
{{end}}</table>
{{range .Figures}}<div><img src="{{.Src}}" alt="{{.Name}}"></div>
{{end}}
<table>{{range $i, $r := .Table}}<tr>{{range $r}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>
{{end}}
</body></html>
`))
