package ppo

// gae computes generalised advantage estimates and returns (advantage +
// value) for a rollout of T steps of E environments stored step-major
// (index t*E + e).
//
// rewards[t] is the reward of step t (for a truncated step it already
// includes gamma * V(final observation)); done[t] says the episode ended
// at step t (terminated or truncated), so nothing after it is bootstrapped;
// values[t] is V(s_t) and next[e] is V of the observation that follows the
// last step.
func gae(adv, ret, rewards, values []float64, done []bool, next []float64, T, E int, gamma, lambda float64) {
	for e := 0; e < E; e++ {
		last := 0.0
		for t := T - 1; t >= 0; t-- {
			k := t*E + e
			nv := next[e]
			if t+1 < T {
				nv = values[k+E]
			}
			nonterm := 1.0
			if done[k] {
				nonterm = 0
			}
			delta := rewards[k] + gamma*nv*nonterm - values[k]
			last = delta + gamma*lambda*nonterm*last
			adv[k] = last
			ret[k] = last + values[k]
		}
	}
}
