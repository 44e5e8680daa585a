// Command ppobench trains PPO with the seed's default hyperparameters on
// MuJoCo tasks and, in the same run, times the physics alone, so the cost
// of learning is reported as a ratio to the floor set by the simulator.
//
//	go run ./plugins/algo-ppo/cmd/ppobench -env Hopper-v4 -seeds 1 -steps 1000000
//
// For each task and seed it prints the average return of the last 100
// training episodes and the wall time; for each task, the time of the
// same number of environment steps with uniformly random actions on one
// batch in process (the physics floor) and the ratio. Because the machine
// may be shared, it also reports the wall time over the time spent in
// env.Step during the same run, a ratio that load affects less. With -plugins DIR
// the environment and learner run as the plugin binaries DIR/nt-env-mujoco
// and DIR/nt-algo-ppo instead of in process.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/neuraltopology/neuraltopology/core/train"
	"github.com/neuraltopology/neuraltopology/plugins/algo-ppo/ppo"
	"github.com/neuraltopology/neuraltopology/plugins/env-mujoco/mjenv"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() {
	envs := flag.String("env", "Hopper-v4", "comma-separated task ids")
	seeds := flag.String("seeds", "1", "comma-separated seeds")
	steps := flag.Int("steps", 1_000_000, "environment steps per run (total_timesteps)")
	numEnvs := flag.Int("num-envs", 1, "environments per batch")
	plugins := flag.String("plugins", "", "directory holding nt-env-mujoco and nt-algo-ppo; empty runs both in process")
	floor := flag.Bool("floor", true, "also time the physics alone")
	verbose := flag.Bool("v", false, "print every update")
	flag.Parse()
	if err := run(*envs, *seeds, *steps, *numEnvs, *plugins, *floor, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "ppobench:", err)
		os.Exit(1)
	}
}

func run(envList, seedList string, steps, numEnvs int, pluginDir string, doFloor, verbose bool) error {
	ctx := context.Background()
	var seeds []int64
	for _, s := range strings.Split(seedList, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("-seeds: %q is not an integer", s)
		}
		seeds = append(seeds, v)
	}
	host, _ := os.Hostname()
	fmt.Printf("# ppobench %s, %s, GOMAXPROCS %d, %s/%s, mode %s\n", time.Now().UTC().Format(time.RFC3339), host,
		runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, mode(pluginDir))
	fmt.Printf("# %d steps, num_envs %d, seed defaults (num_steps 2048, 32 minibatches, 10 epochs)\n", steps, numEnvs)
	fmt.Println("| task | seed | return (last 100 ep.) | episodes | train wall s | env.Step in run s | physics floor s | wall / floor | wall / env.Step |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, task := range strings.Split(envList, ",") {
		task = strings.TrimSpace(task)
		type row struct {
			seed     int64
			ret      float64
			episodes int
			wall     time.Duration
			envStep  time.Duration
		}
		var rows []row
		for _, seed := range seeds {
			env, algo, closeAll, err := open(ctx, pluginDir)
			if err != nil {
				return err
			}
			hyper := map[string]string{"total_timesteps": strconv.Itoa(steps)}
			tenv, talgo := &timedEnv{Environment: env}, &timedAlgo{Algorithm: algo}
			res, err := train.Run(ctx, tenv, talgo, train.Config{TaskID: task, NumEnvs: numEnvs, Seed: seed, Hyper: hyper}, train.Hooks{
				OnUpdate: func(_ context.Context, p train.Progress) error {
					if verbose {
						fmt.Fprintf(os.Stderr, "%s seed %d update %d/%d step %d return %.1f SPS %.0f\n", task, seed,
							p.Update, p.TotalUpdates, p.Step, p.MeanReturn, p.Stats["charts/SPS"])
					}
					return nil
				},
			})
			closeAll()
			if err != nil {
				return fmt.Errorf("%s seed %d: %w", task, seed, err)
			}
			rows = append(rows, row{seed, res.Last.MeanReturn, res.Episodes, res.Elapsed, tenv.step})
			fmt.Printf("# %s seed %d: env.Step %.1f s, Act without update %.1f s, Act with update %.1f s (%d updates, %.1f ms each)\n",
				task, seed, tenv.step.Seconds(), talgo.act.Seconds(), talgo.update.Seconds(), talgo.updates,
				talgo.update.Seconds()*1000/math.Max(1, float64(talgo.updates)))
		}
		var fl time.Duration
		if doFloor {
			var err error
			if fl, err = physicsFloor(ctx, task, steps); err != nil {
				return err
			}
		}
		for _, r := range rows {
			ratio := math.NaN()
			if fl > 0 {
				ratio = r.wall.Seconds() / fl.Seconds()
			}
			fmt.Printf("| %s | %d | %.1f | %d | %.1f | %.1f | %.1f | %.2f | %.2f |\n", task, r.seed, r.ret, r.episodes,
				r.wall.Seconds(), r.envStep.Seconds(), fl.Seconds(), ratio, r.wall.Seconds()/r.envStep.Seconds())
		}
	}
	return nil
}

func mode(dir string) string {
	if dir == "" {
		return "in-process"
	}
	return "plugins from " + dir
}

// open returns the environment and learner, in process or as plugins.
func open(ctx context.Context, dir string) (sdk.Environment, sdk.Algorithm, func(), error) {
	if dir == "" {
		return mjenv.New(), ppo.New(), func() {}, nil
	}
	ec, err := sdk.Open(ctx, filepath.Join(dir, "nt-env-mujoco"), sdk.OpenOptions{})
	if err != nil {
		return nil, nil, nil, err
	}
	ac, err := sdk.Open(ctx, filepath.Join(dir, "nt-algo-ppo"), sdk.OpenOptions{})
	if err != nil {
		ec.Close()
		return nil, nil, nil, err
	}
	closeAll := func() { ac.Close(); ec.Close() }
	env, err := ec.Env()
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	algo, err := ac.Algo()
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return env, algo, closeAll, nil
}

// physicsFloor times steps environment steps of one in-process env with
// uniformly random actions: what the run would cost if learning were free.
func physicsFloor(ctx context.Context, task string, steps int) (time.Duration, error) {
	env := mjenv.New()
	h, spec, err := env.Open(ctx, sdk.EnvConfig{TaskID: task, NumEnvs: 1, Seed: 1})
	if err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}
	defer env.Close(ctx, h)
	rnd := rand.New(rand.NewPCG(1, 2))
	a := sdk.NewMatrix(1, spec.ActDim)
	t0 := time.Now()
	for i := 0; i < steps; i++ {
		for j := range a.Data {
			a.Data[j] = spec.ActLow[j] + (spec.ActHigh[j]-spec.ActLow[j])*rnd.Float64()
		}
		if _, err := env.Step(ctx, h, a); err != nil {
			return 0, fmt.Errorf("floor: step %d: %w", i, err)
		}
	}
	return time.Since(t0), nil
}

// timedEnv adds up the time spent in Step.
type timedEnv struct {
	sdk.Environment
	step time.Duration
}

func (e *timedEnv) Step(ctx context.Context, h int, a sdk.Matrix) (sdk.StepResult, error) {
	t0 := time.Now()
	r, err := e.Environment.Step(ctx, h, a)
	e.step += time.Since(t0)
	return r, err
}

// timedAlgo adds up the time spent in Act, apart for the calls that
// update.
type timedAlgo struct {
	sdk.Algorithm
	act, update time.Duration
	updates     int
}

func (a *timedAlgo) Act(ctx context.Context, req sdk.ActRequest) (sdk.ActResult, error) {
	t0 := time.Now()
	r, err := a.Algorithm.Act(ctx, req)
	if d := time.Since(t0); r.Update != nil {
		a.update += d
		a.updates++
	} else {
		a.act += d
	}
	return r, err
}
