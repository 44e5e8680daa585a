package sdk

import (
	"context"
	"errors"
	"fmt"

	"github.com/neuraltopology/neuraltopology/sdk/pb"
)

// A topology snapshot starts by sampling states with the current
// stochastic policy in an analysis environment: per state one Policy
// call and one Step. Made by the host, each is a round trip to a plugin
// process, and with 500 states per snapshot that was ~0.4 s a snapshot
// on this project's VM, a tenth of the default job's training loop
// (measured with scripts/bench-mainjob-ab.sh). In the direct mode the algorithm plugin already steps the
// environment plugin through its shared-memory segment (direct.go), so
// it can take the states itself: the host makes one Sample call, the
// plugin runs SamplePolicy against the segment and its own Policy, and
// only the states come back. Host and plugin run the same SamplePolicy,
// so the two paths cannot drift apart: the same Policy calls in the same
// order (the same draws from the policy's random stream), the same
// Steps, the same float64 values across either boundary, hence the same
// states bit for bit.

// SampleKey is the capability under which an algorithm plugin says it
// serves Sample over its direct link (see Sampler).
const SampleKey = "sdk.sample"

// SampleRequest asks for N states of the stochastic policy on batch
// Handle, a batch of one environment: First, the observation the batch's
// Reset gave, then each next observation after stepping the policy's
// action for the last one. Episodes that end restart on their own.
type SampleRequest struct {
	Handle int
	First  Matrix
	N      int
}

// Sampler is an Algorithm that can take a snapshot's states itself, over
// its link to the environment (Link), so the host makes one call rather
// than two per state.
type Sampler interface {
	Algorithm
	// Samples reports whether Sample can run on env's batches: env is
	// the environment this Sampler is linked to and the plugin serves
	// Sample.
	Samples(env Environment) bool
	// Sample returns the states SamplePolicy would for req, one per row.
	Sample(ctx context.Context, req SampleRequest) (Matrix, error)
}

// SamplePolicy runs algo's stochastic policy (Policy with deterministic
// false) on batch req.Handle of env from req.First and returns the
// req.N observations it saw, one per row: the state, then the state
// after stepping the policy's action for it, and so on, with no Step
// after the last state. A Step's error is an *EnvStepError, the
// environment's to answer for. It is the one sampling loop: the host
// runs it when it steps the environment itself, an algorithm plugin when
// it serves Sample.
func SamplePolicy(ctx context.Context, env Stepper, algo Algorithm, req SampleRequest) (Matrix, error) {
	obs := req.First
	if obs.Rows != 1 || obs.Cols < 1 || len(obs.Data) != obs.Cols {
		return Matrix{}, fmt.Errorf("sample: want one observation to start from, got %dx%d with %d values", obs.Rows, obs.Cols, len(obs.Data))
	}
	if req.N < 0 {
		return Matrix{}, fmt.Errorf("sample: %d states asked for", req.N)
	}
	cols := obs.Cols
	states := NewMatrix(req.N, cols)
	for i := 0; i < req.N; i++ {
		copy(states.Row(i), obs.Data)
		if i == req.N-1 {
			break
		}
		if err := ctx.Err(); err != nil {
			return Matrix{}, err
		}
		act, err := algo.Policy(ctx, obs, false)
		if err != nil {
			return Matrix{}, fmt.Errorf("policy: %w", err)
		}
		res, err := env.Step(ctx, req.Handle, act)
		if err != nil {
			return Matrix{}, &EnvStepError{Step: i + 1, Err: err, Loop: "sampling"}
		}
		obs = res.Obs
		if obs.Rows != 1 || obs.Cols != cols || len(obs.Data) != cols {
			return Matrix{}, &EnvStepError{Step: i + 1, Loop: "sampling",
				Err: fmt.Errorf("observations are %dx%d with %d values, want 1x%d", obs.Rows, obs.Cols, len(obs.Data), cols)}
		}
	}
	return states, nil
}

// ---- plugin side ----

// sample serves one Sample call for algo.
func (d *directEnv) sample(ctx context.Context, algo Algorithm, r *pb.SampleRequest) (*pb.Matrix, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil, errors.New("sample: no environment attached (AttachEnv first)")
	}
	m, err := SamplePolicy(ctx, d, algo, SampleRequest{Handle: int(r.Handle), First: fromPBMatrix(r.First), N: int(r.Samples)})
	if se := (*EnvStepError)(nil); errors.As(err, &se) {
		return nil, errors.New(envStepPrefix + se.Error())
	}
	if err != nil {
		return nil, err
	}
	return toPBMatrix(m), nil
}

// ---- host side ----

func (l *linkedAlgo) Samples(env Environment) bool { return l.sample && l.Drives(env) }

func (l *linkedAlgo) Sample(ctx context.Context, req SampleRequest) (Matrix, error) {
	if !l.sample {
		return Matrix{}, l.c.err(ctx, "sample", fmt.Errorf("no %s capability", SampleKey))
	}
	r, err := l.c.c.Sample(ctx, &pb.SampleRequest{Handle: int32(req.Handle), First: toPBMatrix(req.First), Samples: int32(req.N)}, bigCalls...)
	if err != nil {
		return Matrix{}, l.fail(ctx, "sample", err)
	}
	m := fromPBMatrix(r)
	if m.Rows != req.N || m.Cols != req.First.Cols || len(m.Data) != m.Rows*m.Cols {
		return Matrix{}, l.c.err(ctx, "sample", fmt.Errorf("%dx%d states with %d values, want %dx%d", m.Rows, m.Cols, len(m.Data), req.N, req.First.Cols))
	}
	return m, nil
}
