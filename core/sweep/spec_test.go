package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tiny = `
base:
  env_id: InvertedPendulum-v4
  total_timesteps: 4096
  hidden_szie: [16, 16]
grid:
  seed: [1, 2]
  k: [5, 8]
executor:
  kind: slurm
  parallel: 2
  slurm: {partition: debug, cpus_per_task: 1, mem: 1G, time: "00:10:00"}
`

func TestParseSpecTrials(t *testing.T) {
	s, err := ParseSpec([]byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	if s.Executor.Kind != "slurm" || s.Executor.Parallel != 2 || s.Executor.Slurm.CPUsPerTask != 1 || s.Executor.Slurm.Mem != "1G" || s.Executor.Slurm.Time != "00:10:00" {
		t.Fatalf("executor = %+v", s.Executor)
	}
	tr, err := s.Trials()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"seed-1__k-5", "seed-1__k-8", "seed-2__k-5", "seed-2__k-8"}
	if len(tr) != len(want) {
		t.Fatalf("%d trials, want %d", len(tr), len(want))
	}
	for i, w := range want {
		if tr[i].Name != w || tr[i].Index != i {
			t.Errorf("trial %d = %d %s, want %s", i, tr[i].Index, tr[i].Name, w)
		}
	}
	cfg, err := s.Config(tr[3])
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 2 || cfg.K != 8 || cfg.EnvID != "InvertedPendulum-v4" || cfg.HiddenSize != "16,16" || cfg.TotalTimesteps != 4096 {
		t.Fatalf("config of trial 3: %+v", cfg)
	}
}

func TestParseSpecErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"grid:\n  sead: [1, 2]\n", `unknown key "sead"`},
		{"grid:\n  seed: []\n", "seed is an empty list"},
		{"grid:\n  seed: [1, 2, 1]\n", "seed lists 1 twice (also line 2): duplicate trials"},
		{"grid:\n  seed: [1, 1.0]\n", "duplicate trials"},
		{"grid:\n  env_id: [a/b, a_b]\n", "duplicate trials: 0 and 1 are both named env_id-a_b"},
		{"grid:\n  seed: 3\n", "seed must be a list"},
		{"grid:\n  seed: [x]\n", `seed: "x" is not an integer`},
		{"base:\n  total_timesteps: -1\ngrid:\n  seed: [1]\n", "trial seed-1: config: total_timesteps must be >= 1"},
		{"bsae:\n  seed: 1\n", `unknown key "bsae" (known: base, grid, executor)`},
		{"base:\n  run_dir: x\n", "run_dir is chosen by the sweep"},
		{"grid:\n  seed: [1]\nexecutor:\n  kind: cloud\n", `kind "cloud" is not local or slurm`},
		{"grid:\n  seed: [1]\nexecutor:\n  slurm: {mem: 4 G}\n", `mem "4 G" is not one word`},
		{"grid:\n  seed: [1]\nexecutor:\n  slurm: {gpus: 1}\n", `unknown key "gpus"`},
		{"", "empty"},
		{"- 1\n", "expected a mapping"},
	} {
		_, err := ParseSpec([]byte(c.spec))
		if c.want == "" {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("spec %q: error %v, want %q", c.spec, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("spec %q: error spans lines: %q", c.spec, err)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a, _ := ParseSpec([]byte("base: {seed: 1, k: 5}\ngrid: {env_id: [Hopper-v4]}\nexecutor: {kind: local}\n"))
	b, _ := ParseSpec([]byte("base: {k: 5.0, seed: 1}\ngrid: {env_id: [Hopper-v4]}\nexecutor: {kind: slurm, parallel: 3}\n"))
	c, _ := ParseSpec([]byte("base: {seed: 1, k: 6}\ngrid: {env_id: [Hopper-v4]}\n"))
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("same base and grid (order, spelling and executor aside) must be the same sweep")
	}
	if a.Fingerprint() == c.Fingerprint() {
		t.Error("a different base must be a different sweep")
	}
}

func TestCreateRefusesAndContinues(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sw")
	s, err := ParseSpec([]byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Create(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(m.ConfigPath(m.Trials[2]))
	if err != nil || !strings.Contains(string(b), `seed: "2"`) || !strings.Contains(string(b), `k: "5"`) {
		t.Fatalf("trial config: %q %v", b, err)
	}
	// The same spec continues the sweep.
	m2, err := Create(dir, s)
	if err != nil || len(m2.Trials) != 4 || !m2.Created.Equal(m.Created) {
		t.Fatalf("continue: %v", err)
	}
	other, _ := ParseSpec([]byte(strings.Replace(tiny, "[5, 8]", "[5, 9]", 1)))
	if _, err := Create(dir, other); err == nil || !strings.Contains(err.Error(), "different spec") {
		t.Fatalf("different spec: %v", err)
	}
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "thesis.tex"), []byte("x"), 0o644)
	if _, err := Create(busy, s); err == nil || !strings.Contains(err.Error(), "thesis.tex") {
		t.Fatalf("dir with other files: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(busy, "thesis.tex")); string(b) != "x" {
		t.Fatal("other files were touched")
	}
}

func TestStatusFromRunDir(t *testing.T) {
	s, _ := ParseSpec([]byte(tiny))
	m, err := Create(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Trials[1]
	if st := m.TrialStatus(tr); st.State != StateNew || st.Total != 4096 {
		t.Fatalf("fresh: %+v", st)
	}
	os.MkdirAll(filepath.Join(m.RunDir(tr), "checkpoints"), 0o755)
	if st := m.TrialStatus(tr); st.State != StateStarted {
		t.Fatalf("dir only: %+v", st)
	}
	os.WriteFile(filepath.Join(m.RunDir(tr), "checkpoints", "latest.json"), []byte(`{"update":1,"step":2048,"checkpoint":"checkpoints/update_000001.ckpt"}`), 0o644)
	if st := m.TrialStatus(tr); st.State != StateStopped || st.Step != 2048 {
		t.Fatalf("checkpoint: %+v", st)
	}
	if err := m.WriteMarker(tr, StateDone, nil); err != nil {
		t.Fatal(err)
	}
	if st := m.TrialStatus(tr); st.State != StateDone {
		t.Fatalf("done: %+v", st)
	}
	rel, err := m.Lock("t1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lock("t1"); err == nil {
		t.Fatal("a held lock was taken twice")
	}
	rel()
	if _, err := m.Lock("t1"); err != nil {
		t.Fatalf("released lock: %v", err)
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(tiny))
	f.Add([]byte("grid:\n  seed: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpec(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		tr, err := s.Trials()
		if err != nil {
			t.Fatalf("parsed spec has no trials: %v", err)
		}
		n := 1
		for _, a := range s.Grid {
			n *= len(a.Values)
		}
		if len(tr) != n {
			t.Fatalf("%d trials, grid makes %d", len(tr), n)
		}
		seen := map[string]bool{}
		for _, x := range tr {
			if seen[x.Name] || strings.ContainsAny(x.Name, "/\\ \n") {
				t.Fatalf("bad or repeated trial name %q", x.Name)
			}
			seen[x.Name] = true
		}
	})
}
