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
	"strconv"
	"time"

	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/sweep"
)

// Files the report writes: report.html in SWEEP_DIR, the rest in
// SWEEP_DIR/report/.
const (
	HTMLFile    = "report.html"
	Dir         = "report"
	BettiCSV    = "betti.csv"       // per group, cloud, dim, measure and step
	TotalCSV    = "total_betti.csv" // per group, net, measure and step
	LearningCSV = "learning_curve.csv"
	ClaimsCSV   = "claims.csv"
	maxPlotsDim = 3
)

// Build writes the report of the sweep in dir and returns the path of its
// report.html. Only trials that are done count; the page says how many.
func Build(dir string) (string, error) {
	m, err := sweep.Open(dir)
	if err != nil {
		return "", err
	}
	groups, err := load(m)
	if err != nil {
		return "", fmt.Errorf("sweep report: %w", err)
	}
	if len(groups) == 0 {
		return "", fmt.Errorf("sweep report: no trial of %s is done yet", dir)
	}
	out := filepath.Join(dir, Dir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	pg := page{Dir: dir, Trials: len(m.Trials), Generated: time.Now().UTC().Format("2006-01-02 15:04:05 UTC"),
		Level: Level * 100, Alpha: Alpha, Resamples: Resamples}
	var betti, total, learn, claims [][]string
	betti = append(betti, []string{"group", "net", "layer", "dim", "measure", "step", "n", "mean", "ci_low", "ci_high"})
	total = append(total, []string{"group", "net", "measure", "step", "n", "mean", "ci_low", "ci_high"})
	learn = append(learn, []string{"group", "step", "n", "mean", "ci_low", "ci_high"})
	claims = append(claims, []string{"group", "claim", "statement", "test", "n", "statistic", "p_value", "verdict"})
	for _, g := range groups {
		pg.Done += len(g.Runs)
		gs := groupSection{Name: g.Name, Seeds: len(g.Runs), Snapshots: len(g.Steps)}
		for _, r := range g.Runs {
			gs.SeedList = append(gs.SeedList, r.Seed)
		}
		// Fixed-scale and scale-free counts per cloud and dimension.
		for _, ms := range Measures {
			for _, net := range g.nets() {
				var panels []plots.BandPanel
				for dim := 0; dim < maxPlotsDim; dim++ {
					bp := plots.BandPanel{Title: fmt.Sprintf("dim %d", dim), YLabel: measureName(ms)}
					for _, c := range g.clouds() {
						if c.Net != net && c.Layer != 0 {
							continue
						}
						pts := g.series(func(r seedRun, s int) (float64, bool) { return r.value(c, s, dim, ms) })
						for _, p := range pts {
							betti = append(betti, row(g.Name, c.Net, strconv.Itoa(c.Layer), strconv.Itoa(dim), ms, p))
						}
						if len(pts) > 0 {
							bp.Series = append(bp.Series, band(plots.LayerName(c.Layer), pts))
						}
					}
					if len(bp.Series) > 0 {
						panels = append(panels, bp)
					}
				}
				name := fmt.Sprintf("%s_%s_%s.png", g.Name, net, ms)
				if err := gs.plot(out, name, fmt.Sprintf("%s, %s: %s per layer (mean over %d seeds, %.0f%% band)", g.Name, net, measureName(ms), len(g.Runs), Level*100), panels); err != nil {
					return "", err
				}
			}
		}
		var panels []plots.BandPanel
		for _, ms := range Measures {
			bp := plots.BandPanel{Title: "total " + measureName(ms), YLabel: "sum over hidden layers and dims"}
			for _, net := range g.nets() {
				pts := g.series(func(r seedRun, s int) (float64, bool) { return r.total(net, s, ms) })
				for _, p := range pts {
					total = append(total, []string{g.Name, net, ms, strconv.Itoa(p.Step), strconv.Itoa(p.N), ftoa(p.Mean), ftoa(p.Lo), ftoa(p.Hi)})
				}
				if len(pts) > 0 {
					bp.Series = append(bp.Series, band(net, pts))
				}
			}
			panels = append(panels, bp)
		}
		if err := gs.plot(out, g.Name+"_total_betti.png", fmt.Sprintf("%s: total over training (mean over %d seeds, %.0f%% band)", g.Name, len(g.Runs), Level*100), panels); err != nil {
			return "", err
		}
		lc := g.learning()
		for _, p := range lc {
			learn = append(learn, []string{g.Name, strconv.Itoa(p.Step), strconv.Itoa(p.N), ftoa(p.Mean), ftoa(p.Lo), ftoa(p.Hi)})
		}
		if len(lc) > 0 {
			if err := gs.plot(out, g.Name+"_learning_curve.png", fmt.Sprintf("%s: episodic return (mean of the last 10 episodes; %d seeds)", g.Name, len(g.Runs)),
				[]plots.BandPanel{{Title: "learning curve", YLabel: "episodic return", Series: []plots.Band{band("return", lc)}}}); err != nil {
				return "", err
			}
		}
		for _, c := range g.claims() {
			gs.Claims = append(gs.Claims, claimRow{Claim: c, PText: ptext(c.P), Verdict: c.Verdict()})
			claims = append(claims, []string{c.Group, c.Kind, c.Statement, c.Test, strconv.Itoa(c.N), c.Statistic, ftoa(c.P), c.Verdict()})
		}
		pg.Groups = append(pg.Groups, gs)
	}
	for name, rows := range map[string][][]string{BettiCSV: betti, TotalCSV: total, LearningCSV: learn, ClaimsCSV: claims} {
		if err := writeCSV(filepath.Join(out, name), rows); err != nil {
			return "", err
		}
	}
	pg.CSVs = []string{BettiCSV, TotalCSV, LearningCSV, ClaimsCSV}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, pg); err != nil {
		return "", fmt.Errorf("sweep report: %w", err)
	}
	path := filepath.Join(dir, HTMLFile)
	return path, runstore.WriteFileAtomic(path, buf.Bytes())
}

func row(group, net, layer, dim, measure string, p Point) []string {
	return []string{group, net, layer, dim, measure, strconv.Itoa(p.Step), strconv.Itoa(p.N), ftoa(p.Mean), ftoa(p.Lo), ftoa(p.Hi)}
}

func ftoa(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
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
	if len(panels) == 0 {
		return nil
	}
	path := filepath.Join(out, name)
	if err := plots.Bands(title, panels, path); err != nil {
		return fmt.Errorf("sweep report: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	gs.Figures = append(gs.Figures, figure{Name: name, Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))})
	return nil
}

type figure struct {
	Name string
	Src  template.URL
}

type claimRow struct {
	Claim
	PText   string
	Verdict string
}

type groupSection struct {
	Name      string
	Seeds     int
	SeedList  []string
	Snapshots int
	Claims    []claimRow
	Figures   []figure
}

type page struct {
	Dir       string
	Trials    int
	Done      int
	Generated string
	Level     float64
	Alpha     float64
	Resamples int
	Groups    []groupSection
	CSVs      []string
}

var tmpl = template.Must(template.New("sweep").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sweep {{.Dir}}</title>
<style>
body{font-family:sans-serif;max-width:1300px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:14px}
th{background:#f3f3f3}.yes{color:#176d17;font-weight:bold}.no{color:#777}img{max-width:100%;margin:.5em 0}
</style></head><body>
<h1>Sweep {{.Dir}}</h1>
<p>{{.Done}} of {{.Trials}} trials done and counted. Bands are {{.Level}}% percentile bootstrap intervals of the mean over seeds
({{.Resamples}} resamples); claims are tested at {{.Alpha}}. Generated {{.Generated}}.
CSVs: {{range .CSVs}}<a href="report/{{.}}">{{.}}</a> {{end}}</p>
<h2>Claims and their tests</h2>
<p>(a) does the total Betti number (sum over a net's hidden layers and dims) fall or rise over training;
(b) is a hidden layer's Betti number (sum over dims) above or below the input's;
(c) do beta1 and beta2 move together over training. Each for the seed's fixed-scale Betti numbers and for the scale-free counts
(bars longer than 10% of the cloud's diameter). With fewer than 6 seeds the sign test cannot reach p &lt; 0.05 whatever the data.</p>
{{range .Groups}}
<h2>{{.Name}}</h2>
<p>{{.Seeds}} seeds ({{range $i, $s := .SeedList}}{{if $i}}, {{end}}{{$s}}{{end}}), {{.Snapshots}} snapshots common to all.</p>
<table><tr><th>claim</th><th>statement</th><th>test</th><th>n</th><th>statistic</th><th>p-value</th><th>result</th></tr>
{{range .Claims}}<tr><td>({{.Kind}})</td><td>{{.Statement}}</td><td>{{.Test}}</td><td>{{.N}}</td><td>{{.Statistic}}</td><td>{{.PText}}</td><td class="{{if .Supported}}yes{{else}}no{{end}}">{{.Verdict}}</td></tr>
{{end}}</table>
{{range .Figures}}<div><img src="{{.Src}}" alt="{{.Name}}"></div>
{{end}}{{end}}
</body></html>
`))
