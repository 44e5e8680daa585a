package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/sweep"
)

// BenchmarkSweepOverhead times 4 short trials (InvertedPendulum-v4, 3072
// steps) run by hand one after the other, through the local executor one
// at a time, and through SLURM one at a time (%1), on a single-node SLURM
// the benchmark brings up. The differences per trial are the executors'
// cost. Run: make bench-sweep (results in docs/benchmarks.md).
func BenchmarkSweepOverhead(b *testing.B) {
	env := startSlurm(b)
	bin := filepath.Join(bins(b), "nthost")
	work := b.TempDir()
	spec := strings.Replace(tinySweep, "parallel: 2", "parallel: 1", 1)
	specPath := filepath.Join(work, "spec.yaml")
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		b.Fatal(err)
	}
	run := func(args ...string) time.Duration {
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = append(append(os.Environ(), "NT_PLUGIN_DIR="), env...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("nthost %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return time.Since(start)
	}
	for range b.N {
		// By hand: the same 4 configs, one nthost run after the other.
		s, err := sweep.ParseSpec([]byte(spec))
		if err != nil {
			b.Fatal(err)
		}
		plan, err := sweep.Create(filepath.Join(work, "configs"), s)
		if err != nil {
			b.Fatal(err)
		}
		var hand time.Duration
		for _, tr := range plan.Trials {
			hand += run("--config", plan.ConfigPath(tr), "--run-dir", filepath.Join(work, "hand", tr.Name))
		}
		local := run("sweep", "run", specPath, "--out", filepath.Join(work, "local"), "--executor", "local", "--parallel", "1", "--no-report")
		slurm := run("sweep", "run", specPath, "--out", filepath.Join(work, "slurm"), "--executor", "slurm", "--no-report")
		per := func(d time.Duration) float64 { return d.Seconds() / float64(len(plan.Trials)) }
		b.ReportMetric(per(hand), "hand-s/trial")
		b.ReportMetric(per(local), "local-s/trial")
		b.ReportMetric(per(slurm), "slurm-s/trial")
		b.ReportMetric(per(local-hand), "local-overhead-s/trial")
		b.ReportMetric(per(slurm-hand), "slurm-overhead-s/trial")
		os.RemoveAll(filepath.Join(work, "hand"))
		os.RemoveAll(filepath.Join(work, "local"))
		os.RemoveAll(filepath.Join(work, "slurm"))
		os.RemoveAll(filepath.Join(work, "configs"))
	}
}
