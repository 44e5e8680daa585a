package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/neuraltopology/neuraltopology/plugins/algo-mlp/mlp"
	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/plugins/data-naitzat/naitzat"
	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/plugins/dist-geodesic/geodesic"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/rips"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// builtins are our own plugins linked into nthost, for --in-process: the
// same code as the plugin binaries without the process boundary. With one
// environment, training makes two boundary crossings per step, which costs
// as much as the physics (docs/benchmarks.md); in process it costs nothing.
var builtins = map[string]func() sdk.Describer{
	"env/mujoco":    func() sdk.Describer { return mjenv.New() },
	"algo/ppo":      func() sdk.Describer { return ppo.New() },
	"algo/mlp":      func() sdk.Describer { return mlp.New() },
	"data/naitzat":  func() sdk.Describer { return naitzat.Plugin{} },
	"dist/euclid":   func() sdk.Describer { return euclid.Plugin{} },
	"dist/geodesic": func() sdk.Describer { return geodesic.Plugin{} },
	"ph/rips":       func() sdk.Describer { return rips.Plugin{} },
}

// builtin returns the linked-in implementation of kind/name.
func builtin(kind sdk.Kind, name string) (sdk.Describer, error) {
	mk, ok := builtins[string(kind)+"/"+name]
	if !ok {
		var have []string
		for k := range builtins {
			if strings.HasPrefix(k, string(kind)+"/") {
				have = append(have, strings.TrimPrefix(k, string(kind)+"/"))
			}
		}
		sort.Strings(have)
		return nil, fmt.Errorf("--in-process: no built-in %s plugin %q (built in: %s); drop --in-process to use plugin binaries", kind, name, strings.Join(have, ", "))
	}
	return mk(), nil
}
