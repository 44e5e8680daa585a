// Package ripserbin computes Vietoris-Rips persistent homology by running
// Debian's ripser 1.2.1 executables as child processes: ripser for Z/2
// coefficients and ripser-coeff (--modulus p) for other primes.
//
// The distance matrix goes to the child's stdin in ripser's binary format
// (float32 lower triangle), order-preserving codes in place of the
// distances (see encoding.go); the diagrams come back as ripser's text
// output and the codes are decoded, so reported births and deaths are the
// caller's own distances, not ripser's six printed digits.
package ripserbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/neuraltopology/neuraltopology/plugins/dist-euclid/euclid"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// Default locations of Debian's binaries; a bare name is looked up in PATH.
const (
	DefaultZ2Binary    = "ripser"
	DefaultCoeffBinary = "ripser-coeff"
)

// MaxDim is the highest homology dimension accepted. Ripser itself has no
// limit and refuses (or runs out of memory on) what it cannot hold; the
// benchmark suite's random16 row asks for dimension 7. The bound only
// keeps "--dim" a sane number.
const MaxDim = 64

// MaxCoeff is the largest prime modulus ripser-coeff handles: it keeps a
// coefficient in the 8 bits beside each simplex index.
const MaxCoeff = 251

// Runner runs the ripser executables.
type Runner struct {
	// Z2 and Coeff are the executables for Z/2 and for other primes;
	// empty means DefaultZ2Binary and DefaultCoeffBinary.
	Z2, Coeff string
}

// Options are the parameters of one computation.
type Options struct {
	MaxDim    int     // dimensions 0..MaxDim
	Threshold float64 // largest filtration value; 0 or +Inf means none
	Coeff     int     // prime p of Z/p; 0 means 2
}

// Compute returns the persistence diagrams, one per dimension
// 0..opt.MaxDim, of the Vietoris-Rips filtration of the n x n distance
// matrix d. Pairs of zero length are omitted, as ripser omits them, and an
// essential class has death +Inf. When ctx ends the child is killed.
func (r Runner) Compute(ctx context.Context, d sdk.Matrix, opt Options) ([]sdk.Diagram, error) {
	if err := d.ValidateDistances(); err != nil {
		return nil, fmt.Errorf("ripser: %w", err)
	}
	path, args, err := r.command(ctx, opt)
	if err != nil {
		return nil, err
	}
	n := d.Rows
	if n == 1 {
		// ripser 1.2.1 fails an assertion on a single point.
		return singlePoint(opt.MaxDim), nil
	}
	enc, err := newEncoding(d)
	if err != nil {
		return nil, err
	}
	args = append([]string{"--format", "binary"}, args...)
	// Without a threshold ripser uses the enclosing radius; above it
	// nothing changes, so only a smaller threshold is passed. Passing one
	// switches ripser to its slower sparse matrix.
	t := opt.Threshold
	if t != 0 && !math.IsInf(t, 1) && float32(t) < float32(enclosingRadius(d)) {
		args = append(args, "--threshold", strconv.FormatFloat(float64(enc.threshold(t)), 'g', -1, 32))
	}
	if err := checkSize(d, opt.MaxDim, t); err != nil {
		return nil, err
	}
	return run(ctx, path, args, func(w io.Writer) error { return enc.writeBinary(w, n) }, enc.decode, opt.MaxDim)
}

// ComputeEdges is Compute on a sparse distance matrix (pairs not listed
// are absent at every scale), given to ripser in its sparse text format
// (--format sparse), so neither side holds an n x n matrix.
//
// Two ways ripser 1.2.1 reads that format are made up for here: it
// ignores --threshold on it (its H0 joins components by pairs above
// the threshold), so only the pairs within the threshold are written;
// and it takes the number of points from the largest vertex of a pair
// (a diagonal "i i 0" line does not count), so the points after the
// last one in any pair are added back as essential H0 classes.
func (r Runner) ComputeEdges(ctx context.Context, e *sdk.Edges, opt Options) ([]sdk.Diagram, error) {
	if e == nil {
		return nil, fmt.Errorf("ripser: no edges given")
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("ripser: %w", err)
	}
	path, args, err := r.command(ctx, opt)
	if err != nil {
		return nil, err
	}
	t32 := float32(math.Inf(1))
	if t := opt.Threshold; t != 0 && !math.IsInf(t, 1) {
		t32 = float32(t)
	}
	keep := make([]bool, len(e.D))
	top := -1 // the largest vertex ripser will see
	var vals []float64
	deg := make([]int, e.N) // pairs to a smaller vertex, for checkSizeDeg
	for k, d := range e.D {
		if float32(d) <= t32 {
			keep[k] = true
			vals = append(vals, d)
			top = max(top, int(e.I[k]), int(e.J[k]))
			deg[max(e.I[k], e.J[k])]++
		}
	}
	// Codes only for the kept pairs: ranks stay dense and codes[k] must
	// follow pair k, so spread them back out.
	packed, err := encodeValues(vals)
	if err != nil {
		return nil, err
	}
	enc := &encoding{codes: make([]float32, len(e.D)), rep: packed.rep, bits: packed.bits}
	j := 0
	for k := range keep {
		if keep[k] {
			enc.codes[k] = packed.codes[j]
			j++
		}
	}
	if err := checkSizeDeg(e.N, deg, opt.MaxDim, 16*float64(len(vals))); err != nil {
		return nil, err
	}
	var ds []sdk.Diagram
	if top < 0 {
		ds = singlePoint(opt.MaxDim)
		top = 0
	} else {
		args = append([]string{"--format", "sparse"}, args...)
		ds, err = run(ctx, path, args, func(w io.Writer) error { return enc.writeSparse(w, e, keep) }, enc.decode, opt.MaxDim)
		if err != nil {
			return nil, err
		}
	}
	for range e.N - 1 - top {
		ds[0].Pairs = append(ds[0].Pairs, [2]float64{0, math.Inf(1)})
	}
	return ds, nil
}

// command checks opt and returns the executable and the arguments both
// input formats share.
func (r Runner) command(ctx context.Context, opt Options) (path string, args []string, err error) {
	if opt.MaxDim < 0 || opt.MaxDim > MaxDim {
		return "", nil, fmt.Errorf("ripser: max dimension %d outside 0..%d", opt.MaxDim, MaxDim)
	}
	p := opt.Coeff
	if p == 0 {
		p = 2
	}
	if !sdk.IsPrime(p) {
		return "", nil, fmt.Errorf("ripser: coefficient modulus %d is not a prime", opt.Coeff)
	}
	if p > MaxCoeff {
		return "", nil, fmt.Errorf("ripser: coefficient modulus %d: ripser-coeff stores coefficients in 8 bits and computes only Z/p for primes p <= %d (from 257 on it grew to 5 GB on 40 points)", p, MaxCoeff)
	}
	if t := opt.Threshold; math.IsNaN(t) || t < 0 {
		return "", nil, fmt.Errorf("ripser: threshold %v is not a non-negative number", t)
	}
	if err := ctx.Err(); err != nil {
		return "", nil, fmt.Errorf("ripser: not started: %w", err)
	}
	bin := r.Z2
	if bin == "" {
		bin = DefaultZ2Binary
	}
	if p != 2 {
		bin = r.Coeff
		if bin == "" {
			bin = DefaultCoeffBinary
		}
		args = append(args, "--modulus", strconv.Itoa(p))
	}
	path, err = exec.LookPath(bin)
	if err != nil {
		return "", nil, fmt.Errorf("ripser: executable %q not found (install Debian's ripser package): %v", bin, err)
	}
	// ripser 1.2.1 fails an assertion in its H0 pass when asked for
	// --dim 0 (it looks for apparent triangles), so H0 alone is computed
	// as --dim 1 and the child is stopped once H0 is printed.
	args = append(args, "--dim", strconv.Itoa(max(opt.MaxDim, 1)))
	return path, args, nil
}

// run starts ripser with args, writes its input with write and reads the
// diagrams of dimensions 0..maxDim from its output.
func run(ctx context.Context, path string, args []string, write func(io.Writer) error, decode func(string) (float64, error), maxDim int) ([]sdk.Diagram, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.WaitDelay = 2 * time.Second
	// ripser must not outlive this process: orphaned, it ran on at full
	// CPU and grew to gigabytes. The host also kills the plugin's process
	// group, which includes ripser; Pdeathsig covers a plugin killed while
	// the host is gone too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 8192}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("ripser: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("ripser: %v", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ripser: starting %s: %w", path, err)
	}
	writeErr := make(chan error, 1)
	go func() {
		err := write(stdin)
		if cerr := stdin.Close(); err == nil {
			err = cerr
		}
		writeErr <- err
	}()
	ds, early, perr := parseOutput(stdout, maxDim, decode)
	if early {
		// Everything asked for is printed; the rest is wasted work.
		_ = cmd.Process.Kill()
	}
	// Drain so the child is never blocked on a full pipe while we wait.
	_, _ = io.Copy(io.Discard, stdout)
	werr := <-writeErr
	err = cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("ripser: stopped after %v: %w", time.Since(start).Round(time.Millisecond), ctx.Err())
	case perr != nil:
		return nil, fmt.Errorf("ripser: reading its output: %v", perr)
	case err != nil && !early:
		return nil, fmt.Errorf("ripser: %s %s: %s", path, exitText(err), lastLine(stderr.String()))
	case werr != nil && !early:
		return nil, fmt.Errorf("ripser: writing the distance matrix: %v", werr)
	}
	return ds, nil
}

// exitText says how the child ended; a SIGKILL nobody asked for is most
// often the kernel's out-of-memory killer.
func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			if ws.Signal() == syscall.SIGKILL {
				return "was killed (out of memory?)"
			}
			return "died of signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	return err.Error()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return "no message on stderr"
}

// limitedWriter keeps the first n bytes; ripser's usage text is long.
type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Euclidean returns the Euclidean distance matrix of the rows of pts
// (dist-euclid's computation).
func Euclidean(pts sdk.Matrix) (sdk.Matrix, error) {
	d, err := euclid.Matrix(pts)
	if err != nil {
		return sdk.Matrix{}, fmt.Errorf("ripser: point cloud: %w", err)
	}
	return d, nil
}

// enclosingRadius is the smallest over points of the largest distance to
// the others: there the complex is a cone and nothing changes any more.
func enclosingRadius(d sdk.Matrix) float64 {
	n := d.Rows
	r := math.Inf(1)
	for i := 0; i < n; i++ {
		m := 0.0
		for _, x := range d.Data[i*n : (i+1)*n] {
			m = max(m, x)
		}
		r = min(r, m)
	}
	return r
}

// ripserBytesPerSimplex is what ripser keeps per top-dimensional simplex
// it cannot skip: a diameter-index entry in columns_to_reduce and a slot
// of its pivot hash map. ripserSurviving is how many simplices per kept
// one the estimate assumes (apparent pairs are skipped), as rips does.
const (
	ripserBytesPerSimplex = 40
	ripserSurviving       = 16
)

// checkSize refuses, before ripser starts, a computation whose estimated
// memory is over the machine's budget: ripser itself never refuses, it
// grows until the kernel kills it.
func checkSize(d sdk.Matrix, maxDim int, t float64) error {
	n := d.Rows
	if t == 0 || math.IsInf(t, 1) {
		t = enclosingRadius(d)
	}
	deg := make([]int, n)
	for v := 0; v < n; v++ {
		for u := 0; u < v; u++ {
			if d.Data[v*n+u] <= t {
				deg[v]++
			}
		}
	}
	return checkSizeDeg(n, deg, maxDim, 4*float64(n)*float64(n-1)/2)
}

// checkSizeDeg is checkSize given each vertex's count of neighbours
// before it and the bytes ripser holds for its input.
func checkSizeDeg(n int, deg []int, maxDim int, input float64) error {
	// Simplices of the top dimension (ripser reduces their coboundaries),
	// counted by their largest vertex v: C(deg(v), dim) among the
	// neighbours of v that come before it.
	k := max(maxDim, 1)
	est := 0.0
	for _, dv := range deg {
		est += binom(dv, k)
	}
	need := input + est*ripserBytesPerSimplex/ripserSurviving
	if err := sdk.CheckMemory(fmt.Sprintf("ripser: %d points to dimension %d (%.3g simplices)", n, maxDim, est), need); err != nil {
		return fmt.Errorf("%v; lower the dimension or the threshold", err)
	}
	return nil
}

// binom is C(n, k) as a float, exact enough for an estimate.
func binom(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	r := 1.0
	for i := 0; i < k; i++ {
		r = r * float64(n-i) / float64(i+1)
	}
	return r
}

func singlePoint(maxDim int) []sdk.Diagram {
	out := make([]sdk.Diagram, maxDim+1)
	for k := range out {
		out[k].Dim = k
	}
	out[0].Pairs = [][2]float64{{0, math.Inf(1)}}
	return out
}
