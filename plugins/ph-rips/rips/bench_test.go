package rips

import (
	"context"
	"testing"

	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/workloads"
)

// BenchmarkWorkloads times Compute in-process on each benchmark input
// (dimensions 0..2, all cores). Side-by-side numbers against ripser come
// from cmd/ripsbench; this is for profiling (-cpuprofile).
func BenchmarkWorkloads(b *testing.B) {
	for _, name := range workloads.Names {
		inputs, err := workloads.Generate(name, 1)
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
	inputs, err := workloads.Generate("suite-quick", 1)
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
