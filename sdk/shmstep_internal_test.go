package sdk

import (
	"math"
	"reflect"
	"testing"
)

// TestStepLayoutRoundTrip sends a Step request and reply through the
// fixed layout and back: every value must come out with the same bits
// (negative zero, a NaN payload, denormals), empty arrays nil as from
// protobuf, and a reply cut short or with a corrupt length rejected, not
// read past its end.
func TestStepLayoutRoundTrip(t *testing.T) {
	slot := make([]byte, 1<<16)
	act := Matrix{Rows: 2, Cols: 3, Data: []float64{math.Copysign(0, -1), 1e-310, -2.5, math.Float64frombits(0x7ff8000000000123), 3, math.MaxFloat64}}
	n, err := putStepRequest(slot, 7, act)
	if err != nil {
		t.Fatal(err)
	}
	h, got, _, err := readStepRequest(slot[:n], nil)
	if err != nil || h != 7 || got.Rows != 2 || got.Cols != 3 || !sameBits(got.Data, act.Data) {
		t.Fatalf("request came back as handle %d, %+v, %v", h, got, err)
	}
	if _, _, _, err := readStepRequest(slot[:n-8], nil); err == nil {
		t.Error("a request one value short was accepted")
	}

	want := StepResult{
		Obs:        Matrix{Rows: 2, Cols: 2, Data: []float64{1, math.Copysign(0, -1), math.Inf(-1), 4}},
		FinalObs:   Matrix{Rows: 2, Cols: 2, Data: []float64{0, 0, 5, 6}},
		Reward:     []float64{0.1, -0.2},
		Terminated: []bool{false, true},
		Truncated:  []bool{true, false},
		Episodes:   []EpisodeStat{{Env: 1, Return: 12.5, Length: 1000}, {Env: 0, Return: -3, Length: 7}},
	}
	n, err = putStepReply(slot, want)
	if err != nil {
		t.Fatal(err)
	}
	r, err := readStepReply(slot[:n])
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(r.Obs.Data, want.Obs.Data) || !sameBits(r.FinalObs.Data, want.FinalObs.Data) || !sameBits(r.Reward, want.Reward) {
		t.Errorf("floats differ: %+v", r)
	}
	r.Obs.Data, r.FinalObs.Data, r.Reward = want.Obs.Data, want.FinalObs.Data, want.Reward
	if !reflect.DeepEqual(r, want) {
		t.Errorf("reply came back as\n %+v\nwant\n %+v", r, want)
	}

	n, err = putStepReply(slot, StepResult{Obs: Matrix{Rows: 0, Cols: 11}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := readStepReply(slot[:n]); err != nil || r.Obs.Data != nil || r.Reward != nil || r.Terminated != nil || r.Episodes != nil || r.Obs.Cols != 11 {
		t.Errorf("empty reply came back as %+v, %v", r, err)
	}

	n, _ = putStepReply(slot, want)
	if _, err := readStepReply(slot[:n-1]); err == nil {
		t.Error("a reply one byte short was accepted")
	}
	words(slot, stepHeaderWords)[hEpisodes] = 1 << 40
	if _, err := readStepReply(slot[:n]); err == nil {
		t.Error("a reply with a corrupt episode count was accepted")
	}
	if _, err := putStepReply(slot[:100], want); err != errTooLarge {
		t.Errorf("a reply larger than the slot: %v, want errTooLarge", err)
	}
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}
