package ppo

import (
	"context"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// FuzzLoadCheckpoint: no checkpoint makes Load panic or allocate beyond
// the memory budget (a forged hidden_size or num_steps is refused before
// the networks are built), and a checkpoint that loads saves back to one
// that loads.
func FuzzLoadCheckpoint(f *testing.F) {
	ctx := context.Background()
	a := New()
	if _, err := a.Init(ctx, sdk.AlgoConfig{Env: testSpec(1), Seed: 3,
		Hyper: map[string]string{"num_steps": "8", "num_minibatches": "2", "hidden_size": "4,4", "total_timesteps": "64"}}); err != nil {
		f.Fatal(err)
	}
	good, err := a.Save(ctx)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/3] ^= 1
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		b := New()
		if err := b.Load(ctx, data); err != nil {
			return
		}
		again, err := b.Save(ctx)
		if err != nil {
			t.Fatalf("a loaded checkpoint does not save: %v", err)
		}
		if err := New().Load(ctx, again); err != nil {
			t.Fatalf("a saved checkpoint does not load: %v", err)
		}
	})
}
