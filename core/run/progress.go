package run

import (
	"fmt"
	"time"
)

// progress reports training progress: a bar redrawn in place on a
// terminal (Options.Progress), else a log line every 30 seconds.
func (l *loop) progress(force bool) {
	now := time.Now()
	every := 30 * time.Second
	if l.opt.Progress != nil {
		every = 250 * time.Millisecond
	}
	if !force && now.Sub(l.lastLog) < every {
		return
	}
	l.lastLog = now
	total := l.cfg.TotalTimesteps
	if u := l.aspec.TotalUpdates; u > 0 && l.aspec.RolloutSteps > 0 {
		total = u * l.aspec.RolloutSteps * l.spec.NumEnvs
	}
	elapsed := now.Sub(l.t0).Seconds()
	sps := 0.0
	if elapsed > 0 {
		sps = float64(l.step) / (elapsed + l.priorSeconds)
	}
	eta := time.Duration(0)
	if sps > 0 {
		eta = time.Duration(float64(total-l.step) / sps * float64(time.Second)).Round(time.Second)
	}
	frac := float64(l.step) / float64(max(total, 1))
	if l.opt.Progress != nil {
		const width = 24
		n := int(frac * width)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < n {
				bar[i] = '#'
			}
		}
		fmt.Fprintf(l.opt.Progress, "\r[%s] %5.1f%% step %d/%d | %.0f SPS | return %.1f | snapshots %d | ETA %s   ",
			bar, 100*frac, l.step, total, sps, l.meanReturn, l.snapshots, eta)
		if force && l.step >= total {
			fmt.Fprintln(l.opt.Progress)
		}
		return
	}
	l.opt.Log.Info().Int("step", l.step).Int("total", total).Int("update", l.update).
		Float64("sps", float64(int(sps))).Float64("return", l.meanReturn).
		Int("snapshots", l.snapshots).Str("eta", eta.String()).Msg("training")
}
