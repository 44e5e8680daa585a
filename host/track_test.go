package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrackNotice: the seed's tracker keys are read, written to
// config.yaml, and answered at run start with the one-line wandb sync
// notice; without track no notice.
func TestTrackNotice(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "seed.yaml")
	seed := "env_id: Hopper-v4\ntotal_timesteps: 512\nnum_steps: 256\ntopology_analysis_interval: 0\n" +
		"track: true\nwandb_project_name: hopper_ppo_topology_analysis\nwandb_entity: kaiwenbian107\n"
	if err := os.WriteFile(cfgPath, []byte(seed), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "run")
	_, stderr, code := nthost(t, dir, "--config", cfgPath, "--in-process", "--run-dir", runDir, "--no-report")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "wandb sync --sync-tensorboard -p hopper_ppo_topology_analysis -e kaiwenbian107 " + filepath.Join(runDir, "tb")
	var notices []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "wandb sync") {
			notices = append(notices, l)
		}
	}
	if len(notices) != 1 || !strings.Contains(notices[0], want) {
		t.Errorf("notice lines %q; want one holding %q", notices, want)
	}
	b, err := os.ReadFile(filepath.Join(runDir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"track: true", `wandb_project_name: "hopper_ppo_topology_analysis"`, `wandb_entity: "kaiwenbian107"`} {
		if !strings.Contains(string(b), kv+"\n") {
			t.Errorf("config.yaml lacks %q:\n%s", kv, b)
		}
	}
	if evs, _ := filepath.Glob(filepath.Join(runDir, "tb", "*tfevents*")); len(evs) == 0 {
		t.Error("no TensorBoard file for wandb sync to upload")
	}

	_, stderr, code = nthost(t, dir, "--in-process", "--total-timesteps", "256", "--num-steps", "256",
		"--topology-analysis-interval", "0", "--run-dir", filepath.Join(dir, "quiet"), "--no-report")
	if code != 0 || strings.Contains(stderr, "wandb") {
		t.Errorf("without track: exit %d, stderr %s", code, stderr)
	}
}
