package run

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/snapshot"
	"github.com/neuraltopology/neuraltopology/plugins/dist-geodesic/geodesic"
	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/rips"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// smallJob is a snapshot of one random 30-point cloud.
func smallJob(seq int, rnd *rand.Rand) job {
	pts := sdk.NewMatrix(30, 3)
	for i := range pts.Data {
		pts.Data[i] = rnd.NormFloat64()
	}
	return job{seq: seq, step: seq * 10, update: seq, clouds: []snapshot.Cloud{{Name: "actor/1", Net: "actor", Layer: 1, Points: pts}}}
}

// TestCheckpointWaitsForEarlierSnapshotsNotTraining checks the deferred
// work a checkpoint hands the pool: the caller returns while a snapshot
// is outstanding, the work runs only after that snapshot is written and
// before any later one, and it runs at once when nothing is outstanding.
func TestCheckpointWaitsForEarlierSnapshotsNotTraining(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	var events []string
	gate := make(chan struct{})
	write := func(j job, _ []snapshot.Result) error {
		if j.seq == 1 {
			<-gate // hold snapshot 1 as if its homology were slow
		}
		mu.Lock()
		events = append(events, "snapshot "+string(rune('0'+j.seq)))
		mu.Unlock()
		return nil
	}
	p := newPool(context.Background(), geodesic.Plugin{}, rips.Plugin{}, snapshot.Options{Metric: "euclidean", K: 5, MaxDim: 1}, 1, write)
	record := func(name string) func() error {
		return func() error {
			mu.Lock()
			events = append(events, name)
			mu.Unlock()
			return nil
		}
	}
	if err := p.after(record("checkpoint 0")); err != nil {
		t.Fatal(err)
	}
	if err := p.submit(smallJob(1, rnd)); err != nil {
		t.Fatal(err)
	}
	if err := p.after(record("checkpoint 1")); err != nil {
		t.Fatal(err)
	}
	if err := p.submit(smallJob(2, rnd)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := append([]string(nil), events...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "checkpoint 0" {
		t.Fatalf("before snapshot 1 is written: events %q, want only checkpoint 0 (run at once)", got)
	}
	close(gate)
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	want := []string{"checkpoint 0", "snapshot 1", "checkpoint 1", "snapshot 2"}
	if len(events) != len(want) {
		t.Fatalf("events %q, want %q", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Fatalf("events %q, want %q", events, want)
		}
	}
}

// TestDeferredErrorStopsTheRun checks that a failed deferred write
// surfaces from the pool and that nothing deferred after it runs.
func TestDeferredErrorStopsTheRun(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	gate := make(chan struct{})
	write := func(j job, _ []snapshot.Result) error {
		<-gate
		return nil
	}
	p := newPool(context.Background(), geodesic.Plugin{}, rips.Plugin{}, snapshot.Options{Metric: "euclidean", K: 5, MaxDim: 1}, 1, write)
	if err := p.submit(smallJob(1, rnd)); err != nil {
		t.Fatal(err)
	}
	disk := errors.New("disk full")
	ranSecond := false
	p.after(func() error { return disk })
	p.after(func() error { ranSecond = true; return nil })
	close(gate)
	if err := p.wait(); !errors.Is(err, disk) {
		t.Fatalf("wait: %v, want the deferred error", err)
	}
	if ranSecond {
		t.Fatal("deferred work ran after an earlier one failed")
	}
	if err := p.after(func() error { return nil }); !errors.Is(err, disk) {
		t.Fatalf("after on a failed pool: %v, want the first error", err)
	}
}
