package summary

import "math"

// Episodic return has one meaning in a run directory, CleanRL's:
// EpisodicReturn is one finished episode's return, logged at the global
// step the episode ended (TensorBoard's charts/episodic_return, and each
// ScalarRecord's Episodes in scalars.jsonl). The smoothed learning curve
// is ReturnMean, the mean of the last ReturnWindow of them, one value per
// update.
const (
	EpisodicReturn = "charts/episodic_return"
	EpisodicLength = "charts/episodic_length"
	ReturnMean     = "charts/episodic_return_mean100"
	LengthMean     = "charts/episodic_length_mean100"
	// ReturnWindow is the number of episodes in ReturnMean and in a run's
	// final return.
	ReturnWindow = 100
)

// Episode is one finished episode: its return and length, and the global
// environment step at which it ended.
type Episode struct {
	Step   int     `json:"step"`
	Return float64 `json:"return"`
	Length int     `json:"length"`
}

// MeanReturn is the mean of the last (up to) ReturnWindow finite values
// of returns, oldest first: ReturnMean at an update, and a run's final
// return. It is the one definition the training log, the run report and
// the sweep report share. ok is false when there is none.
func MeanReturn(returns []float64) (mean float64, ok bool) {
	s, n := 0.0, 0
	for i := len(returns) - 1; i >= 0 && n < ReturnWindow; i-- {
		if v := returns[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN(), false
	}
	return s / float64(n), true
}

// FinalReturn is the run's final return, the number its log prints as
// return= at the end: MeanReturn of every episode the records hold. A run
// directory written before episodes were recorded one by one holds only
// the per-update means; its final return is the last of them, which is
// what that run's log printed.
func FinalReturn(recs []ScalarRecord) (float64, bool) {
	var rets []float64
	for _, r := range recs {
		for _, e := range r.Episodes {
			rets = append(rets, e.Return)
		}
	}
	if len(rets) > 0 {
		return MeanReturn(rets)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if v, ok := recs[i].Values[ReturnMean]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, true
		}
	}
	return math.NaN(), false
}

// upgrade renames the values of a record written before episodes were
// recorded one by one: such files logged the 100-episode mean under
// EpisodicReturn (and EpisodicLength), which now names a single episode.
func (r *ScalarRecord) upgrade() {
	for old, now := range map[string]string{EpisodicReturn: ReturnMean, EpisodicLength: LengthMean} {
		if v, ok := r.Values[old]; ok {
			if _, has := r.Values[now]; !has {
				r.Values[now] = v
			}
			delete(r.Values, old)
		}
	}
}
