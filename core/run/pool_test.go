package run

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

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

// gatedDist is a distance plugin whose calls wait at a gate, counting
// how many are in progress at once.
type gatedDist struct {
	sdk.Distance
	gate     chan struct{}
	mu       sync.Mutex
	in, most int
	arrived  chan struct{} // one value per call that reached the gate
}

func (g *gatedDist) Compute(ctx context.Context, pts sdk.Matrix, params map[string]string) (sdk.DistanceResult, error) {
	g.mu.Lock()
	g.in++
	g.most = max(g.most, g.in)
	g.mu.Unlock()
	g.arrived <- struct{}{}
	<-g.gate
	g.mu.Lock()
	g.in--
	g.mu.Unlock()
	return g.Distance.Compute(ctx, pts, params)
}

// TestWidenedPoolComputesAtOnceAndWritesInOrder checks what widen is
// for: snapshots queued behind a busy worker start on the new workers
// at once, and they are still written in the order taken, each with the
// results a single inline computation gives.
func TestWidenedPoolComputesAtOnceAndWritesInOrder(t *testing.T) {
	opt := snapshot.Options{Metric: "euclidean", K: 5, MaxDim: 1}
	rnd := rand.New(rand.NewPCG(5, 6))
	jobs := make([]job, 4)
	for i := range jobs {
		jobs[i] = smallJob(i+1, rnd)
	}
	var want [][]sdk.Diagram
	ref := newPool(context.Background(), geodesic.Plugin{}, rips.Plugin{}, opt, 1, func(_ job, rs []snapshot.Result) error {
		want = append(want, rs[0].Diagrams)
		return nil
	})
	for _, j := range jobs {
		if err := ref.runInline(j); err != nil {
			t.Fatal(err)
		}
	}
	ref.wait()

	g := &gatedDist{Distance: geodesic.Plugin{}, gate: make(chan struct{}), arrived: make(chan struct{}, len(jobs))}
	var order []int
	var got [][]sdk.Diagram
	p := newPool(context.Background(), g, rips.Plugin{}, opt, 1, func(j job, rs []snapshot.Result) error {
		order = append(order, j.seq)
		got = append(got, rs[0].Diagrams)
		return nil
	})
	for _, j := range jobs {
		if err := p.submit(j); err != nil {
			t.Fatal(err)
		}
	}
	arrive := func(what string) {
		select {
		case <-g.arrived:
		case <-time.After(time.Minute):
			t.Fatalf("no distance call for %s within a minute", what)
		}
	}
	arrive("snapshot 1") // the one worker holds it
	p.widen(3)
	arrive("a second snapshot beside snapshot 1")
	arrive("a third snapshot beside snapshot 1")
	close(g.gate)
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	if g.most != 3 {
		t.Errorf("at most %d snapshots computed at once after widen(3), want 3", g.most)
	}
	if !reflect.DeepEqual(order, []int{1, 2, 3, 4}) {
		t.Fatalf("snapshots written in order %v, want 1 2 3 4", order)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the widened pool's diagrams differ from inline computation's")
	}
}
