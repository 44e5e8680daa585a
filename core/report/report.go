// Package report builds report.html: one self-contained page (inline CSS,
// figures embedded as PNG data URIs) a user can open, mail or archive
// without the run directory. For one run it shows the learning curve, the
// topology over training, the Betti numbers across layers at the first,
// middle and last snapshots, the persistence diagrams and barcodes of the
// first and last (or chosen) ones,
// timings and the resolved config; for several runs it overlays them and
// tables their outcomes. The PNGs are also left in a plots folder so users
// get the files too.
package report

import (
	"bytes"
	"encoding/base64"
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

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
)

// TrainingScalars are the CleanRL statistics drawn beside the learning
// curve, in the order CleanRL's dashboards list them.
var TrainingScalars = []string{
	"charts/episodic_length_mean100", "charts/learning_rate", "charts/SPS",
	"losses/value_loss", "losses/policy_loss", "losses/entropy",
	"losses/old_approx_kl", "losses/approx_kl", "losses/clipfrac",
	"losses/explained_variance",
}

// PlotsDir is the folder, beside the report of one run inside its run
// directory (or beside the report of several runs), that receives the PNGs.
const PlotsDir = "plots"

// Options choose what the report of one run shows.
type Options struct {
	// Steps are environment steps whose persistence diagrams and
	// barcodes are shown, each at the snapshot nearest to it; Updates
	// the same by update number. With neither: the first snapshot and
	// the last, the seed's early and late figures.
	Steps, Updates []int
}

// Build writes the report of the runs in runDirs to out. With one run the
// PNGs go to RUN_DIR/plots/, with several to plots/ beside out.
func Build(runDirs []string, out string) error { return BuildWith(runDirs, out, Options{}) }

// BuildWith is Build with options.
func BuildWith(runDirs []string, out string, opt Options) error {
	if len(runDirs) == 0 {
		return errors.New("report: no run directories given")
	}
	var runs []*run
	for _, d := range runDirs {
		r, err := loadRun(d)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		runs = append(runs, r)
	}
	dedupNames(runs)
	b := &builder{plotDir: filepath.Join(filepath.Dir(out), PlotsDir), opt: opt}
	var pg *page
	var err error
	if len(runs) == 1 {
		b.plotDir = filepath.Join(runs[0].Dir, PlotsDir)
		if isSupervised(runs[0]) {
			pg, err = b.supervised(runs[0])
		} else {
			pg, err = b.single(runs[0])
		}
	} else {
		pg, err = b.several(runs)
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	pg.Generated = time.Now().UTC().Format("2006-01-02 15:04:05 UTC")
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, pg); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	if err := runstore.WriteFileAtomic(out, buf.Bytes()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// dedupNames keeps legend labels apart when two run directories share a
// base name (e.g. runs/a/seed1 and runs/b/seed1).
func dedupNames(runs []*run) {
	seen := map[string]int{}
	for _, r := range runs {
		seen[r.Name]++
	}
	count := map[string]int{}
	for _, r := range runs {
		if seen[r.Name] > 1 {
			count[r.Name]++
			r.Name = fmt.Sprintf("%s (%d)", r.Name, count[r.Name])
		}
	}
}

// page is what the template renders.
type page struct {
	Title     string
	Generated string
	Sections  []section
}

type section struct {
	ID, Title string
	Notes     []string
	Tables    []table
	Figures   []figure
	Pre       string // preformatted text, e.g. the config
}

type table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

type figure struct {
	Title   string
	Src     template.URL // a data: URI
	File    string       // the PNG written beside the report, relative to it
	Missing string       // why there is no figure
	Wide    bool         // spans the page: a figure of several panels
}

// builder draws figures into plotDir and embeds them.
type builder struct {
	plotDir string
	opt     Options
}

// fig draws one PNG with draw and returns it embedded. Nothing to draw is
// a figure with a reason, not an error: a short run has no snapshot yet.
func (b *builder) fig(name, title string, draw func(path string) error) (figure, error) {
	path := filepath.Join(b.plotDir, name+".png")
	if err := draw(path); err != nil {
		if errors.Is(err, plots.ErrNoData) {
			return figure{Title: title, Missing: err.Error()}, nil
		}
		return figure{}, err
	}
	png, err := os.ReadFile(path)
	if err != nil {
		return figure{}, err
	}
	return figure{
		Title: title,
		Src:   template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		File:  filepath.ToSlash(filepath.Join(PlotsDir, name+".png")),
	}, nil
}

// figs draws several figures, stopping at the first real error.
func (b *builder) figs(specs ...figSpec) ([]figure, error) {
	var out []figure
	for _, s := range specs {
		f, err := b.fig(s.name, s.title, s.draw)
		if err != nil {
			return nil, err
		}
		f.Wide = s.wide
		out = append(out, f)
	}
	return out, nil
}

type figSpec struct {
	name, title string
	draw        func(path string) error
	wide        bool // a lone figure: a half-width one would shrink its text
}

func dataOf(runs []*run) []plots.RunData {
	out := make([]plots.RunData, len(runs))
	for i, r := range runs {
		out[i] = r.data()
	}
	return out
}

func allNets(runs []*run) []string {
	var all []summary.TopologyRecord
	for _, r := range runs {
		all = append(all, r.Topology...)
	}
	return plots.Nets(all)
}

// overTraining are the figures shared by one-run and many-run reports.
func (b *builder) overTraining(runs []*run) (section, section, error) {
	data := dataOf(runs)
	learn, err := b.figs(
		figSpec{"learning_curve", "Episodic return", func(p string) error { return plots.LearningCurve(data, p) }, true},
		figSpec{"training_scalars", "Training statistics", func(p string) error { return plots.TrainingScalars(data, TrainingScalars, p) }, true},
	)
	if err != nil {
		return section{}, section{}, err
	}
	specs := []figSpec{{"total_betti", "Total Betti number of each network", func(p string) error { return plots.TotalBetti(data, p) }, true}}
	for _, net := range allNets(runs) {
		specs = append(specs,
			figSpec{"betti_over_training_" + net, title(net) + ": Betti numbers per layer", func(p string) error { return plots.BettiOverTraining(data, net, p) }, true},
			figSpec{"persistent_over_training_" + net, title(net) + ": persistent bars per layer (scale-free)", func(p string) error { return plots.PersistentOverTraining(data, net, p) }, true},
		)
	}
	topo, err := b.figs(specs...)
	if err != nil {
		return section{}, section{}, err
	}
	return section{ID: "learning", Title: "Learning", Figures: learn},
		section{ID: "topology", Title: "Topology over training", Figures: topo,
			Notes: []string{
				"Betti numbers count the bars alive at a fixed filtration scale (the seed's 2.5); they depend on the units of the distance, so layers of different widths are not directly comparable.",
				"Persistent bars count the bars living longer than a fixed fraction of the cloud's diameter: a scale-free view for comparing layers. An essential (infinite) bar lives from its birth to the diameter.",
				"The total Betti number sums the hidden layers of a network over all dimensions; the input cloud is shared by both networks and left out.",
			}}, nil
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// provenanceTable says what made the run: one row per start (the first
// and every resume).
func provenanceTable(r *run) table {
	t := table{Head: []string{"started", "code", "Go", "CPU", "plugins (kind/name@sha256)"},
		Caption: "Provenance: the code (commit, +dirty for a tree with uncommitted changes), Go version, machine and plugin binaries of each start of the run."}
	for _, p := range r.Provenance {
		start := p.Started.Format("2006-01-02 15:04:05 UTC")
		if p.Resumed {
			start += " (resumed)"
		}
		t.Rows = append(t.Rows, []string{start, p.Code(), p.GoVersion, fmt.Sprintf("%s, %d cores", p.CPUModel, p.Cores), p.PluginKey()})
	}
	if len(t.Rows) == 0 {
		t.Rows = append(t.Rows, []string{"—", "not recorded (a run made before runs recorded provenance)", "", "", ""})
	}
	return t
}

func runsTable(runs []*run) table {
	t := table{Head: []string{"run", "env id", "steps", "updates", "snapshots", "final return", "directory"}}
	for _, r := range runs {
		ret := "—"
		if v, ok := r.finalReturn(); ok {
			ret = strconv.FormatFloat(v, 'f', 1, 64)
		}
		env := r.EnvID
		if env == "" {
			env = "—"
		}
		updates := 0
		for _, s := range r.Scalars {
			updates = max(updates, s.Update)
		}
		t.Rows = append(t.Rows, []string{r.Name, env, groupDigits(r.steps()), strconv.Itoa(updates),
			strconv.Itoa(len(plots.Steps(r.Topology))), ret, r.Dir})
	}
	return t
}

// single is the report of one run.
func (b *builder) single(r *run) (*page, error) {
	pg := &page{Title: "NeuralTopology run " + r.Name}
	overview := section{ID: "run", Title: "Run", Notes: r.Notes, Tables: []table{runsTable([]*run{r})}}
	overview.Tables[0].Caption = "Final return is the mean return of the last (up to) 100 episodes, as the run's log prints it."
	overview.Tables = append(overview.Tables, provenanceTable(r))
	learn, topo, err := b.overTraining([]*run{r})
	if err != nil {
		return nil, err
	}
	pg.Sections = append(pg.Sections, overview, learn, topo)

	steps := plots.Steps(r.Topology)
	snap := section{ID: "snapshots", Title: "Snapshots: Betti numbers across layers"}
	if len(steps) == 0 {
		snap.Notes = append(snap.Notes, "No topology snapshot was recorded.")
	}
	for _, step := range pickSteps(steps) {
		for _, net := range allNets([]*run{r}) {
			f, err := b.fig(fmt.Sprintf("betti_layers_%s_step_%d", net, step), fmt.Sprintf("%s at step %s", title(net), groupDigits(step)),
				func(p string) error { return plots.BettiAcrossLayers(r.Topology, step, net, p) })
			if err != nil {
				return nil, err
			}
			snap.Figures = append(snap.Figures, f)
		}
	}
	pg.Sections = append(pg.Sections, snap)

	if len(steps) > 0 {
		last := steps[len(steps)-1]
		for _, s := range diagramSteps(r, b.opt) {
			dg, err := b.diagrams(r, s)
			if err != nil {
				return nil, err
			}
			pg.Sections = append(pg.Sections, dg)
		}
		num := numbersSection(r, last)
		f, err := b.fig(fmt.Sprintf("betti_curves_step_%d", last), "Betti curves: bars alive against scale",
			func(p string) error { return plots.BettiCurves(r.Topology, last, p) })
		if err != nil {
			return nil, err
		}
		f.Wide = true
		num.Figures = append(num.Figures, f)
		pg.Sections = append(pg.Sections, num)
	}
	if sec, ok, err := policySection(r); err != nil {
		return nil, err
	} else if ok {
		pg.Sections = append(pg.Sections, sec)
	}
	if len(r.Timings) > 0 {
		pg.Sections = append(pg.Sections, timingsSection(r.Timings))
	}
	cfg := section{ID: "config", Title: "Configuration (" + runstore.ConfigFile + ")", Pre: r.Config}
	if r.Config == "" {
		cfg.Notes = []string{"The run directory has no " + runstore.ConfigFile + "."}
	}
	pg.Sections = append(pg.Sections, cfg)
	return pg, nil
}

// PolicyGIF is the run's animation of its final policy, if it made one.
const PolicyGIF = "policy.gif"

// maxEmbedGIF caps the animation embedded in the page: past it the report
// names the file instead of growing to tens of megabytes.
const maxEmbedGIF = 16 << 20

// policySection shows the final policy's animation when the run has one.
func policySection(r *run) (section, bool, error) {
	p := filepath.Join(r.Dir, PolicyGIF)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return section{}, false, nil
	}
	if err != nil {
		return section{}, false, err
	}
	sec := section{ID: "policy", Title: "Final policy"}
	f := figure{Title: "One episode of the final deterministic policy", File: PolicyGIF}
	if len(b) > maxEmbedGIF {
		f.Missing = fmt.Sprintf("%s is %d MB, too large to embed; open it beside the report", PolicyGIF, len(b)>>20)
	} else {
		f.Src = template.URL("data:image/gif;base64," + base64.StdEncoding.EncodeToString(b))
	}
	sec.Figures = []figure{f}
	return sec, true, nil
}

// pickSteps returns the first, middle and last snapshot steps, without
// repeats.
func pickSteps(steps []int) []int {
	if len(steps) == 0 {
		return nil
	}
	var out []int
	for _, s := range []int{steps[0], steps[(len(steps)-1)/2], steps[len(steps)-1]} {
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// diagramSteps are the snapshot steps whose diagrams the report shows:
// those nearest to opt's steps and updates, else the first and the last.
func diagramSteps(r *run, opt Options) []int {
	steps := plots.Steps(r.Topology)
	if len(steps) == 0 {
		return nil
	}
	update := map[int]int{}
	for _, t := range r.Topology {
		update[t.Step] = t.Update
	}
	nearest := func(want int, of func(step int) int) int {
		best := steps[0]
		for _, s := range steps {
			if abs(of(s)-want) < abs(of(best)-want) {
				best = s
			}
		}
		return best
	}
	var out []int
	add := func(s int) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range opt.Steps {
		add(nearest(s, func(s int) int { return s }))
	}
	for _, u := range opt.Updates {
		add(nearest(u, func(s int) int { return update[s] }))
	}
	if len(out) == 0 {
		add(steps[0])
		add(steps[len(steps)-1])
	}
	slices.Sort(out)
	return out
}

func abs(v int) int { return max(v, -v) }

// diagrams draws the persistence diagrams and barcodes stored for one
// snapshot.
func (b *builder) diagrams(r *run, step int) (section, error) {
	sec := section{ID: fmt.Sprintf("diagrams_%d", step), Title: fmt.Sprintf("Persistence diagrams and barcodes at step %s", groupDigits(step))}
	var clouds []plots.CloudDiagrams
	for _, rec := range r.at(step) {
		rel := filepath.Join("diagrams", fmt.Sprintf("step_%d", step), runstore.SafeName(rec.Cloud)+".npz")
		ds, err := diagram.ReadNPZ(filepath.Join(r.Dir, rel))
		if errors.Is(err, fs.ErrNotExist) {
			sec.Notes = append(sec.Notes, fmt.Sprintf("%s: no diagram file %s", rec.Cloud, rel))
			continue
		}
		if err != nil {
			return section{}, err
		}
		clouds = append(clouds, plots.CloudDiagrams{Cloud: rec.Cloud, Diagrams: ds})
	}
	title := fmt.Sprintf("Persistence diagrams at step %s", groupDigits(step))
	f, err := b.fig(fmt.Sprintf("diagrams_step_%d", step), title, func(p string) error {
		return plots.Diagrams(clouds, title, p)
	})
	if err != nil {
		return section{}, err
	}
	f.Wide = true
	btitle := fmt.Sprintf("Barcodes at step %s", groupDigits(step))
	bf, err := b.fig(fmt.Sprintf("barcodes_step_%d", step), btitle, func(p string) error {
		return plots.Barcodes(clouds, btitle, p)
	})
	if err != nil {
		return section{}, err
	}
	bf.Wide = true
	sec.Figures = []figure{f, bf}
	sec.Notes = append(sec.Notes, "Points on the dashed line at the top, labelled inf, are essential classes that never die.",
		fmt.Sprintf("Barcodes show the %d longest bars of each dimension; bars reaching the dashed line at inf never die.", plots.BarcodeMaxBars))
	return sec, nil
}

// numbersSection tables every cloud of one snapshot.
func numbersSection(r *run, step int) section {
	recs := r.at(step)
	maxDim := -1
	for _, x := range recs {
		maxDim = max(maxDim, x.Summary.MaxDim())
	}
	t := table{Head: []string{"cloud", "points", "dim", "metric", "diameter"}}
	for k := 0; k <= maxDim; k++ {
		t.Head = append(t.Head, fmt.Sprintf("β%d", k))
	}
	for k := 0; k <= maxDim; k++ {
		t.Head = append(t.Head, fmt.Sprintf("persistent H%d", k))
	}
	for k := 0; k <= maxDim; k++ {
		t.Head = append(t.Head, fmt.Sprintf("entropy H%d", k))
	}
	t.Head = append(t.Head, "seconds")
	for _, x := range recs {
		row := []string{x.Cloud, strconv.Itoa(x.Points), strconv.Itoa(x.Dim), x.Metric, fmtFloat(x.Summary.Diameter)}
		cell := func(k int, f func(summary.DimSummary) string) string {
			if d, ok := x.Summary.Dim(k); ok {
				return f(d)
			}
			return "—"
		}
		for k := 0; k <= maxDim; k++ {
			row = append(row, cell(k, func(d summary.DimSummary) string { return strconv.Itoa(d.Betti) }))
		}
		for k := 0; k <= maxDim; k++ {
			row = append(row, cell(k, func(d summary.DimSummary) string { return strconv.Itoa(d.Persistent) }))
		}
		for k := 0; k <= maxDim; k++ {
			row = append(row, cell(k, func(d summary.DimSummary) string { return fmtFloat(d.Entropy) }))
		}
		row = append(row, fmtFloat(x.Seconds))
		t.Rows = append(t.Rows, row)
	}
	if len(recs) > 0 {
		t.Caption = fmt.Sprintf("Betti numbers at scale %g; persistent bars longer than %g%% of the diameter.",
			recs[0].Summary.BettiScale, recs[0].Summary.Fraction*100)
	}
	return section{ID: "numbers", Title: fmt.Sprintf("Clouds at step %s", groupDigits(step)), Tables: []table{t}}
}

func timingsSection(tm map[string]float64) section {
	names := make([]string, 0, len(tm))
	for n := range tm {
		names = append(names, n)
	}
	sort.Strings(names)
	t := table{Head: []string{"phase", "seconds"}}
	for _, n := range names {
		t.Rows = append(t.Rows, []string{n, fmtFloat(tm[n])})
	}
	return section{ID: "timings", Title: "Timings (" + runstore.TimingsFile + ")", Tables: []table{t}}
}

// several is the report overlaying runs.
func (b *builder) several(runs []*run) (*page, error) {
	pg := &page{Title: fmt.Sprintf("NeuralTopology: %d runs", len(runs))}
	overview := section{ID: "runs", Title: "Runs", Tables: []table{runsTable(runs)}}
	overview.Tables[0].Caption = "Final return is the mean return of the last (up to) 100 episodes, as the run's log prints it."
	for _, r := range runs {
		for _, n := range r.Notes {
			overview.Notes = append(overview.Notes, r.Name+": "+n)
		}
	}
	learn, topo, err := b.overTraining(runs)
	if err != nil {
		return nil, err
	}
	pg.Sections = append(pg.Sections, overview, learn, topo)
	return pg, nil
}

func fmtFloat(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprint(v)
	case v != 0 && math.Abs(v) < 0.01:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// groupDigits writes 512000 as 512,000.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
