package ripserbin

import (
	"context"
	"fmt"
	"strconv"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Version is the plugin's own semantic version.
const Version = "0.1.0"

// Plugin is the sdk.Homology implementation served by nt-ph-ripser.
type Plugin struct {
	Runner Runner
}

var _ sdk.Homology = Plugin{}

// Describe reports the plugin's name, kind and capabilities.
func (p Plugin) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:        "ripser",
		Kind:        sdk.KindPH,
		Version:     Version,
		Protocol:    sdk.ProtocolVersion,
		Description: "Vietoris-Rips persistent homology by Debian's ripser 1.2.1 executables (ripser, ripser-coeff)",
		Capabilities: map[string]string{
			"max_dim": strconv.Itoa(MaxDim),
			// 2 by ripser, others by ripser-coeff, which packs a
			// coefficient into 8 bits beside the index: primes < 256.
			"coeff":  "any<" + strconv.Itoa(MaxCoeff+1),
			"input":  "distances,points,edges",
			"engine": "ripser 1.2.1 (external process)",
		},
	}, nil
}

// Compute answers a HomologyRequest: distances if given, else the
// Euclidean distances of the points, else the sparse edges.
func (p Plugin) Compute(ctx context.Context, req sdk.HomologyRequest) ([]sdk.Diagram, error) {
	opt := Options{MaxDim: req.MaxDim, Threshold: req.Threshold, Coeff: req.Coeff}
	switch {
	case req.Edges != nil && req.Distances == nil && req.Points == nil:
		return p.Runner.ComputeEdges(ctx, req.Edges, opt)
	case req.Distances != nil:
		return p.Runner.Compute(ctx, *req.Distances, opt)
	case req.Points != nil:
		d, err := Euclidean(*req.Points)
		if err != nil {
			return nil, err
		}
		return p.Runner.Compute(ctx, d, opt)
	}
	return nil, fmt.Errorf("ripser: request has neither distances nor points")
}
