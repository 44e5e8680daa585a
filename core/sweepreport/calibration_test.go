package sweepreport

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/stats"
	"github.com/neuraltopology/neuraltopology/core/summary"
)

// The claims are calibrated against simulated sweeps whose truth is
// known, not against the code's own output. Each simulated seed has its
// own random offsets (per cloud and dimension) and autocorrelated noise
// along training; counts are rounded to integers and kept >= 0, as
// Betti numbers are. A claim tested on such sweeps with no effect must
// come out significant in about 5% of them (within [0.03, 0.07] over 1000
// sweeps), and must find effects of a stated size.

// noise is how one series wanders over the snapshots.
type noise struct {
	name string
	phi  float64 // AR(1) coefficient; 1 is a random walk
}

var noises = []noise{{"AR(1) phi 0.5", 0.5}, {"AR(1) phi 0.8", 0.8}, {"AR(1) phi 0.95", 0.95}, {"random walk", 1}}

// simSpec is a simulated sweep's truth.
type simSpec struct {
	seeds, snaps int
	noise        noise
	sigma        float64 // the noise's scale, in counts
	offset       float64 // SD of each seed's offset per cloud and dim
	layerEffect  float64 // added to the deepest layer's dim-0 count
	// trend is added to every cloud's count in dim at frac of training;
	// with seedTrend each seed scales its amplitude and rate at random
	// (beta1 and beta2 of one seed share them), as seeds that learn at
	// different speeds would.
	trend     func(dim int, frac, amp, rate float64) float64
	seedTrend bool
	b1b2      float64 // a common fluctuation, times b1b2 in beta2 and times -b1b2 or b1b2 in beta1
	// bothMeasures draws the scale-free counts and the fixed-scale Betti
	// numbers independently; otherwise they are equal (a test reads one).
	bothMeasures bool
}

func (sp simSpec) series(rng *rand.Rand) []float64 {
	x := make([]float64, sp.snaps)
	if sp.noise.phi >= 1 {
		// A random walk from 0 whose steps make its spread over the run
		// about sigma.
		step := sp.sigma / math.Sqrt(float64(sp.snaps))
		v := 0.0
		for i := range x {
			v += step * rng.NormFloat64()
			x[i] = v
		}
		return x
	}
	v := sp.sigma * rng.NormFloat64()
	inno := sp.sigma * math.Sqrt(1-sp.noise.phi*sp.noise.phi)
	for i := range x {
		x[i] = v
		v = sp.noise.phi*v + inno*rng.NormFloat64()
	}
	return x
}

// simGroup makes one task's group in memory: the input and a net
// ("actor") of two hidden layers, dims 0..2, both measures.
func simGroup(sp simSpec, envID string, rng *rand.Rand) *Group {
	g := &Group{Name: envID, EnvID: envID}
	for s := range sp.snaps {
		g.Steps = append(g.Steps, (s+1)*20480)
	}
	clouds := []Cloud{{summary.NetInput, 0}, {"actor", 1}, {"actor", 2}}
	for seed := 1; seed <= sp.seeds; seed++ {
		r := seedRun{Seed: fmt.Sprint(seed), Topology: make([]summary.TopologyRecord, 0, len(clouds)*sp.snaps)}
		// A fluctuation beta1 and beta2 share when b1b2 != 0.
		common := sp.series(rng)
		amp, rate := 1.0, 1.0
		if sp.seedTrend {
			amp, rate = 1+0.4*rng.NormFloat64(), math.Exp(0.4*rng.NormFloat64())
		}
		measures := 1
		if sp.bothMeasures {
			measures = 2
		}
		for _, c := range clouds {
			var vals [2][3][]float64 // measure, dim
			for m := range measures {
				for d := range 3 {
					off := 30 + sp.offset*rng.NormFloat64()
					n := sp.series(rng)
					for i := range n {
						v := off + n[i]
						if sp.trend != nil {
							v += sp.trend(d, float64(i)/float64(sp.snaps-1), amp, rate)
						}
						if c.Layer == 2 && d == 0 {
							v += sp.layerEffect
						}
						if c.Layer > 0 && d >= 1 {
							switch {
							case d == 2:
								v += math.Abs(sp.b1b2) * common[i]
							case sp.b1b2 > 0:
								v += sp.b1b2 * common[i]
							default:
								v += sp.b1b2 * common[i]
							}
						}
						n[i] = v
					}
					vals[m][d] = n
				}
			}
			if measures == 1 {
				vals[1] = vals[0]
			}
			all := make([]summary.DimSummary, 3*sp.snaps)
			for i, step := range g.Steps {
				dims := all[3*i : 3*i+3 : 3*i+3]
				for d := range 3 {
					dims[d] = summary.DimSummary{Dim: d, Persistent: count(vals[0][d][i]), Betti: count(vals[1][d][i])}
				}
				r.Topology = append(r.Topology, summary.TopologyRecord{Step: step, Net: c.Net, Layer: c.Layer, Summary: summary.Summary{Dims: dims}})
			}
		}
		r.index()
		g.Runs = append(g.Runs, r)
	}
	return g
}

func count(v float64) int { return max(0, int(math.Round(v))) }

// rate is the share of sweeps in which the hypothesis comes out with
// p < 0.05.
func rate(t *testing.T, sp simSpec, h hypothesis, sweeps int, seed uint64) float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	hit := 0
	for range sweeps {
		c := simGroup(sp, "Task-v4", rng).test(h)
		if math.IsNaN(c.P) {
			t.Fatalf("%s not testable on a simulated sweep (%d seeds)", h.key(), sp.seeds)
		}
		if c.P < Alpha {
			hit++
		}
	}
	return float64(hit) / float64(sweeps)
}

// sharedFall is a trend both beta1 and beta2 share, as over training:
// a fast fall, then a plateau.
func sharedFall(dim int, frac, amp, rate float64) float64 {
	if dim == 0 {
		return 0
	}
	return 50 * amp * math.Exp(-4*rate*frac)
}

func TestClaimsFalsePositiveRate(t *testing.T) {
	const sweeps = 2000
	for _, nz := range noises {
		t.Run(nz.name, func(t *testing.T) {
			t.Parallel()
			// Each 10-seed sweep also gives a 5-seed one: its first 5 seeds.
			for _, seeds := range []int{10} {
				base := simSpec{seeds: seeds, snaps: 48, noise: nz, sigma: 4, offset: 3}
				withTrend := base
				withTrend.trend = sharedFall
				seedTrend := withTrend
				seedTrend.seedTrend = true
				type tcase struct {
					name string
					h    hypothesis
					hits [2]int // 10 seeds, the first 5
				}
				for si, sc := range []struct {
					sp    simSpec
					cases []*tcase
				}{
					{base, []*tcase{
						{name: "(b) deepest layer above the input, one-sided", h: hypothesis{Kind: KindAboveInput, Net: "actor", Layer: 2, Measure: "persistent", Alt: stats.Greater}},
						{name: "(b) layer 1 against the input, two-sided", h: hypothesis{Kind: KindAboveInput, Net: "actor", Layer: 1, Measure: "betti", Alt: stats.TwoSided}},
						{name: "(a) total falls, one-sided", h: hypothesis{Kind: KindTrend, Net: "actor", Dim: -1, Measure: "persistent", Alt: stats.Less}},
						{name: "(a) beta1 trend, two-sided", h: hypothesis{Kind: KindTrend, Net: "actor", Dim: 1, Measure: "betti", Alt: stats.TwoSided}},
						{name: "(c) beta1 with beta2, two-sided, no trend", h: hypothesis{Kind: KindB1B2, Net: "actor", Measure: "betti", Alt: stats.TwoSided}},
					}},
					{withTrend, []*tcase{
						{name: "(c) inverse under a shared fall, one-sided", h: hypothesis{Kind: KindB1B2, Net: "actor", Measure: "persistent", Alt: stats.Less}},
						{name: "(c) together under a shared fall, one-sided", h: hypothesis{Kind: KindB1B2, Net: "actor", Measure: "persistent", Alt: stats.Greater}},
					}},
					{seedTrend, []*tcase{
						{name: "(c) together under each seed's own fall, one-sided", h: hypothesis{Kind: KindB1B2, Net: "actor", Measure: "persistent", Alt: stats.Greater}},
						{name: "(c) inverse under each seed's own fall, one-sided", h: hypothesis{Kind: KindB1B2, Net: "actor", Measure: "persistent", Alt: stats.Less}},
					}},
				} {
					rng := rand.New(rand.NewPCG(uint64(seeds), uint64(si)+uint64(nz.phi*100)))
					for range sweeps {
						g := simGroup(sc.sp, "Task-v4", rng)
						five := *g
						five.Runs = g.Runs[:5]
						for _, c := range sc.cases {
							for k, gg := range []*Group{g, &five} {
								cl := gg.test(c.h)
								if math.IsNaN(cl.P) {
									t.Fatalf("%s not testable on a simulated sweep (%d seeds)", c.h.key(), len(gg.Runs))
								}
								if cl.P < Alpha {
									c.hits[k]++
								}
							}
						}
					}
					for _, c := range sc.cases {
						for k, n := range []int{10, 5} {
							r := float64(c.hits[k]) / sweeps
							t.Logf("%-52s %-15s %2d seeds: false-positive rate %.3f", c.name, nz.name, n, r)
							if r < 0.03 || r > 0.07 {
								t.Errorf("%s, %s, %d seeds: false-positive rate %.3f over %d null sweeps, want within [0.03, 0.07]", c.name, nz.name, n, r, sweeps)
							}
						}
					}
				}
			}
		})
	}
}

// TestClaimsPower states what the tests find: with 10 seeds, an effect of
// one between-seed standard deviation of the per-seed statistic.
func TestClaimsPower(t *testing.T) {
	const sweeps = 400
	nz := noises[1] // AR(1) phi 0.8
	// (b): the deepest layer's dim 0 higher by about one standard
	// deviation of the per-seed means of layer minus input (summed over 3
	// dims of 2 clouds: offsets 3 sqrt(6) = 7.3, noise averaged over 48
	// snapshots 4.2; together 8.5).
	sp := simSpec{seeds: 10, snaps: 48, noise: nz, sigma: 4, offset: 3, layerEffect: 8.5}
	pb := rate(t, sp, hypothesis{Kind: KindAboveInput, Net: "actor", Layer: 2, Measure: "persistent", Alt: stats.Greater}, sweeps, 1)
	// (a): beta1 falls by 6 counts over training in every seed (a third
	// of the noise's spread over 48 snapshots).
	sa := simSpec{seeds: 10, snaps: 48, noise: nz, sigma: 4, offset: 3, trend: func(d int, f, _, _ float64) float64 {
		if d == 1 {
			return -6 * f
		}
		return 0
	}}
	pa := rate(t, sa, hypothesis{Kind: KindTrend, Net: "actor", Dim: 1, Measure: "persistent", Alt: stats.Less}, sweeps, 2)
	// (c): beta1 and beta2 share a fluctuation with opposite signs, on
	// top of a shared fall.
	sc := simSpec{seeds: 10, snaps: 48, noise: nz, sigma: 4, offset: 3, trend: sharedFall, b1b2: -0.5}
	pc := rate(t, sc, hypothesis{Kind: KindB1B2, Net: "actor", Measure: "persistent", Alt: stats.Less}, sweeps, 3)
	t.Logf("power at 10 seeds, alpha 0.05 one-sided: (b) layer +8.5 counts %.2f; (a) beta1 -6 counts over training %.2f; (c) inverse fluctuation %.2f", pb, pa, pc)
	for name, p := range map[string]float64{"(b)": pb, "(a)": pa, "(c)": pc} {
		if p < 0.8 {
			t.Errorf("%s: power %.2f at 10 seeds, want >= 0.8", name, p)
		}
	}
}

// TestNullSweepFamilyWise runs every claim of two tasks, as the report
// does, on sweeps with no effect: the primary family's chance of calling
// any of its claims supported stays at most about 5% (Holm), and the
// share of all claims called supported is far below it.
func TestNullSweepFamilyWise(t *testing.T) {
	const sweeps = 300
	rng := rand.New(rand.NewPCG(5, 5))
	anyPrimary, called, total := 0, 0, 0
	for i := range sweeps {
		sp := simSpec{seeds: 10, snaps: 48, noise: noises[i%len(noises)], sigma: 4, offset: 3, trend: sharedFall, bothMeasures: true}
		if i%2 == 1 {
			sp.trend = nil
		}
		cs := claims([]*Group{simGroup(sp, "Hopper-v4", rng), simGroup(sp, "Walker2d-v4", rng)})
		hit := false
		for _, c := range cs {
			if c.Family == FamilyPrimary && c.Kind != KindTrend && c.Supported() {
				hit = true
			}
			if c.Kind == KindTrend && sp.trend != nil {
				continue // a shared fall is a real trend
			}
			total++
			if c.Supported() {
				called++
			}
		}
		if hit {
			anyPrimary++
		}
	}
	fw := float64(anyPrimary) / sweeps
	share := float64(called) / float64(total)
	t.Logf("null sweeps: some primary claim supported in %.3f of them; %.4f of all claims supported", fw, share)
	if fw > 0.07 {
		t.Errorf("family-wise error of the primary claims %.3f, want <= 0.07", fw)
	}
	if share > 0.03 {
		t.Errorf("%.3f of all claims supported on null sweeps, want <= 0.03", share)
	}
}

// TestBandCoverage checks the bands' t intervals cover the true mean at
// their level for normal data, where the percentile bootstrap the report
// used before covers far less.
func TestBandCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, n := range []int{5, 10} {
		const reps = 4000
		cover, boot := 0, 0
		x := make([]float64, n)
		for i := range reps {
			for j := range x {
				x[j] = 10 + 3*rng.NormFloat64()
			}
			lo, hi := stats.TInterval(x, Level)
			if lo <= 10 && 10 <= hi {
				cover++
			}
			if i < 1000 {
				if lo, hi := stats.BootstrapCI(x, Level, 1000, uint64(i)); lo <= 10 && 10 <= hi {
					boot++
				}
			}
		}
		c, b := float64(cover)/reps, float64(boot)/1000
		t.Logf("%d seeds: t interval covers %.3f, percentile bootstrap %.3f", n, c, b)
		if c < 0.93 || c > 0.97 {
			t.Errorf("%d seeds: t interval coverage %.3f, want within [0.93, 0.97]", n, c)
		}
		if n == 5 && b > 0.92 {
			t.Errorf("5 seeds: the percentile bootstrap covers %.3f; the reason to use t intervals is gone", b)
		}
	}
}
