package sdk

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/neuraltopology/neuraltopology/sdk/pb"
)

// The fast path carries the two calls made once per environment step,
// Environment.Step and Algorithm.Act, over a plain socket beside gRPC.
// gRPC costs ~0.1 ms of CPU per call on each side on a small VM; with one
// environment a training step makes two such calls, which costs more than
// the physics. Here a call is one length-prefixed frame each way holding
// the same protobuf messages as the gRPC service, so there is one wire
// format to keep right.
//
// A Go plugin offers it without doing anything: the server shims advertise
// an abstract unix socket in Describe's capabilities under FastPathKey. A
// plugin in another language simply does not, and its calls go over gRPC.
// Setting NT_FASTPATH=0 in the host's environment turns it off.

// FastPathKey is the capability under which a plugin names its fast-path
// socket.
const FastPathKey = "sdk.fastpath"

const (
	fastStep byte = 1
	fastAct  byte = 2
)

const maxFrame = MaxMessageBytes

// fastServer serves fast-path calls for one plugin implementation.
type fastServer struct {
	env  Environment
	algo Algorithm
	addr string
}

var (
	fastOnce sync.Once
	fastSrv  *fastServer
)

// fastAddr starts the plugin's fast-path listener once and returns its
// address, or "" if it cannot listen (the host then uses gRPC).
func fastAddr(impl Describer) string {
	fastOnce.Do(func() {
		// Abstract sockets leave no file behind when the plugin is killed;
		// the random part keeps the name from being guessed.
		var tok [16]byte
		if _, err := rand.Read(tok[:]); err != nil {
			return
		}
		addr := fmt.Sprintf("@neuraltopology-%d-%x", os.Getpid(), tok)
		ln, err := net.Listen("unix", addr)
		if err != nil {
			return
		}
		fastSrv = &fastServer{env: asEnv(impl), algo: asAlgo(impl), addr: addr}
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
		return ""
	}
	return fastSrv.addr
}

func (s *fastServer) serve(c net.Conn) {
	defer c.Close()
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

func dialFast(addr string) (*fastConn, error) {
	c, err := net.Dial("unix", addr)
	if err != nil {
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
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := writeFrame(f.w, method, body); err != nil {
		return f.broken(ctx, err)
	}
	status, out, err := readFrame(f.r)
	if err != nil {
		return f.broken(ctx, err)
	}
	if status != 0 {
		return errors.New(string(out))
	}
	return proto.Unmarshal(out, resp)
}

// broken retires a connection that failed mid-call; the caller's error
// says why (the context, or the plugin process going away).
func (f *fastConn) broken(ctx context.Context, err error) error {
	f.conn.Close()
	f.conn = nil
	if ctx.Err() != nil {
		return ctx.Err()
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
