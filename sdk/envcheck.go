package sdk

import (
	"fmt"
	"math"
)

// ValidateObservations checks observations an environment returned (from
// Reset, Step or LoadState): data matching the shape, every value finite.
// The host checks every environment's answer so at the boundary, so a NaN
// from a simulator is named as the environment's fault rather than
// surfacing later in the learner that received it.
func ValidateObservations(obs Matrix) error {
	if obs.Rows < 0 || obs.Cols < 0 || len(obs.Data) != obs.Rows*obs.Cols {
		return fmt.Errorf("observations are %dx%d with %d values, want %d values", obs.Rows, obs.Cols, len(obs.Data), obs.Rows*obs.Cols)
	}
	return finiteRows("observation", obs)
}

// ValidateStepResult checks what an environment's Step returned: finite
// observations, one finite reward and one Terminated and Truncated flag
// per observation row, finite final observations, and episode statistics
// naming envs of the batch with finite returns and positive lengths.
func ValidateStepResult(r StepResult) error {
	if err := ValidateObservations(r.Obs); err != nil {
		return err
	}
	n := r.Obs.Rows
	if len(r.Reward) != n || len(r.Terminated) != n || len(r.Truncated) != n {
		return fmt.Errorf("%d observation rows with %d rewards, %d terminated and %d truncated flags, want %d of each", n, len(r.Reward), len(r.Terminated), len(r.Truncated), n)
	}
	for i, v := range r.Reward {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("reward of env %d is %v, want a finite value", i, v)
		}
	}
	if len(r.FinalObs.Data) > 0 {
		if r.FinalObs.Rows != n || r.FinalObs.Cols != r.Obs.Cols || len(r.FinalObs.Data) != n*r.Obs.Cols {
			return fmt.Errorf("final observations are %dx%d with %d values, want %dx%d", r.FinalObs.Rows, r.FinalObs.Cols, len(r.FinalObs.Data), n, r.Obs.Cols)
		}
		if err := finiteRows("final observation", r.FinalObs); err != nil {
			return err
		}
	}
	for _, e := range r.Episodes {
		if e.Env < 0 || e.Env >= n {
			return fmt.Errorf("episode statistics name env %d of a batch of %d", e.Env, n)
		}
		if math.IsNaN(e.Return) || math.IsInf(e.Return, 0) || e.Length < 1 {
			return fmt.Errorf("episode of env %d has return %v and length %d, want a finite return and a length >= 1", e.Env, e.Return, e.Length)
		}
	}
	return nil
}

func finiteRows(what string, m Matrix) error {
	for k, v := range m.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s (%d,%d) is %v, want a finite value", what, k/max(m.Cols, 1), k%max(m.Cols, 1), v)
		}
	}
	return nil
}
