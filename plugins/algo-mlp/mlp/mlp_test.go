package mlp

import (
	"context"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neuraltopology/neuraltopology/sdk"
)

func newNet(t *testing.T, act string, widths string) *MLP {
	t.Helper()
	m := New()
	if _, err := m.Init(context.Background(), sdk.AlgoConfig{Env: sdk.EnvSpec{ObsDim: 3, ActDim: 2}, Seed: 4,
		Hyper: map[string]string{"activation": act, "hidden_size": widths}}); err != nil {
		t.Fatal(err)
	}
	return m
}

// loss is the mean cross-entropy of the network on x, labels.
func (m *MLP) loss(x *mat.Dense, labels []int) float64 {
	outs := m.forward(x)
	return softmaxRows(outs[len(outs)-1], labels)
}

// TestGradientMatchesFiniteDifferences: the first Adam step moves each
// weight by -lr * sign(g) (Adam's first step is g / |g|), so the weights'
// displacement after one step gives the sign of the backpropagated
// gradient; it must agree with a central finite difference of the loss
// wherever that is clearly non-zero, for each activation.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	x := mat.NewDense(6, 3, []float64{0.3, -1.2, 0.5, 1.1, 0.2, -0.7, -0.4, 0.9, 1.3, 0.8, -0.3, 0.1, -1.5, 0.6, -0.2, 0.05, 0.4, 0.7})
	labels := []int{0, 1, 1, 0, 1, 0}
	for _, act := range []string{Tanh, ReLU, LeakyReLU} {
		m := newNet(t, act, "4,4")
		checked := 0
		for l, w := range m.net.W {
			raw := w.RawMatrix().Data
			for i := range raw {
				const h = 1e-6
				orig := raw[i]
				raw[i] = orig + h
				up := m.loss(x, labels)
				raw[i] = orig - h
				down := m.loss(x, labels)
				raw[i] = orig
				fd := (up - down) / (2 * h)
				if math.Abs(fd) < 1e-4 {
					continue
				}
				c := newNet(t, act, "4,4")
				before := c.net.W[l].RawMatrix().Data[i]
				c.step(x, labels)
				moved := c.net.W[l].RawMatrix().Data[i] - before
				if math.Signbit(moved) == math.Signbit(-fd) {
					checked++
					continue
				}
				t.Fatalf("%s: weight %d of layer %d moved %g, the loss's slope there is %g", act, i, l, moved, fd)
			}
		}
		if checked < 10 {
			t.Fatalf("%s: only %d weights checked", act, checked)
		}
	}
}

// TestFitReachesFullAccuracyOnXOR: XOR-like quadrants need the hidden
// layers; every activation fits them.
func TestFitReachesFullAccuracyOnXOR(t *testing.T) {
	pts, labels := xor()
	for _, act := range []string{Tanh, ReLU, LeakyReLU} {
		m := newNet(t, act, "15,15,15")
		res, err := m.Fit(context.Background(), sdk.FitRequest{Points: pts, Labels: labels, Classes: 2, MaxEpochs: 3000})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Reached || m.Accuracy(pts, labels) != 1 {
			t.Errorf("%s: accuracy %v after %d epochs", act, m.Accuracy(pts, labels), len(res.Epochs))
		}
	}
}

// xor is 200 points in four quadrants, the diagonal ones of each class.
func xor() (sdk.Matrix, []int) {
	n := 200
	pts := sdk.NewMatrix(n, 3)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		a, b := float64(i%10)/10+0.05, float64(i/10%10)/10+0.05
		if i%2 == 0 {
			a = -a
		}
		if i%4 < 2 {
			b = -b
		}
		pts.Row(i)[0], pts.Row(i)[1] = a, b
		if a*b > 0 {
			labels[i] = 1
		}
	}
	return pts, labels
}

// policyLoss is the mean cross-entropy of the labels computed from the
// class probabilities Policy hands out (the path the host checks with),
// not from Evaluate.
func policyLoss(t *testing.T, m *MLP, x sdk.Matrix, labels []int) float64 {
	t.Helper()
	probs, err := m.Policy(context.Background(), x, false)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for i, l := range labels {
		sum -= math.Log(probs.Row(i)[l])
	}
	return sum / float64(len(labels))
}

// TestLossTargetTrainsPastFullAccuracy: with loss_target 0 Fit stops at
// the first epoch with every point right; with a loss target it goes on
// until the whole-set cross-entropy is at most the target, and stops at
// the first epoch where it is, as the final network's probabilities
// confirm.
func TestLossTargetTrainsPastFullAccuracy(t *testing.T) {
	pts, labels := xor()
	for _, act := range []string{Tanh, ReLU, LeakyReLU} {
		fit := func(target string) (*MLP, sdk.FitResult) {
			m := New()
			if _, err := m.Init(context.Background(), sdk.AlgoConfig{Env: sdk.EnvSpec{ObsDim: 3, ActDim: 2}, Seed: 4,
				Hyper: map[string]string{"activation": act, "hidden_size": "15,15,15", "loss_target": target}}); err != nil {
				t.Fatal(err)
			}
			res, err := m.Fit(context.Background(), sdk.FitRequest{Points: pts, Labels: labels, Classes: 2, MaxEpochs: 5000})
			if err != nil || !res.Reached {
				t.Fatalf("%s, loss_target %s: reached %v, %v", act, target, res.Reached, err)
			}
			return m, res
		}
		_, first := fit("0")
		e := first.Epochs
		if e[len(e)-1].Accuracy != 1 || (len(e) > 1 && e[len(e)-2].Accuracy == 1) {
			t.Errorf("%s, loss_target 0: stopped after %d epochs, not at the first error-free one", act, len(e))
		}
		const target = 1e-3
		m, res := fit("0.001")
		e = res.Epochs
		last := e[len(e)-1]
		if len(e) <= len(first.Epochs) || last.Accuracy != 1 || last.Loss > target {
			t.Fatalf("%s: %d epochs (first error-free: %d), last accuracy %v, loss %g; want more epochs and loss <= %g", act, len(e), len(first.Epochs), last.Accuracy, last.Loss, target)
		}
		if prev := e[len(e)-2]; prev.Accuracy == 1 && prev.Loss <= target {
			t.Errorf("%s: epoch %d already met the target (loss %g)", act, prev.Epoch, prev.Loss)
		}
		if got := policyLoss(t, m, pts, labels); math.Abs(got-last.Loss) > 1e-9*max(1, got) || got > target {
			t.Errorf("%s: the final network's cross-entropy from its probabilities is %g, the last epoch reported %g", act, got, last.Loss)
		}
	}
}

// TestHalfLifeHalvesTheStep: Adam's first step moves each weight by
// about lr; with lr_halflife = 1 the 41st step moves them by about
// lr * 2^-41, while a constant rate still moves them by order lr.
func TestHalfLifeHalvesTheStep(t *testing.T) {
	pts, labels := xor()
	x := toDense(pts)
	moved := func(halflife string) float64 {
		m := New()
		if _, err := m.Init(context.Background(), sdk.AlgoConfig{Env: sdk.EnvSpec{ObsDim: 3, ActDim: 2}, Seed: 4,
			Hyper: map[string]string{"hidden_size": "8", "lr_halflife": halflife}}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 40; i++ {
			m.step(x, labels)
		}
		before := append([]float64(nil), m.net.W[0].RawMatrix().Data...)
		m.step(x, labels)
		most := 0.0
		for i, v := range m.net.W[0].RawMatrix().Data {
			most = max(most, math.Abs(v-before[i]))
		}
		return most
	}
	if c, h := moved("0"), moved("1"); c < 1e-4 || h > DefaultLR*math.Pow(0.5, 41)*10 {
		t.Fatalf("41st step moved weights by up to %g at a constant rate and %g with half-life 1 step", c, h)
	}
}

// TestFitCapReportsNotReached: labels no network can fit (one point in
// two classes) end at the cap with Reached false.
func TestFitCapReportsNotReached(t *testing.T) {
	m := newNet(t, ReLU, "4")
	pts := sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{1, 1, 1, 1, 1, 1}}
	res, err := m.Fit(context.Background(), sdk.FitRequest{Points: pts, Labels: []int{0, 1}, Classes: 2, MaxEpochs: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reached || len(res.Epochs) != 5 {
		t.Fatalf("reached %v after %d epochs, want false after 5", res.Reached, len(res.Epochs))
	}
}

func TestSaveLoadRestoresActivations(t *testing.T) {
	m := newNet(t, LeakyReLU, "5x3")
	ck, err := m.Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x := sdk.Matrix{Rows: 2, Cols: 3, Data: []float64{0.1, 0.2, 0.3, -1, 2, 0}}
	a, _ := m.Activations(context.Background(), x, nil)
	m2 := New()
	if err := m2.Load(context.Background(), ck); err != nil {
		t.Fatal(err)
	}
	b, _ := m2.Activations(context.Background(), x, nil)
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("%d and %d layers, want 3", len(a), len(b))
	}
	for i := range a {
		for j, v := range a[i].Values.Data {
			if b[i].Values.Data[j] != v {
				t.Fatalf("layer %d differs after load", i)
			}
		}
	}
}

func TestParseParams(t *testing.T) {
	p, err := ParseParams(map[string]string{"hidden_size": "15x10", "activation": "tanh", "lr": "0.01"})
	if err != nil || len(p.Widths) != 10 || p.Widths[9] != 15 || p.Activation != Tanh || p.LR != 0.01 {
		t.Fatalf("%+v %v", p, err)
	}
	for _, bad := range []map[string]string{{"activation": "sigmoid"}, {"hidden_size": "15x0"}, {"hidden_size": "a,b"}, {"lr": "-1"}, {"batch_size": "2.5"}, {"loss_target": "-0.1"}, {"lr_halflife": "-5"}} {
		if _, err := ParseParams(bad); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}

// TestStalledTrainingRestarts: on labels no network can fit (every point
// also appears with the other label) training stalls; each attempt must
// end exactly when the stall rule says (patience epochs without a loss
// 1% below the attempt's best, recomputed here from the reported
// losses), start again from new weights, and give up after the last
// restart instead of running to the epoch cap. On a learnable set the
// rule must change nothing: the same epochs with or without restarts.
func TestStalledTrainingRestarts(t *testing.T) {
	pts, labels := xor()
	both := sdk.NewMatrix(2*pts.Rows, pts.Cols)
	copy(both.Data, pts.Data)
	copy(both.Data[len(pts.Data):], pts.Data)
	twice := append(append([]int(nil), labels...), make([]int, len(labels))...)
	for i, l := range labels {
		twice[len(labels)+i] = 1 - l
	}
	fit := func(x sdk.Matrix, y []int, hyper map[string]string) sdk.FitResult {
		m := New()
		hyper["hidden_size"] = "8,8"
		if _, err := m.Init(context.Background(), sdk.AlgoConfig{Env: sdk.EnvSpec{ObsDim: 3, ActDim: 2}, Seed: 7, Hyper: hyper}); err != nil {
			t.Fatal(err)
		}
		res, err := m.Fit(context.Background(), sdk.FitRequest{Points: x, Labels: y, Classes: 2, MaxEpochs: 2000})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	const patience, restarts = 15, 2
	res := fit(both, twice, map[string]string{"patience": "15", "restarts": "2"})
	if res.Reached {
		t.Fatal("reached the target on contradictory labels")
	}
	e := res.Epochs
	if len(e) >= 2000 {
		t.Fatalf("ran to the epoch cap (%d epochs) instead of giving up after %d restarts", len(e), restarts)
	}
	best, since, attempt := math.Inf(1), 0, 1
	for i, s := range e {
		if s.Attempt != attempt {
			t.Fatalf("epoch %d: attempt %d, want %d by the stall rule", s.Epoch, s.Attempt, attempt)
		}
		if s.Loss < best*(1-stallMargin) {
			best, since = s.Loss, 0
			continue
		}
		if since++; since < patience {
			continue
		}
		if attempt == restarts+1 {
			if i != len(e)-1 {
				t.Fatalf("the last attempt stalled at epoch %d but training went on to epoch %d", s.Epoch, e[len(e)-1].Epoch)
			}
			break
		}
		// A new initialisation starts far from the stalled network's loss.
		if i+1 < len(e) && math.Abs(e[i+1].Loss-s.Loss) < 1e-9 {
			t.Errorf("attempt %d starts at the loss the stalled attempt ended at (%g)", attempt+1, s.Loss)
		}
		attempt, best, since = attempt+1, math.Inf(1), 0
	}
	if attempt != restarts+1 {
		t.Fatalf("training ended in attempt %d, want %d", attempt, restarts+1)
	}

	with := fit(pts, labels, map[string]string{})
	without := fit(pts, labels, map[string]string{"restarts": "0"})
	if !with.Reached || len(with.Epochs) != len(without.Epochs) || with.Epochs[len(with.Epochs)-1] != without.Epochs[len(without.Epochs)-1] {
		t.Fatalf("a learnable set trained differently with restarts allowed: %d epochs (reached %v) against %d", len(with.Epochs), with.Reached, len(without.Epochs))
	}
	for _, s := range with.Epochs {
		if s.Attempt != 1 {
			t.Fatalf("a learnable set restarted at epoch %d", s.Epoch)
		}
	}
}

// TestLogitsLayer: with logits=true the last layer Activations returns is
// the output layer before the softmax: its softmax must be the class
// probabilities Policy gives, and the hidden layers must be unchanged.
func TestLogitsLayer(t *testing.T) {
	pts, _ := xor()
	nets := map[string]*MLP{}
	for _, lg := range []string{"false", "true"} {
		m := New()
		if _, err := m.Init(context.Background(), sdk.AlgoConfig{Env: sdk.EnvSpec{ObsDim: 3, ActDim: 2}, Seed: 4,
			Hyper: map[string]string{"hidden_size": "6,5", "logits": lg}}); err != nil {
			t.Fatal(err)
		}
		nets[lg] = m
	}
	plain, err := nets["false"].Activations(context.Background(), pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	with, err := nets["true"].Activations(context.Background(), pts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 2 || len(with) != 3 || with[2].Name != LogitsLayer || with[2].Values.Cols != 2 {
		t.Fatalf("layers without logits %d, with %d (last %q)", len(plain), len(with), with[len(with)-1].Name)
	}
	for l := range plain {
		if plain[l].Name != with[l].Name || !slices.Equal(plain[l].Values.Data, with[l].Values.Data) {
			t.Fatalf("hidden layer %s differs with logits=true", plain[l].Name)
		}
	}
	probs, err := nets["true"].Policy(context.Background(), pts, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < pts.Rows; i++ {
		z := with[2].Values.Row(i)
		p0 := 1 / (1 + math.Exp(z[1]-z[0]))
		if math.Abs(p0-probs.Row(i)[0]) > 1e-12 {
			t.Fatalf("point %d: softmax of the logits gives %g, Policy %g", i, p0, probs.Row(i)[0])
		}
	}
	if _, err := ParseParams(map[string]string{"logits": "maybe"}); err == nil {
		t.Error("logits=maybe accepted")
	}
}
