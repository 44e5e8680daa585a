package sweepreport

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/stats"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/sweep"
)

// Files the report writes: report.html in SWEEP_DIR, the rest in
// SWEEP_DIR/report/.
const (
	HTMLFile    = "report.html"
	Dir         = "report"
	BettiCSV    = "betti.csv"       // per group, cloud, dim, measure and step: mean and band
	TotalCSV    = "total_betti.csv" // per group, net, measure and step: mean and band
	LearningCSV = "learning_curve.csv"
	ClaimsCSV   = "claims.csv"
	// ClaimsSeedCSV holds each claim's per-seed values, PerSeedCSV every
	// seed's measures in long format and ReturnsSeedCSV every seed's
	// learning curve, so the results can be analysed again elsewhere.
	ClaimsSeedCSV  = "claims_per_seed.csv"
	PerSeedCSV     = "per_seed.csv"
	ReturnsSeedCSV = "returns_per_seed.csv"
	ReturnsCSV     = "final_returns.csv"
	ProvenanceCSV  = "provenance.csv"
	MarkdownFile   = "results.md"
	maxPlotsDim    = 3
)

// Result is what Report wrote.
type Result struct {
	HTML     string // path of report.html
	Markdown string // the results in Markdown, also in report/results.md
	// Warnings are things a reader must know before trusting the
	// numbers, e.g. trials made by different versions of the code.
	Warnings []string
}

// Build writes the report of the sweep in dir and returns the path of its
// report.html. Only trials that are done count; the page says how many.
func Build(dir string) (string, error) {
	r, err := Report(dir)
	return r.HTML, err
}

// Report writes the sweep's report: report.html, the CSVs and the
// Markdown results section.
func Report(dir string) (Result, error) {
	m, err := sweep.Open(dir)
	if err != nil {
		return Result{}, err
	}
	if supervised(m) {
		return buildSupervised(dir, m)
	}
	groups, err := load(m)
	if err != nil {
		return Result{}, fmt.Errorf("sweep report: %w", err)
	}
	if len(groups) == 0 {
		return Result{}, fmt.Errorf("sweep report: no trial of %s is done yet", dir)
	}
	out := filepath.Join(dir, Dir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return Result{}, err
	}
	pg := page{Dir: dir, Trials: len(m.Trials), Generated: time.Now().UTC().Format("2006-01-02 15:04:05 UTC"),
		Level: Level * 100, Alpha: Alpha, Resamples: Resamples}
	pg.Prov, pg.Warnings = summariseProvenance(groups)
	csvs := newTables()
	all := claims(groups)
	for _, g := range groups {
		pg.Done += len(g.Runs)
		gs := groupSection{Name: g.Name, Seeds: len(g.Runs), Snapshots: len(g.Steps)}
		for _, r := range g.Runs {
			gs.SeedList = append(gs.SeedList, r.Seed)
		}
		csvs.perSeed(g)
		if err := gs.figures(g, out, csvs); err != nil {
			return Result{}, err
		}
		gs.Return = finalReturns(g)
		csvs.add(ReturnsCSV, g.Name, strconv.Itoa(gs.Return.N), ftoa(gs.Return.Mean), ftoa(gs.Return.Lo), ftoa(gs.Return.Hi),
			ftoa(gs.Return.IQM), ftoa(gs.Return.IQMLo), ftoa(gs.Return.IQMHi))
		for _, c := range all {
			if c.Group != g.Name {
				continue
			}
			gs.Claims = append(gs.Claims, claimRow{Claim: c, PText: ptext(c.P), PAdjText: ptext(c.PAdj), Verdict: c.Verdict(),
				EffectText: effectText(c), DetectText: fnum(c.Detectable), PerSeedText: c.perSeedText()})
			csvs.add(ClaimsCSV, c.Group, c.Family, c.ID, c.Statement, c.SeedWords, c.Measure, c.Test, c.Unit, strconv.Itoa(c.N),
				ftoa(c.Effect), ftoa(c.Lo), ftoa(c.Hi), ftoa(c.SD), ftoa(c.P), ftoa(c.PAdj), ftoa(c.Detectable), c.Verdict())
			for i, v := range c.PerSeed {
				csvs.add(ClaimsSeedCSV, c.Group, c.Family, c.ID, c.Seeds[i], ftoa(v))
			}
		}
		pg.Groups = append(pg.Groups, gs)
	}
	pg.Improvements = improvements(groups)
	for _, name := range csvs.order {
		if err := writeCSV(filepath.Join(out, name), csvs.rows[name]); err != nil {
			return Result{}, err
		}
	}
	pg.CSVs = csvs.order
	md := markdown(pg, all)
	if err := runstore.WriteFileAtomic(filepath.Join(out, MarkdownFile), []byte(md)); err != nil {
		return Result{}, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, pg); err != nil {
		return Result{}, fmt.Errorf("sweep report: %w", err)
	}
	path := filepath.Join(dir, HTMLFile)
	if err := runstore.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return Result{}, err
	}
	return Result{HTML: path, Markdown: md, Warnings: pg.Warnings}, nil
}

// tables are the CSVs, by file name, each with its header row.
type tables struct {
	order []string
	rows  map[string][][]string
}

func newTables() *tables {
	t := &tables{rows: map[string][][]string{}}
	for _, h := range []struct {
		name string
		cols []string
	}{
		{ClaimsCSV, []string{"group", "family", "id", "statement", "seed_words", "measure", "test", "unit", "n", "effect", "ci_low", "ci_high", "sd", "p_value", "p_adjusted", "detectable_effect_80", "verdict"}},
		{ClaimsSeedCSV, []string{"group", "family", "id", "seed", "value"}},
		{PerSeedCSV, []string{"group", "seed", "step", "net", "layer", "dim", "measure", "value"}},
		{BettiCSV, []string{"group", "net", "layer", "dim", "measure", "step", "n", "mean", "ci_low", "ci_high"}},
		{TotalCSV, []string{"group", "net", "measure", "step", "n", "mean", "ci_low", "ci_high"}},
		{LearningCSV, []string{"group", "step", "n", "mean", "ci_low", "ci_high"}},
		{ReturnsSeedCSV, []string{"group", "seed", "step", "return"}},
		{ReturnsCSV, []string{"group", "n", "mean", "ci_low", "ci_high", "iqm", "iqm_low", "iqm_high"}},
		{ProvenanceCSV, []string{"group", "seed", "started", "resumed", "code", "dirty", "go", "cpu", "cores", "plugins"}},
	} {
		t.order = append(t.order, h.name)
		t.rows[h.name] = [][]string{h.cols}
	}
	return t
}

func (t *tables) add(name string, cells ...string) { t.rows[name] = append(t.rows[name], cells) }

// perSeed adds a group's per-seed records: every measure of every cloud
// and dimension at every snapshot, each seed's learning curve and its
// provenance.
func (t *tables) perSeed(g *Group) {
	for _, r := range g.Runs {
		for _, rec := range r.Topology {
			for _, d := range rec.Summary.Dims {
				for _, ms := range Measures {
					t.add(PerSeedCSV, g.Name, r.Seed, strconv.Itoa(rec.Step), rec.Net, strconv.Itoa(rec.Layer), strconv.Itoa(d.Dim), ms, ftoa(measureOf(d, ms)))
				}
			}
		}
		curve := r.returns()
		steps := make([]int, 0, len(curve))
		for s := range curve {
			steps = append(steps, s)
		}
		sort.Ints(steps)
		for _, s := range steps {
			t.add(ReturnsSeedCSV, g.Name, r.Seed, strconv.Itoa(s), ftoa(curve[s]))
		}
		for _, p := range r.Provenance {
			t.add(ProvenanceCSV, g.Name, r.Seed, p.Started.Format(time.RFC3339), strconv.FormatBool(p.Resumed), p.Code(), strconv.FormatBool(p.Dirty),
				p.GoVersion, p.CPUModel, strconv.Itoa(p.Cores), p.PluginKey())
		}
	}
}

// figures draws a group's bands (with each seed's trace) and fills the
// band CSVs.
func (gs *groupSection) figures(g *Group, out string, t *tables) error {
	title := func(what string) string {
		return fmt.Sprintf("%s, %s (mean, pointwise %.0f%% t interval, n = %d seeds; faint: each seed)", g.Name, what, Level*100, len(g.Runs))
	}
	for _, ms := range Measures {
		for _, net := range g.nets() {
			var panels []plots.BandPanel
			for dim := 0; dim < maxPlotsDim; dim++ {
				bp := plots.BandPanel{Title: fmt.Sprintf("dim %d", dim), YLabel: measureName(ms)}
				for _, c := range g.clouds() {
					if c.Net != net && c.Layer != 0 {
						continue
					}
					f := func(r seedRun, s int) (float64, bool) { return r.value(c, s, dim, ms) }
					pts := g.series(f)
					for _, p := range pts {
						t.add(BettiCSV, g.Name, c.Net, strconv.Itoa(c.Layer), strconv.Itoa(dim), ms, strconv.Itoa(p.Step), strconv.Itoa(p.N), ftoa(p.Mean), ftoa(p.Lo), ftoa(p.Hi))
					}
					if len(pts) > 0 {
						bp.Series = append(bp.Series, g.band(plots.LayerName(c.Layer), pts, f))
					}
				}
				if len(bp.Series) > 0 {
					panels = append(panels, bp)
				}
			}
			if err := gs.plot(out, fmt.Sprintf("%s_%s_%s.png", g.Name, net, ms), title(net+": "+measureName(ms)+" per layer"), panels); err != nil {
				return err
			}
		}
	}
	var panels []plots.BandPanel
	for _, ms := range Measures {
		bp := plots.BandPanel{Title: "total " + measureName(ms), YLabel: "sum over hidden layers and dims"}
		for _, net := range g.nets() {
			f := func(r seedRun, s int) (float64, bool) { return r.netTotal(net, s, -1, ms) }
			pts := g.series(f)
			for _, p := range pts {
				t.add(TotalCSV, g.Name, net, ms, strconv.Itoa(p.Step), strconv.Itoa(p.N), ftoa(p.Mean), ftoa(p.Lo), ftoa(p.Hi))
			}
			if len(pts) > 0 {
				bp.Series = append(bp.Series, g.band(net, pts, f))
			}
		}
		panels = append(panels, bp)
	}
	if err := gs.plot(out, g.Name+"_total_betti.png", title("total over training"), panels); err != nil {
		return err
	}
	lc := g.learning()
	for _, p := range lc {
		t.add(LearningCSV, g.Name, strconv.Itoa(p.Step), strconv.Itoa(p.N), ftoa(p.Mean), ftoa(p.Lo), ftoa(p.Hi))
	}
	if len(lc) > 0 {
		b := band("return", lc)
		for _, r := range g.Runs {
			curve := r.returns()
			ys := make([]float64, len(lc))
			for i, p := range lc {
				ys[i] = curve[p.Step]
			}
			b.Seeds = append(b.Seeds, ys)
		}
		if err := gs.plot(out, g.Name+"_learning_curve.png", title("episodic return, mean of the last 100 episodes"),
			[]plots.BandPanel{{Title: "learning curve", YLabel: "episodic return", Series: []plots.Band{b}}}); err != nil {
			return err
		}
	}
	return nil
}

// band is a series' band with every seed's trace.
func (g *Group) band(label string, pts []Point, f func(r seedRun, step int) (float64, bool)) plots.Band {
	b := band(label, pts)
	for _, r := range g.Runs {
		ys := make([]float64, len(pts))
		for i, p := range pts {
			ys[i] = math.NaN()
			if v, ok := f(r, p.Step); ok {
				ys[i] = v
			}
		}
		b.Seeds = append(b.Seeds, ys)
	}
	return b
}

// ReturnSummary is a group's final return over seeds: the mean with its
// t interval, and the interquartile mean with its bootstrap interval, as
// Agarwal et al. (2021) recommend for few runs.
type ReturnSummary struct {
	N                 int
	Mean, Lo, Hi      float64
	IQM, IQMLo, IQMHi float64
	PerSeed           []float64
	Seeds             []string
	Stepped           int // the step the final returns are read at
	Missing           int // seeds with no finished episode
}

// finalReturn is one seed's return at the end, as its run's log printed
// it and its run report shows it (summary.FinalReturn: the mean of its
// last 100 episodes), with the step of the last point of its learning
// curve.
func (r seedRun) finalReturn() (float64, int) {
	step := -1
	for s := range r.returns() {
		step = max(step, s)
	}
	v, ok := summary.FinalReturn(r.Scalars)
	if !ok || step < 0 {
		return math.NaN(), -1
	}
	return v, step
}

func finalReturns(g *Group) ReturnSummary {
	var rs ReturnSummary
	for _, r := range g.Runs {
		v, step := r.finalReturn()
		if math.IsNaN(v) {
			rs.Missing++
			continue
		}
		rs.PerSeed = append(rs.PerSeed, v)
		rs.Seeds = append(rs.Seeds, r.Seed)
		rs.Stepped = max(rs.Stepped, step)
	}
	rs.N = len(rs.PerSeed)
	rs.Mean = stats.Mean(rs.PerSeed)
	rs.Lo, rs.Hi = stats.TInterval(rs.PerSeed, Level)
	rs.IQM = stats.IQM(rs.PerSeed)
	rs.IQMLo, rs.IQMHi = stats.StratifiedBootstrapCI([][]float64{rs.PerSeed}, stats.IQM, Level, Resamples, 1)
	if rs.N == 0 {
		rs.IQMLo, rs.IQMHi = math.NaN(), math.NaN()
	}
	return rs
}

// improvement compares two configurations of one task: the probability
// that a seed of A ends with a higher return than a seed of B.
type improvement struct {
	A, B   string
	P      float64
	Lo, Hi float64
}

// improvements pairs the groups of each task (groups that differ in a
// grid key other than the seed).
func improvements(groups []*Group) []improvement {
	var out []improvement
	for i, a := range groups {
		for _, b := range groups[i+1:] {
			if a.EnvID != b.EnvID {
				continue
			}
			x, y := finalReturns(a).PerSeed, finalReturns(b).PerSeed
			if len(x) == 0 || len(y) == 0 {
				continue
			}
			lo, hi := stats.StratifiedBootstrapCI([][]float64{x, y}, func(flat []float64) float64 {
				return stats.ProbImprovement(flat[:len(x)], flat[len(x):])
			}, Level, Resamples/10, 2)
			out = append(out, improvement{A: a.Name, B: b.Name, P: stats.ProbImprovement(x, y), Lo: lo, Hi: hi})
		}
	}
	return out
}

// provSummary is what the report says of the code behind the trials.
type provSummary struct {
	Codes    []string // distinct code versions
	Plugins  []string // distinct plugin builds
	Go       []string
	CPUs     []string
	Recorded int // trials with a provenance record
	Trials   int
}

func summariseProvenance(groups []*Group) (provSummary, []string) {
	var ps provSummary
	seen := map[string]bool{}
	uniq := func(list *[]string, v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			*list = append(*list, v)
		}
	}
	for _, g := range groups {
		for _, r := range g.Runs {
			ps.Trials++
			if len(r.Provenance) > 0 {
				ps.Recorded++
			}
			for _, p := range r.Provenance {
				uniq(&ps.Codes, "code "+p.Code())
				uniq(&ps.Plugins, "plugins "+p.PluginKey())
				uniq(&ps.Go, "go "+p.GoVersion)
				uniq(&ps.CPUs, "cpu "+fmt.Sprintf("%s (%d cores)", p.CPUModel, p.Cores))
			}
		}
	}
	trim := func(list []string, prefix string) []string {
		out := make([]string, len(list))
		for i, v := range list {
			out[i] = strings.TrimPrefix(v, prefix)
		}
		return out
	}
	ps.Codes, ps.Plugins, ps.Go, ps.CPUs = trim(ps.Codes, "code "), trim(ps.Plugins, "plugins "), trim(ps.Go, "go "), trim(ps.CPUs, "cpu ")
	var warn []string
	if ps.Recorded < ps.Trials {
		warn = append(warn, fmt.Sprintf("%d of %d trials record no provenance (made before runs recorded it): the code behind them is unknown", ps.Trials-ps.Recorded, ps.Trials))
	}
	if len(ps.Codes) > 1 {
		warn = append(warn, fmt.Sprintf("the trials were made by %d versions of the code (%s): results may differ for that reason alone", len(ps.Codes), strings.Join(ps.Codes, ", ")))
	}
	if len(ps.Plugins) > 1 {
		warn = append(warn, fmt.Sprintf("the trials ran %d different sets of plugin binaries", len(ps.Plugins)))
	}
	for _, c := range ps.Codes {
		if strings.HasSuffix(c, "+dirty") {
			warn = append(warn, "code "+c+" was built from a tree with uncommitted changes: the commit alone does not say what ran")
		}
	}
	return ps, warn
}

func ftoa(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// fnum prints a value for a reader: 3 significant digits, whole numbers
// from 1000 up (a return of 3003, not 3e+03).
func fnum(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func effectText(c Claim) string {
	if math.IsNaN(c.Effect) {
		return "-"
	}
	if math.IsNaN(c.Lo) {
		return fnum(c.Effect)
	}
	return fmt.Sprintf("%s [%s, %s]", fnum(c.Effect), fnum(c.Lo), fnum(c.Hi))
}

func ptext(p float64) string {
	switch {
	case math.IsNaN(p):
		return "-"
	case p < 1e-4:
		return "< 0.0001"
	}
	return strconv.FormatFloat(p, 'f', 4, 64)
}

func writeCSV(path string, rows [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return runstore.WriteFileAtomic(path, buf.Bytes())
}

// plot draws a figure into the report folder and embeds it in the page.
func (gs *groupSection) plot(out, name, title string, panels []plots.BandPanel) error {
	return embedPlot(&gs.Figures, plots.Bands, out, name, title, panels)
}

// embedPlot draws panels with draw into out/name and appends the PNG to
// figs as a data URI, so the page stands alone; no panels, no figure.
func embedPlot(figs *[]figure, draw func(title string, panels []plots.BandPanel, path string) error, out, name, title string, panels []plots.BandPanel) error {
	if len(panels) == 0 {
		return nil
	}
	path := filepath.Join(out, name)
	if err := draw(title, panels, path); err != nil {
		return fmt.Errorf("sweep report: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	*figs = append(*figs, figure{Name: name, Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))})
	return nil
}

type figure struct {
	Name string
	Src  template.URL
}

type claimRow struct {
	Claim
	PText, PAdjText, EffectText, DetectText, PerSeedText string
	Verdict                                              string
}

type groupSection struct {
	Name      string
	Seeds     int
	SeedList  []string
	Snapshots int
	Return    ReturnSummary
	Claims    []claimRow
	Figures   []figure
}

type page struct {
	Dir          string
	Trials       int
	Done         int
	Generated    string
	Level        float64
	Alpha        float64
	Resamples    int
	Prov         provSummary
	Warnings     []string
	Groups       []groupSection
	Improvements []improvement
	CSVs         []string
}

// Line is the code behind the results in one sentence.
func (p provSummary) Line() string {
	if p.Recorded == 0 {
		return "no trial records its provenance"
	}
	return fmt.Sprintf("code %s; Go %s; CPU %s; %d of %d trials recorded",
		strings.Join(p.Codes, ", "), strings.Join(p.Go, ", "), strings.Join(p.CPUs, ", "), p.Recorded, p.Trials)
}

var tmpl = template.Must(template.New("sweep").Funcs(template.FuncMap{"fnum": fnum, "ptext": ptext}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sweep {{.Dir}}</title>
<style>
body{font-family:sans-serif;max-width:1300px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}
th{background:#f3f3f3}.yes{color:#176d17;font-weight:bold}.no{color:#777}.bad{color:#a11;font-weight:bold}img{max-width:100%;margin:.5em 0}
.warn{background:#fff3cd;border:1px solid #e0c060;padding:.5em 1em}.small{font-size:11px;color:#555}
</style></head><body>
<h1>Sweep {{.Dir}}</h1>
<p>{{.Done}} of {{.Trials}} trials done and counted. Generated {{.Generated}}.
Provenance: {{.Prov.Line}}. CSVs (per-seed values included): {{range .CSVs}}<a href="report/{{.}}">{{.}}</a> {{end}}</p>
{{if .Warnings}}<div class="warn">{{range .Warnings}}<p>Warning: {{.}}</p>{{end}}</div>{{end}}
<h2>How the claims are tested</h2>
<p>The unit of replication is the seed: each claim reduces every seed's run to one value (a rank correlation over its
snapshots, or a mean difference over them) and tests those values across seeds with a t-test; snapshots of one run are
autocorrelated and are never counted as independent. The seed's own claims are the <b>primary</b> hypotheses, tested
one-sided in the direction the seed states them and Holm-corrected within their family, on the scale-free counts
(bars longer than 10% of the cloud's diameter) and, as a second reading, on the Betti numbers at the seed's fixed scale.
"Contradicted" means the Holm-corrected two-sided test is significant in the opposite direction. Every other comparison
is <b>exploratory</b>: two-sided, with Benjamini-Hochberg q-values over all of them. Effects carry their {{.Level}}% t
interval; "detectable" is the effect the test finds with 80% power at this number of seeds and its corrected level,
taking the seeds' observed spread as the truth. Bands are pointwise {{.Level}}% t intervals of the mean over seeds;
the faint lines are the seeds. Tests at {{.Alpha}}.</p>
{{range .Groups}}
<h2>{{.Name}}</h2>
<p>{{.Seeds}} seeds ({{range $i, $s := .SeedList}}{{if $i}}, {{end}}{{$s}}{{end}}), {{.Snapshots}} snapshots common to all.
Final return (mean of the last 100 episodes, per seed): mean {{fnum .Return.Mean}} [{{fnum .Return.Lo}}, {{fnum .Return.Hi}}] (t interval),
interquartile mean {{fnum .Return.IQM}} [{{fnum .Return.IQMLo}}, {{fnum .Return.IQMHi}}] (bootstrap interval), n = {{.Return.N}}.</p>
<table><tr><th>family</th><th>statement</th><th>test</th><th>n</th><th>effect [CI]</th><th>per seed</th><th>p</th><th>adjusted</th><th>detectable</th><th>result</th></tr>
{{range .Claims}}<tr><td>{{.Family}}</td><td>{{.Statement}}{{if .SeedWords}}<br><span class="small">seed: "{{.SeedWords}}"</span>{{end}}</td><td class="small">{{.Test}}</td><td>{{.N}}</td><td>{{.EffectText}}</td><td class="small">{{.PerSeedText}}</td><td>{{.PText}}</td><td>{{.PAdjText}}</td><td>{{.DetectText}}</td><td class="{{if .Supported}}yes{{else if eq .Verdict "contradicted"}}bad{{else}}no{{end}}">{{.Verdict}}</td></tr>
{{end}}</table>
{{range .Figures}}<div><img src="{{.Src}}" alt="{{.Name}}"></div>
{{end}}{{end}}
{{if .Improvements}}<h2>Probability of improvement</h2>
<table><tr><th>A</th><th>B</th><th>P(a seed of A ends above a seed of B)</th></tr>
{{range .Improvements}}<tr><td>{{.A}}</td><td>{{.B}}</td><td>{{fnum .P}} [{{fnum .Lo}}, {{fnum .Hi}}]</td></tr>{{end}}</table>{{end}}
</body></html>
`))
