package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// These tests of the sdk's fast path need a real environment plugin, so
// they live here rather than in the sdk module, which must not depend on
// this repository's plugins.

func TestFastPathReportsACrashedPlugin(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-env-mujoco")
	c := plugintest.Open(t, bin)
	if _, ok := c.Info.Capabilities[sdk.FastPathKey]; ok {
		t.Fatalf("the fast-path address must not be listed among capabilities: %v", c.Info.Capabilities)
	}
	e, _ := c.Env()
	ctx := context.Background()
	h, spec, err := e.Open(ctx, sdk.EnvConfig{TaskID: "InvertedPendulum-v4", NumEnvs: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reset(ctx, h, 1); err != nil {
		t.Fatal(err)
	}
	act := sdk.NewMatrix(1, spec.ActDim)
	if _, err := e.Step(ctx, h, act); err != nil {
		t.Fatalf("step: %v", err)
	}
	if err := syscall.Kill(c.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := e.Step(ctx, h, act); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "nt-env-mujoco") || !strings.Contains(err.Error(), "crashed") {
			t.Fatalf("want an error naming the killed plugin, got %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a step on a killed plugin hung")
	}
}

// BenchmarkStepShm, BenchmarkStepFastPath (the socket) and BenchmarkStepGRPC
// time one InvertedPendulum step (about 10 us of physics) through the env
// plugin over each transport: the per-step cost of the boundary during
// training.
func BenchmarkStepShm(b *testing.B) { benchStep(b, sdk.TransportShm) }

func BenchmarkStepFastPath(b *testing.B) { benchStep(b, sdk.TransportSocket) }

func BenchmarkStepGRPC(b *testing.B) { benchStep(b, sdk.TransportGRPC) }

func benchStep(b *testing.B, transport string) {
	b.Setenv("NT_TRANSPORT", transport)
	c := plugintest.Open(b, plugintest.Build(b, ".", "nt-env-mujoco"))
	if c.Transport() != transport {
		b.Fatalf("asked for %s, got %s", transport, c.Transport())
	}
	e, _ := c.Env()
	ctx := context.Background()
	h, spec, err := e.Open(ctx, sdk.EnvConfig{TaskID: "InvertedPendulum-v4", NumEnvs: 1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Reset(ctx, h, 1); err != nil {
		b.Fatal(err)
	}
	act := sdk.NewMatrix(1, spec.ActDim)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Step(ctx, h, act); err != nil {
			b.Fatal(err)
		}
	}
}
