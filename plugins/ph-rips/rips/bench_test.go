package rips

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/core/workloads"
)

// BenchmarkWorkloads times Compute in-process on each benchmark input
// (dimensions 0..2, all cores). Side-by-side numbers against ripser come
// from cmd/ripsbench; this is for profiling (-cpuprofile).
func BenchmarkWorkloads(b *testing.B) {
	for _, name := range workloads.Names {
		inputs, err := workloads.Generate(name, 1, geodesicK)
		if err != nil {
			b.Fatal(err)
		}
		for _, in := range inputs {
			d := in.Distances
			b.Run(in.Name, func(b *testing.B) {
				for b.Loop() {
					if _, err := Compute(context.Background(), &d, Options{MaxDim: workloads.MaxDim}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSuiteQuick is BenchmarkWorkloads on the quick suite, each
// input at its own dimension and threshold; for profiling.
func BenchmarkSuiteQuick(b *testing.B) {
	inputs, err := workloads.Generate("suite-quick", 1, geodesicK)
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range inputs {
		d := in.Distances
		b.Run(in.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Compute(context.Background(), &d, Options{MaxDim: in.MaxDim, Threshold: in.Threshold}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkForms runs a thresholded row in each form of the engine
// (one worker, so the time is CPU time), to see what the sparse form's
// lookups cost where useSparse has a choice.
func BenchmarkForms(b *testing.B) {
	pts := workloads.O3(1024, 1)
	d := MustEuclidean(pts)
	for _, form := range []string{"dense", "sparse"} {
		b.Run("o3_1024-thr1.8-dim3/"+form, func(b *testing.B) {
			withForm(form, func() {
				for b.Loop() {
					if _, err := Compute(context.Background(), &d, Options{MaxDim: 3, Threshold: 1.8, Workers: 1}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// benchClouds loads the clouds of RIPS_CLOUDS (filtered by
// RIPS_CLOUDS_ONLY) for the cloud benchmarks, or skips without it: they
// are for measuring on a real run, not for CI.
func benchClouds(b *testing.B) []namedMatrix {
	dir := os.Getenv("RIPS_CLOUDS")
	if dir == "" {
		b.Skip("RIPS_CLOUDS (a run directory with clouds/step_N/*.npz) not set")
	}
	return mainJobClouds(b, dir, os.Getenv("RIPS_CLOUDS_ONLY"))
}

// BenchmarkClouds times Compute (one worker, so the time is CPU time)
// on a main-job run's saved clouds with the main job's metric (k=15
// geodesic, dimensions 0..2, enclosing-radius threshold). The run
// directory comes from RIPS_CLOUDS and RIPS_CLOUDS_ONLY picks clouds
// whose name contains it; without RIPS_CLOUDS the benchmark is skipped.
// It is the profile target for the main job's homology (-cpuprofile).
func BenchmarkClouds(b *testing.B) {
	inputs := benchClouds(b)
	var cpu time.Duration
	for b.Loop() {
		for _, in := range inputs {
			d := in.d
			c0 := cpuTime()
			if _, err := Compute(context.Background(), &d, Options{MaxDim: 2, Workers: 1}); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - c0
		}
	}
	// CPU seconds (user+sys) suffer less than wall time from the shared
	// machine's load.
	b.ReportMetric(cpu.Seconds()/float64(b.N*len(inputs)), "cpu-s/cloud")
}

// BenchmarkCloudsCollapse times the edge collapse alone (one worker,
// early stop off) on the clouds of BenchmarkClouds.
func BenchmarkCloudsCollapse(b *testing.B) {
	inputs := benchClouds(b)
	var cpu time.Duration
	for b.Loop() {
		for _, in := range inputs {
			n := in.d.Rows
			t := float32(enclosingRadius(in.d.Data, n))
			adj := adjacencyFromMatrix(in.d.Data, n, t)
			c0 := cpuTime()
			withCollapse("on", func() {
				if _, err := collapseAdjacency(context.Background(), adj, in.d.Data, true, 1); err != nil {
					b.Fatal(err)
				}
			})
			cpu += cpuTime() - c0
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N*len(inputs)), "cpu-s/cloud")
}
