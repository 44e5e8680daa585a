// Command ripsbench times the rips engine against Debian's ripser on the
// benchmark workloads, side by side, and checks that both give the same
// barcodes.
//
//	go run ./plugins/ph-rips/cmd/ripsbench [-workload W1|W2|W3|all|suite|suite-quick] [-only SUBSTRING] [-repeat N] [-matrix]
//
// Both engines run as child processes on the same distances, so wall
// time and peak resident memory are measured the same way (the child's
// VmHWM, sampled every 5 ms); ours re-executes this binary with a hidden
// -child flag on a binary file. Each engine gets its fastest input: a
// thresholded point cloud goes to both as its points (ripser's
// point-cloud format, ours as `nthost tda --points` gives it), so neither
// needs a dense matrix; anything else goes to ripser in its binary
// lower-triangular format (float32, what it computes in) and to ours as
// float64 binary. -matrix hands both the distance matrix. The "ripser
// read" column is ripser on the same file at threshold 0, which reads the
// input and builds its distances with nothing to reduce: the part of its
// time that is input handling.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/neuraltopology/neuraltopology/core/workloads"
	"github.com/neuraltopology/neuraltopology/plugins/ph-rips/rips"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() {
	workload := flag.String("workload", "all", "W1, W2, W3, all, suite or suite-quick")
	only := flag.String("only", "", "run only the inputs whose name contains this")
	repeat := flag.Int("repeat", 1, "runs of each engine per input; the median is reported")
	seed := flag.Int64("seed", 1, "workload seed")
	ripser := flag.String("ripser", "/usr/bin/ripser", "reference binary")
	workers := flag.Int("workers", 0, "goroutines for ours (0: all cores)")
	flag.IntVar(workers, "threads", 0, "the same as -workers")
	child := flag.String("child", "", "internal: compute the matrix in this file and print its barcode")
	maxDim := flag.Int("maxdim", -1, "homology dimensions 0..maxdim (-1: each input's own)")
	threshold := flag.Float64("threshold", 0, "internal: the child's filtration threshold")
	points := flag.Bool("points", false, "internal: the child's file is a point cloud")
	matrix := flag.Bool("matrix", false, "give ours the distance matrix even for thresholded point clouds")
	flag.Parse()
	if *child != "" {
		debug.SetGCPercent(rips.GCPercent)
		if err := runChild(*child, *points, *maxDim, *threshold, *workers); err != nil {
			fmt.Fprintln(os.Stderr, "ripsbench child:", err)
			os.Exit(1)
		}
		return
	}
	if *collapseAB {
		if err := runCollapseAB(*workload, *only, *repeat, *seed, *ripser, *workers, *maxDim, *matrix); err != nil {
			fmt.Fprintln(os.Stderr, "ripsbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*workload, *only, *repeat, *seed, *ripser, *workers, *maxDim, *matrix); err != nil {
		fmt.Fprintln(os.Stderr, "ripsbench:", err)
		os.Exit(1)
	}
}

func runChild(path string, points bool, maxDim int, threshold float64, workers int) error {
	m, err := readMatrix(path)
	if err != nil {
		return err
	}
	opt := rips.Options{MaxDim: maxDim, Threshold: threshold, Workers: workers}
	var dg []sdk.Diagram
	if points {
		dg, err = rips.ComputePoints(context.Background(), &m, opt)
	} else {
		dg, err = rips.Compute(context.Background(), &m, opt)
	}
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, g := range dg {
		fmt.Fprintf(w, "persistence intervals in dim %d:\n", g.Dim)
		for _, p := range g.Pairs {
			if math.IsInf(p[1], 1) {
				fmt.Fprintf(w, " [%v, )\n", p[0])
			} else {
				fmt.Fprintf(w, " [%v,%v)\n", p[0], p[1])
			}
		}
	}
	return nil
}

type result struct {
	wall   time.Duration
	user   time.Duration
	sys    time.Duration
	rssKB  int64
	output []byte
}

func measure(name string, args ...string) (result, error) {
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	// The kernel's rusage Maxrss of a child counts the parent's memory
	// at the fork (Go forks with a shared address space until exec), so
	// with large inputs in this process it says nothing about the
	// child. VmHWM in /proc belongs to the child's own address space.
	done := make(chan struct{})
	hwm := make(chan int64)
	go func() {
		var peak int64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, vmHWM(cmd.Process.Pid))
			select {
			case <-done:
				hwm <- peak
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	peak := <-hwm
	if err != nil {
		return result{}, fmt.Errorf("%s: %v: %s", filepath.Base(name), err, strings.TrimSpace(errb.String()))
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	res := result{wall: wall, output: out.Bytes()}
	res.rssKB = peak
	if ru != nil {
		res.user = time.Duration(ru.Utime.Nano())
		res.sys = time.Duration(ru.Stime.Nano())
	}
	return res, nil
}

// vmHWM is the peak resident memory of a running process in KiB, 0 once
// it has exited.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

func median(rs []result) result {
	slices.SortFunc(rs, func(a, b result) int { return int(a.wall - b.wall) })
	return rs[len(rs)/2]
}

func run(workload, only string, repeat int, seed int64, ripser string, workers, maxDim int, matrix bool) error {
	names := workloads.Names
	if workload != "all" {
		names = []string{workload}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ripsbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	host, _ := os.Hostname()
	fmt.Printf("ripsbench %s, host %s, %d cores (%s), load average %s, repeat %d, seed %d\n\n",
		time.Now().UTC().Format(time.RFC3339), host, cpuCount(), cpuModel(), loadAvg(), repeat, seed)
	fmt.Println("| input | n | dim | thr | given | ripser s | ripser read s | ours s | time ratio | ripser MB | ours MB | mem ratio | ripser user+sys s | ours user+sys s | cpu ratio | barcodes | load avg |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, name := range names {
		inputs, err := workloads.Generate(name, seed, geodesicK)
		if err != nil {
			return err
		}
		for i, in := range inputs {
			if !strings.Contains(in.Name, only) {
				continue
			}
			dim := in.MaxDim
			if maxDim >= 0 {
				dim = maxDim
			}
			thr := strconv.FormatFloat(in.Threshold, 'g', -1, 64)
			rin := filepath.Join(dir, fmt.Sprintf("%s-%d.ripser", name, i))
			bin := filepath.Join(dir, fmt.Sprintf("%s-%d.bin", name, i))
			// Only a threshold lets the engines skip the dense matrix.
			usePoints := !matrix && in.Points.Rows > 0 && in.Threshold > 0
			given, format := "matrix", "binary"
			if usePoints {
				given, format = "points", "point-cloud"
				err = writePoints(rin, in.Points)
				if err == nil {
					err = writeMatrix(bin, in.Points)
				}
			} else {
				err = writeLowerBinary(rin, in.Distances)
				if err == nil {
					err = writeMatrix(bin, in.Distances)
				}
			}
			if err != nil {
				return err
			}
			read, err := measure(ripser, "--format", format, "--dim", "1", "--threshold", "0", rin)
			if err != nil {
				return err
			}
			var rr, ro []result
			for range repeat {
				args := []string{"--format", format, "--dim", strconv.Itoa(dim)}
				if in.Threshold > 0 {
					args = append(args, "--threshold", thr)
				}
				r, err := measure(ripser, append(args, rin)...)
				if err != nil {
					return err
				}
				rr = append(rr, r)
				o, err := measure(self, "-child", bin, "-points="+strconv.FormatBool(usePoints), "-maxdim", strconv.Itoa(dim), "-threshold", thr, "-workers", strconv.Itoa(workers))
				if err != nil {
					return err
				}
				ro = append(ro, o)
			}
			r, o := median(rr), median(ro)
			verdict := compare(parse(r.output), parse(o.output))
			rc, oc := r.user+r.sys, o.user+o.sys
			fmt.Printf("| %s | %d | %d | %s | %s | %.2f | %.2f | %.2f | %.3f | %.0f | %.0f | %.2f | %.2f+%.2f | %.2f+%.2f | %.3f | %s | %s |\n", in.Name, in.Distances.Rows, dim, thr, given,
				r.wall.Seconds(), read.wall.Seconds(), o.wall.Seconds(), o.wall.Seconds()/r.wall.Seconds(),
				float64(r.rssKB)/1024, float64(o.rssKB)/1024, float64(o.rssKB)/float64(r.rssKB),
				r.user.Seconds(), r.sys.Seconds(), o.user.Seconds(), o.sys.Seconds(), oc.Seconds()/rc.Seconds(), verdict, loadAvg())
		}
	}
	return nil
}

func cpuCount() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\nprocessor") + 1
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown cpu"
}

// loadAvg is printed because the machine is shared: a busy second core
// slows our two goroutines more than single-threaded ripser.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// writeLowerBinary writes ripser's binary format: the strict lower
// triangle, row by row, as little-endian float32, the precision ripser
// computes in; it reads it without parsing text. ripser 1.2.1 keeps one
// value more than the file holds (the read that meets the end, 0), so
// the file ends one value short of a triangle: a copy of the last point
// repeats its row, and the extra 0 is their distance. A duplicate point
// adds only a zero-length H0 pair, which ripser does not print (the
// ph-ripser plugin feeds it the same way).
func writeLowerBinary(path string, d sdk.Matrix) error {
	n := d.Rows
	b := make([]byte, 0, 4*(n*(n-1)/2+n-1))
	for i := 1; i < n; i++ {
		for j := 0; j < i; j++ {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(d.At(i, j))))
		}
	}
	for j := 0; j < n-1; j++ {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(d.At(n-1, j))))
	}
	return os.WriteFile(path, b, 0o644)
}

// writePoints writes ripser's point-cloud format: one point per line.
func writePoints(path string, p sdk.Matrix) error {
	var b bytes.Buffer
	for i := range p.Rows {
		for j, x := range p.Row(i) {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// writeMatrix writes rows and columns (int64) and the float64 values.
func writeMatrix(path string, d sdk.Matrix) error {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, int64(d.Rows))
	binary.Write(&b, binary.LittleEndian, int64(d.Cols))
	binary.Write(&b, binary.LittleEndian, d.Data)
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func readMatrix(path string) (sdk.Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return sdk.Matrix{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return sdk.Matrix{}, err
	}
	r := bufio.NewReaderSize(f, 1<<16)
	var n, c int64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return sdk.Matrix{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := binary.Read(r, binary.LittleEndian, &c); err != nil {
		return sdk.Matrix{}, fmt.Errorf("%s: %w", path, err)
	}
	if n <= 0 || n > 1<<16 || c <= 0 || c > 1<<16 || st.Size() != 16+8*n*c {
		return sdk.Matrix{}, fmt.Errorf("%s: bad size header %d x %d", path, n, c)
	}
	// Decoded through a small buffer, not the whole file at once, so
	// the child's peak memory is the engine's plus the matrix alone, as
	// ripser's is its own plus the triangle it reads.
	m := sdk.NewMatrix(int(n), int(c))
	var buf [8]byte
	for i := range m.Data {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return sdk.Matrix{}, fmt.Errorf("%s: %w", path, err)
		}
		m.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(buf[:]))
	}
	return m, nil
}

// parse reads ripser's output format into sorted pairs per dimension.
func parse(out []byte) [][][2]float64 {
	var res [][][2]float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "persistence intervals in dim ") {
			res = append(res, nil)
			continue
		}
		if !strings.HasPrefix(line, "[") || len(res) == 0 {
			continue
		}
		body := strings.TrimSuffix(strings.TrimPrefix(line, "["), ")")
		b, d, _ := strings.Cut(body, ",")
		bv, _ := strconv.ParseFloat(strings.TrimSpace(b), 64)
		dv := math.Inf(1)
		if s := strings.TrimSpace(d); s != "" {
			dv, _ = strconv.ParseFloat(s, 64)
		}
		k := len(res) - 1
		res[k] = append(res[k], [2]float64{bv, dv})
	}
	for _, r := range res {
		slices.SortFunc(r, func(a, b [2]float64) int {
			if c := cmpF(a[0], b[0]); c != 0 {
				return c
			}
			return cmpF(a[1], b[1])
		})
	}
	return res
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare says "same" when the pairs agree within ripser's printed
// precision, else where they first differ.
func compare(want, got [][][2]float64) string {
	if len(want) != len(got) {
		return fmt.Sprintf("DIFFER: %d vs %d dims", len(want), len(got))
	}
	counts := make([]string, len(want))
	for k := range want {
		counts[k] = strconv.Itoa(len(want[k]))
		if len(want[k]) != len(got[k]) {
			return fmt.Sprintf("DIFFER: dim %d has %d vs %d pairs", k, len(want[k]), len(got[k]))
		}
		// Greedy matching within tolerance: pairs whose births differ
		// only past ripser's 6 printed digits may sort differently.
		used := make([]bool, len(got[k]))
		for _, w := range want[k] {
			found := false
			for j, g := range got[k] {
				if !used[j] && near(w[0], g[0]) && near(w[1], g[1]) {
					used[j], found = true, true
					break
				}
			}
			if !found {
				return fmt.Sprintf("DIFFER: dim %d: ripser's %v missing", k, w)
			}
		}
	}
	return "same (" + strings.Join(counts, "/") + " pairs)"
}

func near(a, b float64) bool {
	if math.IsInf(a, 1) || math.IsInf(b, 1) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-5*math.Max(1, math.Abs(a))
}
