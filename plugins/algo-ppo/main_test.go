package main

import (
	"context"
	"reflect"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/train"
	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestPlugin builds nt-algo-ppo, runs the sdk conformance kit on it over
// gRPC as the host will start it, then checks that a short training run
// through the plugin gives the same statistics as the in-process learner.
func TestPlugin(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-algo-ppo")
	plugintest.Run(t, bin)

	remote, err := plugintest.Open(t, bin).Algo()
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.Config{TaskID: "InvertedPendulum-v4", NumEnvs: 2, Seed: 4,
		Hyper: map[string]string{"total_timesteps": "1024", "num_steps": "256", "num_minibatches": "4", "update_epochs": "2"}}
	stats := func(algo sdk.Algorithm) []map[string]float64 {
		var out []map[string]float64
		_, err := train.Run(context.Background(), mjenv.New(), algo, cfg, train.Hooks{OnUpdate: func(_ context.Context, p train.Progress) error {
			delete(p.Stats, "charts/SPS")
			out = append(out, p.Stats)
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	local, viaPlugin := stats(ppo.New()), stats(remote)
	if len(local) != 2 || !reflect.DeepEqual(local, viaPlugin) {
		t.Fatalf("in process %v\nthrough the plugin %v", local, viaPlugin)
	}
}
