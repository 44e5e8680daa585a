// Command nt-dist-geodesic is the k-nearest-neighbour graph geodesic
// distance plugin (the seed pipeline's metric) served over the sdk's gRPC
// protocol.
package main

import (
	"github.com/neuraltopology/neuraltopology/plugins/dist-geodesic/geodesic"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() { sdk.Serve(geodesic.Plugin{}) }
