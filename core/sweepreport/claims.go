package sweepreport

import (
	"fmt"
	"math"
	"sort"

	"github.com/neuraltopology/neuraltopology/core/stats"
	"github.com/neuraltopology/neuraltopology/core/summary"
)

// Claim is one statement about a group, its test and the result.
type Claim struct {
	Group     string
	Kind      string // "a", "b" or "c"
	Statement string // what is claimed, e.g. "actor: total Betti number rises over training"
	Test      string
	N         int // independent units the test counts (seeds, or seed x snapshot pairs)
	Statistic string
	P         float64
	Supported bool
}

// Verdict is the result as the report words it.
func (c Claim) Verdict() string {
	if math.IsNaN(c.P) || c.N == 0 {
		return "not testable"
	}
	if c.Supported {
		return fmt.Sprintf("supported at %.2f", Alpha)
	}
	return fmt.Sprintf("not supported at %.2f", Alpha)
}

func measureName(m string) string {
	if m == "persistent" {
		return "scale-free count"
	}
	return "Betti number"
}

// claims tests, for one group: (a) whether each net's total Betti number
// rises or falls over training, (b) whether each hidden layer's Betti
// number lies above or below the input's, (c) whether beta1 and beta2 move
// together over training.
func (g *Group) claims() []Claim {
	var out []Claim
	for _, net := range g.nets() {
		for _, ms := range Measures {
			out = append(out, g.trend(net, ms), g.b1b2(net, ms))
			for _, layer := range g.layers(net) {
				out = append(out, g.ordering(net, layer, ms))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

func (g *Group) layers(net string) []int {
	var ls []int
	for _, c := range g.clouds() {
		if c.Net == net && c.Layer >= 1 {
			ls = append(ls, c.Layer)
		}
	}
	return ls
}

// trend is claim (a): per seed, Spearman's rho of the total against the
// step; across seeds, the sign test of the rhos' signs.
func (g *Group) trend(net, measure string) Claim {
	var rhos []float64
	pos, neg := 0, 0
	for _, r := range g.Runs {
		var xs, ys []float64
		for _, s := range g.Steps {
			if v, ok := r.total(net, s, measure); ok {
				xs = append(xs, float64(s))
				ys = append(ys, v)
			}
		}
		rho := stats.Spearman(xs, ys)
		if math.IsNaN(rho) {
			continue
		}
		rhos = append(rhos, rho)
		switch {
		case rho > 0:
			pos++
		case rho < 0:
			neg++
		}
	}
	dir := "rises"
	if neg > pos {
		dir = "falls"
	}
	p := stats.SignTest(pos, neg)
	c := Claim{Group: g.Name, Kind: "a",
		Statement: fmt.Sprintf("%s: total %s %s over training", net, measureName(measure), dir),
		Test:      "per-seed Spearman rho with the step; two-sided sign test across seeds",
		N:         pos + neg, P: p, Supported: pos != neg && p < Alpha,
		Statistic: fmt.Sprintf("%d of %d seeds rho > 0, %d < 0; median rho %.2f", pos, len(rhos), neg, median(rhos))}
	if len(rhos) == 0 {
		c.P = math.NaN()
		c.Statistic = "no seed with 3 or more snapshots that vary"
	}
	return c
}

// ordering is claim (b): the layer's Betti number (summed over dims)
// minus the input's, paired over seeds and snapshots; the sign test of
// the differences.
func (g *Group) ordering(net string, layer int, measure string) Claim {
	pos, neg, ties := 0, 0, 0
	in := Cloud{summary.NetInput, 0}
	at := Cloud{net, layer}
	for _, r := range g.Runs {
		for _, s := range g.Steps {
			a, ok1 := r.value(at, s, -1, measure)
			b, ok2 := r.value(in, s, -1, measure)
			if !ok1 || !ok2 {
				continue
			}
			switch {
			case a > b:
				pos++
			case a < b:
				neg++
			default:
				ties++
			}
		}
	}
	// The statement takes the side the data lean to, as (a) and (c) do:
	// "above: not supported, p = 1e-29" read as if nothing were found
	// when the layer is reliably below the input.
	where := "above"
	if neg > pos {
		where = "below"
	}
	p := stats.SignTest(pos, neg)
	c := Claim{Group: g.Name, Kind: "b",
		Statement: fmt.Sprintf("%s layer %d: %s %s the input's", net, layer, measureName(measure), where),
		Test:      "two-sided sign test of layer minus input, paired over seeds and snapshots",
		N:         pos + neg, P: p, Supported: pos != neg && p < Alpha,
		Statistic: fmt.Sprintf("above in %d, below in %d, equal in %d pairs", pos, neg, ties)}
	if pos+neg == 0 {
		c.P = math.NaN()
	}
	return c
}

// b1b2 is claim (c): per seed, Spearman's rho of beta1 against beta2
// (summed over the net's hidden layers) over the snapshots; combined
// across seeds by Fisher's z.
func (g *Group) b1b2(net, measure string) Claim {
	var rs []float64
	var ns []int
	for _, r := range g.Runs {
		var x, y []float64
		for _, s := range g.Steps {
			a, ok1 := r.dimTotal(net, s, 1, measure)
			b, ok2 := r.dimTotal(net, s, 2, measure)
			if ok1 && ok2 {
				x = append(x, a)
				y = append(y, b)
			}
		}
		rs = append(rs, stats.Spearman(x, y))
		ns = append(ns, len(x))
	}
	cmb := stats.CombineSpearman(rs, ns)
	how := "together"
	if cmb.R < 0 {
		how = "oppositely"
	}
	c := Claim{Group: g.Name, Kind: "c",
		Statement: fmt.Sprintf("%s: beta1 and beta2 (%s) move %s over training", net, measureName(measure), how),
		Test:      "per-seed Spearman rho of beta1 with beta2 over snapshots; Fisher z combined across seeds",
		N:         cmb.K, P: cmb.P, Supported: !math.IsNaN(cmb.P) && cmb.P < Alpha,
		Statistic: fmt.Sprintf("combined rho %.2f, z %.2f over %d seeds, %d snapshots", cmb.R, cmb.Z, cmb.K, cmb.N)}
	if cmb.K == 0 {
		c.Statistic = "no seed with 4 or more snapshots where beta1 and beta2 both vary"
	}
	return c
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
