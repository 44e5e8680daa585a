package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/snapshot"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/tbevents"
	"github.com/neuraltopology/neuraltopology/core/train"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// loop is the state of one training run.
type loop struct {
	cfg   config.Config
	opt   Options
	p     Plugins
	store *runstore.Store
	tb    *tbevents.Writer
	pool  *pool

	spec      sdk.EnvSpec
	aspec     sdk.AlgoSpec
	analysisH int

	step, update, snapshots int
	meanReturn              float64           // summary.MeanReturn of the episodes so far; NaN before any
	episodes                []summary.Episode // finished since the last update's record
	from                    *Resumption       // the resume point of a resumed run
	stopped                 *train.State      // the loop's state when Options.Stop ended it

	t0                                                      time.Time
	priorSeconds                                            float64 // wall time of the run before a resume
	trainSeconds, sampleSeconds, waitSeconds, reportSeconds float64
	activationSeconds                                       float64 // the part of sampleSeconds spent on activations
	tailSeconds                                             float64 // from the end of training until every snapshot was written
	lastLog                                                 time.Time
}

// train runs core/train's loop with hooks for the run's bookkeeping,
// snapshots and checkpoints.
func (l *loop) train(ctx context.Context) error {
	tStart := time.Now()
	s0, w0 := l.sampleSeconds, l.waitSeconds
	defer func() {
		l.trainSeconds += time.Since(tStart).Seconds() - (l.sampleSeconds - s0) - (l.waitSeconds - w0)
	}()
	cfg := train.Config{TaskID: l.cfg.EnvID, NumEnvs: l.cfg.NumEnvs, Seed: l.cfg.Seed,
		EnvOptions: l.cfg.EnvParams, Hyper: l.cfg.Hyper(), Stop: l.opt.Stop}
	if l.from != nil && !l.from.fresh {
		cfg.Resume = &l.from.ck.Train
	}
	hooks := train.Hooks{
		OnStart: func(_ context.Context, s train.Start) error {
			l.spec, l.aspec = s.Env, s.Algo
			if err := l.start(); err != nil {
				return err
			}
			l.progress(true)
			return nil
		},
		OnEpisode: func(_ context.Context, step int, ep sdk.EpisodeStat) error {
			l.step = step
			// As CleanRL logs it: each episode at the step it ended.
			// scalars.jsonl gets the update's episodes with its record.
			if !math.IsNaN(ep.Return) && !math.IsInf(ep.Return, 0) {
				l.episodes = append(l.episodes, summary.Episode{Step: step, Return: ep.Return, Length: ep.Length})
			}
			if err := l.tb.Scalar(summary.EpisodicReturn, int64(step), ep.Return); err != nil {
				return err
			}
			return l.tb.Scalar(summary.EpisodicLength, int64(step), float64(ep.Length))
		},
		OnUpdate: func(ctx context.Context, p train.Progress) error {
			if err := l.onUpdate(ctx, p); err != nil {
				return err
			}
			l.progress(p.Update >= p.TotalUpdates)
			return nil
		},
	}
	res, err := train.Run(ctx, l.p.Env, l.p.Algo, cfg, hooks)
	if err == nil && res.State != nil {
		l.stopped = res.State
		l.step, l.update = res.State.Step, res.State.Update
	}
	return err
}

// start runs once the learner and the environments are loaded, before
// the first step: a resumed run only now, with everything checked, rolls
// the directory back to its resume point. Then the TensorBoard file
// opens.
func (l *loop) start() error {
	if f := l.from; f != nil && f.fresh {
		if err := rollBack(l.store, f.State, false); err != nil {
			return err
		}
		l.opt.Log.Warn().Str("dir", l.store.Dir).Msg("no checkpoint yet: starting the run over")
	} else if f != nil {
		if err := rollBack(l.store, f.State, true); err != nil {
			return err
		}
		l.update, l.step, l.snapshots, l.priorSeconds = f.State.Update, f.State.Step, f.State.Snapshots, f.State.Seconds
		l.episodes = f.ck.Episodes
		if f.ck.Train.Env == nil {
			l.opt.Log.Warn().Msg("the environment plugin cannot save its state: the resumed run's episodes start afresh, so it will differ from an uninterrupted run")
		}
		l.opt.Log.Info().Str("dir", l.store.Dir).Int("update", f.State.Update).Int("step", f.State.Step).Msg("resuming from checkpoint")
	}
	tb, err := tbevents.New(l.store.Path("tb"))
	if err != nil {
		return err
	}
	l.tb = tb
	if l.from == nil || l.from.fresh {
		// The resolved config, as TensorBoard's Text tab shows it; a
		// resumed run keeps the one written at its start.
		if err := tb.Text("config", 0, "```yaml\n"+string(l.cfg.YAML())+"```"); err != nil {
			return err
		}
	}
	return nil
}

// onUpdate records an update's statistics and takes the snapshot and
// checkpoint due at it.
func (l *loop) onUpdate(ctx context.Context, p train.Progress) error {
	l.update, l.step = p.Update, p.Step
	vals := make(map[string]float64, len(p.Stats)+2)
	for k, v := range p.Stats {
		vals[k] = v
	}
	if m, ok := summary.MeanReturn(p.Recent); ok {
		l.meanReturn = m
		vals[summary.ReturnMean] = m
		vals[summary.LengthMean] = p.MeanLength
	}
	rec := summary.ScalarRecord{Step: l.step, Update: l.update, Values: vals, Episodes: l.episodes}
	l.episodes = nil
	if err := l.store.Append(runstore.ScalarsFile, rec); err != nil {
		return err
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := l.tb.Scalar(k, int64(l.step), vals[k]); err != nil {
			return err
		}
	}
	last := l.update >= p.TotalUpdates
	if iv := l.cfg.TopologyAnalysisInterval; iv > 0 && (l.update%iv == 0 || (last && l.snapshots == 0)) {
		if err := l.snapshot(ctx); err != nil {
			return err
		}
	}
	if iv := l.cfg.SaveCheckpointInterval; last || (iv > 0 && l.update%iv == 0) {
		ts, err := p.Save(ctx)
		if err != nil {
			return err
		}
		if err := l.checkpoint(ctx, ts, false); err != nil {
			return err
		}
	}
	return nil
}

// snapshot samples states and activations now and queues their homology.
func (l *loop) snapshot(ctx context.Context) error {
	start := time.Now()
	states, err := snapshot.Sample(ctx, l.p.Env, l.analysisH, l.p.Algo, l.cfg.TDASamples, l.cfg.Seed+int64(l.update))
	if err != nil {
		return err
	}
	sampled := time.Now()
	clouds, err := snapshot.Clouds(ctx, l.p.Algo, states, l.aspec.Layers, l.cfg.NormalizedIn)
	if err != nil {
		return err
	}
	l.sampleSeconds += time.Since(start).Seconds()
	l.activationSeconds += time.Since(sampled).Seconds()
	l.snapshots++
	job := job{seq: l.snapshots, step: l.step, update: l.update, clouds: clouds}
	wait := time.Now()
	if l.opt.Inline {
		err = l.pool.runInline(job)
	} else {
		err = l.pool.submit(job)
	}
	l.waitSeconds += time.Since(wait).Seconds()
	return err
}

// writeSnapshot stores a finished snapshot: diagrams (and clouds) as .npz,
// one topology record per cloud, and TensorBoard scalars.
func (l *loop) writeSnapshot(j job, results []snapshot.Result) error {
	for _, r := range results {
		name := runstore.SafeName(r.Record.Cloud)
		if err := writeDiagrams(l.store.Path("diagrams", fmt.Sprintf("step_%d", j.step), name+".npz"), r.Diagrams); err != nil {
			return err
		}
		if r.Cloud != nil {
			if err := writeCloud(l.store.Path("clouds", fmt.Sprintf("step_%d", j.step), name+".npz"), r.Cloud.Points); err != nil {
				return err
			}
		}
		rec := r.Record
		rec.Step, rec.Update = j.step, j.update
		if err := l.store.Append(runstore.TopologyFile, rec); err != nil {
			return err
		}
		vals := map[string]float64{}
		for _, d := range rec.Summary.Dims {
			pre := fmt.Sprintf("topology/%s/", rec.Cloud)
			vals[pre+fmt.Sprintf("betti_%d", d.Dim)] = float64(d.Betti)
			vals[pre+fmt.Sprintf("persistent_bars_%d", d.Dim)] = float64(d.Persistent)
			vals[pre+fmt.Sprintf("total_persistence_%d", d.Dim)] = d.TotalPersistence
			vals[pre+fmt.Sprintf("persistence_entropy_%d", d.Dim)] = d.Entropy
		}
		if err := l.tb.Scalars(int64(j.step), vals); err != nil {
			return err
		}
	}
	recs := make([]summary.TopologyRecord, len(results))
	clouds := make([]plots.CloudDiagrams, len(results))
	for i, r := range results {
		recs[i] = r.Record
		recs[i].Step, recs[i].Update = j.step, j.update
		clouds[i] = plots.CloudDiagrams{Cloud: r.Record.Cloud, Diagrams: r.Diagrams}
	}
	for _, net := range []string{"actor", "critic"} {
		total := summary.NetTotalBetti(recs, net)
		if err := l.tb.Scalar("topology/"+net+"/total_betti", int64(j.step), float64(total)); err != nil {
			return err
		}
	}
	// The snapshot's figures as TensorBoard images. A figure that cannot
	// be drawn (no data) is left out; the numbers above are what count.
	if png, err := plots.DiagramsPNG(clouds, fmt.Sprintf("Persistence diagrams at step %s", plots.GroupDigits(j.step))); err == nil {
		if err := l.tb.Image("topology/persistence_diagrams", int64(j.step), png); err != nil {
			return err
		}
	}
	if png, err := plots.BettiCurvesPNG(recs, j.step); err == nil {
		if err := l.tb.Image("topology/betti_curves", int64(j.step), png); err != nil {
			return err
		}
	}
	return l.tb.Flush()
}

// checkpoint captures the run now (the training loop's state from save
// and the analysis environment's) and writes it once every earlier
// snapshot is on disk, so a run resumed from it has every snapshot up to
// it. Training goes on meanwhile: it does not wait for the homology of
// queued snapshots.
func (l *loop) checkpoint(ctx context.Context, ts *train.State, stopped bool) error {
	analysis, err := l.saveAnalysis(ctx)
	if err != nil {
		return err
	}
	ck := checkpoint{Format: checkpointFormat, Identity: Identity(l.cfg), Update: l.update, Step: l.step, Snapshots: l.snapshots,
		Stopped: stopped, Train: *ts, Analysis: analysis, Episodes: l.episodes}
	data, err := encodeCheckpoint(ck)
	if err != nil {
		return err
	}
	st := runstore.State{Update: l.update, Step: l.step, Snapshots: l.snapshots, Stopped: stopped,
		Seconds: time.Since(l.t0).Seconds() + l.priorSeconds}
	return l.pool.after(func() error {
		// Events up to now go to the file before the checkpoint that
		// claims them: a resumed run keeps the events up to its step and
		// rewrites the rest.
		if err := l.tb.Flush(); err != nil {
			return err
		}
		if err := l.store.SaveCheckpoint(st, data); err != nil {
			return err
		}
		l.opt.Log.Debug().Int("update", st.Update).Int("step", st.Step).Bool("stopped", stopped).Msg("checkpoint saved")
		return nil
	})
}

// stopCheckpoint saves the state of a run that Options.Stop ended and
// says how to continue it.
func (l *loop) stopCheckpoint(ctx context.Context) error {
	if err := l.checkpoint(ctx, l.stopped, true); err != nil {
		return fmt.Errorf("stopping at step %d: %w", l.step, err)
	}
	return fmt.Errorf("%w at step %d (update %d); checkpoint saved: continue with nthost --resume %s", ErrStopped, l.step, l.update, l.store.Dir)
}

// saveAnalysis returns the analysis environment's state, or nil if the
// environment cannot save it.
func (l *loop) saveAnalysis(ctx context.Context) ([]byte, error) {
	st, ok := l.p.Env.(sdk.EnvStater)
	if !ok {
		return nil, nil
	}
	b, err := st.SaveState(ctx, l.analysisH)
	if errors.Is(err, sdk.ErrStateUnsupported) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("save analysis env: %w", err)
	}
	return b, nil
}

// loadAnalysis restores the analysis environment of a resumed run.
func (l *loop) loadAnalysis(ctx context.Context) error {
	b := l.from.ck.Analysis
	if l.from.fresh || b == nil {
		return nil
	}
	st, ok := l.p.Env.(sdk.EnvStater)
	if !ok {
		return fmt.Errorf("resume: the checkpoint holds the analysis environment's state but the %s plugin cannot load it", l.cfg.Env)
	}
	if _, err := st.LoadState(ctx, l.analysisH, b); err != nil {
		return fmt.Errorf("resume: analysis env: %w", err)
	}
	return nil
}
