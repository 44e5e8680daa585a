// Package run is the main job: it trains a learner in an environment and,
// every topology_analysis_interval updates, takes a topology snapshot of
// the learner's networks, while writing everything a researcher needs into
// a run directory (see core/runstore for the layout and its crash safety).
//
// Training and homology overlap: a snapshot's states and activations are
// taken at its update, then its homology runs on a worker beside the next
// rollouts. Results do not depend on that timing.
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/rs/zerolog"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/provenance"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/snapshot"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Plugins are the four parts of a run, in process or behind gRPC.
type Plugins struct {
	Env  sdk.Environment
	Algo sdk.Algorithm
	Dist sdk.Distance
	PH   sdk.Homology
}

// Options control a run beyond its config.
type Options struct {
	Dir    string // the run directory (created if missing)
	Resume bool   // continue from Dir's last checkpoint
	// Store, if set, is Dir already opened (and so locked) by the caller,
	// and From, if set, the resume point it checked with CheckResume;
	// otherwise Run opens and checks them itself.
	Store  *runstore.Store
	From   *Resumption
	Inline bool // compute snapshots in the training loop, not beside it
	// Stop, when closed, ends the run after the step in progress with a
	// checkpoint, from which --resume continues exactly; Run then
	// returns an error wrapping ErrStopped.
	Stop     <-chan struct{}
	Log      zerolog.Logger // progress lines and events
	Progress io.Writer      // if set, a live progress bar (a terminal)
	// Report builds plots and report.html at the end; nil skips them.
	Report func(dir string) error
	// Transports names, per plugin kind, how the host speaks to it (see
	// sdk.Client.Transport); it is written to transport.json.
	Transports map[sdk.Kind]string
	// Provenance, if set, is appended to the run's provenance.json (one
	// record per start), so its results can be traced to the code,
	// plugins and machine that made them.
	Provenance *provenance.Record
}

// SamplingKey is the entry of transport.json that says who stepped the
// analysis environment for the snapshots' states (snapshot.Sampling).
const SamplingKey = "snapshot_sampling"

// ErrStopped is returned (wrapped) by a run ended through Options.Stop
// after saving its checkpoint.
var ErrStopped = errors.New("run stopped")

// DefaultDir is runs/<env-id>__<algo>__<seed>__<unix time>, the layout
// CleanRL users know.
func DefaultDir(cfg config.Config, now time.Time) string {
	return filepath.Join("runs", fmt.Sprintf("%s__%s__%d__%d", cfg.EnvID, cfg.Algo, cfg.Seed, now.Unix()))
}

// Result summarises a finished run.
type Result struct {
	Dir        string
	Steps      int
	Updates    int
	Snapshots  int
	LastReturn float64 // the final return, summary.MeanReturn of the last 100 episodes
	Timings    map[string]float64
}

// Run trains with topology snapshots until cfg.TotalTimesteps. A resumed
// run (Options.Resume) continues from the directory's last checkpoint and
// writes what the run would have written had it never stopped.
func Run(ctx context.Context, p Plugins, cfg config.Config, opt Options) (Result, error) {
	t0 := time.Now()
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	store := opt.Store
	if store == nil {
		var err error
		if opt.Resume {
			store, err = runstore.OpenExisting(opt.Dir)
		} else {
			store, err = runstore.Create(opt.Dir)
		}
		if err != nil {
			return Result{}, err
		}
		defer store.Close()
	}
	from := opt.From
	if opt.Resume && from == nil {
		var err error
		if from, err = CheckResume(store, cfg); err != nil {
			return Result{}, err
		}
	}
	if !opt.Resume {
		if st, _ := os.Stat(store.Path(runstore.StateFile)); st != nil {
			return Result{}, fmt.Errorf("%s already holds a run; continue it with --resume %s or choose another --run-dir", store.Dir, store.Dir)
		}
		if err := store.WriteFile(runstore.ConfigFile, cfg.YAML()); err != nil {
			return Result{}, err
		}
	}
	if opt.Transports != nil {
		// Beside the plugins' transports, who steps the analysis env for
		// the snapshots' states: a fall back from the algorithm plugin
		// (sdk.Sampler) to this process is a tenth of the default job's
		// training loop, so it must show too.
		used := map[string]string{SamplingKey: snapshot.Sampling(p.Env, p.Algo)}
		for k, v := range opt.Transports {
			used[string(k)] = v
		}
		b, _ := json.MarshalIndent(used, "", " ")
		if err := store.WriteFile(runstore.TransportFile, b); err != nil {
			return Result{}, err
		}
	}

	if opt.Provenance != nil {
		old, err := provenance.Read(store.Path(provenance.File))
		if err != nil {
			return Result{}, err
		}
		rec := *opt.Provenance
		rec.Resumed = opt.Resume
		b, err := provenance.Append(old, rec)
		if err != nil {
			return Result{}, err
		}
		if err := store.WriteFile(provenance.File, b); err != nil {
			return Result{}, err
		}
	}

	// The analysis env has its own seed stream so sampling never changes
	// the training trajectory.
	ah, _, err := p.Env.Open(ctx, sdk.EnvConfig{TaskID: cfg.EnvID, NumEnvs: 1, Seed: cfg.Seed + analysisSeedOffset, Options: cfg.EnvParams})
	if err != nil {
		return Result{}, fmt.Errorf("open analysis env: %w", err)
	}
	defer p.Env.Close(context.WithoutCancel(ctx), ah)

	l := &loop{cfg: cfg, opt: opt, p: p, store: store, analysisH: ah, t0: t0, meanReturn: math.NaN(), from: from}
	defer func() {
		if l.tb != nil {
			l.tb.Close()
		}
	}()
	if from != nil {
		if err := l.loadAnalysis(ctx); err != nil {
			return Result{}, err
		}
	}
	l.pool = newPool(ctx, p.Dist, p.PH, l.snapshotOptions(), max(cfg.SnapshotJobs, 1), l.writeSnapshot)
	l.pool.log = opt.Log
	err = l.train(ctx)
	// Training is over: the snapshots still queued may use every core.
	l.pool.widen(tailWorkers(cfg.SnapshotJobs))
	// Outstanding snapshots finish (or are cancelled with ctx) before we
	// return, so their files are complete.
	tail := time.Now()
	perr := l.pool.wait()
	l.tailSeconds = time.Since(tail).Seconds()
	if err == nil {
		err = perr
	}
	if err == nil && l.stopped != nil {
		err = l.stopCheckpoint(ctx)
	}
	if err != nil {
		return l.result(), err
	}
	if err := l.finish(ctx); err != nil {
		return l.result(), err
	}
	return l.result(), nil
}

// tailWorkers is how many snapshots are computed at once after training:
// one per core, or the configured number if that is more. Beside
// training the pool keeps snapshot_jobs (default 1), so the homology
// leaves training its cores; after it, nothing else of the run needs
// them.
func tailWorkers(jobs int) int {
	return max(jobs, runtime.NumCPU(), 1)
}

// analysisSeedOffset separates the analysis env's seed from training's.
const analysisSeedOffset = 1_000_003

func (l *loop) snapshotOptions() snapshot.Options {
	return snapshot.Options{
		Samples: l.cfg.TDASamples, Metric: l.cfg.Dist, K: l.cfg.K, MaxDim: l.cfg.MaxDim,
		DistParams: l.cfg.DistParams, PHParams: l.cfg.PHParams,
		Summary:    summary.Options{BettiScale: l.cfg.BettiScale},
		KeepClouds: l.cfg.SaveClouds,
	}
}

// writeTimings records where the wall time went.
func (l *loop) writeTimings() error {
	b, _ := json.MarshalIndent(l.timings(), "", " ")
	return l.store.WriteFile(runstore.TimingsFile, b)
}

func (l *loop) timings() map[string]float64 {
	total := time.Since(l.t0).Seconds() + l.priorSeconds
	pt := l.pool.times()
	return map[string]float64{
		"total":    total,
		"training": l.trainSeconds,
		// Taken in the training loop: states with the policy, then the
		// layers' activations for them.
		"snapshot_sampling":    l.sampleSeconds - l.activationSeconds,
		"snapshot_activations": l.activationSeconds,
		// Worker time (summed over workers) beside or after training.
		"homology_and_distances": pt.busy,
		"distances":              pt.dist,
		"homology":               pt.ph,
		"snapshot_writing":       pt.write,
		"tail_after_training":    l.tailSeconds,
		"waiting_for_snapshots":  l.waitSeconds,
		"report":                 l.reportSeconds,
	}
}

func (l *loop) result() Result {
	return Result{Dir: l.store.Dir, Steps: l.step, Updates: l.update, Snapshots: l.snapshots,
		LastReturn: l.meanReturn, Timings: l.timings()}
}

// removeAfter drops diagram and cloud folders of snapshots past step.
func removeAfter(dir string, step int) {
	for _, sub := range []string{"diagrams", "clouds"} {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range entries {
			var s int
			if _, err := fmt.Sscanf(e.Name(), "step_%d", &s); err == nil && s > step {
				os.RemoveAll(filepath.Join(dir, sub, e.Name()))
			}
		}
	}
}
