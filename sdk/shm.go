package sdk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
)

// The shared-memory transport carries Step and Act through one segment
// mapped by the host and the plugin, with no system call on the hot path
// when both sides are awake: a call is a protobuf message (the same bytes
// gRPC would carry, so results cannot differ) copied into the request slot,
// a state word flipped, and the reply read from the reply slot. (The
// direct mode's Step uses a fixed binary layout instead, shmstep.go.)
//
// The segment is a memfd the plugin creates. The host opens it as
// /proc/<plugin pid>/fd/<n>: the kernel lets only processes that may
// inspect the plugin (its own user, or root) open that path, so no other
// user can reach the channel, and there is no file to clean up: the memory
// goes when both processes have let go of it, however they end.
//
// Waiting spins briefly, then sleeps on a futex on the state word. Spinning
// alone would be a trap on a small machine: host and plugins spinning on
// two cores starve whichever process has real work.

// ShmKey is the capability under which a plugin offers its shared-memory
// segment, as "<pid>:<fd>:<slot bytes>".
const ShmKey = "sdk.shm"

const (
	shmIdle    uint32 = 0 // no call in flight
	shmRequest uint32 = 1 // the host has written a request
	shmReply   uint32 = 2 // the plugin has written the reply
)

// Layout: a header page of separate cache lines, then the request slot and
// the reply slot, each shmSlot bytes. Pages are only backed when touched.
const (
	offState      = 0   // uint32 futex word: shmIdle, shmRequest or shmReply
	offHostWait   = 64  // uint32: 1 while the host sleeps on the futex
	offPluginWait = 128 // uint32: 1 while the plugin sleeps on the futex
	offMethod     = 192 // uint32: fastStep, fastAct or fastDriveStep
	offReqLen     = 196 // uint32
	offStatus     = 256 // uint32: 0 ok, 1 the reply slot holds an error text
	offReplyLen   = 260 // uint32
	shmHeader     = 4096
	shmSlot       = 4 << 20
	shmSize       = shmHeader + 2*shmSlot
)

// Spin budgets before sleeping, at most. The host waits for a reply that
// usually comes within tens of microseconds (one physics step, one forward
// pass); the plugin waits for a request that is usually as close, but may
// be an update (~0.1 s) away.
var (
	hostSpin   = envDuration("NT_SHM_HOST_SPIN", 200*time.Microsecond)
	pluginSpin = envDuration("NT_SHM_PLUGIN_SPIN", 200*time.Microsecond)
)

// spinner adapts one side's spin budget to how long its waits take. A
// wait the spin covered grows the budget by an eighth of the maximum, one
// just beyond it by a sixty-fourth (a slow probe back up), and one beyond
// the maximum halves it. On a busy machine the other side is often
// descheduled, waits run to milliseconds and spinning would only steal its
// core: the budget then falls to nothing by itself, and waits are futex
// sleeps, which the scheduler favours on wake-up. A quiet machine keeps
// the full budget, since a step or an action takes well under it.
//
// A spin that finds itself descheduled (contended) tells the more direct
// story: another process wants this core. The budget then drops to
// nothing and stays there for holdWaits waits before the probe resumes,
// so that homology beside training (on a 2-core machine, on the core a
// waiting side would spin on) keeps the core but for short probes.
type spinner struct {
	max, cur time.Duration
	hold     int // waits left before learn may grow the budget again
}

// holdWaits is how many waits sleep outright after a contended spin:
// ~25 ms of training with one environment; the probe back to the full
// budget then takes 64 short waits.
const holdWaits = 256

func newSpinner(max time.Duration) *spinner { return &spinner{max: max, cur: max} }

func (s *spinner) learn(waited time.Duration) {
	if s.hold > 0 {
		s.hold--
		return
	}
	switch {
	case waited <= s.cur:
		s.cur = min(s.max, s.cur+s.max/8)
	case waited <= s.max:
		s.cur = min(s.max, s.cur+s.max/64)
	default:
		s.cur /= 2
	}
}

// preemptedGap is how long a spin may lose between two looks at the
// clock before it counts as descheduled. 30 us also catches the blips an
// idle machine puts into spins (interrupts, sysmon and timer wake-ups),
// so on an idle machine most hand-offs sleep; but a competitor for the
// core (homology beside training, another job) deschedules a spin in
// gaps that are not longer (under 150 us on this project's VM), only
// more frequent, and neither a longer gap nor "two gaps within 32 waits"
// told them apart: at 150 us or 500 us training alone ran ~10% faster
// and with half the system time, but beside one busy thread 30-40%
// slower, and the main job's wall time did not change
// (scripts/bench-transport.sh, scripts/bench-mainjob-ab.sh). NT_SHM_PREEMPT_GAP sets it, e.g.
// 500us on a machine that runs nothing else.
var preemptedGap = envDuration("NT_SHM_PREEMPT_GAP", 30*time.Microsecond)

// contended drops the budget to nothing after the spin was descheduled:
// the next holdWaits waits sleep, then the budget grows back by max/64
// per wait the full budget would have covered (learn), a probe whether
// spinning pays again, as it does once the competing work is gone.
func (s *spinner) contended() { s.cur, s.hold = 0, holdWaits }

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil && d >= 0 {
		return d
	}
	return def
}

// shmSeg is one mapped segment.
type shmSeg struct {
	mem []byte
}

func (s *shmSeg) word(off int) *uint32 { return (*uint32)(unsafe.Pointer(&s.mem[off])) }
func (s *shmSeg) req() []byte          { return s.mem[shmHeader : shmHeader+shmSlot] }
func (s *shmSeg) reply() []byte        { return s.mem[shmHeader+shmSlot : shmHeader+2*shmSlot] }

// wake flips the state word and wakes the other side if it sleeps.
func (s *shmSeg) set(state uint32, otherWait int) {
	atomic.StoreUint32(s.word(offState), state)
	if atomic.LoadUint32(s.word(otherWait)) != 0 {
		futexWake(s.word(offState))
	}
}

// await returns when the state word reads want. It spins for the
// spinner's budget, then sleeps on the futex in rounds of at most 20 ms,
// calling check between rounds; an error from check ends the wait.
func (s *shmSeg) await(want uint32, sp *spinner, myWait int, check func() error) error {
	st := s.word(offState)
	if atomic.LoadUint32(st) == want {
		return nil
	}
	start := time.Now()
	defer func() { sp.learn(time.Since(start)) }()
	var last time.Duration
	for i := 1; ; i++ {
		if atomic.LoadUint32(st) == want {
			return nil
		}
		if i%64 == 0 {
			now := time.Since(start)
			if now-last > preemptedGap {
				// 64 loads take well under a microsecond: a gap this long
				// means the thread was descheduled, so something else
				// wants this core (homology beside training, another
				// job). Spinning now only takes the core from it.
				sp.contended()
				break
			}
			if now >= sp.cur {
				break
			}
			last = now
		}
	}
	// Announce the sleep before the last look at the state: the other side
	// sets the state before it reads this flag, so one of us sees the other.
	w := s.word(myWait)
	atomic.StoreUint32(w, 1)
	defer atomic.StoreUint32(w, 0)
	sleep := time.Now()
	for round := 0; ; round++ {
		v := atomic.LoadUint32(st)
		if v == want {
			return nil
		}
		// Not before the first round: most sleeps end within it, and
		// check costs a system call (the liveness poll) per hand-off,
		// which was half the system calls of a Drive on this VM. A dead
		// peer or an ended context is still seen within a round.
		if round > 0 {
			if err := check(); err != nil {
				return err
			}
		}
		if time.Since(sleep) < rawSleep {
			futexWaitRaw(st, v, rawRound)
		} else {
			futexWait(st, v, 20*time.Millisecond)
		}
	}
}

// The first rawSleep of a sleep goes by in rounds of rawRound without
// telling the Go scheduler. A blocking system call made the usual way
// (entersyscall) lets sysmon take the goroutine's P away after 20 us and
// hand it to another thread, and coming back means getting a P again: on
// this project's 2-core VM, where a system call is dear, that runtime
// traffic made about a fifth of all futex calls of a training run through
// shared memory, and kept sysmon polling every 20 us (nanosleep). Most
// waits for a step or an action end within the raw window. Holding the P
// while asleep is bounded: the round is short enough that a garbage
// collection's stop-the-world waits at most rawRound for this thread,
// and a longer wait (an update, a snapshot) falls back to the usual call,
// which frees the P for the process's other goroutines.
const (
	rawSleep = 5 * time.Millisecond
	rawRound = time.Millisecond
)

// Futex operations from linux/futex.h.
const (
	futexWaitOp = 0
	futexWakeOp = 1
)

// futexWaitRaw is futexWait without entersyscall: the thread keeps its P
// while the kernel holds it (see rawSleep).
func futexWaitRaw(addr *uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitOp, uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

func futexWait(addr *uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	// Not FUTEX_PRIVATE: the word is shared between processes.
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitOp, uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// futexWake never blocks, so it skips the scheduler's system-call
// bookkeeping (RawSyscall6).
func futexWake(addr *uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakeOp, 1, 0, 0, 0)
}

// ---- plugin side ----

var (
	shmOnce  sync.Once
	shmOffer string
)

// shmAddr creates the plugin's segment and its serving goroutine once and
// returns the offer for Describe, or "" if the segment cannot be made
// (the host then uses the socket or gRPC).
func shmAddr(impl Describer) string {
	shmOnce.Do(func() {
		srv := &fastServer{env: asEnv(impl), algo: asAlgo(impl)}
		if srv.env == nil && srv.algo == nil {
			return
		}
		fd, err := unix.MemfdCreate("neuraltopology-shm", unix.MFD_CLOEXEC)
		if err != nil {
			return
		}
		if err := unix.Ftruncate(fd, shmSize); err != nil {
			unix.Close(fd)
			return
		}
		mem, err := unix.Mmap(fd, 0, shmSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			unix.Close(fd)
			return
		}
		// fd stays open: it is how the host finds the segment.
		seg := &shmSeg{mem: mem}
		go serveShm(seg, srv)
		shmOffer = fmt.Sprintf("%d:%d:%d", os.Getpid(), fd, shmSlot)
	})
	return shmOffer
}

// serveShm answers calls from the segment for the life of the process.
func serveShm(s *shmSeg, srv *fastServer) {
	ctx := context.Background()
	never := func() error { return nil }
	sp := newSpinner(pluginSpin)
	for {
		s.await(shmRequest, sp, offPluginWait, never)
		method := byte(atomic.LoadUint32(s.word(offMethod)))
		n := atomic.LoadUint32(s.word(offReqLen))
		var out []byte
		var err error
		if method == fastDriveStep {
			// Written in place: out is the reply slot's prefix.
			var k int
			k, err = srv.serveDriveStep(ctx, s.req()[:n], s.reply())
			out = s.reply()[:k]
		} else {
			out, err = srv.call(ctx, method, s.req()[:n])
			if err == nil && len(out) > shmSlot {
				err = fmt.Errorf("shared memory: reply of %d bytes exceeds the %d-byte slot", len(out), shmSlot)
			}
		}
		status := uint32(0)
		if err != nil {
			status, out = 1, []byte(err.Error())
			if len(out) > shmSlot {
				out = out[:shmSlot]
			}
		}
		if method != fastDriveStep || status != 0 {
			copy(s.reply(), out)
		}
		atomic.StoreUint32(s.word(offStatus), status)
		atomic.StoreUint32(s.word(offReplyLen), uint32(len(out)))
		s.set(shmReply, offHostWait)
	}
}

// ---- host side ----

// shmConn is the host's end of a plugin's segment. Calls are serialised.
type shmConn struct {
	mu      sync.Mutex
	seg     *shmSeg
	alive   func() bool // false once the plugin process has ended
	spin    *spinner
	pending bool // a call was abandoned (its context ended) before the reply
	closed  bool
	closing atomic.Bool // set by close without the lock, to end a wait
}

// errTooLarge sends a call over the socket or gRPC instead.
var errTooLarge = errors.New("shared memory: request larger than the slot")

// attachShm maps the segment a plugin offered, after checking the offer
// names the process the host started (pid).
func attachShm(offer string, pid int, alive func() bool) (*shmConn, error) {
	parts := strings.Split(offer, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("malformed offer %q", offer)
	}
	opid, err1 := strconv.Atoi(parts[0])
	fd, err2 := strconv.Atoi(parts[1])
	slot, err3 := strconv.Atoi(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("malformed offer %q", offer)
	}
	if opid != pid {
		return nil, fmt.Errorf("offer names process %d, the plugin is process %d", opid, pid)
	}
	if slot != shmSlot {
		return nil, fmt.Errorf("slot of %d bytes, this host uses %d: rebuild the plugin against this sdk", slot, shmSlot)
	}
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/%d", pid, fd), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != shmSize {
		return nil, fmt.Errorf("segment is not %d bytes", shmSize)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, shmSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &shmConn{seg: &shmSeg{mem: mem}, alive: alive, spin: newSpinner(hostSpin)}, nil
}

func (c *shmConn) call(ctx context.Context, method byte, req, resp proto.Message) error {
	if proto.Size(req) > shmSlot {
		return errTooLarge
	}
	put := func(slot []byte) (int, error) {
		b, err := proto.MarshalOptions{}.MarshalAppend(slot[:0], req)
		if err != nil {
			return 0, err
		}
		if len(b) > shmSlot || (len(b) > 0 && &b[0] != &slot[0]) {
			return 0, errTooLarge
		}
		return len(b), nil
	}
	return c.callRaw(ctx, method, put, func(out []byte) error { return proto.Unmarshal(out, resp) })
}

// callRaw makes one call whose request put writes into the request slot
// (returning its length) and whose reply get reads from the reply slot;
// the slot is only valid during get. Protobuf calls and the direct
// mode's fixed-layout Step (shmstep.go) share it.
func (c *shmConn) callRaw(ctx context.Context, method byte, put func(req []byte) (int, error), get func(reply []byte) error) error {
	if err := c.post(ctx, method, put); err != nil {
		return err
	}
	return c.collect(ctx, get)
}

// post writes a request and hands it to the plugin without waiting for
// the reply, so the caller can work while the plugin does; collect
// waits for the reply. The lock is held from post to collect: between
// them, the conn belongs to the caller that posted.
func (c *shmConn) post(ctx context.Context, method byte, put func(req []byte) (int, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.New("shared memory closed")
	}
	s := c.seg
	if c.pending {
		// The reply to an abandoned call must land before the slot is reused.
		if err := s.await(shmReply, &spinner{}, offHostWait, c.check(ctx)); err != nil {
			c.mu.Unlock()
			return err
		}
		c.pending = false
	}
	n, err := put(s.req())
	if err != nil {
		c.mu.Unlock()
		return err
	}
	atomic.StoreUint32(s.word(offMethod), uint32(method))
	atomic.StoreUint32(s.word(offReqLen), uint32(n))
	s.set(shmRequest, offPluginWait)
	return nil
}

// collect waits for the reply to the request post made, passes it to get
// and releases the conn.
func (c *shmConn) collect(ctx context.Context, get func(reply []byte) error) error {
	defer c.mu.Unlock()
	s := c.seg
	if err := s.await(shmReply, c.spin, offHostWait, c.check(ctx)); err != nil {
		c.pending = true
		return err
	}
	n := atomic.LoadUint32(s.word(offReplyLen))
	status := atomic.LoadUint32(s.word(offStatus))
	out := s.reply()[:n]
	var err error
	if status != 0 {
		err = errors.New(string(out))
	} else {
		err = get(out)
	}
	atomic.StoreUint32(s.word(offState), shmIdle)
	return err
}

// check is what a sleeping wait asks between rounds: whether the call's
// context ended, the conn is closing or the plugin process ended.
func (c *shmConn) check(ctx context.Context) func() error {
	// A context without a deadline gets the step class's (deadline.go),
	// counted from the first sleeping round: the hand-offs that end
	// while spinning never look at the clock.
	var since time.Time
	_, bounded := ctx.Deadline()
	return func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !bounded {
			if since.IsZero() {
				since = time.Now()
			} else if ts, _ := CallTimeouts(); ts[CallStep] > 0 && time.Since(since) > ts[CallStep] {
				return fmt.Errorf("DeadlineExceeded: %v", timeoutError(CallStep, ts[CallStep]))
			}
		}
		if c.closing.Load() {
			return errors.New("shared memory closed")
		}
		if !c.alive() {
			return errors.New("Unavailable: shared memory: the plugin process ended")
		}
		return nil
	}
}

func (c *shmConn) close() {
	c.closing.Store(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		unix.Munmap(c.seg.mem)
	}
}
