package sdk

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/neuraltopology/neuraltopology/sdk/pb"
)

// The fast paths carry the two calls made once per environment step,
// Environment.Step and Algorithm.Act, beside gRPC. gRPC costs ~0.1 ms of
// CPU per call on each side on a small VM; with one environment a training
// step makes two such calls, which costs more than the physics. Both fast
// paths carry the same protobuf messages as the gRPC service, so there is
// one wire format to keep right and the results cannot differ.
//
// There are two, and the host picks the best a plugin offers (see
// Client.Transport): shared memory (shm.go), where a call costs about as
// much as copying its message, and, here, a plain unix socket with one
// length-prefixed frame each way. A Go plugin offers both without doing
// anything: the server shims advertise them in Describe's capabilities
// (ShmKey, FastPathKey and FastTokenKey), and sdk.Open takes the
// advertisements out again. A plugin in another language simply does not,
// and its calls go over gRPC. NT_TRANSPORT=shm|socket|grpc in the host's
// environment asks for one transport (and fails if the plugin cannot give
// it); NT_FASTPATH=0 is the older spelling of NT_TRANSPORT=grpc. The
// direct mode (direct.go, NT_TRANSPORT=shm-direct) goes further and takes
// the host off the per-step path.

// FastPathKey is the capability under which a plugin names its fast-path
// socket.
const FastPathKey = "sdk.fastpath"

const (
	fastStep byte = 1
	fastAct  byte = 2
)

const maxFrame = MaxMessageBytes

// FastTokenKey is the capability holding the secret a connection to the
// fast-path socket must send first. Abstract sockets have no file
// permissions and their names are listed in /proc/net/unix, so anyone could
// connect; only the host learns the token, over the handshake's private
// gRPC channel.
const FastTokenKey = "sdk.fastpath.token"

const tokenLen = 32

// fastServer serves fast-path calls for one plugin implementation.
type fastServer struct {
	env   Environment
	algo  Algorithm
	addr  string
	token [tokenLen]byte
	// actBuf holds the actions of a fixed-layout Step (shmstep.go),
	// reused: the segment serves one call at a time.
	actBuf []float64
}

var (
	fastOnce sync.Once
	fastSrv  *fastServer
)

// fastAddr starts the plugin's fast-path listener once and returns its
// address and token, or "" if it cannot listen (the host then uses gRPC).
func fastAddr(impl Describer) (addr, token string) {
	fastOnce.Do(func() {
		// Abstract sockets leave no file behind when the plugin is killed;
		// the random part keeps the name from being guessed.
		var tok [16]byte
		if _, err := rand.Read(tok[:]); err != nil {
			return
		}
		srv := &fastServer{env: asEnv(impl), algo: asAlgo(impl)}
		if _, err := rand.Read(srv.token[:]); err != nil {
			return
		}
		srv.addr = fmt.Sprintf("@neuraltopology-%d-%x", os.Getpid(), tok)
		ln, err := net.Listen("unix", srv.addr)
		if err != nil {
			return
		}
		fastSrv = srv
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go fastSrv.serve(c)
			}
		}()
	})
	if fastSrv == nil {
		return "", ""
	}
	return fastSrv.addr, hex.EncodeToString(fastSrv.token[:])
}

// admit reads the token a client must send first and checks that the
// peer runs as this process's user; anything else is hung up on unheard.
func (s *fastServer) admit(c net.Conn) bool {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if err != nil || cred == nil || int(cred.Uid) != os.Getuid() {
		return false
	}
	var tok [tokenLen]byte
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, tok[:]); err != nil {
		return false
	}
	c.SetReadDeadline(time.Time{})
	return subtle.ConstantTimeCompare(tok[:], s.token[:]) == 1
}

func (s *fastServer) serve(c net.Conn) {
	defer c.Close()
	if !s.admit(c) {
		return
	}
	r := bufio.NewReaderSize(c, 1<<16)
	w := bufio.NewWriterSize(c, 1<<16)
	ctx := context.Background()
	for {
		method, body, err := readFrame(r)
		if err != nil {
			return
		}
		out, cerr := s.call(ctx, method, body)
		status := byte(0)
		if cerr != nil {
			status, out = 1, []byte(cerr.Error())
		}
		if err := writeFrame(w, status, out); err != nil {
			return
		}
	}
}

func (s *fastServer) call(ctx context.Context, method byte, body []byte) ([]byte, error) {
	switch {
	case method == fastStep && s.env != nil:
		var req pb.StepRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			return nil, err
		}
		res, err := s.env.Step(ctx, int(req.Handle), fromPBMatrix(req.Actions))
		if err != nil {
			return nil, err
		}
		return proto.Marshal(toPBStep(res))
	case method == fastAct && s.algo != nil:
		var req pb.ActRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			return nil, err
		}
		res, err := s.algo.Act(ctx, ActRequest{Obs: fromPBMatrix(req.Obs), Prev: fromPBOutcome(req.Prev)})
		if err != nil {
			return nil, err
		}
		return proto.Marshal(toPBActResult(res))
	}
	return nil, fmt.Errorf("fast path: method %d not served", method)
}

// readFrame reads one [tag byte][uint32 length][payload] frame.
func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("fast path: frame of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, err
	}
	return hdr[0], b, nil
}

func writeFrame(w *bufio.Writer, tag byte, b []byte) error {
	var hdr [5]byte
	hdr[0] = tag
	binary.LittleEndian.PutUint32(hdr[1:], uint32(len(b)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Flush()
}

// fastConn is the host's end of a plugin's fast path. Calls are
// serialised: the hot path is a strict request-reply loop anyway.
type fastConn struct {
	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

func dialFast(addr, token string) (*fastConn, error) {
	tok, err := hex.DecodeString(token)
	if err != nil || len(tok) != tokenLen {
		return nil, errors.New("no valid token offered")
	}
	c, err := net.Dial("unix", addr)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(tok); err != nil {
		c.Close()
		return nil, err
	}
	return &fastConn{conn: c, r: bufio.NewReaderSize(c, 1<<16), w: bufio.NewWriterSize(c, 1<<16)}, nil
}

// call sends one request and waits for its reply. A context that ends
// while waiting closes the connection, which unblocks the read.
func (f *fastConn) call(ctx context.Context, method byte, req, resp proto.Message) error {
	body, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn == nil {
		return errors.New("fast path closed")
	}
	// The callback runs on its own goroutine, possibly after broken has
	// retired f.conn: it must close the connection of this call, never
	// read the field (SIGINT during a rollout panicked on exactly that).
	conn := f.conn
	// A context without a deadline gets the step class's (deadline.go).
	bctx, cancel, d := withDeadline(ctx, CallStep)
	defer cancel()
	stop := context.AfterFunc(bctx, func() { conn.Close() })
	defer stop()
	if err := writeFrame(f.w, method, body); err != nil {
		return f.broken(ctx, bctx, d, err)
	}
	status, out, err := readFrame(f.r)
	if err != nil {
		return f.broken(ctx, bctx, d, err)
	}
	if status != 0 {
		return errors.New(string(out))
	}
	return proto.Unmarshal(out, resp)
}

// broken retires a connection that failed mid-call; the caller's error
// says why (the context, or the plugin process going away).
func (f *fastConn) broken(ctx, bctx context.Context, d time.Duration, err error) error {
	f.conn.Close()
	f.conn = nil
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if d > 0 && bctx.Err() != nil {
		return fmt.Errorf("DeadlineExceeded: %v", timeoutError(CallStep, d))
	}
	return fmt.Errorf("Unavailable: fast path: %w", err)
}

func (f *fastConn) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}
