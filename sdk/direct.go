package sdk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/status"

	"github.com/neuraltopology/neuraltopology/sdk/pb"
)

// The direct mode takes the host off the per-step path. With the host
// relaying, one environment step costs four hand-offs between three
// processes on a machine that may have two cores (measured with
// scripts/proc-cpu.py); the host's share alone was
// a third of the CPU time of a run with one environment. In the direct
// mode the host hands the algorithm plugin the environment plugin's
// shared-memory segment (the offer it maps itself, see shm.go) once, and
// then asks it to Drive: step the environment through the segment, act on
// the outcome in process, and so on, until an Act makes an update or a
// step limit is reached. The reply ends right after an Act, where the
// training loop's state is defined (core/train.State), so checkpoints,
// snapshots and Stop work between Drives exactly as between steps. The
// loop is Drive below, the same Step-then-Act order as core/train's, and
// the messages are the same protobuf bytes: results cannot differ from
// any other transport. A topology snapshot's sampling loop takes the same
// link (Sample, sample.go).

// DirectKey is the capability under which an algorithm plugin says it
// can Drive (serves AttachEnv and Drive).
const DirectKey = "sdk.direct"

// TransportDirect names the direct mode in Client.Transport and
// transport.json, and in NT_TRANSPORT to insist on it.
const TransportDirect = "shm-direct"

// DriveRequest asks a Driver to step batch Handle of its environment with
// Actions (the last Act's, not yet stepped) and to go on acting and
// stepping until an Act makes an update or MaxSteps Steps are made.
type DriveRequest struct {
	Handle   int
	Actions  Matrix
	MaxSteps int
}

// DrivenEpisode is an episode that ended during a Drive, after its
// AfterStep-th Step (1-based), so the host can place it at the right
// environment step.
type DrivenEpisode struct {
	AfterStep int
	EpisodeStat
}

// DriveResult is what a Drive did.
type DriveResult struct {
	Steps    int       // Steps made, each followed by an Act
	Last     ActResult // the last Act's result; its actions are stepped next
	Episodes []DrivenEpisode
}

// Driver is an Algorithm that runs the training loop's Step-then-Act
// cycle itself against an environment it is linked to (Link), so the
// host is off the per-step path.
type Driver interface {
	Algorithm
	// Drives reports whether env is the environment this Driver steps;
	// a loop must not hand it another one's batch handle.
	Drives(env Environment) bool
	Drive(ctx context.Context, req DriveRequest) (DriveResult, error)
}

// Overlapper is an Algorithm that can leave part of an Act's work, the
// part that does not shape the actions (a PPO learner's critic value of
// the observations, say), for later. Drive uses it when the environment
// steps in another process: it hands the environment the actions, then
// calls Settle while the environment steps, so that work costs no wall
// time. The results must be exactly those of Act; Drive calls Settle
// before every other call to the Algorithm and before it returns, so no
// one else sees the learner with work left.
type Overlapper interface {
	// ActOverlapped is Act, except that it may leave work for Settle.
	ActOverlapped(ctx context.Context, req ActRequest) (ActResult, error)
	// Settle does the work the last ActOverlapped left, if any.
	Settle()
}

// asyncStepper is a Stepper that can step in the background: post hands
// the environment a Step, collect waits for its result.
type asyncStepper interface {
	post(ctx context.Context, handle int, actions Matrix) error
	collect(ctx context.Context) (StepResult, error)
}

// Stepper is the one Environment call Drive makes.
type Stepper interface {
	Step(ctx context.Context, handle int, actions Matrix) (StepResult, error)
}

// EnvStepError is an error of the environment's Step during a Drive or a
// SamplePolicy; it is the environment plugin's to answer for, not the
// learner's.
type EnvStepError struct {
	Step int    // 1-based index of the Step in the loop
	Err  error  // the Step's own error
	Loop string // the loop that stepped: "drive" or "sampling"
}

func (e *EnvStepError) Error() string {
	return fmt.Sprintf("step %d of the %s: %v", e.Step, e.Loop, e.Err)
}

func (e *EnvStepError) Unwrap() error { return e.Err }

// Drive runs the Step-then-Act cycle of core/train against env and algo:
// step req.Actions, pass the outcome to Act, step its actions, and so on,
// until an Act returns an update or req.MaxSteps Steps are made. It is
// what an algorithm plugin runs for a Drive call; anything implementing
// Driver in process can use it too.
func Drive(ctx context.Context, env Stepper, algo Algorithm, req DriveRequest) (DriveResult, error) {
	var res DriveResult
	if req.MaxSteps < 1 {
		return res, fmt.Errorf("drive: max steps %d, want at least 1", req.MaxSteps)
	}
	actions := req.Actions
	var out Outcome
	ov, _ := algo.(Overlapper)
	as, _ := env.(asyncStepper)
	unsettled := false
	if ov != nil && as != nil {
		defer func() {
			if unsettled {
				ov.Settle()
			}
		}()
	}
	for res.Steps < req.MaxSteps {
		if err := ctx.Err(); err != nil {
			return DriveResult{}, err
		}
		var sr StepResult
		var err error
		if ov != nil && as != nil {
			// The environment steps while the algorithm settles.
			if err = as.post(ctx, req.Handle, actions); err == nil {
				if unsettled {
					ov.Settle()
					unsettled = false
				}
				sr, err = as.collect(ctx)
			}
		} else {
			sr, err = env.Step(ctx, req.Handle, actions)
		}
		if err != nil {
			return DriveResult{}, &EnvStepError{Step: res.Steps + 1, Err: err, Loop: "drive"}
		}
		res.Steps++
		for _, ep := range sr.Episodes {
			res.Episodes = append(res.Episodes, DrivenEpisode{AfterStep: res.Steps, EpisodeStat: ep})
		}
		out = Outcome{Reward: sr.Reward, Terminated: sr.Terminated, Truncated: sr.Truncated, FinalObs: sr.FinalObs}
		var act ActResult
		if ov != nil && as != nil {
			act, err = ov.ActOverlapped(ctx, ActRequest{Obs: sr.Obs, Prev: &out})
			unsettled = true
		} else {
			act, err = algo.Act(ctx, ActRequest{Obs: sr.Obs, Prev: &out})
		}
		if err != nil {
			return DriveResult{}, fmt.Errorf("act after step %d of the drive: %w", res.Steps, err)
		}
		res.Last = act
		actions = act.Actions
		if act.Update != nil {
			break
		}
	}
	return res, nil
}

// ---- plugin side ----

// envStepPrefix starts the text of a Drive error that the environment
// caused, so the host names the right plugin.
const envStepPrefix = "environment: "

// directEnv is an algorithm plugin's link to the environment plugin's
// segment.
type directEnv struct {
	mu    sync.Mutex
	offer string
	pid   int
	conn  *shmConn
	pidfd int // -1 when pidfd_open is not available
}

// attach maps the segment offered (once per offer) after checking it
// names process pid, the environment plugin the host started.
func (d *directEnv) attach(offer string, pid int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil && d.offer == offer && d.pid == pid {
		return nil
	}
	d.closeLocked()
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		pidfd = -1
	}
	alive := func() bool { return processAlive(pid, pidfd) }
	c, err := attachShm(offer, pid, alive)
	if err != nil {
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
		return fmt.Errorf("environment segment %s: %v", offer, err)
	}
	d.offer, d.pid, d.conn, d.pidfd = offer, pid, c, pidfd
	return nil
}

func (d *directEnv) closeLocked() {
	if d.conn != nil {
		d.conn.close()
		d.conn = nil
	}
	if d.pidfd >= 0 {
		unix.Close(d.pidfd)
		d.pidfd = -1
	}
}

// processAlive reports whether process pid has not ended. A pidfd turns
// readable when its process exits, even while it waits, a zombie, for
// the host to reap it; without one, signal 0 tells at least whether the
// pid is gone.
func processAlive(pid, pidfd int) bool {
	if pidfd >= 0 {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err != nil || n == 0
	}
	return unix.Kill(pid, 0) == nil
}

// Step carries one Step to the environment plugin through its segment.
func (d *directEnv) Step(ctx context.Context, handle int, actions Matrix) (StepResult, error) {
	if err := d.post(ctx, handle, actions); err != nil {
		return StepResult{}, err
	}
	return d.collect(ctx)
}

// post hands one Step to the environment plugin without waiting for it;
// collect waits for its result. Between them the caller may work on
// anything that does not need the result (see Overlapper).
func (d *directEnv) post(ctx context.Context, handle int, actions Matrix) error {
	err := d.conn.post(ctx, fastDriveStep, func(slot []byte) (int, error) { return putStepRequest(slot, handle, actions) })
	if err == errTooLarge {
		err = fmt.Errorf("%d x %d actions do not fit the %d-byte shared-memory slot", actions.Rows, actions.Cols, shmSlot)
	}
	return err
}

func (d *directEnv) collect(ctx context.Context) (StepResult, error) {
	var r StepResult
	err := d.conn.collect(ctx, func(reply []byte) error {
		var err error
		r, err = readStepReply(reply)
		return err
	})
	if err == nil {
		// Checked here, in the algorithm plugin, as the host checks the
		// Steps it makes: the error then names the environment plugin.
		if verr := ValidateStepResult(r); verr != nil {
			return StepResult{}, fmt.Errorf("bad result: %w", verr)
		}
	}
	return r, err
}

// drive serves one Drive call for algo.
func (d *directEnv) drive(ctx context.Context, algo Algorithm, r *pb.DriveRequest) (*pb.DriveResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil, errors.New("drive: no environment attached (AttachEnv first)")
	}
	res, err := Drive(ctx, d, algo, DriveRequest{Handle: int(r.Handle), Actions: fromPBMatrix(r.Actions), MaxSteps: int(r.MaxSteps)})
	if se := (*EnvStepError)(nil); errors.As(err, &se) {
		return nil, errors.New(envStepPrefix + se.Error())
	}
	if err != nil {
		return nil, err
	}
	out := &pb.DriveResult{Steps: int32(res.Steps), Last: toPBActResult(res.Last)}
	for _, e := range res.Episodes {
		out.Episodes = append(out.Episodes, &pb.DrivenEpisode{AfterStep: int32(e.AfterStep),
			Episode: &pb.EpisodeStat{Env: int32(e.Env), Return: e.Return, Length: int32(e.Length)}})
	}
	return out, nil
}

// ---- host side ----

// Link puts the algorithm plugin algo in charge of stepping the
// environment plugin env (the direct mode). It returns the Algorithm to
// train with: a Driver when the mode is on, else algo's own interface.
// The mode is on by default when both plugins can do it (env serves
// shared memory, algo advertises DirectKey, and algo has mapped env's
// segment); NT_TRANSPORT=shm-direct insists on it and any other
// NT_TRANSPORT value leaves it off. Once on, both clients' Transport
// says TransportDirect.
func Link(ctx context.Context, env, algo *Client) (Algorithm, error) {
	a, err := algo.Algo()
	if err != nil {
		return nil, err
	}
	want := os.Getenv("NT_TRANSPORT")
	if want != "" && want != TransportDirect {
		return a, nil
	}
	why := func() string {
		switch {
		case env.Kind != KindEnv:
			return fmt.Sprintf("%s is not an environment plugin", filepath.Base(env.Path))
		case !algo.direct:
			return fmt.Sprintf("plugin %s cannot drive an environment (no %s capability)", filepath.Base(algo.Path), DirectKey)
		case env.transport != TransportShm || env.shmOffer == "":
			return fmt.Sprintf("plugin %s is not spoken to over shared memory (%s)", filepath.Base(env.Path), env.transport)
		}
		return ""
	}()
	var ac *algoClient
	if why == "" {
		ac, _ = algo.impl.(*algoClient)
		if ac == nil {
			why = fmt.Sprintf("plugin %s is not served over gRPC", filepath.Base(algo.Path))
		}
	}
	if why == "" {
		if _, err := ac.c.AttachEnv(ctx, &pb.EnvAttach{Offer: env.shmOffer, Pid: int32(env.Pid())}); err != nil {
			why = ac.err(ctx, "attach environment", err).Error()
		}
	}
	if why != "" {
		if want == TransportDirect {
			return nil, fmt.Errorf("NT_TRANSPORT=%s: %s", TransportDirect, why)
		}
		algo.log.Warn("direct mode unavailable, the host relays each step", "reason", why)
		return a, nil
	}
	env.transport, algo.transport = TransportDirect, TransportDirect
	return &linkedAlgo{Algorithm: a, c: ac, env: env, sample: algo.sample}, nil
}

// linkedAlgo is an algorithm plugin linked to an environment plugin.
type linkedAlgo struct {
	Algorithm // every call but Drive and Sample, as before
	c         *algoClient
	env       *Client
	sample    bool // the plugin serves Sample (SampleKey)
}

func (l *linkedAlgo) Drives(env Environment) bool {
	e, err := l.env.Env()
	return err == nil && e == env
}

func (l *linkedAlgo) Drive(ctx context.Context, req DriveRequest) (DriveResult, error) {
	r, err := l.c.c.Drive(ctx, &pb.DriveRequest{Handle: int32(req.Handle), Actions: toPBMatrix(req.Actions), MaxSteps: int32(req.MaxSteps)}, bigCalls...)
	if err != nil {
		return DriveResult{}, l.fail(ctx, "drive", err)
	}
	out := DriveResult{Steps: int(r.Steps), Last: ActResult{Actions: fromPBMatrix(r.GetLast().GetActions())}}
	if u := r.GetLast().GetUpdate(); u != nil {
		out.Last.Update = &UpdateStats{Update: int(u.Update), Step: int(u.Step), Stats: u.Stats}
	}
	for _, e := range r.Episodes {
		ep := e.GetEpisode()
		out.Episodes = append(out.Episodes, DrivenEpisode{AfterStep: int(e.AfterStep),
			EpisodeStat: EpisodeStat{Env: int(ep.GetEnv()), Return: ep.GetReturn(), Length: int(ep.GetLength())}})
	}
	return out, nil
}

// fail turns the error of a call op that steps the environment (Drive,
// Sample) into one line naming the plugin at fault: the environment
// plugin when the algorithm plugin says its Step failed, else the
// algorithm plugin; either says whether its process died.
func (l *linkedAlgo) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if st, ok := status.FromError(err); ok {
		if msg, ok := strings.CutPrefix(st.Message(), envStepPrefix); ok {
			return l.env.failure(errors.New(msg))
		}
	}
	return l.c.err(ctx, op, err)
}
