package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/snapshot"
	"github.com/neuraltopology/neuraltopology/core/train"
	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// openPair starts the env and algo plugins with NT_TRANSPORT=transport
// and links them (sdk.Link).
func openPair(t *testing.T, envBin, algoBin, transport string) (*sdk.Client, *sdk.Client, sdk.Environment, sdk.Algorithm) {
	t.Helper()
	t.Setenv("NT_TRANSPORT", transport)
	ec, ac := plugintest.Open(t, envBin), plugintest.Open(t, algoBin)
	env, err := ec.Env()
	if err != nil {
		t.Fatal(err)
	}
	algo, err := sdk.Link(context.Background(), ec, ac)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ac.Info.Capabilities[sdk.DirectKey]; ok {
		t.Fatalf("the offer %s must not be listed among capabilities", sdk.DirectKey)
	}
	return ec, ac, env, algo
}

// runTrace trains PPO on two Hopper-v4 envs for 3 updates of 300 steps
// and records every update's statistics (without SPS), every episode
// with its step, and the final checkpoint.
func runTrace(t *testing.T, env sdk.Environment, algo sdk.Algorithm) (ups []map[string]float64, eps []string, final []byte) {
	t.Helper()
	hyper := map[string]string{"total_timesteps": "1800", "num_steps": "300", "num_minibatches": "2", "update_epochs": "1"}
	cfg := train.Config{TaskID: "Hopper-v4", NumEnvs: 2, Seed: 3, Hyper: hyper, DriveSteps: 128}
	_, err := train.Run(context.Background(), env, algo, cfg, train.Hooks{
		OnEpisode: func(_ context.Context, step int, ep sdk.EpisodeStat) error {
			eps = append(eps, fmt.Sprintf("step %d env %d return %v length %d", step, ep.Env, ep.Return, ep.Length))
			return nil
		},
		OnUpdate: func(ctx context.Context, p train.Progress) error {
			m := map[string]float64{"step": float64(p.Step), "mean_return": p.MeanReturn}
			for k, v := range p.Stats {
				if k != "charts/SPS" {
					m[k] = v
				}
			}
			ups = append(ups, m)
			if p.Update == p.TotalUpdates {
				var err error
				final, err = algo.Save(ctx)
				return err
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ups, eps, final
}

// TestDirectModeMatchesInProcess trains through the two plugin processes
// in the direct mode, which must be the default and actually in use (the
// algorithm is a Driver, both clients say so), and in process: the
// statistics, the episodes and the final checkpoint must agree bit for
// bit. Asked for where it cannot be, it fails.
func TestDirectModeMatchesInProcess(t *testing.T) {
	envBin := plugintest.Build(t, ".", "nt-env-mujoco")
	algoBin := plugintest.Build(t, "../algo-ppo", "nt-algo-ppo")
	ec, ac, env, algo := openPair(t, envBin, algoBin, "")
	if _, ok := algo.(sdk.Driver); !ok || ec.Transport() != sdk.TransportDirect || ac.Transport() != sdk.TransportDirect {
		t.Fatalf("default mode: algo is %T, transports %q and %q, want a Driver over %q", algo, ec.Transport(), ac.Transport(), sdk.TransportDirect)
	}
	u1, e1, f1 := runTrace(t, env, algo)
	u2, e2, f2 := runTrace(t, mjenv.New(), ppo.New())
	if len(u1) != 3 || len(e1) == 0 {
		t.Fatalf("%d updates and %d episodes, want 3 and some", len(u1), len(e1))
	}
	if !reflect.DeepEqual(u1, u2) {
		t.Errorf("update statistics differ:\n direct     %v\n in-process %v", u1, u2)
	}
	if !reflect.DeepEqual(e1, e2) {
		t.Errorf("episodes differ:\n direct     %v\n in-process %v", e1, e2)
	}
	if !bytes.Equal(f1, f2) {
		t.Error("final checkpoints differ")
	}

	// NT_TRANSPORT=shm-direct with plugins the host speaks to over the
	// socket must fail naming why, not fall back to relaying; any other
	// NT_TRANSPORT keeps the host relaying.
	t.Setenv("NT_TRANSPORT", sdk.TransportSocket)
	ec, ac = plugintest.Open(t, envBin), plugintest.Open(t, algoBin)
	algo, err := sdk.Link(context.Background(), ec, ac)
	if _, ok := algo.(sdk.Driver); err != nil || ok || ec.Transport() != sdk.TransportSocket {
		t.Fatalf("NT_TRANSPORT=socket: Link gave %T, %v, transport %q", algo, err, ec.Transport())
	}
	t.Setenv("NT_TRANSPORT", sdk.TransportDirect)
	algo, err = sdk.Link(context.Background(), ec, ac)
	if err == nil || !strings.Contains(err.Error(), "nt-env-mujoco is not spoken to over shared memory") {
		t.Fatalf("NT_TRANSPORT=shm-direct over the socket: Link gave %T, %v; want a refusal naming the env plugin", algo, err)
	}
	if ec.Transport() != sdk.TransportSocket || ac.Transport() != sdk.TransportSocket {
		t.Fatalf("a refused link changed the transports to %q and %q", ec.Transport(), ac.Transport())
	}
}

// TestKilledEnvMidDriveIsNamed kills the env plugin while the algo plugin
// is stepping it: the host must get one line naming the env plugin as
// crashed within a second; killing the algo plugin names that one.
func TestKilledEnvMidDriveIsNamed(t *testing.T) {
	envBin := plugintest.Build(t, ".", "nt-env-mujoco")
	algoBin := plugintest.Build(t, "../algo-ppo", "nt-algo-ppo")
	for _, victim := range []string{"nt-env-mujoco", "nt-algo-ppo"} {
		ec, ac, env, algo := openPair(t, envBin, algoBin, sdk.TransportDirect)
		ctx := context.Background()
		h, spec, err := env.Open(ctx, sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 64, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		obs, err := env.Reset(ctx, h, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := algo.Init(ctx, sdk.AlgoConfig{Env: spec, Seed: 1, Hyper: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
		first, err := algo.Act(ctx, sdk.ActRequest{Obs: obs})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := algo.(sdk.Driver).Drive(ctx, sdk.DriveRequest{Handle: h, Actions: first.Actions, MaxSteps: 1 << 30})
			done <- err
		}()
		time.Sleep(300 * time.Millisecond)
		pid := ec.Pid()
		if victim == "nt-algo-ppo" {
			pid = ac.Pid()
		}
		killAndExpectNamed(t, victim, pid, "Drive", done)
	}
}

// countingSampler is the linked learner with a count of the Policy calls
// made through it, i.e. by the host: the direct sampling makes none.
type countingSampler struct {
	sdk.Sampler
	policies int
}

func (c *countingSampler) Policy(ctx context.Context, obs sdk.Matrix, det bool) (sdk.Matrix, error) {
	c.policies++
	return c.Sampler.Policy(ctx, obs, det)
}

// hostOnly hides the learner's Sampler, so snapshot.Sample steps the
// analysis env from the host, as before the direct sampling.
type hostOnly struct{ sdk.Algorithm }

// sameBits fails unless a and b hold the same float64 bits.
func sameBits(t *testing.T, what string, a, b sdk.Matrix) {
	t.Helper()
	if a.Rows != b.Rows || a.Cols != b.Cols || len(a.Data) != len(b.Data) {
		t.Fatalf("%s: %dx%d states against %dx%d", what, a.Rows, a.Cols, b.Rows, b.Cols)
	}
	for i := range a.Data {
		if math.Float64bits(a.Data[i]) != math.Float64bits(b.Data[i]) {
			t.Fatalf("%s: states differ first at row %d col %d: %v against %v", what, i/a.Cols, i%a.Cols, a.Data[i], b.Data[i])
		}
	}
}

// TestDirectSamplingMatchesHost takes a snapshot's states three ways
// after the same training: by the algo plugin over its direct link (no
// Policy call from the host), by the host stepping the same plugins, and
// in process. All must agree bit for bit, over consecutive snapshots
// (the policy's random stream must be consumed alike) and with the two
// plugin paths swapped for the last one.
func TestDirectSamplingMatchesHost(t *testing.T) {
	envBin := plugintest.Build(t, ".", "nt-env-mujoco")
	algoBin := plugintest.Build(t, "../algo-ppo", "nt-algo-ppo")
	ctx := context.Background()
	const n = 500
	// sample trains, opens the analysis env and samples three snapshots,
	// the first two through algo, the last through last.
	sample := func(env sdk.Environment, algo, last sdk.Algorithm) []sdk.Matrix {
		runTrace(t, env, algo)
		h, _, err := env.Open(ctx, sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 1, Seed: 1003})
		if err != nil {
			t.Fatal(err)
		}
		var out []sdk.Matrix
		for i, a := range []sdk.Algorithm{algo, algo, last} {
			s, err := snapshot.Sample(ctx, env, h, a, n, int64(7+i))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}

	_, _, env1, linked1 := openPair(t, envBin, algoBin, "")
	direct := &countingSampler{Sampler: linked1.(sdk.Sampler)}
	if got := snapshot.Sampling(env1, direct); got != sdk.TransportDirect {
		t.Fatalf("the linked learner samples through %q, want %q", got, sdk.TransportDirect)
	}
	viaPlugin := sample(env1, direct, hostOnly{linked1})
	if direct.policies != 0 {
		t.Fatalf("the host made %d Policy calls while the algo plugin was to sample", direct.policies)
	}

	_, _, env2, linked2 := openPair(t, envBin, algoBin, "")
	if got := snapshot.Sampling(env2, hostOnly{linked2}); got != snapshot.SamplingHost {
		t.Fatalf("a learner that is no Sampler samples through %q", got)
	}
	viaHost := sample(env2, hostOnly{linked2}, linked2)

	learner := ppo.New()
	inProc := sample(mjenv.New(), learner, learner)
	for i := range viaPlugin {
		sameBits(t, fmt.Sprintf("snapshot %d, algo plugin against host", i+1), viaPlugin[i], viaHost[i])
		sameBits(t, fmt.Sprintf("snapshot %d, algo plugin against in-process", i+1), viaPlugin[i], inProc[i])
	}
	if viaPlugin[0].Rows != n || viaPlugin[0].Cols != 11 {
		t.Fatalf("states are %dx%d, want %dx11", viaPlugin[0].Rows, viaPlugin[0].Cols, n)
	}
}

// TestKilledPluginMidSampleIsNamed kills the env plugin, then the algo
// plugin, while the algo plugin samples a long snapshot over its link:
// the host must get one line naming the killed plugin as crashed within
// a second.
func TestKilledPluginMidSampleIsNamed(t *testing.T) {
	envBin := plugintest.Build(t, ".", "nt-env-mujoco")
	algoBin := plugintest.Build(t, "../algo-ppo", "nt-algo-ppo")
	for _, victim := range []string{"nt-env-mujoco", "nt-algo-ppo"} {
		ec, ac, env, algo := openPair(t, envBin, algoBin, sdk.TransportDirect)
		ctx := context.Background()
		h, spec, err := env.Open(ctx, sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 1, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := algo.Init(ctx, sdk.AlgoConfig{Env: spec, Seed: 1, Hyper: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
		if snapshot.Sampling(env, algo) != sdk.TransportDirect {
			t.Fatal("the linked learner does not sample over its link")
		}
		done := make(chan error, 1)
		go func() {
			// Seconds of stepping: it is killed long before the end.
			_, err := snapshot.Sample(ctx, env, h, algo, 1<<18, 1)
			done <- err
		}()
		time.Sleep(300 * time.Millisecond)
		pid := ec.Pid()
		if victim == "nt-algo-ppo" {
			pid = ac.Pid()
		}
		killAndExpectNamed(t, victim, pid, "sampling", done)
	}
}

// BenchmarkSnapshotSample takes a default snapshot's 500 states from a
// freshly initialised PPO on Hopper-v4 through the two plugin processes:
// by the algo plugin over its direct link (direct), and by the host, a
// Policy and a Step round trip per state (host). With -count N the two
// alternate.
func BenchmarkSnapshotSample(b *testing.B) {
	envBin := plugintest.Build(b, ".", "nt-env-mujoco")
	algoBin := plugintest.Build(b, "../algo-ppo", "nt-algo-ppo")
	b.Setenv("NT_TRANSPORT", "")
	ctx := context.Background()
	ec, ac := plugintest.Open(b, envBin), plugintest.Open(b, algoBin)
	env, err := ec.Env()
	if err != nil {
		b.Fatal(err)
	}
	algo, err := sdk.Link(ctx, ec, ac)
	if err != nil {
		b.Fatal(err)
	}
	h, spec, err := env.Open(ctx, sdk.EnvConfig{TaskID: "Hopper-v4", NumEnvs: 1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := algo.Init(ctx, sdk.AlgoConfig{Env: spec, Seed: 1, Hyper: map[string]string{}}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		algo sdk.Algorithm
		want string
	}{{"direct", algo, sdk.TransportDirect}, {"host", hostOnly{algo}, snapshot.SamplingHost}} {
		b.Run(c.name, func(b *testing.B) {
			if got := snapshot.Sampling(env, c.algo); got != c.want {
				b.Fatalf("sampling by %q, want %q", got, c.want)
			}
			for i := 0; i < b.N; i++ {
				if _, err := snapshot.Sample(ctx, env, h, c.algo, 500, int64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// killAndExpectNamed kills victim (process pid) while a call runs and
// checks that the call, whose error comes on done, ends within a second
// with one line naming the victim as crashed.
func killAndExpectNamed(t *testing.T, victim string, pid int, what string, done <-chan error) {
	t.Helper()
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("%s killed: the %s ended without error", victim, what)
		}
		msg := err.Error()
		if !strings.Contains(msg, victim) || !strings.Contains(msg, "crashed") || strings.Contains(msg, "\n") {
			t.Fatalf("%s killed: want one line naming it as crashed, got %q", victim, msg)
		}
		if d := time.Since(killed); d > time.Second {
			t.Fatalf("%s killed: named after %v", victim, d)
		}
		t.Logf("%s killed: %s", victim, msg)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s killed: the %s hung", victim, what)
	}
}
