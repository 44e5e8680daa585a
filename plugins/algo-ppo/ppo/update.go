package ppo

import (
	"math"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// updateSide holds what the actor and critic halves of a minibatch
// gradient report; each half writes only its own fields.
type updateSide struct {
	pgLoss, entropy, oldKL, approxKL, clipFrac float64
	vLoss                                      float64
}

// learn runs one PPO update on the full rollout (p.nextVal holds the
// values of the observations that follow it) and returns its statistics,
// named as CleanRL logs them.
func (p *learner) learn() sdk.UpdateStats {
	c := p.cfg
	p.update++
	lr := c.LearningRate
	if c.AnnealLR {
		frac := 1 - float64(p.update-1)/float64(p.totalUpdates)
		lr = math.Max(0, frac) * c.LearningRate
	}
	gae(p.bAdv, p.bRet, p.bRew, p.bVal, p.bDone, p.nextVal, c.NumSteps, p.nE, c.Gamma, c.GAELambda)

	// The critic's half of every minibatch (its gradient and its Adam
	// step) runs on a helper goroutine that lives for this update; the
	// actor's half runs here. Each half touches only its own slices of
	// theta, grad and the Adam moments, and the two halves' squared
	// gradient norms are added in a fixed order, so the result does not
	// depend on scheduling.
	jobs, done := make(chan criticJob), make(chan criticResult)
	defer close(jobs)
	go p.criticWorker(jobs, done)

	// Like CleanRL's b_inds: the identity at each update, shuffled in
	// place at each epoch.
	for i := range p.perm {
		p.perm[i] = i
	}
	na := p.nActor + p.actDim // actor and log-std parameters come first
	var clipFracSum float64
	var nmb int
	var side updateSide
	// The critic's Adam step for a minibatch travels with the next
	// minibatch's gradient job: one hand-off per minibatch, not two.
	var pending criticJob
	for epoch := 0; epoch < c.UpdateEpochs; epoch++ {
		p.shuffle()
		for start := 0; start < p.batch; start += p.mbSize {
			end := min(start+p.mbSize, p.batch)
			idx := p.perm[start:end]
			pending.idx = idx
			jobs <- pending
			side = updateSide{}
			clear(p.grad[:na])
			p.actorGrad(idx, &side)
			sa := sumSquares(p.grad[:na])
			r := <-done
			side.vLoss = r.vLoss
			scale := clipScale(math.Sqrt(sa+r.sumSq), c.MaxGradNorm)
			p.opt.Step++
			pending = criticJob{adam: true, lr: lr, scale: scale, t: p.opt.Step}
			p.opt.stepRange(p.theta, p.grad, 0, na, lr, scale, p.opt.Step)
			clipFracSum += side.clipFrac
			nmb++
		}
		if c.TargetKL > 0 && side.approxKL > c.TargetKL {
			break
		}
	}
	// The last Adam step, and a round trip so that it is done before
	// anything reads the weights.
	jobs <- pending
	<-done

	st := sdk.UpdateStats{Update: p.update, Step: p.globalStep, Stats: map[string]float64{
		"charts/learning_rate":      lr,
		"losses/value_loss":         side.vLoss,
		"losses/policy_loss":        side.pgLoss,
		"losses/entropy":            side.entropy,
		"losses/old_approx_kl":      side.oldKL,
		"losses/approx_kl":          side.approxKL,
		"losses/clipfrac":           clipFracSum / float64(nmb),
		"losses/explained_variance": explainedVariance(p.bVal, p.bRet),
		"charts/SPS":                0,
	}}
	if el := time.Since(p.start).Seconds(); el > 0 {
		st.Stats["charts/SPS"] = math.Floor(float64(p.globalStep-p.startStep) / el)
	}
	return st
}

// shuffle permutes the minibatch order in place (Fisher-Yates).
func (p *learner) shuffle() {
	for i := len(p.perm) - 1; i > 0; i-- {
		j := p.rnd.IntN(i + 1)
		p.perm[i], p.perm[j] = p.perm[j], p.perm[i]
	}
}

// criticJob asks the critic worker for the Adam step of the critic's
// parameters (if adam is set), then for the gradient of vf_coef * v_loss
// on samples idx (if idx is not nil). Every job is answered.
type criticJob struct {
	idx       []int
	adam      bool
	lr, scale float64
	t         int
}

// criticResult is the critic worker's answer to a job: the loss and the
// squared norm of the gradient if it computed one.
type criticResult struct {
	vLoss, sumSq float64
}

// criticWorker serves criticJobs until jobs is closed.
func (p *learner) criticWorker(jobs <-chan criticJob, done chan<- criticResult) {
	na := p.nActor + p.actDim
	for j := range jobs {
		if j.adam {
			p.opt.stepRange(p.theta, p.grad, na, len(p.theta), j.lr, j.scale, j.t)
		}
		var r criticResult
		if j.idx != nil {
			clear(p.grad[na:])
			r.vLoss = p.criticGrad(j.idx)
			r.sumSq = sumSquares(p.grad[na:])
		}
		done <- r
	}
}

// minibatchGrad sets p.grad to the gradient of the PPO loss
//
//	pg_loss - ent_coef * entropy + vf_coef * v_loss
//
// on the rollout samples idx, without touching the weights. The update
// itself interleaves the same steps with the Adam steps; this form is for
// tests.
func (p *learner) minibatchGrad(idx []int) updateSide {
	clear(p.grad)
	var side updateSide
	p.actorGrad(idx, &side)
	side.vLoss = p.criticGrad(idx)
	return side
}

// gather copies the normalised observations of samples idx into w's input.
func (p *learner) gather(w *work, idx []int) {
	x := w.input(len(idx), p.obsDim)
	for i, k := range idx {
		copy(x[i*p.obsDim:(i+1)*p.obsDim], p.bObs[k*p.obsDim:(k+1)*p.obsDim])
	}
}

// actorGrad accumulates the gradient of pg_loss - ent_coef * entropy into
// the actor's and log-std's gradients and fills the actor's statistics.
func (p *learner) actorGrad(idx []int, side *updateSide) {
	c := p.cfg
	n := len(idx)
	fn := float64(n)
	p.gather(p.mbA, idx)
	p.actor.forward(p.mbA, n)
	mu := p.mbA.output(n, p.actor)

	adv := p.mbAdv[:n]
	for i, k := range idx {
		adv[i] = p.bAdv[k]
	}
	if c.NormAdv {
		// torch's std is the unbiased one.
		mean := 0.0
		for _, a := range adv {
			mean += a
		}
		mean /= fn
		ss := 0.0
		for _, a := range adv {
			ss += (a - mean) * (a - mean)
		}
		// One sample has no spread (torch would give NaN and poison the
		// weights); its normalised advantage is then 0.
		sd := 0.0
		if n > 1 {
			sd = math.Sqrt(ss / (fn - 1))
		}
		for i := range adv {
			adv[i] = (adv[i] - mean) / (sd + 1e-8)
		}
	}

	ad := p.actDim
	dMu := p.dMu[:n*ad]
	var pgSum, oldKL, approxKL, clipped float64
	for i, k := range idx {
		act := p.bAct[k*ad : (k+1)*ad]
		m := mu[i*ad : (i+1)*ad]
		lp := gaussLogProb(act, m, p.logStd)
		logRatio := lp - p.bLogP[k]
		ratio := math.Exp(logRatio)
		oldKL += -logRatio
		approxKL += (ratio - 1) - logRatio
		if math.Abs(ratio-1) > c.ClipCoef {
			clipped++
		}
		a := adv[i]
		pg1 := -a * ratio
		pg2 := -a * math.Max(1-c.ClipCoef, math.Min(1+c.ClipCoef, ratio))
		// The max takes the unclipped term's gradient when it wins; when
		// the clipped term wins the ratio is outside the clip range and
		// the gradient is zero.
		g := 0.0
		if pg1 >= pg2 {
			pgSum += pg1
			g = -a * ratio / fn // d loss / d log-prob of sample i
		} else {
			pgSum += pg2
		}
		for j := 0; j < ad; j++ {
			inv := math.Exp(-p.logStd[j])
			z := (act[j] - m[j]) * inv
			dMu[i*ad+j] = g * z * inv
			p.gLogStd[j] += g * (z*z - 1)
		}
	}
	ent := gaussEntropy(p.logStd)
	for j := range p.gLogStd {
		p.gLogStd[j] -= c.EntCoef
	}
	p.actor.backward(p.mbA, n, dMu)

	side.pgLoss = pgSum / fn
	side.entropy = ent
	side.oldKL = oldKL / fn
	side.approxKL = approxKL / fn
	side.clipFrac = clipped / fn
}

// criticGrad accumulates the gradient of vf_coef * v_loss into the
// critic's gradients and returns v_loss.
func (p *learner) criticGrad(idx []int) float64 {
	c := p.cfg
	n := len(idx)
	fn := float64(n)
	p.gather(p.mbC, idx)
	p.critic.forward(p.mbC, n)
	v := p.mbC.output(n, p.critic)
	dV := p.dV[:n]
	sum := 0.0
	for i, k := range idx {
		r, old := p.bRet[k], p.bVal[k]
		diff := v[i] - r
		un := diff * diff
		g := diff
		if c.ClipVLoss {
			vc := old + math.Max(-c.ClipCoef, math.Min(c.ClipCoef, v[i]-old))
			cl := (vc - r) * (vc - r)
			if cl > un {
				// Only possible with v outside the clip range, where the
				// clipped value does not move with v.
				un, g = cl, 0
			}
		}
		sum += un
		dV[i] = c.VFCoef * g / fn
	}
	p.critic.backward(p.mbC, n, dV)
	return 0.5 * sum / fn
}

// explainedVariance is 1 - Var(returns - values) / Var(returns), NaN when
// the returns do not vary.
func explainedVariance(pred, target []float64) float64 {
	n := float64(len(target))
	var mt, md float64
	for i, t := range target {
		mt += t
		md += t - pred[i]
	}
	mt /= n
	md /= n
	var vt, vd float64
	for i, t := range target {
		vt += (t - mt) * (t - mt)
		d := t - pred[i] - md
		vd += d * d
	}
	if vt == 0 {
		return math.NaN()
	}
	return 1 - vd/vt
}
