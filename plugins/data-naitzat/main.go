// Command nt-data-naitzat serves the synthetic data sets D-I, D-II and
// D-III of Naitzat, Zhitnikov and Lim, "Topology of deep neural networks"
// (JMLR 2020), as a data plugin.
package main

import (
	"github.com/neuraltopology/neuraltopology/plugins/data-naitzat/naitzat"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() { sdk.Serve(naitzat.Plugin{}) }
