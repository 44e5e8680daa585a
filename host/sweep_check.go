package main

import (
	"context"
	"fmt"
	"maps"
	"strconv"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/sweep"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// checkSweep checks every trial of a spec before the sweep writes
// anything: its config (config.Validate, e.g. k below tda_samples), and
// its plugin parameters against what the plugins declare (names, types,
// ranges), each plugin started once to describe itself. The error is
// one line naming the trial. A plugin that cannot be started here is an
// error for the local executor; for SLURM, whose nodes may see other
// plugin folders, its trials are checked by the trials themselves.
func checkSweep(ctx context.Context, a *app, spec *sweep.Spec, executor string) error {
	trials, err := spec.Trials()
	if err != nil {
		return err
	}
	type key struct {
		kind sdk.Kind
		name string
	}
	infos := map[key]*sdk.Info{}
	describe := func(kind sdk.Kind, name string) (*sdk.Info, error) {
		k := key{kind, name}
		if i, ok := infos[k]; ok {
			return i, nil
		}
		cl, err := a.open(ctx, kind, name)
		if err != nil {
			if executor == "slurm" {
				a.log.Warn().Str("plugin", string(kind)+"/"+name).Msg("not checked here (it does not start on this machine): " + oneLine(err.Error()))
				infos[k] = nil
				return nil, nil
			}
			return nil, err
		}
		info := cl.Info
		cl.Close()
		infos[k] = &info
		return &info, nil
	}
	for _, t := range trials {
		cfg, err := spec.Config(t)
		if err != nil {
			return fmt.Errorf("sweep spec: trial %d (%s): %v", t.Index, t.Name, err)
		}
		if err := checkTrialPlugins(cfg, describe); err != nil {
			return fmt.Errorf("sweep spec: trial %d (%s): %v", t.Index, t.Name, err)
		}
	}
	return nil
}

// checkTrialPlugins checks one trial's plugin parameters against what
// its plugins declare: names, types and ranges (the distance plugin's k
// included, from the config's k when the plugin takes one). Capabilities
// (tasks, dimensions) are left to the trial, which reports them in its
// log as a run does.
func checkTrialPlugins(cfg config.Config, describe func(sdk.Kind, string) (*sdk.Info, error)) error {
	want := map[sdk.Kind]string{sdk.KindEnv: cfg.Env, sdk.KindAlgo: cfg.Algo, sdk.KindDist: cfg.Dist, sdk.KindPH: cfg.PH}
	if cfg.Data != "" {
		delete(want, sdk.KindEnv)
		want[sdk.KindData] = cfg.Data
	}
	for _, kind := range sdk.Kinds {
		name, ok := want[kind]
		if !ok || name == "" {
			continue
		}
		info, err := describe(kind, name)
		if err != nil {
			return err
		}
		if info == nil {
			continue
		}
		if err := sdk.CheckDeclaration(*info); err != nil {
			return fmt.Errorf("%s plugin %q declares a bad parameter or capability: %v", kind, info.Name, err)
		}
		params := maps.Clone(cfg.Params(string(kind)))
		if _, takesK := info.Param("k"); takesK && kind == sdk.KindDist {
			if _, set := params["k"]; !set {
				if params == nil {
					params = map[string]string{}
				}
				params["k"] = strconv.Itoa(cfg.K)
			}
		}
		if err := sdk.CheckParams(*info, params); err != nil {
			return fmt.Errorf("%s_params: %v", kind, err)
		}
	}
	return nil
}
