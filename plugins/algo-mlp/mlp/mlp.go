// Package mlp is a fully connected classifier on gonum, served as the
// "mlp" algorithm plugin with the capability supervised: any widths and
// depth, tanh, leaky ReLU or ReLU hidden units, a softmax output trained
// with cross-entropy by Adam on shuffled minibatches until every training
// point is classified right and the training cross-entropy is at most a
// target (or an epoch cap is reached).
//
// It is the learner of Naitzat, Zhitnikov and Lim, "Topology of deep
// neural networks" (JMLR 2020): e.g. 2-15x10-2 with each of the three
// activations. Activations returns each hidden layer's outputs, named
// "mlp/1" .. "mlp/L", and with the parameter logits=true the output
// layer's logits ("mlp/logits") after them.
package mlp

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Version is the plugin's own semantic version.
const Version = "0.1.0"

// Activation functions of the hidden layers.
const (
	Tanh      = "tanh"
	ReLU      = "relu"
	LeakyReLU = "leaky_relu"
)

// Defaults of the parameters.
const (
	DefaultWidths    = "15,15,15,15,15,15,15,15,15,15"
	DefaultLR        = 0.002
	DefaultBatch     = 64
	DefaultMaxEpochs = 3000
	DefaultSlope     = 0.2
	// DefaultLossTarget is the training cross-entropy (nats, mean over the
	// whole training set) a network must also get below, besides 100%
	// training accuracy, to count as trained; see Params.LossTarget. The
	// paper's code checks its networks only every 1,000 full-batch Adam
	// steps at rates up to 0.02; on D-I such a run passes 1e-3 within
	// 500 steps, so its networks end well below that.
	DefaultLossTarget = 1e-4
	// DefaultPatience and DefaultRestarts bound a training that has
	// stalled: after DefaultPatience epochs in which the training loss
	// never got 1% below its best, the network is drawn again, at most
	// DefaultRestarts times. The paper's code likewise abandons a run
	// that stops progressing and retries it. Among 89 networks of the
	// published D-I and D-II sweeps that met the criterion, the longest
	// such stretch was 51 epochs, so a patience of 100 restarts none of
	// them.
	DefaultPatience = 100
	DefaultRestarts = 3
)

// stallMargin is how much below its best the training loss must get for
// an epoch to count as progress.
const stallMargin = 0.01

// progressEvery is how often Fit reports its progress at info level.
const progressEvery = 30 * time.Second

// Params are the learner's settings, from AlgoConfig.Hyper.
type Params struct {
	Widths     []int
	Activation string
	LR         float64
	Batch      int
	MaxEpochs  int
	Slope      float64 // leaky ReLU's slope for negative inputs
	// LossTarget: training goes on past the target accuracy until the
	// mean cross-entropy over the whole training set is at most this (0:
	// stop at the first epoch with the target accuracy). A network that
	// just separates the training set still puts points near its decision
	// boundary; the paper's "well-trained" networks are confident on every
	// point, which takes training well past the first error-free epoch.
	LossTarget float64
	// HalfLife, if positive, halves the learning rate every HalfLife
	// optimiser steps (smoothly: lr * 0.5^(step/HalfLife)), as the
	// paper's code decays Adam's rate.
	HalfLife float64
	// Patience is the number of epochs without progress (a training loss
	// 1% below the attempt's best) after which the attempt has stalled;
	// 0 never gives up. Restarts is how many times a stalled attempt is
	// replaced by a new initialisation; max_epochs bounds all attempts
	// together.
	Patience, Restarts int
	// Logits adds the output layer before the softmax ("mlp/logits") after
	// the hidden layers in Activations. The paper's code computes the
	// Betti numbers of the input, its hidden layers and this layer, so its
	// last "layer" is the two-dimensional logits.
	Logits bool
}

// ParseParams reads the declared parameters and hidden_size (the widths,
// "15,15" or "15x10") from hyper; unknown keys are ignored, since Hyper
// carries every config key of the run.
func ParseParams(hyper map[string]string) (Params, error) {
	p := Params{Activation: ReLU, LR: DefaultLR, Batch: DefaultBatch, MaxEpochs: DefaultMaxEpochs, Slope: DefaultSlope, LossTarget: DefaultLossTarget, Patience: DefaultPatience, Restarts: DefaultRestarts}
	widths := DefaultWidths
	if v := strings.TrimSpace(hyper["hidden_size"]); v != "" {
		widths = v
	}
	w, err := ParseWidths(widths)
	if err != nil {
		return p, err
	}
	p.Widths = w
	if v, ok := hyper["logits"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return p, fmt.Errorf("logits = %q: want true or false", v)
		}
		p.Logits = b
	}
	if v, ok := hyper["activation"]; ok {
		switch v {
		case Tanh, ReLU, LeakyReLU:
			p.Activation = v
		default:
			return p, fmt.Errorf("activation %q: want tanh, relu or leaky_relu", v)
		}
	}
	num := func(key string, dst *float64, ok func(float64) bool) error {
		if v, set := hyper[key]; set {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !ok(x) {
				return fmt.Errorf("%s = %q: out of range or not a number", key, v)
			}
			*dst = x
		}
		return nil
	}
	lr, batch, epochs := p.LR, float64(p.Batch), float64(p.MaxEpochs)
	patience, restarts := float64(p.Patience), float64(p.Restarts)
	whole := func(x float64) bool { return x >= 0 && x == math.Trunc(x) }
	for _, e := range []error{
		num("lr", &lr, func(x float64) bool { return x > 0 && x < 10 }),
		num("batch_size", &batch, func(x float64) bool { return x >= 1 && x == math.Trunc(x) }),
		num("max_epochs", &epochs, func(x float64) bool { return x >= 1 && x == math.Trunc(x) }),
		num("leaky_slope", &p.Slope, func(x float64) bool { return x >= 0 && x < 1 }),
		num("loss_target", &p.LossTarget, func(x float64) bool { return x >= 0 && x < 10 }),
		num("lr_halflife", &p.HalfLife, func(x float64) bool { return x >= 0 }),
		num("patience", &patience, whole),
		num("restarts", &restarts, whole),
	} {
		if e != nil {
			return p, e
		}
	}
	p.LR, p.Batch, p.MaxEpochs = lr, int(batch), int(epochs)
	p.Patience, p.Restarts = int(patience), int(restarts)
	return p, nil
}

// ParseWidths reads hidden widths as "15,15,15" or "15x3".
func ParseWidths(s string) ([]int, error) {
	if w, n, ok := strings.Cut(s, "x"); ok {
		width, err1 := strconv.Atoi(strings.TrimSpace(w))
		depth, err2 := strconv.Atoi(strings.TrimSpace(n))
		if err1 != nil || err2 != nil || width < 1 || depth < 1 || depth > 1000 {
			return nil, fmt.Errorf("hidden sizes %q: want WIDTHxDEPTH with positive whole numbers", s)
		}
		out := make([]int, depth)
		for i := range out {
			out[i] = width
		}
		return out, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("hidden sizes %q: %q is not a positive whole number", s, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// Net is the network: weights W[l] (in x out) and biases B[l] of each
// layer, hidden layers first, the output layer last.
type Net struct {
	W []*mat.Dense
	B [][]float64
}

// MLP is the learner.
type MLP struct {
	p       Params
	in, out int
	net     Net
	rng     *rand.Rand
	// Adam's moments, one per weight matrix and bias vector, and its step.
	mW, vW []*mat.Dense
	mB, vB [][]float64
	t      int
}

// New returns an MLP awaiting Init.
func New() *MLP { return &MLP{} }

var _ sdk.Classifier = (*MLP)(nil)

// Describe reports the plugin's name, kind, parameters and capabilities.
func (*MLP) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:        "mlp",
		Kind:        sdk.KindAlgo,
		Version:     Version,
		Protocol:    sdk.ProtocolVersion,
		Description: "fully connected softmax classifier (tanh, leaky ReLU, ReLU), Adam, trained to 100% training accuracy and a training loss target",
		Capabilities: map[string]string{
			sdk.CapSupervised: "true",
		},
		Params: []sdk.ParamSpec{
			{Name: "activation", Type: sdk.ParamString, Default: ReLU, Doc: "hidden units", Choices: []string{Tanh, LeakyReLU, ReLU}},
			{Name: "lr", Type: sdk.ParamFloat, Default: strconv.FormatFloat(DefaultLR, 'g', -1, 64), Doc: "Adam's learning rate", Min: "0", MinExclusive: true, Max: "10", MaxExclusive: true},
			{Name: "batch_size", Type: sdk.ParamInt, Default: strconv.Itoa(DefaultBatch), Doc: "points per minibatch", Min: "1"},
			{Name: "max_epochs", Type: sdk.ParamInt, Default: strconv.Itoa(DefaultMaxEpochs), Doc: "epochs (all attempts together) before Fit gives up on 100% training accuracy and the loss target", Min: "1"},
			{Name: "patience", Type: sdk.ParamInt, Default: strconv.Itoa(DefaultPatience), Doc: "epochs without the training loss getting 1% below its best after which training has stalled (0: never)", Min: "0"},
			{Name: "restarts", Type: sdk.ParamInt, Default: strconv.Itoa(DefaultRestarts), Doc: "times a stalled training starts again from a new initialisation drawn from the seed's stream", Min: "0"},
			{Name: "leaky_slope", Type: sdk.ParamFloat, Default: strconv.FormatFloat(DefaultSlope, 'g', -1, 64), Doc: "leaky ReLU's slope below 0", Min: "0", Max: "1", MaxExclusive: true},
			{Name: "loss_target", Type: sdk.ParamFloat, Default: strconv.FormatFloat(DefaultLossTarget, 'g', -1, 64), Doc: "after 100% training accuracy, train on until the mean cross-entropy over the training set is at most this (0: stop at the first error-free epoch)", Min: "0", Max: "10", MaxExclusive: true},
			{Name: "logits", Type: sdk.ParamBool, Default: "false", Doc: "also analyse the output layer before the softmax (mlp/logits), the last layer the paper's code analyses"},
			{Name: "lr_halflife", Type: sdk.ParamFloat, Default: "0", Doc: "optimiser steps over which the learning rate halves (0: constant)", Min: "0"},
		},
	}, nil
}

// Init builds the network for Env.ObsDim inputs and Env.ActDim classes,
// with Glorot-uniform weights for tanh and He-uniform for the ReLUs, and
// zero biases, drawn from the seed's stream.
func (m *MLP) Init(_ context.Context, cfg sdk.AlgoConfig) (sdk.AlgoSpec, error) {
	p, err := ParseParams(cfg.Hyper)
	if err != nil {
		return sdk.AlgoSpec{}, fmt.Errorf("mlp: %w", err)
	}
	if cfg.Env.ObsDim < 1 || cfg.Env.ActDim < 2 {
		return sdk.AlgoSpec{}, fmt.Errorf("mlp: %d inputs and %d classes: want at least 1 and 2", cfg.Env.ObsDim, cfg.Env.ActDim)
	}
	m.p, m.in, m.out = p, cfg.Env.ObsDim, cfg.Env.ActDim
	m.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d6c70))
	m.initWeights()
	return sdk.AlgoSpec{Layers: m.layerNames()}, nil
}

// initWeights draws a fresh network from the learner's stream (so a
// restart gets a new initialisation that the seed still determines) and
// clears Adam's state.
func (m *MLP) initWeights() {
	sizes := append(append([]int{m.in}, m.p.Widths...), m.out)
	m.net = Net{}
	m.mW, m.vW, m.mB, m.vB, m.t = nil, nil, nil, nil, 0
	for l := 0; l+1 < len(sizes); l++ {
		fin, fout := sizes[l], sizes[l+1]
		limit := math.Sqrt(6 / float64(fin+fout))
		if m.p.Activation != Tanh && l+2 < len(sizes) {
			limit = math.Sqrt(6 / float64(fin))
		}
		w := mat.NewDense(fin, fout, nil)
		raw := w.RawMatrix().Data
		for i := range raw {
			raw[i] = limit * (2*m.rng.Float64() - 1)
		}
		m.net.W = append(m.net.W, w)
		m.net.B = append(m.net.B, make([]float64, fout))
		m.mW = append(m.mW, mat.NewDense(fin, fout, nil))
		m.vW = append(m.vW, mat.NewDense(fin, fout, nil))
		m.mB = append(m.mB, make([]float64, fout))
		m.vB = append(m.vB, make([]float64, fout))
	}
}

// LogitsLayer is the name of the output layer's logits in Activations.
const LogitsLayer = "mlp/logits"

// layerNames are the hidden layers "mlp/1" .. "mlp/L", then LogitsLayer
// when Params.Logits is set; Activations relies on the order matching
// forward's outputs.
func (m *MLP) layerNames() []string {
	names := make([]string, len(m.p.Widths))
	for i := range names {
		names[i] = "mlp/" + strconv.Itoa(i+1)
	}
	if m.p.Logits {
		names = append(names, LogitsLayer)
	}
	return names
}

// toDense copies an sdk.Matrix into a gonum matrix.
func toDense(x sdk.Matrix) *mat.Dense {
	return mat.NewDense(x.Rows, x.Cols, append([]float64(nil), x.Data...))
}

// forward returns the post-activation outputs of every layer (hidden
// layers, then the output layer's logits) for the rows of x.
func (m *MLP) forward(x *mat.Dense) []*mat.Dense {
	outs := make([]*mat.Dense, len(m.net.W))
	a := x
	for l, w := range m.net.W {
		r, _ := a.Dims()
		_, c := w.Dims()
		z := mat.NewDense(r, c, nil)
		z.Mul(a, w)
		raw := z.RawMatrix()
		b := m.net.B[l]
		hidden := l+1 < len(m.net.W)
		for i := 0; i < r; i++ {
			row := raw.Data[i*raw.Stride : i*raw.Stride+c]
			for j := range row {
				v := row[j] + b[j]
				if hidden {
					v = m.act(v)
				}
				row[j] = v
			}
		}
		outs[l] = z
		a = z
	}
	return outs
}

func (m *MLP) act(v float64) float64 {
	switch m.p.Activation {
	case Tanh:
		return math.Tanh(v)
	case LeakyReLU:
		if v < 0 {
			return m.p.Slope * v
		}
		return v
	}
	return max(v, 0)
}

// actGrad is the activation's derivative given its output a (all three
// are monotone, so the output tells the input's sign; at 0 the ReLUs take
// the left derivative).
func (m *MLP) actGrad(a float64) float64 {
	switch m.p.Activation {
	case Tanh:
		return 1 - a*a
	case LeakyReLU:
		if a <= 0 {
			return m.p.Slope
		}
		return 1
	}
	if a <= 0 {
		return 0
	}
	return 1
}

// softmaxRows turns logits into probabilities in place and returns the
// mean cross-entropy of the labels.
func softmaxRows(z *mat.Dense, labels []int) float64 {
	raw := z.RawMatrix()
	loss := 0.0
	for i := 0; i < raw.Rows; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+raw.Cols]
		top := row[0]
		for _, v := range row {
			top = max(top, v)
		}
		sum := 0.0
		for j, v := range row {
			row[j] = math.Exp(v - top)
			sum += row[j]
		}
		for j := range row {
			row[j] /= sum
		}
		loss -= math.Log(max(row[labels[i]], 1e-300))
	}
	return loss / float64(raw.Rows)
}

// step makes one Adam update on the minibatch x, labels and returns its
// loss.
func (m *MLP) step(x *mat.Dense, labels []int) float64 {
	outs := m.forward(x)
	L := len(m.net.W)
	probs := outs[L-1]
	loss := softmaxRows(probs, labels)
	n, _ := x.Dims()
	// dZ of the output layer: (p - onehot) / n.
	dz := probs
	raw := dz.RawMatrix()
	for i := 0; i < n; i++ {
		raw.Data[i*raw.Stride+labels[i]] -= 1
	}
	dz.Scale(1/float64(n), dz)
	m.t++
	for l := L - 1; l >= 0; l-- {
		in := x
		if l > 0 {
			in = outs[l-1]
		}
		fin, fout := m.net.W[l].Dims()
		gw := mat.NewDense(fin, fout, nil)
		gw.Mul(in.T(), dz)
		gb := make([]float64, fout)
		draw := dz.RawMatrix()
		for i := 0; i < n; i++ {
			for j, v := range draw.Data[i*draw.Stride : i*draw.Stride+fout] {
				gb[j] += v
			}
		}
		var next *mat.Dense
		if l > 0 {
			next = mat.NewDense(n, fin, nil)
			next.Mul(dz, m.net.W[l].T())
			nraw, araw := next.RawMatrix(), outs[l-1].RawMatrix()
			for i := 0; i < n; i++ {
				for j := 0; j < fin; j++ {
					nraw.Data[i*nraw.Stride+j] *= m.actGrad(araw.Data[i*araw.Stride+j])
				}
			}
		}
		m.adam(m.net.W[l].RawMatrix().Data, gw.RawMatrix().Data, m.mW[l].RawMatrix().Data, m.vW[l].RawMatrix().Data)
		m.adam(m.net.B[l], gb, m.mB[l], m.vB[l])
		dz = next
	}
	return loss
}

// adam applies Adam (beta 0.9, 0.999, eps 1e-8) at step m.t.
func (m *MLP) adam(p, g, mo, v []float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	c1 := 1 - math.Pow(b1, float64(m.t))
	c2 := 1 - math.Pow(b2, float64(m.t))
	lr := m.p.LR
	if m.p.HalfLife > 0 {
		lr *= math.Pow(0.5, float64(m.t)/m.p.HalfLife)
	}
	for i := range p {
		mo[i] = b1*mo[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		p[i] -= lr * (mo[i] / c1) / (math.Sqrt(v[i]/c2) + eps)
	}
}

// Accuracy is the fraction of rows of x whose largest logit is their
// label's.
func (m *MLP) Accuracy(x sdk.Matrix, labels []int) float64 {
	acc, _ := m.Evaluate(x, labels)
	return acc
}

// Evaluate returns the accuracy on the rows of x and their mean
// cross-entropy (nats), in one pass of the network.
func (m *MLP) Evaluate(x sdk.Matrix, labels []int) (accuracy, loss float64) {
	outs := m.forward(toDense(x))
	z := outs[len(outs)-1].RawMatrix()
	right := 0
	for i := 0; i < z.Rows; i++ {
		row := z.Data[i*z.Stride : i*z.Stride+z.Cols]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == labels[i] {
			right++
		}
	}
	loss = softmaxRows(outs[len(outs)-1], labels)
	return float64(right) / float64(z.Rows), loss
}

// Fit trains on shuffled minibatches until the training accuracy reaches
// the target (1 unless set) and the mean cross-entropy over the training
// set is at most the loss target (both measured on the whole set after
// the epoch), or the epoch cap (the request's, else the parameter
// max_epochs) is reached. Each epoch's stat holds those two whole-set
// values and its attempt: a training that stalls (Params.Patience) starts
// again from a new initialisation, up to Params.Restarts times, within
// the same epoch cap; when the last attempt stalls too, Fit returns
// without having reached the target.
func (m *MLP) Fit(ctx context.Context, req sdk.FitRequest) (sdk.FitResult, error) {
	if m.net.W == nil {
		return sdk.FitResult{}, fmt.Errorf("mlp: Fit before Init")
	}
	if err := req.Points.Validate(true); err != nil {
		return sdk.FitResult{}, fmt.Errorf("mlp: fit points: %w", err)
	}
	n := req.Points.Rows
	if req.Points.Cols != m.in || len(req.Labels) != n || n == 0 {
		return sdk.FitResult{}, fmt.Errorf("mlp: fit on %d x %d points with %d labels; the network takes %d inputs", n, req.Points.Cols, len(req.Labels), m.in)
	}
	if req.Classes != 0 && req.Classes != m.out {
		return sdk.FitResult{}, fmt.Errorf("mlp: fit with %d classes; the network has %d outputs", req.Classes, m.out)
	}
	for i, l := range req.Labels {
		if l < 0 || l >= m.out {
			return sdk.FitResult{}, fmt.Errorf("mlp: label %d of point %d is outside 0..%d", l, i, m.out-1)
		}
	}
	target := req.TargetAccuracy
	if target <= 0 || target > 1 {
		target = 1
	}
	epochs := req.MaxEpochs
	if epochs <= 0 {
		epochs = m.p.MaxEpochs
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	d := req.Points.Cols
	var res sdk.FitResult
	// Training a deep network on D-II takes minutes, one call with no
	// other sign of life: every epoch is logged at debug level and, at
	// most every progressEvery, at info level, so a user sees how the
	// loss moves and when a run will not get there.
	log := sdk.Logger()
	lastInfo := time.Now()
	attempt, best, since := 1, math.Inf(1), 0
	for e := 1; e <= epochs; e++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		m.rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for lo := 0; lo < n; lo += m.p.Batch {
			hi := min(lo+m.p.Batch, n)
			x := mat.NewDense(hi-lo, d, nil)
			labels := make([]int, hi-lo)
			for r, i := range order[lo:hi] {
				x.SetRow(r, req.Points.Row(i))
				labels[r] = req.Labels[i]
			}
			m.step(x, labels)
		}
		acc, loss := m.Evaluate(req.Points, req.Labels)
		res.Epochs = append(res.Epochs, sdk.EpochStat{Epoch: e, Loss: loss, Accuracy: acc, Attempt: attempt})
		args := []any{"epoch", e, "attempt", attempt, "max_epochs", epochs, "train_accuracy", acc, "train_loss", loss, "loss_target", m.p.LossTarget}
		log.Debug("training", args...)
		if time.Since(lastInfo) >= progressEvery {
			log.Info("training", args...)
			lastInfo = time.Now()
		}
		if acc >= target && (m.p.LossTarget == 0 || loss <= m.p.LossTarget) {
			res.Reached = true
			break
		}
		if loss < best*(1-stallMargin) {
			best, since = loss, 0
			continue
		}
		if since++; m.p.Patience == 0 || since < m.p.Patience {
			continue
		}
		if attempt > m.p.Restarts {
			// Every attempt stalled: going on to the epoch cap would
			// only spend hours on a network that will not get there.
			log.Info("training stalled on every attempt; giving up", "epoch", e, "attempts", attempt, "best_train_loss", best)
			break
		}
		log.Info("training stalled; starting again from a new initialisation", "epoch", e, "attempt", attempt, "best_train_loss", best, "patience", m.p.Patience)
		attempt, best, since = attempt+1, math.Inf(1), 0
		m.initWeights()
	}
	return res, nil
}

// Activations returns the hidden layers' outputs for states, and the
// logits after them with Params.Logits (all of them when names is
// empty).
func (m *MLP) Activations(_ context.Context, states sdk.Matrix, names []string) ([]sdk.Layer, error) {
	if m.net.W == nil {
		return nil, fmt.Errorf("mlp: Activations before Init")
	}
	if err := states.Validate(true); err != nil || states.Cols != m.in {
		return nil, fmt.Errorf("mlp: activations of %d x %d states; the network takes %d inputs (%v)", states.Rows, states.Cols, m.in, err)
	}
	outs := m.forward(toDense(states))
	all := m.layerNames()
	if len(names) == 0 {
		names = all
	}
	var ls []sdk.Layer
	for _, name := range names {
		idx := -1
		for i, a := range all {
			if a == name {
				idx = i
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("mlp: no layer %q (have %s)", name, strings.Join(all, ", "))
		}
		o := outs[idx]
		r, c := o.Dims()
		v := sdk.NewMatrix(r, c)
		for i := 0; i < r; i++ {
			copy(v.Row(i), o.RawRowView(i))
		}
		ls = append(ls, sdk.Layer{Name: name, Values: v})
	}
	return ls, nil
}

// Act is the RL training step, which a classifier does not take.
func (m *MLP) Act(context.Context, sdk.ActRequest) (sdk.ActResult, error) {
	return sdk.ActResult{}, fmt.Errorf("mlp: a supervised learner; train it with Fit (nthost --data ...), not in an environment")
}

// Policy returns each state's class probabilities (deterministic: one-hot
// of the most likely class).
func (m *MLP) Policy(_ context.Context, obs sdk.Matrix, deterministic bool) (sdk.Matrix, error) {
	if m.net.W == nil || obs.Cols != m.in {
		return sdk.Matrix{}, fmt.Errorf("mlp: policy of %d x %d states before Init or of the wrong width", obs.Rows, obs.Cols)
	}
	outs := m.forward(toDense(obs))
	z := outs[len(outs)-1]
	softmaxRows(z, make([]int, obs.Rows))
	r, c := z.Dims()
	out := sdk.NewMatrix(r, c)
	for i := 0; i < r; i++ {
		row := z.RawRowView(i)
		if deterministic {
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			out.Row(i)[best] = 1
		} else {
			copy(out.Row(i), row)
		}
	}
	return out, nil
}

// checkpoint is what Save writes (gob).
type checkpoint struct {
	P       Params
	In, Out int
	W       [][]float64
	B       [][]float64
}

// Save returns the network's settings and weights.
func (m *MLP) Save(context.Context) ([]byte, error) {
	c := checkpoint{P: m.p, In: m.in, Out: m.out, B: m.net.B}
	for _, w := range m.net.W {
		c.W = append(c.W, w.RawMatrix().Data)
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(c); err != nil {
		return nil, fmt.Errorf("mlp: save: %w", err)
	}
	return b.Bytes(), nil
}

// Load restores what Save wrote (weights only; Adam starts afresh).
func (m *MLP) Load(_ context.Context, data []byte) error {
	var c checkpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return fmt.Errorf("mlp: load: %w", err)
	}
	sizes := append(append([]int{c.In}, c.P.Widths...), c.Out)
	if len(c.W) != len(sizes)-1 || len(c.B) != len(c.W) {
		return fmt.Errorf("mlp: load: %d weight matrices for %d layers", len(c.W), len(sizes)-1)
	}
	m.p, m.in, m.out = c.P, c.In, c.Out
	m.net = Net{B: c.B}
	m.mW, m.vW, m.mB, m.vB, m.t = nil, nil, nil, nil, 0
	for l, w := range c.W {
		if len(w) != sizes[l]*sizes[l+1] || len(c.B[l]) != sizes[l+1] {
			return fmt.Errorf("mlp: load: layer %d has %d weights, want %d", l+1, len(w), sizes[l]*sizes[l+1])
		}
		m.net.W = append(m.net.W, mat.NewDense(sizes[l], sizes[l+1], w))
		m.mW = append(m.mW, mat.NewDense(sizes[l], sizes[l+1], nil))
		m.vW = append(m.vW, mat.NewDense(sizes[l], sizes[l+1], nil))
		m.mB = append(m.mB, make([]float64, sizes[l+1]))
		m.vB = append(m.vB, make([]float64, sizes[l+1]))
	}
	if m.rng == nil {
		m.rng = rand.New(rand.NewPCG(0, 0x6d6c70))
	}
	return nil
}
