// Command faultyph is a homology plugin that misbehaves on request. The
// sdk's tests build it as nt-ph-faulty to check what a host sees when a
// plugin panics, hangs or logs.
package main

import (
	"context"
	"math"
	"os"
	"os/exec"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
)

type faulty struct{}

func (faulty) Describe(context.Context) (sdk.Info, error) {
	if os.Getenv("NT_FAULTY_HANG_DESCRIBE") != "" {
		select {} // a plugin hung before it answers anything
	}
	return sdk.Info{Name: "faulty", Kind: sdk.KindPH, Version: "0.0.1", Protocol: sdk.ProtocolVersion, Description: "test fixture"}, nil
}

// Compute panics for MaxDim 99, blocks until cancelled for MaxDim 98, logs
// for MaxDim 97, starts a child that holds its stdout and stderr and
// returns the child's pid for MaxDim 96, hangs ignoring the context for
// MaxDim 94, starts a setsid'd child and returns its pid for MaxDim 93,
// panics only the first time
// $NT_FAULTY_MARK names a file that does not exist yet for MaxDim 95, and
// otherwise echoes the matrix size as one H0 pair. Params["garbage"]
// names a malformed answer (see garbage) the host must refuse.
func (faulty) Compute(ctx context.Context, r sdk.HomologyRequest) ([]sdk.Diagram, error) {
	if g, ok := r.Params["garbage"]; ok {
		return garbage(g), nil
	}
	switch r.MaxDim {
	case 96:
		// Like gudhi's forked worker: a descendant with the plugin's pipes.
		cmd := exec.Command("sleep", "300")
		cmd.Stdout = os.NewFile(1, "stdout")
		cmd.Stderr = os.NewFile(2, "stderr")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return pad([]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{float64(cmd.Process.Pid), math.Inf(1)}}}}, r.MaxDim), nil
	case 95:
		mark := os.Getenv("NT_FAULTY_MARK")
		if _, err := os.Stat(mark); mark != "" && os.IsNotExist(err) {
			if err := os.WriteFile(mark, nil, 0o600); err != nil {
				return nil, err
			}
			panic("faulty plugin crashes once")
		}
	case 99:
		panic("faulty plugin asked to crash")
	case 98:
		<-ctx.Done()
		return nil, ctx.Err()
	case 94:
		// Hung for good: the context is ignored.
		time.Sleep(time.Hour)
	case 93:
		// A child that leaves the plugin's process group and session
		// (setsid), and returns its pid.
		cmd := exec.Command("setsid", "sleep", "300")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		go cmd.Wait()
		return pad([]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{float64(cmd.Process.Pid), math.Inf(1)}}}}, r.MaxDim), nil
	case 97:
		sdk.Logger().Warn("faulty plugin says hello", "dim", 97)
	}
	if e := r.Edges; e != nil {
		// Echo each pair as two essential classes born at i*N+j and at
		// d, so a test sees what crossed.
		out := sdk.Diagram{Dim: 0}
		for k, d := range e.D {
			out.Pairs = append(out.Pairs, [2]float64{float64(int(e.I[k])*e.N + int(e.J[k])), math.Inf(1)}, [2]float64{d, math.Inf(1)})
		}
		return []sdk.Diagram{out}, nil
	}
	n := 0.0
	if r.Distances != nil {
		n = float64(len(r.Distances.Data))
	}
	return pad([]sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{n, math.Inf(1)}}}}, r.MaxDim), nil
}

// pad adds the empty diagrams of dimensions 1..maxDim the contract asks
// for.
func pad(ds []sdk.Diagram, maxDim int) []sdk.Diagram {
	for d := 1; d <= maxDim; d++ {
		ds = append(ds, sdk.Diagram{Dim: d})
	}
	return ds
}

// garbage returns the malformed answer named g, for a request of
// MaxDim 1.
func garbage(g string) []sdk.Diagram {
	inf := math.Inf(1)
	ok := func(dim int) sdk.Diagram { return sdk.Diagram{Dim: dim, Pairs: [][2]float64{{0, inf}}} }
	switch g {
	case "negative-dim":
		return []sdk.Diagram{ok(0), ok(-1)}
	case "huge-dim":
		return []sdk.Diagram{ok(0), ok(1 << 30)}
	case "above-maxdim":
		return []sdk.Diagram{ok(0), ok(1), ok(7)}
	case "none":
		return nil
	case "missing-dim":
		return []sdk.Diagram{ok(0)}
	case "duplicate-dim":
		return []sdk.Diagram{ok(0), ok(0)}
	case "nan-birth":
		return []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{math.NaN(), inf}}}, ok(1)}
	case "negative-birth":
		return []sdk.Diagram{{Dim: 0, Pairs: [][2]float64{{-1, inf}}}, ok(1)}
	case "death-before-birth":
		return []sdk.Diagram{ok(0), {Dim: 1, Pairs: [][2]float64{{2, 1}}}}
	}
	return []sdk.Diagram{ok(0), ok(1)}
}

func main() { sdk.Serve(faulty{}) }
