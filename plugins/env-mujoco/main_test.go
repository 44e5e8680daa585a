package main

import (
	"bytes"
	"context"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/rollout"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// TestPluginOverGRPC builds nt-env-mujoco, runs the sdk conformance kit on
// it, and makes a rollout with a GIF through the gRPC client, as
// `nthost env rollout` will.
func TestPluginOverGRPC(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-env-mujoco")
	plugintest.Run(t, bin)

	c := plugintest.Open(t, bin)
	env, err := c.Env()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hopper.gif")
	var lines bytes.Buffer
	sum, err := rollout.Run(context.Background(), env, rollout.Options{
		TaskID: "Hopper-v4", Steps: 30, Seed: 1, GIF: path, Width: 96, Height: 72, FrameEvery: 10,
	}, &lines)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(lines.String(), "\n"); n != 30 || sum.Frames != 4 {
		t.Errorf("%d JSON lines and %d frames, want 30 and 4", n, sum.Frames)
	}
	if !strings.Contains(lines.String(), `"x_position"`) {
		t.Errorf("JSON lines carry no x_position info")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gif.DecodeAll(f)
	if err != nil || len(g.Image) != 4 {
		t.Fatalf("gif: %v, %d frames", err, len(g.Image))
	}
	if bytes.Equal(g.Image[0].Pix, g.Image[3].Pix) {
		t.Errorf("first and last GIF frames are identical")
	}
	// The robot is tan (red well above blue); sky and floor are blue-grey.
	for k, img := range g.Image {
		robot := 0
		w, h := img.Rect.Dx(), img.Rect.Dy()
		for y := range h {
			for x := w / 3; x < 2*w/3; x++ {
				r, _, b, _ := img.Palette[img.Pix[y*img.Stride+x]].RGBA()
				if int(r>>8) > int(b>>8)+40 {
					robot++
				}
			}
		}
		if robot < 20 {
			t.Errorf("GIF frame %d: %d robot-coloured pixels near the centre", k, robot)
		}
	}
}
