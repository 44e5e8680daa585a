// Command nt-ph-ripser serves Debian's ripser executables as an nthost
// persistent homology plugin.
package main

import (
	"github.com/neuraltopology/neuraltopology/plugins/ph-ripser/ripserbin"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() {
	sdk.Serve(ripserbin.Plugin{})
}
