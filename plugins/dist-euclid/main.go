// Command nt-dist-euclid is the Euclidean distance plugin served over the
// sdk's gRPC protocol.
package main

import (
	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() { sdk.Serve(euclid.Plugin{}) }
