package sweepreport

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/classify"
)

// fakeNet is a network whose class "a" has beta0 = b0[l] and beta1 = 0 at
// each layer l.
func fakeNet(act, seed string, b0 []int) network {
	n := network{Seed: seed, Activation: act, betti: map[string][][]int{}, persistent: map[string][][]int{}}
	for _, v := range b0 {
		n.betti["a"] = append(n.betti["a"], []int{v, 0})
		n.persistent["a"] = append(n.persistent["a"], []int{v, 0})
	}
	return n
}

// TestClaimsUseTheNetworkAsUnit: ten ReLU networks reaching beta0 = 1 at
// layer 3 and ten tanh networks only at layer 5 or never make claim (ii)
// supported and claim (i) hold for ReLU only; with the activations
// swapped, (ii) is called the opposite direction; with both activations
// alike, (ii) is not supported.
func TestClaimsUseTheNetworkAsUnit(t *testing.T) {
	g := &netGroup{Name: "D-I__15x5", Classes: []string{"a"}, Layers: 5, Dims: 2, Acts: []string{"relu", "tanh"}}
	for i := 0; i < 10; i++ {
		g.Nets = append(g.Nets, fakeNet("relu", "r", []int{9, 9, 4, 1, 1, 1}))
		if i%2 == 0 {
			g.Nets = append(g.Nets, fakeNet("tanh", "t", []int{9, 9, 9, 7, 5, 1}))
		} else {
			g.Nets = append(g.Nets, fakeNet("tanh", "t", []int{9, 9, 9, 8, 6, 3}))
		}
	}
	got := map[string]supClaim{}
	for _, c := range g.claimsOf() {
		got[c.Statement] = c
	}
	first := got["class a: relu networks have a lower first layer with beta0 = 1 than tanh networks"]
	if !first.Supported || first.N != 20 || first.P > 1e-4 {
		t.Errorf("(ii) first layer: %+v", first)
	}
	relu := got["relu: class a's Betti numbers are (1, 0, ...) at the last layer (5) in most networks"]
	tanh := got["tanh: class a's Betti numbers are (1, 0, ...) at the last layer (5) in most networks"]
	if !relu.Supported || !strings.HasPrefix(relu.Statistic, "10 of 10") || tanh.Supported || !strings.HasPrefix(tanh.Statistic, "5 of 10") {
		t.Errorf("(i): relu %+v, tanh %+v", relu, tanh)
	}
	g.Acts = []string{"tanh", "relu"}
	for i := range g.Nets {
		g.Nets[i].Activation = map[string]string{"relu": "tanh", "tanh": "relu"}[g.Nets[i].Activation]
	}
	for _, c := range g.claimsOf() {
		if c.Statement == first.Statement && (c.Supported || !strings.HasPrefix(c.Verdict, "opposite direction")) {
			t.Errorf("activations swapped: (ii) first layer says %q (p %v, Holm %v)", c.Verdict, c.P, c.PAdj)
		}
	}
	if got := (fakeNet("tanh", "t", []int{9, 9, 9, 8, 6, 3})).firstBeta0One("a", 5); got != 6 {
		t.Errorf("a network that never reaches beta0 = 1 ranks at L+1 = 6, got %d", got)
	}

	same := &netGroup{Name: "same", Classes: []string{"a"}, Layers: 5, Dims: 2, Acts: []string{"relu", "tanh"}}
	for i := 0; i < 10; i++ {
		b0 := []int{9, 9, 9, 5 + i%3, 2, 1}
		same.Nets = append(same.Nets, fakeNet("relu", "r", b0), fakeNet("tanh", "t", b0))
	}
	for _, c := range same.claimsOf() {
		if c.Claim == "ii" && c.Supported {
			t.Errorf("identical activations: %s supported (p %v)", c.Statement, c.P)
		}
	}
}

func TestArchName(t *testing.T) {
	for in, want := range map[string]string{"15,15,15": "15x3", "25": "25x1", "10,20": "10-20"} {
		if got := archName(in); got != want {
			t.Errorf("archName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSupervisedMarkdownTables: the Markdown rows are the means over
// each activation's networks at each layer, the training table takes the
// worst network's loss and homology error, and a network without
// fit.json leaves its cells "-".
func TestSupervisedMarkdownTables(t *testing.T) {
	g := &netGroup{Name: "D-I__15x2", Classes: []string{"a"}, Layers: 2, Dims: 2, Acts: []string{"relu", "tanh"}}
	r1, r2 := fakeNet("relu", "1", []int{9, 4, 1}), fakeNet("relu", "2", []int{9, 2, 2})
	r1.fit = &classify.FitSummary{Epochs: 40, CheckedLoss: 5e-5, HomologyAccuracy: 1}
	r2.fit = &classify.FitSummary{Epochs: 60, CheckedLoss: 9e-5, HomologyAccuracy: 0.9995}
	r1.seconds, r2.seconds = 10, 30
	g.Nets = []network{r1, r2, fakeNet("tanh", "1", []int{9, 9, 5})}
	pg := supPage{Trials: 3, Done: 3, Groups: []supGroupSection{{Name: g.Name}}}
	md := supMarkdown(pg, []*netGroup{g})
	for _, want := range []string{
		"| D-I__15x2 | relu | 2 | 50 (40-60) | 9e-05 | 0.05% | 20 |",
		"| D-I__15x2 | tanh | 1 | - | - | - | - |",
		"| relu | 9.0, 0.0 | 3.0, 0.0 | 1.5, 0.0 |",
		"| tanh | 9.0, 0.0 | 9.0, 0.0 | 5.0, 0.0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestClaimsFamilyErrorUnderNull simulates sweeps in which the activation
// changes nothing: 10 networks per activation (ReLU, leaky ReLU, tanh),
// two classes, 10 hidden layers, each network's Betti numbers a random
// descent from (9, 2) whose last layer is (1, 0) with probability 1/2
// (the boundary of claim (i)'s null). A sweep that calls any (ii) claim
// supported, or any (i) claim, is a family-wise false positive; with
// Holm's adjustment each family must stay near alpha, while the raw
// p-values would call some row of (ii) supported far more often.
func TestClaimsFamilyErrorUnderNull(t *testing.T) {
	const sweeps, layers = 400, 10
	rng := rand.New(rand.NewPCG(11, 12))
	net := func(act string) network {
		n := network{Activation: act, betti: map[string][][]int{}, persistent: map[string][][]int{}}
		for _, class := range []string{"a", "b"} {
			b0, b1 := 9, 2
			for l := 0; l <= layers; l++ {
				if l > 0 {
					b0 = max(1, b0-rng.IntN(3))
					b1 = max(0, b1+rng.IntN(3)-1)
				}
				if l == layers {
					if rng.IntN(2) == 0 {
						b0, b1 = 1, 0
					} else if b0 == 1 && b1 == 0 {
						b0 = 2
					}
				}
				n.betti[class] = append(n.betti[class], []int{b0, b1})
				n.persistent[class] = append(n.persistent[class], []int{b0, b1})
			}
		}
		return n
	}
	fwer := map[string]int{}
	rawAny := 0
	for s := 0; s < sweeps; s++ {
		g := &netGroup{Name: "null", Classes: []string{"a", "b"}, Layers: layers, Dims: 2, Acts: []string{"relu", "leaky_relu", "tanh"}}
		for i := 0; i < 10; i++ {
			for _, act := range g.Acts {
				g.Nets = append(g.Nets, net(act))
			}
		}
		hit := map[string]bool{}
		raw := false
		for _, c := range g.claimsOf() {
			if c.Supported {
				hit[c.Claim] = true
			}
			if c.Claim == "ii" && c.forward && c.P < Alpha {
				raw = true
			}
		}
		for k := range hit {
			fwer[k]++
		}
		if raw {
			rawAny++
		}
	}
	// Binomial(400, 0.05) exceeds 30 with probability under 1%.
	for _, claim := range []string{"i", "ii"} {
		if fwer[claim] > 30 {
			t.Errorf("claim (%s): %d of %d null sweeps called some row supported after Holm (alpha %.2f)", claim, fwer[claim], sweeps, Alpha)
		}
	}
	if rawAny <= fwer["ii"] || rawAny < 40 {
		t.Errorf("uncorrected, %d of %d null sweeps had a (ii) row below alpha (after Holm %d): the simulation does not exercise the correction", rawAny, sweeps, fwer["ii"])
	}
	t.Logf("null sweeps with a supported row: (i) %d, (ii) %d of %d; uncorrected (ii) %d", fwer["i"], fwer["ii"], sweeps, rawAny)
}
