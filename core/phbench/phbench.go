// Package phbench is the engine of `nthost bench ph`: it runs persistent
// homology plugins side by side on the same distance matrices, through
// real plugin processes as a run uses them, and reports for each backend
// and input the wall time of Compute (median and spread over repeats),
// the peak memory of the plugin process and its children, and how far its
// diagrams are from the first backend's (bottleneck distance per
// dimension).
//
// Each (backend, input) gets a fresh plugin process, because the kernel's
// peak-memory mark (VmHWM) only ever grows: a shared process would report
// the largest input's peak for every later one. A backend that fails on
// an input (an error, a timeout, a crash, running out of memory) gets a
// row saying why, and the bench goes on.
package phbench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/neuraltopology/neuraltopology/core/diagdist"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Input is one named distance matrix to benchmark on.
type Input struct {
	Name      string
	Distances sdk.Matrix
	// Own says MaxDim and Threshold below replace the Config's for this
	// input: the suite's datasets each have their published settings.
	Own       bool
	MaxDim    int
	Threshold float64
}

// Config says what to run.
type Config struct {
	// Backends are paths of homology plugin binaries (nt-ph-<name>).
	// The first is the reference the others are compared with.
	Backends []string
	Inputs   []Input
	// Repeat is the number of timed Compute calls per backend and input;
	// 0 means 3.
	Repeat int
	// Timeout bounds one Compute call; 0 means none.
	Timeout time.Duration
	// MemoryLimit caps the address space (RLIMIT_AS) of each plugin
	// process and of the children it starts, in bytes, so a backend that
	// wants more fails alone instead of the kernel's OOM killer choosing
	// among everything on the machine. 0 means half the physical memory;
	// negative means no limit. The Go runtime reserves about 2 GB of
	// address space at start, so a Go plugin needs a limit well above
	// that.
	MemoryLimit int64
	// Params are plugin parameters; each backend gets those it declares
	// (backends of one kind rarely share parameter names).
	Params map[string]string
	// MaxDim, Threshold and Coeff go into every HomologyRequest.
	MaxDim    int
	Threshold float64
	Coeff     int
	// Dense sends every backend the n x n matrix, as before edges
	// existed; by default a thresholded input with few pairs within the
	// threshold goes as an edge list to the backends that take one
	// (capability input=edges), see sendEdges.
	Dense bool
	// Threads, if > 0, is passed as parameter "threads" to every backend
	// that declares it (ph-rips: its worker goroutines), so that CPU
	// times compare one worker with single-threaded backends.
	Threads int
	// Logger receives the plugins' log lines; nil discards them.
	Logger hclog.Logger
	// Progress, if set, is called with each row as it is finished.
	Progress func(Row)
}

// Row is the outcome of one backend on one input.
type Row struct {
	Backend string `json:"backend"`
	Input   string `json:"input"`
	Points  int    `json:"points"`
	// Runs is the number of Compute calls that succeeded.
	Runs int `json:"runs"`
	// Median, Min and Max are wall times of the successful calls, in
	// seconds, as seen by the host (gRPC transfer included).
	Median float64 `json:"median_s"`
	Min    float64 `json:"min_s"`
	Max    float64 `json:"max_s"`
	// Given says what the backend was sent: "matrix" or "edges".
	Given string `json:"given"`
	// Threads is the "threads" parameter the backend was given (0: none,
	// its default).
	Threads int `json:"threads,omitempty"`
	// CPU is the user+system CPU time of the plugin process and the
	// children it waited for, per successful call, in seconds: under
	// load it says more than the wall time.
	CPU float64 `json:"cpu_s"`
	// PeakMemBytes is the largest resident memory of the plugin process
	// plus its child processes seen during the calls (0 if unknown).
	PeakMemBytes int64 `json:"peak_mem_bytes"`
	// Pairs counts the diagram's pairs per dimension.
	Pairs []int `json:"pairs"`
	// Reference names the backend the diagrams were compared with: the
	// first backend that produced diagrams for this input. Empty for the
	// reference itself and for rows without diagrams.
	Reference string `json:"reference,omitempty"`
	// Bottleneck holds the bottleneck distance to the reference's
	// diagram, per dimension.
	Bottleneck []float64 `json:"bottleneck,omitempty"`
	// Error says why the backend failed on this input; empty if it did
	// not.
	Error string `json:"error,omitempty"`

	diagrams []sdk.Diagram
}

// MaxBottleneck is the largest per-dimension bottleneck distance, or NaN
// when the row was not compared.
func (r Row) MaxBottleneck() float64 {
	if len(r.Bottleneck) == 0 {
		return math.NaN()
	}
	m := 0.0
	for _, b := range r.Bottleneck {
		m = math.Max(m, b)
	}
	return m
}

// Result is a whole benchmark.
type Result struct {
	MaxDim  int       `json:"max_dim"`
	Coeff   int       `json:"coeff"`
	Repeat  int       `json:"repeat"`
	Timeout float64   `json:"timeout_s"`
	Started time.Time `json:"started"`
	Rows    []Row     `json:"rows"`
}

// Run benchmarks every backend on every input, in order. It returns the
// rows finished so far and ctx's error if ctx ends first; a failing
// backend is a row, not an error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if len(cfg.Backends) == 0 {
		return Result{}, fmt.Errorf("phbench: no backends given")
	}
	if len(cfg.Inputs) == 0 {
		return Result{}, fmt.Errorf("phbench: no inputs given")
	}
	if cfg.Repeat == 0 {
		cfg.Repeat = 3
	}
	if cfg.Repeat < 0 {
		return Result{}, fmt.Errorf("phbench: repeat %d is negative", cfg.Repeat)
	}
	if cfg.MaxDim < 0 {
		return Result{}, fmt.Errorf("phbench: max dimension %d is negative", cfg.MaxDim)
	}
	res := Result{MaxDim: cfg.MaxDim, Coeff: cfg.Coeff, Repeat: cfg.Repeat, Timeout: cfg.Timeout.Seconds(), Started: time.Now().UTC()}
	base := cfg
	for _, in := range cfg.Inputs {
		cfg := base
		if in.Own {
			cfg.MaxDim, cfg.Threshold = in.MaxDim, in.Threshold
		}
		var refName string
		var refDiagrams []sdk.Diagram
		var edges *sdk.Edges
		if !cfg.Dense {
			edges = sendEdges(in.Distances, cfg.Threshold)
		}
		for _, b := range cfg.Backends {
			row := runOne(ctx, cfg, b, in, edges)
			// A row that failed on a later repeat still has the first
			// call's diagrams to compare.
			if row.diagrams != nil {
				if refName == "" {
					refName, refDiagrams = row.Backend, row.diagrams
				} else {
					row.Reference = refName
					row.Bottleneck = compare(refDiagrams, row.diagrams, cfg.MaxDim)
				}
			}
			row.diagrams = nil
			res.Rows = append(res.Rows, row)
			if cfg.Progress != nil {
				cfg.Progress(row)
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func backendName(path string) string {
	if _, name, ok := sdk.ParseBinaryName(path); ok {
		return name
	}
	return filepath.Base(path)
}

// sendEdges returns the pairs of d within threshold t as an edge list
// when the input is worth sending that way, else nil: t below the
// enclosing radius (beyond it nothing changes and the matrix is whole)
// and fewer than 1 pair in 16 within it (n*n/32 pairs), where ph-rips too
// leaves its dense form (16 bytes a pair in the list, both ways, against
// 4 bytes a pair of the float32 matrix). Pairs are compared in float32,
// the precision every backend filters in.
func sendEdges(d sdk.Matrix, t float64) *sdk.Edges {
	n := d.Rows
	if n < 2 || d.Cols != n || t == 0 || math.IsInf(t, 1) || math.IsNaN(t) {
		return nil
	}
	t32 := float32(t)
	enc := math.Inf(1)
	within := 0
	for i := range n {
		row := d.Data[i*n : (i+1)*n]
		far := 0.0
		for j, x := range row {
			far = max(far, x)
			if j < i && float32(x) <= t32 {
				within++
			}
		}
		enc = min(enc, far)
	}
	if t32 >= float32(enc) || 32*int64(within) >= int64(n)*int64(n) {
		return nil
	}
	e := &sdk.Edges{N: n, I: make([]int32, 0, within), J: make([]int32, 0, within), D: make([]float64, 0, within)}
	for i := range n {
		for j, x := range d.Data[i*n : i*n+i] {
			if float32(x) <= t32 {
				e.I, e.J, e.D = append(e.I, int32(i)), append(e.J, int32(j)), append(e.D, x)
			}
		}
	}
	return e
}

// runOne starts a fresh plugin process for one input and times Repeat
// calls. edges, if not nil, replaces the matrix for a backend that takes
// edges.
func runOne(ctx context.Context, cfg Config, path string, in Input, edges *sdk.Edges) (row Row) {
	row = Row{Backend: backendName(path), Input: in.Name, Points: in.Distances.Rows}
	// A crash is a result here, not something to retry: the memory limit
	// below applies to this one process.
	c, err := sdk.Open(ctx, path, sdk.OpenOptions{Logger: cfg.Logger, NoRestart: true})
	if err != nil {
		row.Error = oneLine(err.Error())
		return row
	}
	defer c.Close()
	row.Backend = c.Info.Name
	h, err := c.PH()
	if err != nil {
		row.Error = oneLine(err.Error())
		return row
	}
	if err := limitMemory(c.Pid(), cfg.MemoryLimit); err != nil {
		row.Error = oneLine(err.Error())
		return row
	}
	mem := watchMemory(c.Pid(), 20*time.Millisecond)
	d := in.Distances
	req := sdk.HomologyRequest{Distances: &d, MaxDim: cfg.MaxDim, Threshold: cfg.Threshold, Coeff: cfg.Coeff, Params: declared(c.Info, cfg.Params)}
	if err := sdk.CheckParams(c.Info, req.Params); err != nil {
		row.Error = oneLine(err.Error())
		return row
	}
	row.Given = "matrix"
	if _, ok := c.Info.Param("threads"); ok && cfg.Threads > 0 {
		if req.Params == nil {
			req.Params = map[string]string{}
		}
		req.Params["threads"] = strconv.Itoa(cfg.Threads)
		row.Threads = cfg.Threads
	}
	if edges != nil && sdk.TakesInput(c.Info, "edges") {
		req.Distances, req.Edges, row.Given = nil, edges, "edges"
	}
	cpu0 := cpuTime(c.Pid())
	var times []float64
	for i := 0; i < cfg.Repeat; i++ {
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if cfg.Timeout > 0 {
			cctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		}
		t0 := time.Now()
		ds, err := h.Compute(cctx, req)
		el := time.Since(t0).Seconds()
		cerr := cctx.Err()
		cancel()
		if err != nil {
			row.Error = classify(err, ctx.Err(), cerr, cfg.Timeout, c)
			break
		}
		times = append(times, el)
		if i == 0 {
			row.diagrams = ds
			row.Pairs = pairCounts(ds, cfg.MaxDim)
		}
	}
	row.PeakMemBytes = mem.stop()
	row.Runs = len(times)
	if len(times) > 0 {
		row.CPU = (cpuTime(c.Pid()) - cpu0) / float64(len(times))
		slices.Sort(times)
		row.Min, row.Max = times[0], times[len(times)-1]
		row.Median = median(times)
	}
	return row
}

// classify turns a failed call into the reason shown in its row.
func classify(err, outer, call error, timeout time.Duration, c *sdk.Client) string {
	msg := oneLine(err.Error())
	switch {
	case outer != nil:
		return "cancelled: " + outer.Error()
	// The plugin's side of the call shares the deadline and may report it
	// a moment before the host's timer fires.
	case timeout > 0 && (errors.Is(call, context.DeadlineExceeded) || strings.Contains(msg, "DeadlineExceeded")):
		return fmt.Sprintf("timeout after %v", timeout)
	}
	if strings.Contains(msg, "Unavailable") {
		// A dropped connection: give the process's exit time to show.
		for i := 0; i < 100 && !c.Exited(); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
	// A runtime that cannot map a new thread's stack under the limit
	// aborts with pthread_create's failure instead of Go's out-of-memory
	// error; it is the same exhaustion.
	if strings.Contains(msg, "out of memory") || strings.Contains(msg, "cannot allocate memory") || strings.Contains(msg, "pthread_create failed") || strings.Contains(msg, "failed to create new OS thread") {
		return "out of memory: " + msg
	}
	if c.Exited() && !strings.Contains(msg, "crashed") {
		return "crashed: " + msg
	}
	return msg
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func pairCounts(ds []sdk.Diagram, maxDim int) []int {
	out := make([]int, maxDim+1)
	for _, d := range ds {
		if d.Dim >= 0 && d.Dim <= maxDim {
			out[d.Dim] += len(d.Pairs)
		}
	}
	return out
}

// compare returns the bottleneck distance between the two backends'
// diagrams in each dimension 0..maxDim.
func compare(a, b []sdk.Diagram, maxDim int) []float64 {
	out := make([]float64, maxDim+1)
	for k := range out {
		out[k] = diagdist.Bottleneck(pairsOf(a, k), pairsOf(b, k))
	}
	return out
}

func pairsOf(ds []sdk.Diagram, dim int) [][2]float64 {
	var p [][2]float64
	for _, d := range ds {
		if d.Dim == dim {
			p = append(p, d.Pairs...)
		}
	}
	return p
}

// declared keeps the parameters info declares.
func declared(info sdk.Info, params map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range params {
		if _, ok := info.Param(k); ok {
			out[k] = v
		}
	}
	return out
}
