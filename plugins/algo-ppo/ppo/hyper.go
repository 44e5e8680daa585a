package ppo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Config holds the parsed hyperparameters of a PPO learner. The field
// comments name the Hyper key each one is read from; the defaults are
// CleanRL's ppo_continuous_action defaults.
type Config struct {
	TotalTimesteps int     // total_timesteps (1000000)
	LearningRate   float64 // learning_rate (3e-4)
	NumSteps       int     // num_steps (2048): Act calls per rollout
	AnnealLR       bool    // anneal_lr (true): linear decay to 0 over the updates
	Gamma          float64 // gamma (0.99)
	GAELambda      float64 // gae_lambda (0.95)
	NumMinibatches int     // num_minibatches (32)
	UpdateEpochs   int     // update_epochs (10)
	NormAdv        bool    // norm_adv (true): per-minibatch advantage normalisation
	ClipCoef       float64 // clip_coef (0.2)
	ClipVLoss      bool    // clip_vloss (true)
	EntCoef        float64 // ent_coef (0.0)
	VFCoef         float64 // vf_coef (0.5)
	MaxGradNorm    float64 // max_grad_norm (0.5)
	// TargetKL stops an update's epochs early when the approximate KL of
	// the last minibatch exceeds it; 0 (key absent, "none" or "null")
	// disables the early stop.
	TargetKL float64 // target_kl (none)
	Hidden   []int   // hidden_size, or the seed's misspelt hidden_szie ("64,64")
	// ClipObs bounds normalised observations; ClipReward bounds scaled
	// rewards. The seed clips rewards to [-100, 100] (CleanRL uses 10).
	ClipObs    float64 // clip_obs (10)
	ClipReward float64 // clip_reward (100)
}

// DefaultConfig returns CleanRL's defaults (and the seed's reward clip).
func DefaultConfig() Config {
	return Config{
		TotalTimesteps: 1000000,
		LearningRate:   3e-4,
		NumSteps:       2048,
		AnnealLR:       true,
		Gamma:          0.99,
		GAELambda:      0.95,
		NumMinibatches: 32,
		UpdateEpochs:   10,
		NormAdv:        true,
		ClipCoef:       0.2,
		ClipVLoss:      true,
		EntCoef:        0,
		VFCoef:         0.5,
		MaxGradNorm:    0.5,
		TargetKL:       0,
		Hidden:         []int{64, 64},
		ClipObs:        10,
		ClipReward:     100,
	}
}

// ParseConfig reads the keys it knows from hyper over DefaultConfig and
// ignores the others (the host passes every key of the run's config).
// A malformed value is an error naming its key.
func ParseConfig(hyper map[string]string) (Config, error) {
	c := DefaultConfig()
	p := parser{hyper: hyper}
	p.intv("total_timesteps", &c.TotalTimesteps, 1)
	p.floatv("learning_rate", &c.LearningRate, 0, math.Inf(1))
	p.intv("num_steps", &c.NumSteps, 1)
	p.boolv("anneal_lr", &c.AnnealLR)
	p.floatv("gamma", &c.Gamma, 0, 1)
	p.floatv("gae_lambda", &c.GAELambda, 0, 1)
	p.intv("num_minibatches", &c.NumMinibatches, 1)
	p.intv("update_epochs", &c.UpdateEpochs, 1)
	p.boolv("norm_adv", &c.NormAdv)
	p.floatv("clip_coef", &c.ClipCoef, 0, math.Inf(1))
	p.boolv("clip_vloss", &c.ClipVLoss)
	p.floatv("ent_coef", &c.EntCoef, math.Inf(-1), math.Inf(1))
	p.floatv("vf_coef", &c.VFCoef, 0, math.Inf(1))
	p.floatv("max_grad_norm", &c.MaxGradNorm, 0, math.Inf(1))
	p.optFloat("target_kl", &c.TargetKL)
	p.floatv("clip_obs", &c.ClipObs, 0, math.Inf(1))
	p.floatv("clip_reward", &c.ClipReward, 0, math.Inf(1))
	// The seed's YAML spells the key hidden_szie; accept both, the correct
	// spelling winning when both are present.
	p.hidden("hidden_szie", &c.Hidden)
	p.hidden("hidden_size", &c.Hidden)
	return c, p.err
}

// parser collects the first error so ParseConfig reads as a list of keys.
type parser struct {
	hyper map[string]string
	err   error
}

func (p *parser) get(key string) (string, bool) {
	if p.err != nil {
		return "", false
	}
	v, ok := p.hyper[key]
	return strings.TrimSpace(v), ok
}

func (p *parser) fail(key, val, want string) {
	p.err = fmt.Errorf("ppo: hyperparameter %s=%q: want %s", key, val, want)
}

// intv accepts integers written plainly or in float notation ("1e6").
func (p *parser) intv(key string, dst *int, min int) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			p.fail(key, v, "an integer")
			return
		}
		n = int(f)
	}
	if n < min {
		p.fail(key, v, fmt.Sprintf("an integer >= %d", min))
		return
	}
	*dst = n
}

func (p *parser) floatv(key string, dst *float64, lo, hi float64) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		p.fail(key, v, "a number")
		return
	}
	if f < lo || f > hi {
		p.fail(key, v, fmt.Sprintf("a number in [%g, %g]", lo, hi))
		return
	}
	*dst = f
}

// optFloat reads a positive number or one of the YAML spellings of "none".
func (p *parser) optFloat(key string, dst *float64) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	switch strings.ToLower(v) {
	case "", "none", "null", "~":
		*dst = 0
		return
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 {
		p.fail(key, v, `a non-negative number or "none"`)
		return
	}
	*dst = f
}

func (p *parser) boolv(key string, dst *bool) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		*dst = true
	case "false", "0", "no", "off":
		*dst = false
	default:
		p.fail(key, v, "true or false")
	}
}

// hidden accepts "64", "64,64", "[64, 64]" or "64 64".
func (p *parser) hidden(key string, dst *[]int) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	s := strings.Trim(v, "[]() ")
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		p.fail(key, v, "layer sizes such as 64,64")
		return
	}
	sizes := make([]int, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			p.fail(key, v, "layer sizes such as 64,64")
			return
		}
		sizes = append(sizes, n)
	}
	// A single size means that many units in each of two layers, as the
	// seed's hidden_size: 64 builds a 64,64 network.
	if len(sizes) == 1 {
		sizes = []int{sizes[0], sizes[0]}
	}
	*dst = sizes
}
