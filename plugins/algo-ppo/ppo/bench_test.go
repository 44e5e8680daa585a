package ppo

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// hopperSpec has Hopper-v4's shapes.
func hopperSpec() sdk.EnvSpec {
	return sdk.EnvSpec{TaskID: "Hopper-v4", NumEnvs: 1, ObsDim: 11, ActDim: 3,
		ActLow: []float64{-1, -1, -1}, ActHigh: []float64{1, 1, 1}, MaxEpisodeSteps: 1000}
}

// BenchmarkUpdate times one PPO update with the seed's defaults (2048
// samples, 32 minibatches of 64, 10 epochs, 64x64 tanh networks) on
// Hopper's shapes. Besides wall time per update it reports the process's
// CPU time per update (cpu-ns/op, user + system, both goroutines), which
// a loaded machine inflates far less than wall time.
func BenchmarkUpdate(b *testing.B) {
	p, err := newLearner(sdk.AlgoConfig{Env: hopperSpec(), Seed: 1, Hyper: map[string]string{}})
	if err != nil {
		b.Fatal(err)
	}
	fillRollout(p, rand.New(rand.NewPCG(1, 1)))
	p.learn() // warm up: first touches of every buffer
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		p.learn()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time (user + system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAct times one training step's Act with one env.
func BenchmarkAct(b *testing.B) {
	a := New()
	if _, err := a.Init(context.Background(), sdk.AlgoConfig{Env: hopperSpec(), Seed: 1, Hyper: map[string]string{"num_steps": "2048", "total_timesteps": "1000000"}}); err != nil {
		b.Fatal(err)
	}
	obs := sdk.Matrix{Rows: 1, Cols: 11, Data: make([]float64, 11)}
	out := &sdk.Outcome{Reward: []float64{1}, Terminated: []bool{false}, Truncated: []bool{false}, FinalObs: sdk.NewMatrix(1, 11)}
	ctx := context.Background()
	if _, err := a.Act(ctx, sdk.ActRequest{Obs: obs}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.Act(ctx, sdk.ActRequest{Obs: obs, Prev: out}); err != nil {
			b.Fatal(err)
		}
		if a.l.t == 2048 {
			a.l.t = 1 // stay inside the rollout: Act alone, no update
		}
	}
}
