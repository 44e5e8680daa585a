package main

import (
	"bufio"
	"context"
	"encoding/json"
	"image/gif"
	"os"
	"path/filepath"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/rollout"
	runcore "github.com/neuraltopology/neuraltopology/core/run"
	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestRolloutCheckpoint trains a tiny run, rolls out its latest and its
// earlier checkpoint through the plugin processes, and checks every
// action against the learner loaded here in process from the same
// checkpoint: the deterministic policy of that update, not a fixed one.
func TestRolloutCheckpoint(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	_, stderr, code := nthost(t, dir, "--in-process", "--total-timesteps", "1024", "--num-steps", "256",
		"--topology-analysis-interval", "0", "--save-checkpoint-interval", "2", "--run-dir", runDir, "--no-report")
	if code != 0 {
		t.Fatalf("training: exit %d: %s", code, stderr)
	}
	early := filepath.Join(runDir, "checkpoints", "update_000002.ckpt")
	latest := filepath.Join(dir, "latest.jsonl")
	_, stderr, code = nthost(t, dir, "env", "rollout", "--checkpoint", runDir, "--steps", "120",
		"--out", latest, "--gif", filepath.Join(dir, "latest.gif"))
	if code != 0 {
		t.Fatalf("rollout: exit %d: %s", code, stderr)
	}
	earlier := filepath.Join(dir, "early.jsonl")
	if _, stderr, code = nthost(t, dir, "env", "rollout", "--checkpoint", early, "--steps", "120", "--out", earlier); code != 0 {
		t.Fatalf("rollout of %s: exit %d: %s", early, code, stderr)
	}
	a := checkActions(t, runDir, latest)
	b := checkActions(t, early, earlier)
	if a[0].Action[0] == b[0].Action[0] {
		t.Error("update 2 and update 4 chose the same first action: the checkpoint was not the one asked for")
	}
	f, err := os.Open(filepath.Join(dir, "latest.gif"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gif.DecodeAll(f)
	if err != nil || len(g.Image) != 121 {
		t.Errorf("GIF: %v, frames %d, want 121", err, len(g.Image))
	}
	if _, stderr, code = nthost(t, dir, "env", "rollout", "--checkpoint", runDir, "--policy", "zero"); code == 0 {
		t.Errorf("--policy with --checkpoint accepted: %s", stderr)
	}
}

// checkActions reads a rollout's records and compares each action with
// the in-process learner's deterministic policy at the record's state.
func checkActions(t *testing.T, ckpt, jsonl string) []rollout.Record {
	t.Helper()
	tr, err := runcore.ReadTrained(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env := mjenv.New()
	h, spec, err := env.Open(ctx, sdk.EnvConfig{TaskID: tr.Config.EnvID, NumEnvs: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close(ctx, h)
	spec.NumEnvs = tr.Config.NumEnvs
	alg := ppo.New()
	if _, err := alg.Init(ctx, sdk.AlgoConfig{Env: spec, Seed: tr.Config.Seed, Hyper: tr.Config.Hyper()}); err != nil {
		t.Fatal(err)
	}
	if err := alg.Load(ctx, tr.Learner); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []rollout.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r rollout.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		obs := sdk.Matrix{Rows: 1, Cols: len(r.Obs), Data: r.Obs}
		want, err := alg.Policy(ctx, obs, true)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range want.Data {
			if r.Action[j] != v {
				t.Fatalf("%s step %d: action %v, the checkpoint's policy gives %v", jsonl, r.Step, r.Action, want.Data)
			}
		}
		recs = append(recs, r)
	}
	if len(recs) != 120 {
		t.Fatalf("%s: %d records, want 120", jsonl, len(recs))
	}
	return recs
}
