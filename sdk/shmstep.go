package sdk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// The direct mode's Step crosses the segment in a fixed binary layout
// rather than as protobuf: the float64 arrays are copied bit for bit
// into and out of the slots, so no value can change, and neither side
// builds or parses a message, allocates a map or produces garbage for
// the collector per step. With one environment those were a fair part of
// what a step through plugins cost beyond the physics
// (scripts/bench-transport.sh). Only Drive uses it, and Drive reads
// nothing of a StepResult but observations, rewards, episode ends, final
// observations and episode statistics, so Info is not carried. Both ends
// are this package, built into both plugins; the slot size in the offer
// already pins them to one layout version (attachShm).
//
// Request, in 8-byte words: handle, rows, cols, then rows*cols actions.
// Reply: a header of stepHeaderWords words (the lengths below), then the
// observations, the final observations and the rewards as float64, the
// episodes as (env, return bits, length) triples, then one byte per
// Terminated and per Truncated flag.
const fastDriveStep byte = 3

const (
	hObsRows = iota
	hObsCols
	hFinRows
	hFinCols
	hRewards
	hTerminated
	hTruncated
	hEpisodes
	stepHeaderWords
)

// maxDim bounds each length read from a slot, so that products of two
// cannot overflow before they are checked against the slot.
const maxDim = 1 << 24

func words(b []byte, n int) []int64 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(&b[0])), n)
}

func floats(b []byte, n int) []float64 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(&b[0])), n)
}

// putStepRequest writes a Step request into slot.
func putStepRequest(slot []byte, handle int, a Matrix) (int, error) {
	n := 8 * (3 + len(a.Data))
	if len(a.Data) != a.Rows*a.Cols || a.Rows < 0 || a.Cols < 0 {
		return 0, fmt.Errorf("actions are %dx%d with %d values", a.Rows, a.Cols, len(a.Data))
	}
	if n > len(slot) {
		return 0, errTooLarge
	}
	w := words(slot, 3)
	w[0], w[1], w[2] = int64(handle), int64(a.Rows), int64(a.Cols)
	copy(floats(slot[24:], len(a.Data)), a.Data)
	return n, nil
}

// readStepRequest reads a Step request into buf (grown as needed) and
// returns the handle and the actions, which alias buf.
func readStepRequest(req []byte, buf []float64) (int, Matrix, []float64, error) {
	if len(req) < 24 {
		return 0, Matrix{}, buf, errors.New("shared memory: short step request")
	}
	w := words(req, 3)
	rows, cols := w[1], w[2]
	if rows < 0 || cols < 0 || rows > maxDim || cols > maxDim || 8*(3+rows*cols) != int64(len(req)) {
		return 0, Matrix{}, buf, fmt.Errorf("shared memory: step request of %d bytes for %dx%d actions", len(req), rows, cols)
	}
	k := int(rows * cols)
	if cap(buf) < k {
		buf = make([]float64, k)
	}
	buf = buf[:k]
	copy(buf, floats(req[24:], k))
	return int(w[0]), Matrix{Rows: int(rows), Cols: int(cols), Data: buf}, buf, nil
}

// putStepReply writes r into slot and returns the length, or errTooLarge.
func putStepReply(slot []byte, r StepResult) (int, error) {
	nf := len(r.Obs.Data) + len(r.FinalObs.Data) + len(r.Reward) + 3*len(r.Episodes)
	n := 8*(stepHeaderWords+nf) + len(r.Terminated) + len(r.Truncated)
	if n > len(slot) {
		return 0, errTooLarge
	}
	h := words(slot, stepHeaderWords)
	h[hObsRows], h[hObsCols] = int64(r.Obs.Rows), int64(r.Obs.Cols)
	h[hFinRows], h[hFinCols] = int64(r.FinalObs.Rows), int64(r.FinalObs.Cols)
	h[hRewards], h[hTerminated], h[hTruncated] = int64(len(r.Reward)), int64(len(r.Terminated)), int64(len(r.Truncated))
	h[hEpisodes] = int64(len(r.Episodes))
	f := floats(slot[8*stepHeaderWords:], nf)
	k := copy(f, r.Obs.Data)
	k += copy(f[k:], r.FinalObs.Data)
	k += copy(f[k:], r.Reward)
	for _, e := range r.Episodes {
		f[k], f[k+1], f[k+2] = math.Float64frombits(uint64(e.Env)), e.Return, math.Float64frombits(uint64(e.Length))
		k += 3
	}
	b := slot[8*(stepHeaderWords+nf) : n]
	for i, t := range r.Terminated {
		b[i] = boolByte(t)
	}
	b = b[len(r.Terminated):]
	for i, t := range r.Truncated {
		b[i] = boolByte(t)
	}
	return n, nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// readStepReply decodes a reply into a StepResult that owns its memory
// (one float and one bool allocation), since the slot is reused by the
// next step while the algorithm may still hold the previous result.
func readStepReply(reply []byte) (StepResult, error) {
	bad := func() (StepResult, error) {
		return StepResult{}, fmt.Errorf("shared memory: malformed step reply of %d bytes", len(reply))
	}
	if len(reply) < 8*stepHeaderWords {
		return bad()
	}
	h := words(reply, stepHeaderWords)
	for _, v := range h {
		if v < 0 || v > maxDim {
			return bad()
		}
	}
	no, nfo := int(h[hObsRows]*h[hObsCols]), int(h[hFinRows]*h[hFinCols])
	nr, nt, nu, ne := int(h[hRewards]), int(h[hTerminated]), int(h[hTruncated]), int(h[hEpisodes])
	nf := no + nfo + nr + 3*ne
	if 8*(stepHeaderWords+nf)+nt+nu != len(reply) {
		return bad()
	}
	f := make([]float64, no+nfo+nr)
	copy(f, floats(reply[8*stepHeaderWords:], len(f)))
	bs := make([]bool, nt+nu)
	for i, c := range reply[8*(stepHeaderWords+nf):] {
		bs[i] = c != 0
	}
	// Empty arrays come out nil, as from protobuf.
	part := func(lo, n int) []float64 {
		if n == 0 {
			return nil
		}
		return f[lo : lo+n : lo+n]
	}
	r := StepResult{
		Obs:      Matrix{Rows: int(h[hObsRows]), Cols: int(h[hObsCols]), Data: part(0, no)},
		FinalObs: Matrix{Rows: int(h[hFinRows]), Cols: int(h[hFinCols]), Data: part(no, nfo)},
		Reward:   part(no+nfo, nr),
	}
	if nt > 0 {
		r.Terminated = bs[:nt:nt]
	}
	if nu > 0 {
		r.Truncated = bs[nt:]
	}
	if ne > 0 {
		ep := floats(reply[8*(stepHeaderWords+no+nfo+nr):], 3*ne)
		r.Episodes = make([]EpisodeStat, ne)
		for i := range r.Episodes {
			t := ep[3*i : 3*i+3]
			r.Episodes[i] = EpisodeStat{Env: int(math.Float64bits(t[0])), Return: t[1], Length: int(math.Float64bits(t[2]))}
		}
	}
	return r, nil
}

// serveDriveStep answers a fixed-layout Step from the segment: the
// request is read from req, the reply written into reply.
func (s *fastServer) serveDriveStep(ctx context.Context, req, reply []byte) (int, error) {
	if s.env == nil {
		return 0, fmt.Errorf("fast path: method %d not served", fastDriveStep)
	}
	handle, a, buf, err := readStepRequest(req, s.actBuf)
	s.actBuf = buf
	if err != nil {
		return 0, err
	}
	r, err := s.env.Step(ctx, handle, a)
	if err != nil {
		return 0, err
	}
	n, err := putStepReply(reply, r)
	if err == errTooLarge {
		return 0, fmt.Errorf("shared memory: step reply does not fit the %d-byte slot", len(reply))
	}
	return n, err
}
