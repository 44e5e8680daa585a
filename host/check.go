package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// runCheck is what the run asks of its plugins, checked against what they
// declare before anything starts.
type runCheck struct {
	cfg *config.Config
	// kFlag is true when --k was given on the command line: it is then an
	// error for a distance plugin that takes no k, instead of being
	// silently ignored.
	kFlag bool
}

// check refuses, in one line naming the plugin, a parameter it does not
// declare or a value of the wrong type, and a capability below what the
// run asks (task, observation size, homology dimension, coefficients,
// input kind). It fills in the distance plugin's k from --k when the
// plugin takes a k and no dist parameter sets it.
func (r runCheck) check(infos map[sdk.Kind]sdk.Info) error {
	cfg := r.cfg
	for _, kind := range sdk.Kinds {
		info, ok := infos[kind]
		if !ok {
			continue
		}
		if err := sdk.CheckDeclaration(info); err != nil {
			return fmt.Errorf("%s plugin %q declares a bad parameter or capability: %v", kind, info.Name, err)
		}
	}
	if dist, ok := infos[sdk.KindDist]; ok {
		if _, takesK := dist.Param("k"); takesK {
			if _, set := cfg.DistParams["k"]; !set {
				if err := cfg.Set("dist_params", "k="+strconv.Itoa(cfg.K)); err != nil {
					return err
				}
			}
		} else if r.kFlag {
			return fmt.Errorf("--k: dist plugin %q has no parameter k (%s); --k is the short form of --dist-param k=N for distances that take one", dist.Name, takes(dist))
		}
	}
	for _, kind := range sdk.Kinds {
		info, ok := infos[kind]
		if !ok {
			continue
		}
		if err := sdk.CheckParams(info, cfg.Params(string(kind))); err != nil {
			return fmt.Errorf("--%s-param: %v", kind, err)
		}
	}
	if env, ok := infos[sdk.KindEnv]; ok {
		if tasks := sdk.Tasks(env); len(tasks) > 0 && !contains(tasks, cfg.EnvID) {
			return fmt.Errorf("--env-id %s: env plugin %q does not offer it (its tasks: %s)", cfg.EnvID, env.Name, strings.Join(tasks, ", "))
		}
		dims, _ := sdk.ObsDims(env)
		if algo, ok := infos[sdk.KindAlgo]; ok {
			maxObs, err := strconv.Atoi(algo.Capabilities[sdk.CapMaxObsDim])
			if obs, known := dims[cfg.EnvID]; err == nil && known && obs > maxObs {
				return fmt.Errorf("--env-id %s: its observations have %d values, algo plugin %q takes at most %d (capability %s)", cfg.EnvID, obs, algo.Name, maxObs, sdk.CapMaxObsDim)
			}
		}
	}
	if ph, ok := infos[sdk.KindPH]; ok {
		if d, declared := sdk.MaxDim(ph); declared && d < cfg.MaxDim {
			return fmt.Errorf("--maxdim %d: ph plugin %q computes homology only up to dimension %d (capability %s); lower --maxdim or choose another --ph", cfg.MaxDim, ph.Name, d, sdk.CapMaxDim)
		}
		if !sdk.TakesInput(ph, "distances") {
			return fmt.Errorf("ph plugin %q takes only %s (capability %s), but a run gives it distance matrices", ph.Name, strings.Join(sdk.Inputs(ph), ","), sdk.CapInput)
		}
		if !sdk.SupportsCoeff(ph, 2) {
			return fmt.Errorf("ph plugin %q does not declare coefficients Z/2 (capability %s=%q), which a run uses", ph.Name, sdk.CapCoeff, ph.Capabilities[sdk.CapCoeff])
		}
	}
	return nil
}

// takes renders a plugin's parameter names for an error message.
func takes(i sdk.Info) string {
	if len(i.Params) == 0 {
		return "it takes no parameters"
	}
	return "its parameters: " + strings.Join(i.ParamNames(), ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
