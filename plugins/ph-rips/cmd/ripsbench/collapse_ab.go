package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/workloads"
	"github.com/neuraltopology/neuraltopology/plugins/dist-geodesic/geodesic"
)

// Edge collapse A/B: ours with RIPS_COLLAPSE=off and as the engine
// decides (or forced on with -collapse-force), alternated in one run
// beside ripser, so what collapse buys is read off one table.
var (
	collapseAB    = flag.Bool("collapse-ab", false, "run ours with edge collapse off (RIPS_COLLAPSE=off) and as the engine decides, alternated, beside ripser")
	collapseForce = flag.Bool("collapse-force", false, "with -collapse-ab: the second run forces collapse on (RIPS_COLLAPSE=on: no early stop) instead of letting the engine decide")
	runClouds     = flag.String("clouds", "", "with -collapse-ab: the inputs are a main-job run directory's saved clouds (clouds/step_N/NAME.npz) with the main job's k=15 geodesic distances")
)

// cloudInputs reads a run directory's saved clouds and gives each its
// k=15 geodesic distance matrix, the main job's default metric.
func cloudInputs(runDir string) ([]workloads.Input, error) {
	files, err := filepath.Glob(filepath.Join(runDir, "clouds", "step_*", "*.npz"))
	if err != nil {
		return nil, err
	}
	step := func(f string) int {
		s, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(filepath.Dir(f)), "step_"))
		return s
	}
	slices.SortFunc(files, func(a, b string) int {
		if x, y := step(a), step(b); x != y {
			return x - y
		}
		return strings.Compare(a, b)
	})
	var out []workloads.Input
	for _, f := range files {
		arrays, err := matio.ReadNPZ(f)
		if err != nil {
			return nil, err
		}
		if len(arrays) != 1 {
			return nil, fmt.Errorf("%s: %d arrays, want 1", f, len(arrays))
		}
		g, _, err := geodesic.Distances(arrays[0].Matrix, 15, geodesic.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		name := filepath.Base(filepath.Dir(f)) + "/" + strings.TrimSuffix(filepath.Base(f), ".npz")
		out = append(out, workloads.Input{Name: name, Distances: g, MaxDim: 2})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no clouds/step_N/*.npz", runDir)
	}
	return out, nil
}

func runCollapseAB(workload, only string, repeat int, seed int64, ripser string, workers, maxDim int, matrix bool) error {
	var inputs []workloads.Input
	if *runClouds != "" {
		in, err := cloudInputs(*runClouds)
		if err != nil {
			return err
		}
		inputs = in
	} else {
		names := workloads.Names
		if workload != "all" {
			names = []string{workload}
		}
		for _, name := range names {
			in, err := workloads.Generate(name, seed, geodesicK)
			if err != nil {
				return err
			}
			inputs = append(inputs, in...)
		}
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
	fmt.Printf("ripsbench -collapse-ab, %d cores (%s), load average %s, repeat %d, seed %d\n\n", cpuCount(), cpuModel(), loadAvg(), repeat, seed)
	fmt.Println("| input | n | dim | thr | ripser s | off s | with s | with/off | with/ripser | ripser MB | off MB | with MB | ripser CPU s | off CPU s | with CPU s | with/off CPU | with/ripser CPU | barcodes | load avg |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for i, in := range inputs {
		if !strings.Contains(in.Name, only) {
			continue
		}
		dim := in.MaxDim
		if maxDim >= 0 {
			dim = maxDim
		}
		thr := strconv.FormatFloat(in.Threshold, 'g', -1, 64)
		rin := filepath.Join(dir, fmt.Sprintf("%d.ripser", i))
		bin := filepath.Join(dir, fmt.Sprintf("%d.bin", i))
		// Each engine gets its fastest input, as in run.
		usePoints := !matrix && in.Points.Rows > 0 && in.Threshold > 0
		src, format := in.Distances, "binary"
		if usePoints {
			src, format = in.Points, "point-cloud"
			if err := writePoints(rin, src); err != nil {
				return err
			}
		} else if err := writeLowerBinary(rin, src); err != nil {
			return err
		}
		if err := writeMatrix(bin, src); err != nil {
			return err
		}
		args := []string{"--format", format, "--dim", strconv.Itoa(dim)}
		if in.Threshold > 0 {
			args = append(args, "--threshold", thr)
		}
		r, err := measure(ripser, append(args, rin)...)
		if err != nil {
			return err
		}
		child := []string{"-child", bin, "-points=" + strconv.FormatBool(usePoints), "-maxdim", strconv.Itoa(dim), "-threshold", thr, "-workers", strconv.Itoa(workers)}
		var off, on []result
		for range repeat {
			for _, mode := range []string{"off", "on"} {
				switch {
				case mode == "off":
					os.Setenv("RIPS_COLLAPSE", "off")
				case *collapseForce:
					os.Setenv("RIPS_COLLAPSE", "on")
				}
				o, err := measure(self, child...)
				os.Unsetenv("RIPS_COLLAPSE")
				if err != nil {
					return err
				}
				if mode == "off" {
					off = append(off, o)
				} else {
					on = append(on, o)
				}
			}
		}
		a, b := median(off), median(on)
		want := parse(r.output)
		verdict := compare(want, parse(a.output))
		if v := compare(want, parse(b.output)); v != verdict {
			verdict = "off: " + verdict + "; on: " + v
		}
		cpu := func(x result) float64 { return (x.user + x.sys).Seconds() }
		mb := func(x result) float64 { return float64(x.rssKB) / 1024 }
		fmt.Printf("| %s | %d | %d | %s | %.2f | %.2f | %.2f | %.2f | %.3f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.3f | %s | %s |\n",
			in.Name, in.Distances.Rows, dim, thr, r.wall.Seconds(), a.wall.Seconds(), b.wall.Seconds(), b.wall.Seconds()/a.wall.Seconds(), b.wall.Seconds()/r.wall.Seconds(),
			mb(r), mb(a), mb(b), cpu(r), cpu(a), cpu(b), cpu(b)/cpu(a), cpu(b)/cpu(r), verdict, loadAvg())
	}
	return nil
}
