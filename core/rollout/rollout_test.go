package rollout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/gif"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// walk is a tiny deterministic environment: a point on a line moved by
// action 0 (in [-1, 1]) with reward equal to that action; action 1 (in
// [0, 5]) only adds to the info. Episodes end when |x| > 2 (terminated) or
// after 10 steps (truncated). Reset noise comes from the seed.
type walk struct {
	x, noise float64
	steps    int
	seed     int64
	opened   int
	closed   int
	inf      bool // report infinite action bounds
}

func (w *walk) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "walk", Kind: sdk.KindEnv}, nil
}

func (w *walk) Open(_ context.Context, cfg sdk.EnvConfig) (int, sdk.EnvSpec, error) {
	if cfg.TaskID != "Walk-v0" {
		return 0, sdk.EnvSpec{}, fmt.Errorf("unknown task %q", cfg.TaskID)
	}
	w.opened++
	hi := 5.0
	if w.inf {
		hi = math.Inf(1)
	}
	return 7, sdk.EnvSpec{TaskID: cfg.TaskID, NumEnvs: 1, ObsDim: 1, ActDim: 2,
		ActLow: []float64{-1, 0}, ActHigh: []float64{1, hi}, MaxEpisodeSteps: 10, DT: 0.05,
		InfoKeys: []string{"x_position", "side"}}, nil
}

func (w *walk) reset() {
	w.x, w.steps = float64(w.seed%7)/100, 0
}

func (w *walk) Reset(_ context.Context, h int, seed int64) (sdk.Matrix, error) {
	if seed >= 0 {
		w.seed = seed
	}
	w.reset()
	return sdk.Matrix{Rows: 1, Cols: 1, Data: []float64{w.x}}, nil
}

func (w *walk) Step(_ context.Context, h int, a sdk.Matrix) (sdk.StepResult, error) {
	if h != 7 || a.Rows != 1 || a.Cols != 2 {
		return sdk.StepResult{}, fmt.Errorf("bad step")
	}
	w.x += a.Data[0]
	w.steps++
	res := sdk.StepResult{
		Obs: sdk.Matrix{Rows: 1, Cols: 1, Data: []float64{w.x}}, Reward: []float64{a.Data[0]},
		Terminated: []bool{math.Abs(w.x) > 2}, Truncated: []bool{w.steps >= 10},
		FinalObs: sdk.NewMatrix(1, 1),
		Info:     map[string][]float64{"x_position": {w.x}, "side": {a.Data[1]}},
	}
	if res.Terminated[0] || res.Truncated[0] {
		res.FinalObs.Data[0] = w.x
		res.Episodes = []sdk.EpisodeStat{{Env: 0, Length: w.steps}}
		w.reset()
		res.Obs.Data[0] = w.x
	}
	return res, nil
}

// Render draws a white square whose column follows x on a black field.
func (w *walk) Render(_ context.Context, h, i, width, height int) (sdk.Frame, error) {
	f := sdk.Frame{Width: width, Height: height, Pix: make([]byte, 3*width*height)}
	cx := int(float64(width) * (0.5 + w.x/5))
	for y := height/2 - 4; y < height/2+4; y++ {
		for x := cx - 4; x < cx+4; x++ {
			if x >= 0 && x < width {
				p := 3 * (y*width + x)
				f.Pix[p], f.Pix[p+1], f.Pix[p+2] = 255, 255, 255
			}
		}
	}
	return f, nil
}

func (w *walk) Close(context.Context, int) error { w.closed++; return nil }

func run(t *testing.T, opts Options) (Summary, []Record, []byte) {
	t.Helper()
	var buf bytes.Buffer
	env := &walk{}
	sum, err := Run(context.Background(), env, opts, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if env.opened != 1 || env.closed != 1 {
		t.Errorf("opened %d closed %d, want 1 1", env.opened, env.closed)
	}
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return sum, recs, buf.Bytes()
}

func TestRandomRollout(t *testing.T) {
	sum, recs, out := run(t, Options{TaskID: "Walk-v0", Steps: 40, Seed: 3})
	if len(recs) != 40 || sum.Steps != 40 {
		t.Fatalf("%d records, summary %d steps, want 40", len(recs), sum.Steps)
	}
	total, ends := 0.0, 0
	for k, r := range recs {
		if r.Step != k || len(r.Action) != 2 || len(r.Obs) != 1 {
			t.Fatalf("record %d malformed: %+v", k, r)
		}
		if r.Action[0] < -1 || r.Action[0] > 1 || r.Action[1] < 0 || r.Action[1] > 5 {
			t.Errorf("record %d action %v outside the bounds", k, r.Action)
		}
		if r.Reward != r.Action[0] || r.Info["side"] != r.Action[1] {
			t.Errorf("record %d: reward %v / info %v do not belong to action %v", k, r.Reward, r.Info, r.Action)
		}
		ended := r.Terminated || r.Truncated
		if ended != (r.FinalObs != nil) {
			t.Errorf("record %d: ended %v but final_obs %v", k, ended, r.FinalObs)
		}
		if ended {
			ends++
		}
		// The next record starts from this step's resulting observation.
		if k+1 < len(recs) && !ended && recs[k+1].Obs[0] != r.Info["x_position"] {
			t.Errorf("record %d obs %v, previous step ended at %v", k+1, recs[k+1].Obs, r.Info["x_position"])
		}
		total += r.Reward
	}
	if math.Abs(total-sum.Return) > 1e-12 || len(sum.Episodes) != ends || ends == 0 {
		t.Errorf("summary return %v episodes %d; records give %v and %d", sum.Return, len(sum.Episodes), total, ends)
	}
	_, _, again := run(t, Options{TaskID: "Walk-v0", Steps: 40, Seed: 3})
	_, _, other := run(t, Options{TaskID: "Walk-v0", Steps: 40, Seed: 4})
	if !bytes.Equal(out, again) || bytes.Equal(out, other) {
		t.Errorf("same seed must give the same lines and another seed other lines")
	}
}

func TestZeroPolicy(t *testing.T) {
	sum, recs, _ := run(t, Options{TaskID: "Walk-v0", Steps: 25, Seed: 1, Policy: PolicyZero})
	for _, r := range recs {
		if r.Action[0] != 0 || r.Action[1] != 0 {
			t.Fatalf("zero policy acted %v", r.Action)
		}
	}
	// Standing still only ends episodes by the time limit: 25 steps, 2 ends.
	if len(sum.Episodes) != 2 || !recs[9].Truncated || !recs[19].Truncated {
		t.Errorf("episodes %+v", sum.Episodes)
	}
}

func TestGIF(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "walk.gif")
	sum, _, _ := run(t, Options{TaskID: "Walk-v0", Steps: 12, Seed: 2, GIF: path, Width: 40, Height: 30, FrameEvery: 3})
	if sum.Frames != 5 { // the start plus every third of 12 steps
		t.Errorf("%d frames, want 5", sum.Frames)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gif.DecodeAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != 5 || g.Delay[0] != 15 {
		t.Fatalf("gif has %d frames, delay %d; want 5 and 15 (3 x 0.05 s)", len(g.Image), g.Delay[0])
	}
	// The square moves, so consecutive frames must differ, and the white
	// square must survive the palette.
	differ := 0
	for k := range g.Image {
		if k > 0 && !bytes.Equal(g.Image[k].Pix, g.Image[k-1].Pix) {
			differ++
		}
		white := 0
		for _, p := range g.Image[k].Pix {
			if r, gg, b, _ := g.Image[k].Palette[p].RGBA(); r>>8 == 255 && gg>>8 == 255 && b>>8 == 255 {
				white++
			}
		}
		if white == 0 {
			t.Errorf("frame %d lost the white square", k)
		}
	}
	if differ == 0 {
		t.Errorf("all frames identical")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("folder holds %d entries, want only the gif (temp file left behind?)", len(ents))
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		opts Options
		env  *walk
		want string
	}{
		{Options{TaskID: "Walk-v0", Steps: 0}, &walk{}, "steps"},
		{Options{TaskID: "Walk-v0", Steps: 5, Policy: "greedy"}, &walk{}, "greedy"},
		{Options{TaskID: "Nope-v1", Steps: 5}, &walk{}, "Nope-v1"},
		{Options{TaskID: "Walk-v0", Steps: 5}, &walk{inf: true}, "not finite"},
		{Options{TaskID: "Walk-v0", Steps: 5, GIF: filepath.Join(t.TempDir(), "missing", "a.gif")}, &walk{}, "does not exist"},
	}
	for _, c := range cases {
		_, err := Run(ctx, c.env, c.opts, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one mentioning %q", c.opts, err, c.want)
		}
		if c.env.opened != c.env.closed {
			t.Errorf("%+v: opened %d closed %d", c.opts, c.env.opened, c.env.closed)
		}
	}
}
