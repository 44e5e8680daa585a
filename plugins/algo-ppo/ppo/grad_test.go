package ppo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// testSpec is a small task: 3 observations, 2 actions in [-1, 1].
func testSpec(numEnvs int) sdk.EnvSpec {
	return sdk.EnvSpec{TaskID: "Toy-v0", NumEnvs: numEnvs, ObsDim: 3, ActDim: 2,
		ActLow: []float64{-1, -1}, ActHigh: []float64{1, 1}, MaxEpisodeSteps: 50}
}

func newTestLearner(t *testing.T, numEnvs int, hyper map[string]string) *learner {
	t.Helper()
	l, err := newLearner(sdk.AlgoConfig{Env: testSpec(numEnvs), Seed: 7, Hyper: hyper})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// refForward is a plain-loop forward pass written independently of
// mlp.forward: x times the torch-layout weight, tanh on hidden layers.
func refForward(m mlp, x []float64) []float64 {
	h := append([]float64(nil), x...)
	for l, d := range m.layers {
		y := make([]float64, d.out)
		for o := 0; o < d.out; o++ {
			s := d.b[o]
			for i := 0; i < d.in; i++ {
				s += h[i] * d.w[i*d.out+o]
			}
			if l < len(m.layers)-1 {
				s = math.Tanh(s)
			}
			y[o] = s
		}
		h = y
	}
	return h
}

// refLoss is the PPO loss of CleanRL's update on samples idx, computed
// directly from its definition.
func refLoss(p *learner, idx []int) float64 {
	c := p.cfg
	n := float64(len(idx))
	adv := make([]float64, len(idx))
	for i, k := range idx {
		adv[i] = p.bAdv[k]
	}
	if c.NormAdv {
		var mean, ss float64
		for _, a := range adv {
			mean += a
		}
		mean /= n
		for _, a := range adv {
			ss += (a - mean) * (a - mean)
		}
		sd := math.Sqrt(ss / (n - 1))
		for i := range adv {
			adv[i] = (adv[i] - mean) / (sd + 1e-8)
		}
	}
	var pg, vl, ent float64
	for i, k := range idx {
		obs := p.bObs[k*p.obsDim : (k+1)*p.obsDim]
		mu := refForward(p.actor, obs)
		lp := 0.0
		for j := range mu {
			sd := math.Exp(p.logStd[j])
			a := p.bAct[k*p.actDim+j]
			// log of the normal density 1/(sd sqrt(2 pi)) exp(-(a-mu)^2 / 2sd^2)
			lp += math.Log(math.Exp(-(a-mu[j])*(a-mu[j])/(2*sd*sd)) / (sd * math.Sqrt(2*math.Pi)))
			ent += 0.5 * math.Log(2*math.Pi*math.E*sd*sd)
		}
		r := math.Exp(lp - p.bLogP[k])
		cr := math.Min(math.Max(r, 1-c.ClipCoef), 1+c.ClipCoef)
		pg += math.Max(-adv[i]*r, -adv[i]*cr)
		v := refForward(p.critic, obs)[0]
		un := (v - p.bRet[k]) * (v - p.bRet[k])
		vc := p.bVal[k] + math.Min(math.Max(v-p.bVal[k], -c.ClipCoef), c.ClipCoef)
		cl := (vc - p.bRet[k]) * (vc - p.bRet[k])
		if c.ClipVLoss {
			vl += 0.5 * math.Max(un, cl)
		} else {
			vl += 0.5 * un
		}
	}
	return pg/n - c.EntCoef*ent/n + c.VFCoef*vl/n
}

// fillRollout puts random but plausible data in the rollout: old log-probs
// and values off the current ones so that some ratios and values fall
// outside the clip range.
func fillRollout(p *learner, rnd *rand.Rand) {
	for i := range p.bObs {
		p.bObs[i] = rnd.NormFloat64()
	}
	for k := 0; k < p.batch; k++ {
		obs := p.bObs[k*p.obsDim : (k+1)*p.obsDim]
		mu := refForward(p.actor, obs)
		lp := 0.0
		for j := range mu {
			a := mu[j] + math.Exp(p.logStd[j])*rnd.NormFloat64()
			p.bAct[k*p.actDim+j] = a
			lp += -0.5*math.Pow((a-mu[j])/math.Exp(p.logStd[j]), 2) - p.logStd[j] - halfLog2Pi
		}
		p.bLogP[k] = lp + 0.4*rnd.NormFloat64()
		p.bVal[k] = refForward(p.critic, obs)[0] + 0.4*rnd.NormFloat64()
		p.bAdv[k] = rnd.NormFloat64()
		p.bRet[k] = p.bVal[k] + rnd.NormFloat64()
	}
}

func TestLossGradientMatchesFiniteDifferences(t *testing.T) {
	for _, clipV := range []string{"true", "false"} {
		p := newTestLearner(t, 2, map[string]string{"num_steps": "8", "num_minibatches": "1",
			"hidden_size": "5,4", "ent_coef": "0.01", "clip_vloss": clipV})
		rnd := rand.New(rand.NewPCG(1, 2))
		// Move the weights off their initial values (the actor's output
		// layer starts tiny) and the log-std off zero.
		for i := range p.theta {
			p.theta[i] += 0.3 * rnd.NormFloat64()
		}
		fillRollout(p, rnd)
		idx := []int{0, 3, 5, 6, 9, 10, 12, 15}

		side := p.minibatchGrad(idx)
		got := side.pgLoss - p.cfg.EntCoef*side.entropy + p.cfg.VFCoef*side.vLoss
		want := refLoss(p, idx)
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Fatalf("clip_vloss=%s: loss %v, reference %v", clipV, got, want)
		}
		if side.clipFrac == 0 || side.clipFrac == 1 {
			t.Fatalf("test data has clip fraction %v: both branches must be exercised", side.clipFrac)
		}

		const h = 1e-6
		grad := append([]float64(nil), p.grad...)
		for i := range p.theta {
			old := p.theta[i]
			p.theta[i] = old + h
			up := refLoss(p, idx)
			p.theta[i] = old - h
			down := refLoss(p, idx)
			p.theta[i] = old
			fd := (up - down) / (2 * h)
			if math.Abs(fd-grad[i]) > 1e-7+1e-5*math.Abs(fd) {
				t.Errorf("clip_vloss=%s: parameter %d (%s): analytic %.9g, finite difference %.9g", clipV, i, p.paramName(i), grad[i], fd)
			}
		}
	}
}

// paramName says which part of theta index i belongs to, for messages.
func (p *learner) paramName(i int) string {
	switch {
	case i < p.nActor:
		return "actor"
	case i < p.nActor+p.actDim:
		return "log-std"
	default:
		return "critic"
	}
}

func TestGaussianLogProbAndEntropy(t *testing.T) {
	mu := []float64{0.3, -1.2}
	logStd := []float64{-0.5, 0.7}
	// The density is a product of univariate normals; check one point
	// against the textbook formula and that each factor integrates to 1.
	a := []float64{1.1, 0.4}
	want := 1.0
	for j := range mu {
		s := math.Exp(logStd[j])
		want *= math.Exp(-(a[j]-mu[j])*(a[j]-mu[j])/(2*s*s)) / (s * math.Sqrt(2*math.Pi))
	}
	if got := math.Exp(gaussLogProb(a, mu, logStd)); math.Abs(got-want) > 1e-14 {
		t.Fatalf("density %v, want %v", got, want)
	}
	// Entropy -E[log p] by quadrature, dimension by dimension.
	hq := 0.0
	for j := range mu {
		s := math.Exp(logStd[j])
		const steps = 200000
		lo, hi := mu[j]-12*s, mu[j]+12*s
		dx := (hi - lo) / steps
		mass := 0.0
		for k := 0; k < steps; k++ {
			x := lo + (float64(k)+0.5)*dx
			lp := gaussLogProb([]float64{x}, mu[j:j+1], logStd[j:j+1])
			mass += math.Exp(lp) * dx
			hq -= math.Exp(lp) * lp * dx
		}
		if math.Abs(mass-1) > 1e-9 {
			t.Fatalf("dimension %d: density integrates to %v", j, mass)
		}
	}
	if got := gaussEntropy(logStd); math.Abs(got-hq) > 1e-8 {
		t.Fatalf("entropy %v, quadrature %v", got, hq)
	}
}

func TestGAEHandWorked(t *testing.T) {
	// Two envs, three steps. Env 0 terminates at step 1; env 1 runs on
	// (a truncation arrives here already folded into the reward).
	// gamma 0.9, lambda 0.8.
	rewards := []float64{1, 0, 2, 1, 3, -1}
	values := []float64{0.5, 1, 1, 2, 1.5, 0}
	done := []bool{false, false, true, false, false, false}
	next := []float64{2, 4}
	adv, ret := make([]float64, 6), make([]float64, 6)
	gae(adv, ret, rewards, values, done, next, 3, 2, 0.9, 0.8)
	// Env 0: d2 = 3 + .9*2 - 1.5 = 3.3; A2 = 3.3.
	//        d1 = 2 - 1 = 1 (terminal); A1 = 1.
	//        d0 = 1 + .9*1 - .5 = 1.4; A0 = 1.4 + .72*1 = 2.12.
	// Env 1: d2 = -1 + .9*4 - 0 = 2.6; A2 = 2.6.
	//        d1 = 1 + .9*0 - 2 = -1; A1 = -1 + .72*2.6 = 0.872.
	//        d0 = 0 + .9*2 - 1 = 0.8; A0 = 0.8 + .72*0.872 = 1.42784.
	want := []float64{2.12, 1.42784, 1, 0.872, 3.3, 2.6}
	for k := range want {
		if math.Abs(adv[k]-want[k]) > 1e-12 {
			t.Errorf("advantage[%d] = %v, want %v", k, adv[k], want[k])
		}
		if math.Abs(ret[k]-(want[k]+values[k])) > 1e-12 {
			t.Errorf("return[%d] = %v, want %v", k, ret[k], want[k]+values[k])
		}
	}
}

func TestGAETruncation(t *testing.T) {
	// One env, two steps; the episode is truncated after step 0 with
	// V(final observation) = 2, so Act stored r0 = 1 + 0.9*2 = 2.8 and
	// marked the step done; step 1 starts a new episode. gamma 0.9,
	// lambda 0.8, V(s0) = 1, V(s1) = 0.5, V(next) = 3, r1 = 1.
	adv, ret := make([]float64, 2), make([]float64, 2)
	gae(adv, ret, []float64{2.8, 1}, []float64{1, 0.5}, []bool{true, false}, []float64{3}, 2, 1, 0.9, 0.8)
	// A1 = 1 + .9*3 - .5 = 3.2; A0 = 2.8 - 1 = 1.8, nothing carried over
	// the cut (a termination would have stored r0 = 1 and given A0 = 0).
	if math.Abs(adv[1]-3.2) > 1e-12 || math.Abs(adv[0]-1.8) > 1e-12 {
		t.Fatalf("advantages %v, want [1.8 3.2]", adv)
	}
	if math.Abs(ret[0]-2.8) > 1e-12 {
		t.Fatalf("return of the truncated step %v, want 2.8", ret[0])
	}
}

func TestOrthogonalInit(t *testing.T) {
	p := newTestLearner(t, 1, map[string]string{"hidden_size": "64,64"})
	check := func(name string, d dense, gain float64) {
		// torch's weight is out x in; its rows (if out <= in) or columns
		// are orthonormal times the gain. Ours is its transpose.
		small, big := d.out, d.in
		dot := func(a, b int) float64 { // over the longer dimension
			s := 0.0
			for k := 0; k < big; k++ {
				if d.out <= d.in {
					s += d.w[k*d.out+a] * d.w[k*d.out+b]
				} else {
					s += d.w[a*d.out+k] * d.w[b*d.out+k]
				}
			}
			return s
		}
		if d.out > d.in {
			small, big = d.in, d.out
		}
		for a := 0; a < small; a++ {
			for b := 0; b < small; b++ {
				want := 0.0
				if a == b {
					want = gain * gain
				}
				if got := dot(a, b); math.Abs(got-want) > 1e-12 {
					t.Fatalf("%s: Gram(%d,%d) = %v, want %v", name, a, b, got, want)
				}
			}
		}
		for _, b := range d.b {
			if b != 0 {
				t.Fatalf("%s: nonzero bias %v", name, b)
			}
		}
	}
	check("actor/1", p.actor.layers[0], math.Sqrt2)
	check("actor/2", p.actor.layers[1], math.Sqrt2)
	check("actor/out", p.actor.layers[2], 0.01)
	check("critic/1", p.critic.layers[0], math.Sqrt2)
	check("critic/out", p.critic.layers[2], 1)
	for _, s := range p.logStd {
		if s != 0 {
			t.Fatalf("log-std starts at %v, want 0", s)
		}
	}
}

func TestAdamMatchesDefinition(t *testing.T) {
	// Minimise (x-3)^2 from 0 and follow the update of Kingma & Ba
	// (bias-corrected moments, eps added to sqrt(v-hat)) alongside.
	a := newAdam(1, 1e-5)
	x := []float64{0}
	var m, v, ref float64
	for step := 1; step <= 50; step++ {
		a.step(x, []float64{2 * (x[0] - 3)}, 0.1)
		g := 2 * (ref - 3)
		m = 0.9*m + 0.1*g
		v = 0.999*v + 0.001*g*g
		mh := m / (1 - math.Pow(0.9, float64(step)))
		vh := v / (1 - math.Pow(0.999, float64(step)))
		ref -= 0.1 * mh / (math.Sqrt(vh) + 1e-5)
		if math.Abs(x[0]-ref) > 1e-12 {
			t.Fatalf("step %d: x = %v, reference %v", step, x[0], ref)
		}
	}
	if a.Step != 50 {
		t.Fatalf("step counter %d, want 50", a.Step)
	}
}

func TestClipGradNorm(t *testing.T) {
	g := []float64{3, 4}
	norm := math.Sqrt(sumSquares(g))
	if norm != 5 {
		t.Fatalf("norm %v, want 5", norm)
	}
	c := clipScale(norm, 1)
	if got := math.Hypot(c*g[0], c*g[1]); math.Abs(got-1) > 1e-6 {
		t.Fatalf("clipped norm %v, want 1", got)
	}
	if c := clipScale(0.5, 1); c != 1 {
		t.Fatalf("a gradient under the limit is scaled by %v", c)
	}
	// Adam on scaled gradients equals Adam on pre-scaled ones.
	a, b := newAdam(2, 1e-5), newAdam(2, 1e-5)
	x, y := []float64{1, 2}, []float64{1, 2}
	a.stepRange(x, []float64{3, 4}, 0, 2, 0.1, 0.2, 1)
	b.stepRange(y, []float64{3 * 0.2, 4 * 0.2}, 0, 2, 0.1, 1, 1)
	if x[0] != y[0] || x[1] != y[1] {
		t.Fatalf("scaled step %v, pre-scaled step %v", x, y)
	}
}
