package rips

import (
	"context"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/workloads"
)

func TestDebugProfile(t *testing.T) {
	if os.Getenv("RIPS_PROFILE") == "" {
		t.Skip()
	}
	in, _ := workloads.Generate(os.Getenv("RIPS_PROFILE"), 1)
	d := in[0].Distances
	f, _ := os.Create("/tmp/cpu.prof")
	pprof.StartCPUProfile(f)
	start := time.Now()
	Compute(context.Background(), &d, Options{MaxDim: 2, Workers: 1})
	t.Logf("took %v", time.Since(start))
	pprof.StopCPUProfile()
}
