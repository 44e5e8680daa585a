package mjenv

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// TestStateContinuesBitForBit saves a batch mid-run (mid-episode, with
// contacts and several resets behind it), loads the state into a batch of
// a fresh Env opened with another seed, and requires every later step
// result to equal the original's bit for bit: observations, rewards,
// episode ends and statistics, and info.
func TestStateContinuesBitForBit(t *testing.T) {
	for _, task := range []string{"Hopper-v4", "Walker2d-v4", "InvertedPendulum-v4"} {
		t.Run(task, func(t *testing.T) {
			e := New()
			h, spec := open(t, e, task, 3, 7, nil)
			r := rand.New(rand.NewPCG(1, 2))
			for range 137 {
				if _, err := e.Step(bg, h, randomActions(spec, r)); err != nil {
					t.Fatal(err)
				}
			}
			saved, err := e.SaveState(bg, h)
			if err != nil {
				t.Fatal(err)
			}
			acts := make([]sdk.Matrix, 300)
			want := make([]sdk.StepResult, len(acts))
			for k := range acts {
				acts[k] = randomActions(spec, r)
				if want[k], err = e.Step(bg, h, acts[k]); err != nil {
					t.Fatal(err)
				}
			}
			episodes := 0
			for _, w := range want {
				episodes += len(w.Episodes)
			}
			if episodes == 0 {
				t.Fatal("no episode ended after the save: the test would not cover resets")
			}

			e2 := New()
			h2, _ := open(t, e2, task, 3, 99, nil)
			if _, err := e2.LoadState(bg, h2, saved); err != nil {
				t.Fatal(err)
			}
			for k := range acts {
				got, err := e2.Step(bg, h2, acts[k])
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want[k]) {
					t.Fatalf("step %d after restore differs:\n got  %+v\n want %+v", k, got, want[k])
				}
			}
			// Saving again gives the same bytes as the original batch now.
			a, _ := e.SaveState(bg, h)
			b, _ := e2.SaveState(bg, h2)
			if !reflect.DeepEqual(a, b) {
				t.Fatal("the restored batch's state differs from the original's after the same steps")
			}
		})
	}
}

// TestStateRefusesMismatch loads states into batches they do not fit; each
// is refused with a one-line error and the batch keeps working.
func TestStateRefusesMismatch(t *testing.T) {
	e := New()
	h, _ := open(t, e, "Hopper-v4", 2, 1, nil)
	saved, err := e.SaveState(bg, h)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := open(t, e, "Walker2d-v4", 2, 1, nil)
	small, _ := open(t, e, "Hopper-v4", 1, 1, nil)
	noisy, _ := open(t, e, "Hopper-v4", 2, 1, map[string]string{"reset_noise_scale": "0.1"})
	for name, c := range map[string]struct {
		h    int
		data []byte
		want string
	}{
		"task":      {other, saved, "does not fit"},
		"size":      {small, saved, "does not fit"},
		"options":   {noisy, saved, "does not fit"},
		"truncated": {h, saved[:len(saved)/2], "not readable"},
		"garbage":   {h, []byte("hello"), "not readable"},
	} {
		before, _ := e.SaveState(bg, c.h)
		_, err := e.LoadState(bg, c.h, c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", name, err, c.want)
		}
		if after, _ := e.SaveState(bg, c.h); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: a refused state changed the batch", name)
		}
	}
	if _, err := e.LoadState(bg, 999, saved); err == nil {
		t.Error("a state loaded into a handle that does not exist")
	}
}
