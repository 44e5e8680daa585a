package main

import (
	"github.com/neuraltopology/neuraltopology/plugins/dist-geodesic/geodesic"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// geodesicK is the geodesic distance plugin's metric (k nearest
// neighbours, Euclidean edge weights), for the workloads' geodesic rows.
func geodesicK(points sdk.Matrix, k int) (sdk.Matrix, error) {
	d, _, err := geodesic.Distances(points, k, geodesic.Options{})
	return d, err
}
