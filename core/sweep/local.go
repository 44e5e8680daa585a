package sweep

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultParallel is how many trials fit on this machine at once: each
// trial trains on one core and computes snapshots on snapshot_jobs more.
func (m *Manifest) DefaultParallel() int {
	use := 1
	for _, t := range m.Trials {
		if cfg, err := m.Spec.Config(t); err == nil && cfg.TopologyAnalysisInterval > 0 {
			use = max(use, 1+cfg.SnapshotJobs)
		}
	}
	return max(1, runtime.NumCPU()/use)
}

// Todo lists the trials that are not done, in index order.
func (m *Manifest) Todo() []Trial {
	var out []Trial
	for _, st := range m.Status() {
		if st.State != StateDone {
			out = append(out, st.Trial)
		}
	}
	return out
}

// Local runs trials as child processes on this machine.
type Local struct {
	Parallel int
	// Command returns the child that runs trial t (`nthost sweep trial
	// SWEEP_DIR --index I`); Local sends its output to the trial's log.
	Command func(t Trial) *exec.Cmd
	// Progress receives the sweep's progress line; on a terminal it is
	// redrawn in place, elsewhere a line is printed when a trial ends.
	Progress io.Writer
	TTY      bool
}

// Outcome is what a pass of an executor left behind.
type Outcome struct {
	Done        []TrialStatus
	Failed      []TrialStatus // with their run directory and log
	Interrupted bool          // stopped by ctx; a later run continues
}

// RunLocal runs todo with at most Parallel children at once. A failing
// trial is reported and the others go on; when ctx ends, children get
// SIGINT, stop at their next step and keep their last checkpoint.
func (m *Manifest) RunLocal(ctx context.Context, todo []Trial, opt Local) Outcome {
	if opt.Parallel < 1 {
		opt.Parallel = m.DefaultParallel()
	}
	p := newProgress(m, todo, opt.Progress, opt.TTY)
	slots := make(chan struct{}, opt.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var out Outcome
	stop := make(chan struct{})
	go p.tick(stop)
	for _, t := range todo {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		p.start(t)
		go func(t Trial) {
			defer wg.Done()
			defer func() { <-slots }()
			runErr := m.runChild(ctx, t, opt.Command(t))
			if runErr != nil {
				runErr = m.explainExit(t, runErr)
			}
			st := m.TrialStatus(t)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case st.State == StateDone:
				out.Done = append(out.Done, st)
			case ctx.Err() != nil:
				// Interrupted, not failed: the checkpoint stands.
			default:
				if st.Error == "" && runErr != nil {
					st.Error = runErr.Error()
				}
				st.State = StateFailed
				out.Failed = append(out.Failed, st)
				p.say(fmt.Sprintf("trial %d %s failed: %s (run dir %s, log %s)", t.Index, t.Name, st.Error, st.Dir, m.LogPath(t)))
			}
			p.end(t, st.State == StateDone)
		}(t)
	}
	wg.Wait()
	close(stop)
	p.draw(true)
	out.Interrupted = ctx.Err() != nil
	sort.Slice(out.Failed, func(i, j int) bool { return out.Failed[i].Index < out.Failed[j].Index })
	return out
}

// runChild starts cmd in its own process group with its output appended
// to the trial's log, and asks it to stop (SIGINT, then SIGKILL after a
// minute) when ctx ends.
func (m *Manifest) runChild(ctx context.Context, t Trial, cmd *exec.Cmd) error {
	log, err := os.OpenFile(m.LogPath(t), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "=== %s: %s\n", time.Now().UTC().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	cmd.Stdout, cmd.Stderr = log, log
	// Pdeathsig: a trial whose sweep was killed (kill -9) stops with a
	// checkpoint instead of running on unwatched; the next pass resumes it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(time.Minute):
				cmd.Process.Kill()
			}
		case <-done:
		}
	}()
	err = cmd.Wait()
	close(done)
	return err
}

// explainExit turns a child's bare "exit status 1" into the last line it
// wrote to its log (the one-line error every nthost command ends with),
// so the sweep's own output names the cause.
func (m *Manifest) explainExit(t Trial, err error) error {
	f, ferr := os.Open(m.LogPath(t))
	if ferr != nil {
		return err
	}
	defer f.Close()
	const tail = 4096
	if st, serr := f.Stat(); serr == nil && st.Size() > tail {
		f.Seek(st.Size()-tail, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, tail))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" || strings.HasPrefix(last, "===") {
		return err
	}
	return fmt.Errorf("%v: %s", err, strings.TrimPrefix(last, "nthost: "))
}

// progress is the sweep's one progress line.
type progress struct {
	m     *Manifest
	w     io.Writer
	tty   bool
	t0    time.Time
	total int // trials in this pass
	f0    float64

	mu       sync.Mutex
	running  map[int]Trial
	done     int
	failed   int
	lastLine string
}

func newProgress(m *Manifest, todo []Trial, w io.Writer, tty bool) *progress {
	p := &progress{m: m, w: w, tty: tty, t0: time.Now(), total: len(todo), running: map[int]Trial{}}
	for _, t := range todo {
		p.f0 += m.fraction(t)
	}
	return p
}

// fraction is how much of a trial is done: its last checkpoint's step
// over its total.
func (m *Manifest) fraction(t Trial) float64 {
	st := m.TrialStatus(t)
	switch {
	case st.State == StateDone:
		return 1
	case st.Total > 0:
		return min(1, float64(st.Step)/float64(st.Total))
	}
	return 0
}

func (p *progress) start(t Trial) {
	p.mu.Lock()
	p.running[t.Index] = t
	p.mu.Unlock()
}

func (p *progress) end(t Trial, ok bool) {
	p.mu.Lock()
	delete(p.running, t.Index)
	if ok {
		p.done++
	} else {
		p.failed++
	}
	p.mu.Unlock()
	if !p.tty {
		p.draw(false)
	}
}

func (p *progress) say(msg string) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, msg)
}

func (p *progress) tick(stop <-chan struct{}) {
	if !p.tty {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.draw(false)
		}
	}
}

// draw prints "sweep: 3/8 done, 2 running, 1 failed, 52%, 4m10s elapsed,
// ETA 3m50s". The ETA extrapolates the fraction of steps done since this
// pass began.
func (p *progress) draw(final bool) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := float64(p.done)
	for _, t := range p.running {
		f += p.m.fraction(t)
	}
	// Trials already partly done before this pass count from there.
	frac := 1.0
	if p.total > 0 {
		frac = f / float64(p.total)
	}
	el := time.Since(p.t0).Round(time.Second)
	eta := "?"
	if gained := f - p.f0; gained > 0.01 {
		rest := time.Duration(float64(time.Since(p.t0)) * (float64(p.total) - f) / gained)
		eta = rest.Round(time.Second).String()
	}
	line := fmt.Sprintf("sweep: %d/%d done, %d running, %d failed, %.0f%%, %s elapsed, ETA %s",
		p.done, p.total, len(p.running), p.failed, 100*frac, el, eta)
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K"+line)
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	if line != p.lastLine {
		fmt.Fprintln(p.w, line)
		p.lastLine = line
	}
}
