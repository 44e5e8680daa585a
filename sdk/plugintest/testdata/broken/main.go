// Command broken is a set of small plugins for the conformance kit's own
// tests: one healthy plugin of each kind the tests need (nt-env-toy,
// nt-algo-toy, nt-dist-toy, nt-ph-h0) and, for each fault the kit must
// find, a copy with that one fault. The binary is installed under each plugin's name
// (nt-<kind>-<name>) and chooses what to be from the name it was started
// by, so the tests build it once.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// plugins maps each name to the plugin it serves. Each faulty one is a
// healthy one with the fault its name says.
var plugins = map[string]func() sdk.Describer{
	"nt-env-toy":        func() sdk.Describer { return &env{name: "toy"} },
	"nt-env-nanobs":     func() sdk.Describer { return &env{name: "nanobs", nanAt: 5} },
	"nt-env-fixedseed":  func() sdk.Describer { return &env{name: "fixedseed", fixedSeed: true} },
	"nt-env-noreseed":   func() sdk.Describer { return &env{name: "noreseed", noReseed: true} },
	"nt-env-crash50":    func() sdk.Describer { return &env{name: "crash50", crashAfter: 50} },
	"nt-env-noepisodes": func() sdk.Describer { return &env{name: "noepisodes", noEpisodes: true} },
	"nt-algo-toy":       func() sdk.Describer { return &algo{name: "toy"} },
	"nt-algo-unitbox":   func() sdk.Describer { return &algo{name: "unitbox", unitBox: true} },
	"nt-dist-toy":       func() sdk.Describer { return &dist{name: "toy"} },
	"nt-dist-short":     func() sdk.Describer { return &dist{name: "short", short: true} },
	"nt-ph-capped":      func() sdk.Describer { return &h0{name: "capped", capped: true} },
	"nt-ph-h0":          func() sdk.Describer { return &h0{name: "h0"} },
	"nt-ph-overdim":     func() sdk.Describer { return &h0{name: "overdim", overDim: true} },
	"nt-ph-extradim":    func() sdk.Describer { return &h0{name: "extradim", extraDim: true} },
	"nt-ph-chatty":      func() sdk.Describer { return &h0{name: "chatty", chatty: true} },
	"nt-ph-banner":      func() sdk.Describer { return &h0{name: "banner"} },
	"nt-ph-hang":        func() sdk.Describer { return &h0{name: "hang", hang: true} },
}

func main() {
	name := filepath.Base(os.Args[0])
	mk, ok := plugins[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "broken: unknown plugin name %q\n", name)
		os.Exit(1)
	}
	if name == "nt-ph-banner" {
		// The fault: a greeting on stdout, before the handshake line.
		fmt.Println("h0 plugin starting")
	}
	sdk.Serve(mk())
}
