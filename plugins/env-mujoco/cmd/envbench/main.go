// Command envbench measures environment steps per second of the mujoco
// plugin's in-process environment (mjenv) side by side with a raw loop of
// mj_step x frame_skip and with MuJoCo's own mujoco-testspeed, and prints
// a Markdown table with the ratios.
//
//	go run ./plugins/env-mujoco/cmd/envbench [-task Hopper-v4] [-steps 5000] [-rounds 7]
//
// Configurations are interleaved round by round and the best round of each
// is kept, so load from other processes on a shared machine hurts all of
// them alike instead of whichever ran last.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mujoco"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/tasks"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() {
	taskID := flag.String("task", "Hopper-v4", "task id ("+strings.Join(tasks.IDs(), ", ")+")")
	steps := flag.Int("steps", 5000, "environment steps per measurement (summed over the batch)")
	rounds := flag.Int("rounds", 7, "interleaved rounds; the best of each configuration is kept")
	flag.Parse()
	if err := run(*taskID, *steps, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "envbench:", err)
		os.Exit(1)
	}
}

// config is one measured configuration: it runs n environment steps and
// returns how long they took.
type config struct {
	name    string
	run     func(n int) (time.Duration, error)
	best    time.Duration // wall clock
	bestCPU time.Duration // process CPU time (user + system)
}

// cpuTime is the CPU time this process has used. Single-threaded rates
// are compared on it, because on a shared machine wall time also counts
// the time other processes held the core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(taskID string, steps, rounds int) error {
	t, err := tasks.Lookup(taskID)
	if err != nil {
		return err
	}
	cores := runtime.GOMAXPROCS(0)
	cfgs := []*config{
		{name: "raw mj_step x frame_skip (1 env)", run: func(n int) (time.Duration, error) { return raw(t, n) }},
		{name: "raw, no resets, ctrl 0.01 N(0,1) (testspeed's loop)", run: func(n int) (time.Duration, error) { return rawNoReset(t, n) }},
		{name: "mjenv N=1", run: func(n int) (time.Duration, error) { return env(t, 1, cores, n) }},
		{name: "mjenv N=2, GOMAXPROCS 1", run: func(n int) (time.Duration, error) { return env(t, 2, 1, n) }},
		{name: fmt.Sprintf("mjenv N=2, GOMAXPROCS %d", cores), run: func(n int) (time.Duration, error) { return env(t, 2, cores, n) }},
		{name: "mjenv N=8, GOMAXPROCS 1", run: func(n int) (time.Duration, error) { return env(t, 8, 1, n) }},
		{name: fmt.Sprintf("mjenv N=8, GOMAXPROCS %d", cores), run: func(n int) (time.Duration, error) { return env(t, 8, cores, n) }},
	}
	for r := range rounds {
		for _, c := range cfgs {
			runtime.GC()
			c0 := cpuTime()
			d, err := c.run(steps)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			cpu := cpuTime() - c0
			if r == 0 || d < c.best {
				c.best = d
			}
			if r == 0 || cpu < c.bestCPU {
				c.bestCPU = cpu
			}
		}
	}
	sps := func(c *config) float64 { return float64(steps) / c.best.Seconds() }
	cpuSps := func(c *config) float64 { return float64(steps) / c.bestCPU.Seconds() }
	ts, tsCPU, tsErr := testspeed(t, steps, rounds)

	host, _ := os.Hostname()
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("envbench %s, %s, host %s, %d CPUs, GOMAXPROCS %d, MuJoCo %d, %d steps x best of %d rounds, load average %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), t.ID, host, runtime.NumCPU(), cores, mujoco.Version(), steps, rounds,
		strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	fmt.Println("| configuration | env steps/s (wall) | vs raw | env steps per CPU-second | vs raw |")
	fmt.Println("|---|---:|---:|---:|---:|")
	base, cpuBase := sps(cfgs[0]), cpuSps(cfgs[0])
	for _, c := range cfgs {
		fmt.Printf("| %s | %.0f | %.3f | %.0f | %.3f |\n", c.name, sps(c), sps(c)/base, cpuSps(c), cpuSps(c)/cpuBase)
	}
	if tsErr != nil {
		fmt.Printf("| mujoco-testspeed | n/a (%v) | |\n", tsErr)
	} else {
		fmt.Printf("| mujoco-testspeed (mj_step/s / frame_skip, 1 thread) | %.0f | %.3f | %.0f | %.3f |\n", ts, ts/base, tsCPU, tsCPU/cpuBase)
	}
	fmt.Println()
	fmt.Printf("per-step overhead of mjenv N=1 over raw: %+.1f%% CPU time (%+.1f%% wall)\n", 100*(cpuBase/cpuSps(cfgs[2])-1), 100*(base/sps(cfgs[2])-1))
	fmt.Printf("N=2 speed-up %d cores vs 1: %.2fx; N=8: %.2fx (wall)\n", cores, sps(cfgs[4])/sps(cfgs[3]), sps(cfgs[6])/sps(cfgs[5]))
	if tsErr == nil {
		fmt.Printf("our no-reset raw loop vs mujoco-testspeed: %.3f wall, %.3f CPU\n", sps(cfgs[1])/ts, cpuSps(cfgs[1])/tsCPU)
	}
	return nil
}

// raw steps one MuJoCo state with uniform random controls and resets it
// by the task's own rule: the physics cost of the task without any of
// mjenv's bookkeeping.
func raw(t *tasks.Task, n int) (time.Duration, error) {
	m, err := mujoco.LoadXML(t.XML)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	d, err := mujoco.NewData(m)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	r := rand.New(rand.NewPCG(1, 2))
	lo, hi := make([]float64, m.Nu()), make([]float64, m.Nu())
	for i := range lo {
		a := m.Actuator(i)
		lo[i], hi[i] = a.CtrlRange[0], a.CtrlRange[1]
	}
	out := tasks.Outcome{Info: make([]float64, len(t.InfoKeys))}
	dt := m.Timestep() * float64(t.FrameSkip)
	d.Forward()
	ctrl := d.Ctrl()
	length := 0
	start := time.Now()
	for range n {
		for i := range ctrl {
			ctrl[i] = lo[i] + (hi[i]-lo[i])*r.Float64()
		}
		x := d.Qpos()[0]
		d.Step(t.FrameSkip)
		t.Score(x, ctrl, dt, d, &out)
		length++
		if out.Terminated || length >= tasks.MaxEpisodeSteps {
			d.Reset()
			d.Forward()
			length = 0
		}
	}
	return time.Since(start), nil
}

// rawNoReset is mujoco-testspeed's loop through our binding: small
// Gaussian control noise, no resets (the robot falls and lies on the
// floor), so its rate is directly comparable with testspeed's.
func rawNoReset(t *tasks.Task, n int) (time.Duration, error) {
	m, err := mujoco.LoadXML(t.XML)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	d, err := mujoco.NewData(m)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	r := rand.New(rand.NewPCG(1, 2))
	ctrl := d.Ctrl()
	start := time.Now()
	for range n {
		for i := range ctrl {
			ctrl[i] = 0.01 * r.NormFloat64()
		}
		d.Step(t.FrameSkip)
	}
	return time.Since(start), nil
}

// env steps a batch of nenv environments through sdk.Environment with
// uniform random actions until n environment steps are done, with the
// batch's worker count set by GOMAXPROCS at Open time.
func env(t *tasks.Task, nenv, procs, n int) (time.Duration, error) {
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	ctx := context.Background()
	e := mjenv.New()
	h, spec, err := e.Open(ctx, sdk.EnvConfig{TaskID: t.ID, NumEnvs: nenv, Seed: 1})
	if err != nil {
		return 0, err
	}
	defer e.Close(ctx, h)
	r := rand.New(rand.NewPCG(1, 2))
	act := sdk.NewMatrix(nenv, spec.ActDim)
	start := time.Now()
	for k := 0; k < n; k += nenv {
		for i := range act.Data {
			j := i % spec.ActDim
			act.Data[i] = spec.ActLow[j] + (spec.ActHigh[j]-spec.ActLow[j])*r.Float64()
		}
		if _, err := e.Step(ctx, h, act); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

var stepsPerSecond = regexp.MustCompile(`Steps per second\s*:\s*([0-9.]+)`)

// testspeed runs Debian's mujoco-testspeed on the task's MJCF (written to
// a temporary file) and returns its best rate in environment steps per
// second, i.e. mj_step calls per second divided by the frame skip. It
// uses control noise 0.01 and never resets, so after a fall it simulates
// a robot lying on the floor: a reference for the physics cost, not the
// same trajectory.
//
// The second result is env steps per CPU-second of the whole process
// (including loading the model), the comparable figure on a busy machine.
func testspeed(t *tasks.Task, steps, rounds int) (wall, cpu float64, err error) {
	bin, err := exec.LookPath("mujoco-testspeed")
	if err != nil {
		return 0, 0, fmt.Errorf("mujoco-testspeed not installed (Debian package libmujoco-samples)")
	}
	dir, err := os.MkdirTemp("", "envbench")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.xml")
	if err := os.WriteFile(path, []byte(t.XML), 0o644); err != nil {
		return 0, 0, err
	}
	for range rounds {
		cmd := exec.Command(bin, path, strconv.Itoa(steps*t.FrameSkip), "1", "0.01")
		cmd.Dir = dir // it may write MUJOCO_LOG.TXT
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, 0, fmt.Errorf("mujoco-testspeed: %v: %s", err, bytes.TrimSpace(out))
		}
		m := stepsPerSecond.FindSubmatch(out)
		if m == nil {
			return 0, 0, fmt.Errorf("mujoco-testspeed printed no steps per second: %s", firstLine(out))
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		wall = max(wall, v/float64(t.FrameSkip))
		used := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		cpu = max(cpu, float64(steps)/used.Seconds())
	}
	return wall, cpu, nil
}

func firstLine(b []byte) string {
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Scan()
	return s.Text()
}
