package rips

import (
	"context"
	"fmt"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Version is the plugin's own semantic version.
const Version = "0.1.0"

// Plugin is the sdk.Homology implementation served by nt-ph-rips.
type Plugin struct {
	// Workers is passed to Options.Workers; 0 means all cores.
	Workers int
}

var _ sdk.Homology = Plugin{}

// Describe reports the plugin's name, kind and capabilities.
func (Plugin) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:        "rips",
		Kind:        sdk.KindPH,
		Version:     Version,
		Protocol:    sdk.ProtocolVersion,
		Description: "Vietoris-Rips persistent homology (Ripser's method: cohomology, clearing, apparent pairs), multi-core",
		Capabilities: map[string]string{
			// No fixed bound: a request is refused only when its memory
			// estimate exceeds the budget.
			"max_dim": "any",
			"coeff":   "any<65536",
			"input":   "distances,points",
		},
	}, nil
}

// Compute answers a HomologyRequest: distances if given, else points.
func (pl Plugin) Compute(ctx context.Context, req sdk.HomologyRequest) ([]sdk.Diagram, error) {
	opt := Options{MaxDim: req.MaxDim, Threshold: req.Threshold, Coeff: req.Coeff, Workers: pl.Workers}
	switch {
	case req.Distances != nil:
		return Compute(ctx, req.Distances, opt)
	case req.Points != nil:
		return ComputePoints(ctx, req.Points, opt)
	}
	return nil, fmt.Errorf("rips: request has neither distances nor points")
}
