package sweepreport

import (
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
// supported and claim (i) hold for ReLU only; with both activations
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
