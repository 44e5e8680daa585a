package run

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/neuraltopology/neuraltopology/core/diagram"
	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/rollout"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func writeDiagrams(path string, ds []sdk.Diagram) error { return diagram.WriteNPZ(path, ds) }

func writeCloud(path string, m sdk.Matrix) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return matio.WriteNPZ(path, []matio.NamedArray{{Name: "points", Matrix: m}})
}

// finish writes the CSV copies of the logs, the final policy's GIF, the
// timings and the report.
func (l *loop) finish(ctx context.Context) error {
	if err := l.writeCSVs(); err != nil {
		return err
	}
	if l.cfg.CaptureVideo {
		if err := l.video(ctx); err != nil {
			// A video is a nicety; the run's results stand without it.
			l.opt.Log.Warn().Err(err).Msg("final policy video not written")
		}
	}
	if l.opt.Report != nil {
		start := time.Now()
		if err := l.writeTimings(); err != nil {
			return err
		}
		if err := l.opt.Report(l.store.Dir); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		l.reportSeconds = time.Since(start).Seconds()
	}
	return l.writeTimings()
}

// writeCSVs renders scalars.jsonl and topology.jsonl as CSV for
// spreadsheet and pandas users.
func (l *loop) writeCSVs() error {
	var scalars []summary.ScalarRecord
	if err := l.store.ReadLines(runstore.ScalarsFile, func(b []byte) error {
		var r summary.ScalarRecord
		err := json.Unmarshal(b, &r)
		scalars = append(scalars, r)
		return err
	}); err != nil {
		return err
	}
	var topo []summary.TopologyRecord
	if err := l.store.ReadLines(runstore.TopologyFile, func(b []byte) error {
		var r summary.TopologyRecord
		err := json.Unmarshal(b, &r)
		topo = append(topo, r)
		return err
	}); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer) error{
		"scalars.csv":  func(w io.Writer) error { return summary.WriteScalarsCSV(w, scalars) },
		"topology.csv": func(w io.Writer) error { return summary.WriteTopologyCSV(w, topo) },
	} {
		if err := runstore.WriteAtomic(l.store.Path(name), write); err != nil {
			return err
		}
	}
	return nil
}

// video renders one episode of the final deterministic policy as a GIF.
func (l *loop) video(ctx context.Context) error {
	enc := rollout.NewGIFEncoder(4)
	obs, err := l.p.Env.Reset(ctx, l.analysisH, l.cfg.Seed)
	if err != nil {
		return err
	}
	for step := 0; step < 1000; step++ {
		if step%2 == 0 {
			f, err := l.p.Env.Render(ctx, l.analysisH, 0, 320, 240)
			if err != nil {
				return err
			}
			if err := enc.Add(f); err != nil {
				return err
			}
		}
		act, err := l.p.Algo.Policy(ctx, obs, true)
		if err != nil {
			return err
		}
		res, err := l.p.Env.Step(ctx, l.analysisH, act)
		if err != nil {
			return err
		}
		if res.Terminated[0] || res.Truncated[0] {
			break
		}
		obs = res.Obs
	}
	return runstore.WriteAtomic(l.store.Path("policy.gif"), enc.Encode)
}
