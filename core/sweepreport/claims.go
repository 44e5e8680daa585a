package sweepreport

import (
	"fmt"
	"math"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/stats"
	"github.com/neuraltopology/neuraltopology/core/summary"
)

// Families of claims. The seed's own claims are the primary hypotheses:
// directional, as the seed states them, Holm-corrected within their
// family, first on the scale-free counts and, as a second reading, on the
// Betti numbers at the seed's fixed scale. Every other comparison is
// exploratory: two-sided, with Benjamini-Hochberg q-values over all of
// them.
const (
	FamilyPrimary     = "primary"
	FamilyPrimaryFix  = "primary, fixed scale"
	FamilyExploratory = "exploratory"
)

// Power is the power DetectableEffect is stated at.
const Power = 0.8

// Kinds of hypothesis, each with its per-seed statistic.
const (
	KindTrend      = "trend"       // least-squares slope of a count against the step, per million steps
	KindAboveInput = "above_input" // mean over snapshots of layer minus input
	KindB1B2       = "b1b2"        // rho of beta1 and beta2's detrended first differences
)

// hypothesis is one claim before it is tested: what each seed
// contributes, and the direction asked about.
type hypothesis struct {
	Kind    string
	Net     string
	Layer   int // KindAboveInput: the hidden layer
	Dim     int // KindTrend: the dimension, summed over hidden layers; -1 the total
	Measure string
	Alt     stats.Alternative
	Primary bool
	Seed    string // the seed's words, for primary claims
}

// Claim is one tested statement about a group: the per-seed values it
// rests on, the test across seeds and the verdict.
type Claim struct {
	Group     string
	ID        string // stable name, e.g. "actor/above_input/L2/persistent"
	Family    string
	Kind      string
	Statement string // what is claimed, e.g. "actor: beta1 falls over training"
	SeedWords string // the seed's own sentence, for primary claims
	Measure   string
	Test      string
	Unit      string    // what one value is: a seed
	N         int       // seeds with a value
	Seeds     []string  // in the order of PerSeed
	PerSeed   []float64 // one value per seed (NaN: none)
	Effect    float64   // mean of the per-seed values
	SD        float64   // their standard deviation
	Lo, Hi    float64   // 95% t interval of Effect
	P         float64   // raw p-value in the claim's direction (two-sided for exploratory claims)
	PAdj      float64   // Holm-adjusted (primary) or BH q-value (exploratory)
	PTwoAdj   float64   // primary: Holm-adjusted two-sided p, for "contradicted"
	// Detectable is the smallest true effect (in Effect's units) the test
	// finds with 80% power at this n and its family's corrected alpha,
	// taking the seeds' observed spread as the truth.
	Detectable float64
	Alt        stats.Alternative
	// Corr marks a correlation: PerSeed, Effect and its interval are
	// rho, tested and averaged as Fisher's z (SD is on that scale).
	Corr bool
}

// Verdict is the result as the report words it.
func (c Claim) Verdict() string {
	if math.IsNaN(c.P) {
		return "not testable"
	}
	if c.Family == FamilyExploratory {
		if c.PAdj < Alpha {
			return "significant (exploratory)"
		}
		return "not significant"
	}
	switch {
	case c.PAdj < Alpha:
		return "supported"
	case c.PTwoAdj < Alpha && opposite(c.Alt, c.Effect):
		return "contradicted"
	}
	return "not supported"
}

// Supported tells whether the claim's verdict is positive.
func (c Claim) Supported() bool {
	v := c.Verdict()
	return v == "supported" || v == "significant (exploratory)"
}

func opposite(alt stats.Alternative, effect float64) bool {
	return (alt == stats.Greater && effect < 0) || (alt == stats.Less && effect > 0)
}

func measureName(m string) string {
	if m == "persistent" {
		return "scale-free count"
	}
	return "Betti number at the fixed scale"
}

// primaryHypotheses are the seed's claims for a task, as the seed states
// them. Hopper-v4: "the deeper network seems to be amplifying
// topological features from the input space": each net's deepest hidden
// layer carries more features (summed over dims) than the input.
// Walker2d-v4: "an inverse correlation between beta2 and beta1 across
// training (i.e. drop in beta1 and raise in beta2)": beta1 falls, beta2
// rises, and their fluctuations move oppositely beyond those trends
// (each summed over the net's hidden layers).
func (g *Group) primaryHypotheses(measure string) []hypothesis {
	var hs []hypothesis
	for _, net := range g.nets() {
		layers := g.layers(net)
		if len(layers) == 0 {
			continue
		}
		switch g.EnvID {
		case "Hopper-v4":
			hs = append(hs, hypothesis{Kind: KindAboveInput, Net: net, Layer: layers[len(layers)-1], Measure: measure, Alt: stats.Greater, Primary: true,
				Seed: "the deeper network seems to be amplifying topological features from the input space"})
		case "Walker2d-v4":
			words := "an inverse correlation between beta2 and beta1 across training (drop in beta1 and raise in beta2)"
			hs = append(hs,
				hypothesis{Kind: KindTrend, Net: net, Dim: 1, Measure: measure, Alt: stats.Less, Primary: true, Seed: words},
				hypothesis{Kind: KindTrend, Net: net, Dim: 2, Measure: measure, Alt: stats.Greater, Primary: true, Seed: words},
				hypothesis{Kind: KindB1B2, Net: net, Measure: measure, Alt: stats.Less, Primary: true, Seed: words})
		}
	}
	return hs
}

// exploratoryHypotheses are every other comparison, two-sided: each net's
// total, beta1 and beta2 over training, each hidden layer against the
// input, and beta1 with beta2 beyond their trends.
func (g *Group) exploratoryHypotheses(measure string, primary []hypothesis) []hypothesis {
	isPrimary := map[string]bool{}
	for _, h := range primary {
		isPrimary[h.key()] = true
	}
	var hs []hypothesis
	add := func(h hypothesis) {
		if !isPrimary[h.key()] {
			hs = append(hs, h)
		}
	}
	for _, net := range g.nets() {
		for _, dim := range []int{-1, 1, 2} {
			add(hypothesis{Kind: KindTrend, Net: net, Dim: dim, Measure: measure, Alt: stats.TwoSided})
		}
		for _, l := range g.layers(net) {
			add(hypothesis{Kind: KindAboveInput, Net: net, Layer: l, Measure: measure, Alt: stats.TwoSided})
		}
		add(hypothesis{Kind: KindB1B2, Net: net, Measure: measure, Alt: stats.TwoSided})
	}
	return hs
}

// key names a hypothesis without its direction.
func (h hypothesis) key() string {
	switch h.Kind {
	case KindTrend:
		d := "total"
		if h.Dim >= 0 {
			d = fmt.Sprintf("beta%d", h.Dim)
		}
		return fmt.Sprintf("%s/trend/%s/%s", h.Net, d, h.Measure)
	case KindAboveInput:
		return fmt.Sprintf("%s/above_input/L%d/%s", h.Net, h.Layer, h.Measure)
	}
	return fmt.Sprintf("%s/b1b2/%s", h.Net, h.Measure)
}

// perSeed is each seed's value of the hypothesis's statistic, in run
// order (NaN where a seed has too few snapshots); correlations on Fisher's
// z scale. One value per seed: snapshots of one run are autocorrelated
// and never counted as independent.
func (g *Group) perSeed(h hypothesis) []float64 {
	out := make([]float64, len(g.Runs))
	for i, r := range g.Runs {
		out[i] = math.NaN()
		var t, x, y []float64
		for _, s := range g.Steps {
			switch h.Kind {
			case KindTrend:
				v, ok := r.netTotal(h.Net, s, h.Dim, h.Measure)
				if ok {
					t, x = append(t, float64(s)), append(x, v)
				}
			case KindAboveInput:
				a, ok1 := r.value(Cloud{h.Net, h.Layer}, s, -1, h.Measure)
				b, ok2 := r.value(Cloud{summary.NetInput, 0}, s, -1, h.Measure)
				if ok1 && ok2 {
					x = append(x, a-b)
				}
			case KindB1B2:
				a, ok1 := r.netTotal(h.Net, s, 1, h.Measure)
				b, ok2 := r.netTotal(h.Net, s, 2, h.Measure)
				if ok1 && ok2 {
					t, x, y = append(t, float64(s)), append(x, a), append(y, b)
				}
			}
		}
		switch h.Kind {
		case KindTrend:
			out[i] = stats.Slope(t, x) * 1e6
		case KindAboveInput:
			if len(x) > 0 {
				out[i] = stats.Mean(x)
			}
		case KindB1B2:
			out[i] = stats.FisherZ(stats.DetrendedDiffCorr(t, x, y))
		}
	}
	return out
}

// test runs the hypothesis across seeds; the family's correction comes
// after, in correct.
func (g *Group) test(h hypothesis) Claim {
	vals := g.perSeed(h)
	fam := FamilyExploratory
	if h.Primary {
		fam = FamilyPrimary
		if h.Measure != "persistent" {
			fam = FamilyPrimaryFix
		}
	}
	tr := stats.TTest(vals, h.Alt, Level)
	c := Claim{Group: g.Name, ID: h.key(), Family: fam, Kind: h.Kind, SeedWords: h.Seed, Measure: h.Measure,
		Unit: "seed", N: tr.N, PerSeed: vals, Effect: tr.Mean, SD: tr.SD, Lo: tr.Lo, Hi: tr.Hi, P: tr.P, Alt: h.Alt,
		PAdj: math.NaN(), PTwoAdj: math.NaN(), Detectable: math.NaN()}
	if h.Kind == KindB1B2 {
		// Correlations are tested on Fisher's z and reported as rho.
		c.Corr = true
		c.PerSeed = make([]float64, len(vals))
		for i, z := range vals {
			c.PerSeed[i] = math.Tanh(z)
		}
		c.Effect, c.Lo, c.Hi = math.Tanh(tr.Mean), math.Tanh(tr.Lo), math.Tanh(tr.Hi)
	}
	for _, r := range g.Runs {
		c.Seeds = append(c.Seeds, r.Seed)
	}
	c.Statement, c.Test = h.describe(tr.Mean)
	return c
}

// describe words the hypothesis (in the direction asked, or for a
// two-sided one the direction the data lean to) and its test.
func (h hypothesis) describe(effect float64) (statement, test string) {
	up := h.Alt == stats.Greater || (h.Alt == stats.TwoSided && effect > 0)
	m := measureName(h.Measure)
	side := "two-sided"
	if h.Alt != stats.TwoSided {
		side = "one-sided"
	}
	switch h.Kind {
	case KindTrend:
		what := "total " + m + " (hidden layers, all dims)"
		if h.Dim >= 0 {
			what = fmt.Sprintf("beta%d (%s, summed over hidden layers)", h.Dim, m)
		}
		dir := "falls"
		if up {
			dir = "rises"
		}
		return fmt.Sprintf("%s: %s %s over training (slope per 1M steps)", h.Net, what, dir),
			"per seed, least-squares slope against the step (per 1M steps); " + side + " t-test of the seeds' slopes"
	case KindAboveInput:
		dir := "below"
		if up {
			dir = "above"
		}
		return fmt.Sprintf("%s layer %d: %s (summed over dims) %s the input's", h.Net, h.Layer, m, dir),
			"per seed, mean over snapshots of layer minus input; " + side + " t-test of the seeds' means"
	}
	dir := "oppositely"
	if up {
		dir = "together"
	}
	return fmt.Sprintf("%s: beta1 and beta2 (%s, summed over hidden layers) move %s beyond their trends", h.Net, m, dir),
		"per seed, Spearman's rho of the first differences of beta1 and beta2 after a degree-5 polynomial trend in the step is removed; " + side + " t-test of the seeds' Fisher z"
}

// claims tests every hypothesis of every group and corrects each family:
// Holm within each primary family, Benjamini-Hochberg over the
// exploratory claims.
func claims(groups []*Group) []Claim {
	var out []Claim
	for _, g := range groups {
		for _, ms := range []string{"persistent", "betti"} {
			prim := g.primaryHypotheses(ms)
			for _, h := range prim {
				out = append(out, g.test(h))
			}
			for _, h := range g.exploratoryHypotheses(ms, prim) {
				out = append(out, g.test(h))
			}
		}
	}
	correct(out)
	return out
}

// correct fills PAdj (and PTwoAdj) family by family.
func correct(cs []Claim) {
	fams := map[string][]int{}
	for i, c := range cs {
		fams[c.Family] = append(fams[c.Family], i)
	}
	for fam, idx := range fams {
		p := make([]float64, len(idx))
		two := make([]float64, len(idx))
		for k, i := range idx {
			p[k] = cs[i].P
			two[k] = twoSided(cs[i])
		}
		var adj, adjTwo []float64
		if fam == FamilyExploratory {
			adj = stats.BH(p)
		} else {
			adj, adjTwo = stats.Holm(p), stats.Holm(two)
		}
		m := 0
		for _, v := range p {
			if !math.IsNaN(v) {
				m++
			}
		}
		for k, i := range idx {
			cs[i].PAdj = adj[k]
			if adjTwo != nil {
				cs[i].PTwoAdj = adjTwo[k]
			}
			// Power at the family's strictest corrected level: Holm's
			// first step (alpha/m) for a primary claim, the whole alpha
			// split over two sides for an exploratory one.
			a := Alpha / 2
			if fam != FamilyExploratory && m > 0 {
				a = Alpha / float64(m)
			}
			cs[i].Detectable = stats.DetectableEffect(cs[i].N, a, Power) * cs[i].SD
			if cs[i].Corr {
				cs[i].Detectable = math.Tanh(cs[i].Detectable)
			}
		}
	}
}

// twoSided is the two-sided p-value of a directional claim.
func twoSided(c Claim) float64 {
	if c.Alt == stats.TwoSided || math.IsNaN(c.P) {
		return c.P
	}
	return math.Min(1, 2*math.Min(c.P, 1-c.P))
}

func (c Claim) perSeedText() string {
	var b strings.Builder
	for i, v := range c.PerSeed {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(ftoa(v))
	}
	return b.String()
}
