package mjenv

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// robotPixels counts pixels in the central third of the image whose colour
// is the robot's warm tan (red well above blue); the sky and the checkered
// floor are blue-grey, so they never count.
func robotPixels(f sdk.Frame) int {
	n := 0
	for y := range f.Height {
		for x := f.Width / 3; x < 2*f.Width/3; x++ {
			p := 3 * (y*f.Width + x)
			if int(f.Pix[p]) > int(f.Pix[p+2])+40 {
				n++
			}
		}
	}
	return n
}

// meanRow is the mean colour of row y.
func meanRow(f sdk.Frame, y int) [3]float64 {
	var m [3]float64
	for x := range f.Width {
		for c := range 3 {
			m[c] += float64(f.Pix[3*(y*f.Width+x)+c]) / float64(f.Width)
		}
	}
	return m
}

func TestRenderShowsTheRobot(t *testing.T) {
	e := New()
	for _, task := range []string{"Hopper-v4", "Walker2d-v4"} {
		h, spec := open(t, e, task, 2, 4, nil)
		first, err := e.Render(bg, h, 1, 240, 180)
		if err != nil {
			t.Fatal(err)
		}
		if first.Width != 240 || first.Height != 180 || len(first.Pix) != 3*240*180 {
			t.Fatalf("%s: frame %dx%d with %d bytes", task, first.Width, first.Height, len(first.Pix))
		}
		r := rand.New(rand.NewPCG(4, 4))
		for range 25 {
			if _, err := e.Step(bg, h, randomActions(spec, r)); err != nil {
				t.Fatal(err)
			}
		}
		later, err := e.Render(bg, h, 1, 240, 180)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(first.Pix, later.Pix) {
			t.Errorf("%s: frames before and after 25 steps are identical", task)
		}
		for _, f := range []sdk.Frame{first, later} {
			if n := robotPixels(f); n < 150 {
				t.Errorf("%s: only %d robot-coloured pixels near the centre", task, n)
			}
			// Top-down order: sky (blue above red) at the top, grey floor
			// at the bottom.
			top, bottom := meanRow(f, 0), meanRow(f, f.Height-1)
			if !(top[2] > top[0]+20) || !(bottom[2]-bottom[0] < 40 && bottom[0] > 40) {
				t.Errorf("%s: top row %v is not sky or bottom row %v not floor", task, top, bottom)
			}
		}
	}
}

// TestRenderKeepsDeterminism: drawing reads the state but must not change
// the trajectory.
func TestRenderKeepsDeterminism(t *testing.T) {
	run := func(draw bool) []float64 {
		e := New()
		h, spec := open(t, e, "Hopper-v4", 1, 8, nil)
		r := rand.New(rand.NewPCG(8, 8))
		var tr []float64
		for k := range 40 {
			if draw && k%10 == 0 {
				if _, err := e.Render(bg, h, 0, 64, 48); err != nil {
					t.Fatal(err)
				}
			}
			res, err := e.Step(bg, h, randomActions(spec, r))
			if err != nil {
				t.Fatal(err)
			}
			tr = append(tr, res.Obs.Data...)
		}
		return tr
	}
	if !sameBits(run(false), run(true)) {
		t.Errorf("rendering changed the trajectory")
	}
}

func TestRenderBadSize(t *testing.T) {
	e := New()
	h, _ := open(t, e, "InvertedPendulum-v4", 1, 0, nil)
	for _, s := range [][2]int{{0, 10}, {8, 8}, {5000, 100}} {
		if _, err := e.Render(bg, h, 0, s[0], s[1]); err == nil {
			t.Errorf("render %dx%d: no error", s[0], s[1])
		}
	}
	f, err := e.Render(bg, h, 0, 700, 500) // larger than the first renderer's default
	if err != nil || f.Width != 700 {
		t.Errorf("render 700x500: %v", err)
	}
}
