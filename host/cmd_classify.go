package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/neuraltopology/neuraltopology/core/classify"
	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/report"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// runClassify is `nthost --data NAME ...`: the supervised job of
// core/classify with the data, algo, dist and ph plugins of cfg.
func runClassify(ctx context.Context, a *app, cfg config.Config, inProcess bool, snapNice int, noReport bool) error {
	dir := cfg.RunDir
	if dir == "" {
		dir = classify.DefaultDir(cfg, time.Now())
	}
	if inProcess {
		sdk.UseLogger(pluginLogger(a.log).Named("in-process"))
	}
	var p classify.Plugins
	infos := map[sdk.Kind]sdk.Info{}
	transports := map[sdk.Kind]string{}
	for _, want := range []struct {
		kind sdk.Kind
		name string
	}{{sdk.KindData, cfg.Data}, {sdk.KindAlgo, cfg.Algo}, {sdk.KindDist, cfg.Dist}, {sdk.KindPH, cfg.PH}} {
		var impl sdk.Describer
		if inProcess {
			b, err := builtin(want.kind, want.name)
			if err != nil {
				return err
			}
			info, err := b.Describe(ctx)
			if err != nil {
				return err
			}
			impl, infos[want.kind], transports[want.kind] = b, info, "in-process"
		} else {
			nice := 0
			if want.kind == sdk.KindDist || want.kind == sdk.KindPH {
				nice = snapNice
			}
			cl, err := a.openNice(ctx, want.kind, want.name, nice)
			if err != nil {
				return err
			}
			impl, infos[want.kind], transports[want.kind] = cl.Plugin(), cl.Info, cl.Transport()
		}
		var ok bool
		switch want.kind {
		case sdk.KindData:
			p.Data, ok = impl.(sdk.Data)
		case sdk.KindAlgo:
			p.Algo, ok = impl.(sdk.Classifier)
			if ok && infos[sdk.KindAlgo].Capabilities[sdk.CapSupervised] != "true" {
				ok = false
			}
			if !ok {
				return fmt.Errorf("--algo %s: not a supervised learner (capability %s is not true); --data runs need one, e.g. --algo mlp", want.name, sdk.CapSupervised)
			}
		case sdk.KindDist:
			p.Dist, ok = impl.(sdk.Distance)
		case sdk.KindPH:
			p.PH, ok = impl.(sdk.Homology)
		}
		if !ok {
			return fmt.Errorf("%s plugin %q does not implement the %s interface", want.kind, want.name, want.kind)
		}
	}
	if ids := sdk.Datasets(infos[sdk.KindData]); len(ids) > 0 && !contains(ids, cfg.DataID) {
		return fmt.Errorf("--data-id %s: data plugin %q does not generate it (its data sets: %s)", cfg.DataID, cfg.Data, strings.Join(ids, ", "))
	}
	if err := sdk.CheckParams(infos[sdk.KindData], cfg.DataParams); err != nil {
		return fmt.Errorf("--data-param: %v", err)
	}
	// The RL checks of the other three (parameters, capabilities).
	delete(infos, sdk.KindData)
	if err := (runCheck{cfg: &cfg}).check(infos); err != nil {
		return err
	}
	opt := classify.Options{Dir: dir, Log: a.log, Transports: transports, Edges: sdk.TakesInput(infos[sdk.KindPH], "edges")}
	if !noReport {
		opt.Report = func(dir string) error { return report.Build([]string{dir}, filepath.Join(dir, runstore.ReportFile)) }
	}
	a.log.Info().Str("dir", dir).Str("data", cfg.Data).Str("data_id", cfg.DataID).Str("algo", cfg.Algo).
		Str("activation", cfg.AlgoParams["activation"]).Int64("seed", cfg.Seed).Int("k", cfg.K).Msg("supervised run starting")
	res, err := classify.Run(ctx, p, cfg, opt)
	if err != nil {
		return fmt.Errorf("run %s: %w", dir, err)
	}
	a.log.Info().Str("dir", res.Dir).Int("epochs", res.Epochs).Float64("train_accuracy", res.Accuracy).
		Float64("seconds", res.Timings["total"]).Float64("homology_seconds", res.Timings["homology_and_distances"]).Msg("run finished")
	if !noReport {
		fmt.Fprintf(a.stdout, "report: %s\n", filepath.Join(res.Dir, runstore.ReportFile))
	}
	return nil
}
