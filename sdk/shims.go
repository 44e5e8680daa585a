package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/neuraltopology/neuraltopology/sdk/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// The gRPC shims: for each kind a go-plugin Plugin, a server that adapts
// the Go interface to the generated service, and a client that adapts the
// service back to the Go interface.

// errWrap turns a gRPC error into a plain one-line error; the host sets
// onFail to name the plugin and say whether its process died.
type errWrap struct {
	onFail func(error) error
}

func (w *errWrap) err(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	st, ok := status.FromError(err)
	if d, has := ctx.Deadline(); ok && has && st.Code() == codes.DeadlineExceeded && !time.Now().Before(d.Add(-50*time.Millisecond)) {
		// The plugin's side (told the deadline in the call) can see it
		// pass a moment before this side's timer fires.
		return context.DeadlineExceeded
	}
	if ok && st.Code() == codes.Unknown {
		err = errors.New(Printable(st.Message()))
	} else if ok {
		err = fmt.Errorf("%s: %s", st.Code(), Printable(st.Message()))
	}
	err = fmt.Errorf("%s: %w", op, err)
	if w.onFail != nil {
		err = w.onFail(err)
	}
	return err
}

var bigCalls = []grpc.CallOption{grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)}

// ---- Environment ----

type envPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Environment
}

func (p *envPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.impl != nil {
		pb.RegisterEnvironmentServer(s, &envServer{impl: p.impl})
	}
	return nil
}

func (p *envPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &envClient{c: pb.NewEnvironmentClient(c)}, nil
}

type envServer struct {
	pb.UnimplementedEnvironmentServer
	impl Environment
}

func (s *envServer) Describe(ctx context.Context, _ *pb.Empty) (*pb.Info, error) {
	i, err := s.impl.Describe(ctx)
	return withFastPath(toPBInfo(i), s.impl), err
}

// withFastPath advertises the plugin's fast paths (see fastpath.go and
// shm.go).
func withFastPath(i *pb.Info, impl Describer) *pb.Info {
	addr, token := fastAddr(impl)
	shm := shmAddr(impl)
	caps := make(map[string]string, len(i.Capabilities)+3)
	for k, v := range i.Capabilities {
		caps[k] = v
	}
	if addr != "" {
		caps[FastPathKey] = addr
		caps[FastTokenKey] = token
	}
	if shm != "" {
		caps[ShmKey] = shm
	}
	if shm != "" && asAlgo(impl) != nil {
		caps[DirectKey] = "1"
		caps[SampleKey] = "1"
	}
	i.Capabilities = caps
	return i
}

// stepCaller is a fast path for Step and Act: the shared-memory segment
// or the socket.
type stepCaller interface {
	call(ctx context.Context, method byte, req, resp proto.Message) error
}

func (s *envServer) Open(ctx context.Context, r *pb.EnvConfig) (*pb.OpenResponse, error) {
	h, spec, err := s.impl.Open(ctx, EnvConfig{TaskID: r.TaskId, NumEnvs: int(r.NumEnvs), Seed: r.Seed, Options: r.Options})
	if err != nil {
		return nil, err
	}
	return &pb.OpenResponse{Handle: int32(h), Spec: toPBEnvSpec(spec)}, nil
}

func (s *envServer) Reset(ctx context.Context, r *pb.ResetRequest) (*pb.Matrix, error) {
	m, err := s.impl.Reset(ctx, int(r.Handle), r.Seed)
	if err != nil {
		return nil, err
	}
	return toPBMatrix(m), nil
}

func (s *envServer) Step(ctx context.Context, r *pb.StepRequest) (*pb.StepResult, error) {
	res, err := s.impl.Step(ctx, int(r.Handle), fromPBMatrix(r.Actions))
	if err != nil {
		return nil, err
	}
	return toPBStep(res), nil
}

func (s *envServer) Render(ctx context.Context, r *pb.RenderRequest) (*pb.Frame, error) {
	f, err := s.impl.Render(ctx, int(r.Handle), int(r.Index), int(r.Width), int(r.Height))
	if err != nil {
		return nil, err
	}
	return &pb.Frame{Width: int32(f.Width), Height: int32(f.Height), Pix: f.Pix}, nil
}

func (s *envServer) Close(ctx context.Context, r *pb.Handle) (*pb.Empty, error) {
	return &pb.Empty{}, s.impl.Close(ctx, int(r.Handle))
}

func (s *envServer) SaveState(ctx context.Context, r *pb.EnvStateRequest) (*pb.EnvState, error) {
	st, ok := s.impl.(EnvStater)
	if !ok {
		return nil, status.Error(codes.Unimplemented, ErrStateUnsupported.Error())
	}
	b, err := st.SaveState(ctx, int(r.Handle))
	if err != nil {
		return nil, err
	}
	return &pb.EnvState{Data: b}, nil
}

func (s *envServer) LoadState(ctx context.Context, r *pb.EnvStateLoadRequest) (*pb.Matrix, error) {
	st, ok := s.impl.(EnvStater)
	if !ok {
		return nil, status.Error(codes.Unimplemented, ErrStateUnsupported.Error())
	}
	m, err := st.LoadState(ctx, int(r.Handle), r.GetState().GetData())
	if err != nil {
		return nil, err
	}
	return toPBMatrix(m), nil
}

type envClient struct {
	errWrap
	c    pb.EnvironmentClient
	fast stepCaller // nil: Step goes over gRPC
}

func (c *envClient) Describe(ctx context.Context) (Info, error) {
	i, err := c.c.Describe(ctx, &pb.Empty{})
	if err != nil {
		return Info{}, c.err(ctx, "describe", err)
	}
	return fromPBInfo(i), nil
}

func (c *envClient) Open(ctx context.Context, cfg EnvConfig) (int, EnvSpec, error) {
	r, err := c.c.Open(ctx, &pb.EnvConfig{TaskId: cfg.TaskID, NumEnvs: int32(cfg.NumEnvs), Seed: cfg.Seed, Options: cfg.Options})
	if err != nil {
		return 0, EnvSpec{}, c.err(ctx, "open", err)
	}
	return int(r.Handle), fromPBEnvSpec(r.Spec), nil
}

func (c *envClient) Reset(ctx context.Context, handle int, seed int64) (Matrix, error) {
	m, err := c.c.Reset(ctx, &pb.ResetRequest{Handle: int32(handle), Seed: seed}, bigCalls...)
	if err != nil {
		return Matrix{}, c.err(ctx, "reset", err)
	}
	obs := fromPBMatrix(m)
	if err := ValidateObservations(obs); err != nil {
		return Matrix{}, c.err(ctx, "reset", fmt.Errorf("bad result: %w", err))
	}
	return obs, nil
}

func (c *envClient) Step(ctx context.Context, handle int, actions Matrix) (StepResult, error) {
	req := &pb.StepRequest{Handle: int32(handle), Actions: toPBMatrix(actions)}
	if c.fast != nil {
		var r pb.StepResult
		err := c.fast.call(ctx, fastStep, req, &r)
		if err == nil {
			return c.checkStep(ctx, fromPBStep(&r))
		}
		if err != errTooLarge {
			return StepResult{}, c.err(ctx, "step", err)
		}
	}
	r, err := c.c.Step(ctx, req, bigCalls...)
	if err != nil {
		return StepResult{}, c.err(ctx, "step", err)
	}
	return c.checkStep(ctx, fromPBStep(r))
}

// checkStep refuses a Step result that breaks the contract (a NaN
// observation, rows and rewards that disagree), naming the environment
// plugin, before any learner sees it.
func (c *envClient) checkStep(ctx context.Context, r StepResult) (StepResult, error) {
	if err := ValidateStepResult(r); err != nil {
		return StepResult{}, c.err(ctx, "step", fmt.Errorf("bad result: %w", err))
	}
	return r, nil
}

func (c *envClient) Render(ctx context.Context, handle, i, w, h int) (Frame, error) {
	f, err := c.c.Render(ctx, &pb.RenderRequest{Handle: int32(handle), Index: int32(i), Width: int32(w), Height: int32(h)}, bigCalls...)
	if err != nil {
		return Frame{}, c.err(ctx, "render", err)
	}
	return Frame{Width: int(f.Width), Height: int(f.Height), Pix: f.Pix}, nil
}

func (c *envClient) Close(ctx context.Context, handle int) error {
	_, err := c.c.Close(ctx, &pb.Handle{Handle: int32(handle)})
	return c.err(ctx, "close", err)
}

func (c *envClient) SaveState(ctx context.Context, handle int) ([]byte, error) {
	r, err := c.c.SaveState(ctx, &pb.EnvStateRequest{Handle: int32(handle)}, bigCalls...)
	if status.Code(err) == codes.Unimplemented {
		return nil, fmt.Errorf("save state: %w", ErrStateUnsupported)
	}
	if err != nil {
		return nil, c.err(ctx, "save state", err)
	}
	return r.Data, nil
}

func (c *envClient) LoadState(ctx context.Context, handle int, state []byte) (Matrix, error) {
	m, err := c.c.LoadState(ctx, &pb.EnvStateLoadRequest{Handle: int32(handle), State: &pb.EnvState{Data: state}}, bigCalls...)
	if status.Code(err) == codes.Unimplemented {
		return Matrix{}, fmt.Errorf("load state: %w", ErrStateUnsupported)
	}
	if err != nil {
		return Matrix{}, c.err(ctx, "load state", err)
	}
	obs := fromPBMatrix(m)
	if err := ValidateObservations(obs); err != nil {
		return Matrix{}, c.err(ctx, "load state", fmt.Errorf("bad result: %w", err))
	}
	return obs, nil
}

// ---- Algorithm ----

type algoPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Algorithm
}

func (p *algoPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.impl != nil {
		pb.RegisterAlgorithmServer(s, &algoServer{impl: p.impl, env: &directEnv{pidfd: -1}})
	}
	return nil
}

func (p *algoPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &algoClient{c: pb.NewAlgorithmClient(c)}, nil
}

type algoServer struct {
	pb.UnimplementedAlgorithmServer
	impl Algorithm
	env  *directEnv // the environment plugin it drives (direct.go)
}

func (s *algoServer) Describe(ctx context.Context, _ *pb.Empty) (*pb.Info, error) {
	i, err := s.impl.Describe(ctx)
	return withFastPath(toPBInfo(i), s.impl), err
}

func (s *algoServer) Init(ctx context.Context, r *pb.AlgoConfig) (*pb.AlgoSpec, error) {
	spec, err := s.impl.Init(ctx, AlgoConfig{Env: fromPBEnvSpec(r.Env), Seed: r.Seed, Hyper: r.Hyper})
	if err != nil {
		return nil, err
	}
	return &pb.AlgoSpec{Layers: spec.Layers, RolloutSteps: int32(spec.RolloutSteps), TotalUpdates: int32(spec.TotalUpdates)}, nil
}

func (s *algoServer) Act(ctx context.Context, r *pb.ActRequest) (*pb.ActResult, error) {
	res, err := s.impl.Act(ctx, ActRequest{Obs: fromPBMatrix(r.Obs), Prev: fromPBOutcome(r.Prev)})
	if err != nil {
		return nil, err
	}
	return toPBActResult(res), nil
}

func (s *algoServer) Policy(ctx context.Context, r *pb.PolicyRequest) (*pb.Matrix, error) {
	m, err := s.impl.Policy(ctx, fromPBMatrix(r.Obs), r.Deterministic)
	if err != nil {
		return nil, err
	}
	return toPBMatrix(m), nil
}

func (s *algoServer) Activations(ctx context.Context, r *pb.ActivationsRequest) (*pb.ActivationsResponse, error) {
	ls, err := s.impl.Activations(ctx, fromPBMatrix(r.States), r.Names)
	if err != nil {
		return nil, err
	}
	out := &pb.ActivationsResponse{}
	for _, l := range ls {
		out.Layers = append(out.Layers, &pb.Layer{Name: l.Name, Values: toPBMatrix(l.Values)})
	}
	return out, nil
}

func (s *algoServer) Save(ctx context.Context, _ *pb.Empty) (*pb.Checkpoint, error) {
	b, err := s.impl.Save(ctx)
	if err != nil {
		return nil, err
	}
	return &pb.Checkpoint{Data: b}, nil
}

func (s *algoServer) Load(ctx context.Context, r *pb.Checkpoint) (*pb.Empty, error) {
	return &pb.Empty{}, s.impl.Load(ctx, r.Data)
}

func (s *algoServer) AttachEnv(_ context.Context, r *pb.EnvAttach) (*pb.Empty, error) {
	return &pb.Empty{}, s.env.attach(r.Offer, int(r.Pid))
}

func (s *algoServer) Drive(ctx context.Context, r *pb.DriveRequest) (*pb.DriveResult, error) {
	return s.env.drive(ctx, s.impl, r)
}

func (s *algoServer) Sample(ctx context.Context, r *pb.SampleRequest) (*pb.Matrix, error) {
	return s.env.sample(ctx, s.impl, r)
}

type algoClient struct {
	errWrap
	c    pb.AlgorithmClient
	fast stepCaller // nil: Act goes over gRPC
}

func (c *algoClient) Describe(ctx context.Context) (Info, error) {
	i, err := c.c.Describe(ctx, &pb.Empty{})
	if err != nil {
		return Info{}, c.err(ctx, "describe", err)
	}
	return fromPBInfo(i), nil
}

func (c *algoClient) Init(ctx context.Context, cfg AlgoConfig) (AlgoSpec, error) {
	r, err := c.c.Init(ctx, &pb.AlgoConfig{Env: toPBEnvSpec(cfg.Env), Seed: cfg.Seed, Hyper: cfg.Hyper})
	if err != nil {
		return AlgoSpec{}, c.err(ctx, "init", err)
	}
	return AlgoSpec{Layers: r.Layers, RolloutSteps: int(r.RolloutSteps), TotalUpdates: int(r.TotalUpdates)}, nil
}

func (c *algoClient) Act(ctx context.Context, req ActRequest) (ActResult, error) {
	preq := &pb.ActRequest{Obs: toPBMatrix(req.Obs), Prev: toPBOutcome(req.Prev)}
	var r *pb.ActResult
	var err error
	if c.fast != nil {
		r = &pb.ActResult{}
		err = c.fast.call(ctx, fastAct, preq, r)
	}
	if c.fast == nil || err == errTooLarge {
		r, err = c.c.Act(ctx, preq, bigCalls...)
	}
	if err != nil {
		return ActResult{}, c.err(ctx, "act", err)
	}
	out := ActResult{Actions: fromPBMatrix(r.Actions)}
	if u := r.Update; u != nil {
		out.Update = &UpdateStats{Update: int(u.Update), Step: int(u.Step), Stats: u.Stats}
	}
	return out, nil
}

func (c *algoClient) Policy(ctx context.Context, obs Matrix, deterministic bool) (Matrix, error) {
	m, err := c.c.Policy(ctx, &pb.PolicyRequest{Obs: toPBMatrix(obs), Deterministic: deterministic}, bigCalls...)
	if err != nil {
		return Matrix{}, c.err(ctx, "policy", err)
	}
	return fromPBMatrix(m), nil
}

func (c *algoClient) Activations(ctx context.Context, states Matrix, names []string) ([]Layer, error) {
	r, err := c.c.Activations(ctx, &pb.ActivationsRequest{States: toPBMatrix(states), Names: names}, bigCalls...)
	if err != nil {
		return nil, c.err(ctx, "activations", err)
	}
	out := make([]Layer, len(r.Layers))
	for i, l := range r.Layers {
		out[i] = Layer{Name: l.Name, Values: fromPBMatrix(l.Values)}
	}
	return out, nil
}

func (c *algoClient) Save(ctx context.Context) ([]byte, error) {
	r, err := c.c.Save(ctx, &pb.Empty{}, bigCalls...)
	if err != nil {
		return nil, c.err(ctx, "save", err)
	}
	return r.Data, nil
}

func (c *algoClient) Load(ctx context.Context, checkpoint []byte) error {
	_, err := c.c.Load(ctx, &pb.Checkpoint{Data: checkpoint}, bigCalls...)
	return c.err(ctx, "load", err)
}

// ---- Distance ----

type distPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Distance
}

func (p *distPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.impl != nil {
		pb.RegisterDistanceServer(s, &distServer{impl: p.impl})
	}
	return nil
}

func (p *distPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &distClient{c: pb.NewDistanceClient(c)}, nil
}

type distServer struct {
	pb.UnimplementedDistanceServer
	impl Distance
}

func (s *distServer) Describe(ctx context.Context, _ *pb.Empty) (*pb.Info, error) {
	i, err := s.impl.Describe(ctx)
	return toPBInfo(i), err
}

func (s *distServer) Compute(ctx context.Context, r *pb.DistanceRequest) (*pb.DistanceResult, error) {
	res, err := s.impl.Compute(ctx, fromPBMatrix(r.Points), r.Params)
	if err != nil {
		return nil, err
	}
	return &pb.DistanceResult{Distances: toPBMatrix(res.Distances), Components: int32(res.Components)}, nil
}

type distClient struct {
	errWrap
	c pb.DistanceClient
}

func (c *distClient) Describe(ctx context.Context) (Info, error) {
	i, err := c.c.Describe(ctx, &pb.Empty{})
	if err != nil {
		return Info{}, c.err(ctx, "describe", err)
	}
	return fromPBInfo(i), nil
}

func (c *distClient) Compute(ctx context.Context, points Matrix, params map[string]string) (DistanceResult, error) {
	r, err := c.c.Compute(ctx, &pb.DistanceRequest{Points: toPBMatrix(points), Params: params}, bigCalls...)
	if err != nil {
		return DistanceResult{}, c.err(ctx, "compute distances", err)
	}
	res := DistanceResult{Distances: fromPBMatrix(r.Distances), Components: int(r.Components)}
	if err := ValidateDistanceResult(points.Rows, res); err != nil {
		return DistanceResult{}, c.err(ctx, "compute distances", err)
	}
	return res, nil
}

// ---- Homology ----

type phPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Homology
}

func (p *phPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.impl != nil {
		pb.RegisterHomologyServer(s, &phServer{impl: p.impl})
	}
	return nil
}

func (p *phPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &phClient{c: pb.NewHomologyClient(c)}, nil
}

type phServer struct {
	pb.UnimplementedHomologyServer
	impl Homology
}

func (s *phServer) Describe(ctx context.Context, _ *pb.Empty) (*pb.Info, error) {
	i, err := s.impl.Describe(ctx)
	return toPBInfo(i), err
}

func (s *phServer) Compute(ctx context.Context, r *pb.HomologyRequest) (*pb.HomologyResult, error) {
	res, err := ComputeHomology(ctx, s.impl, HomologyRequest{
		Distances: optMatrix(r.Distances), Points: optMatrix(r.Points), Edges: optEdges(r.Edges),
		MaxDim: int(r.MaxDim), Threshold: threshold(r.Threshold), Coeff: int(r.Coeff),
		Params: r.Params,
	})
	if err != nil {
		return nil, err
	}
	return &pb.HomologyResult{Diagrams: toPBDiagrams(res.Diagrams), Scalars: res.Scalars}, nil
}

type phClient struct {
	errWrap
	c pb.HomologyClient
}

func (c *phClient) Describe(ctx context.Context) (Info, error) {
	i, err := c.c.Describe(ctx, &pb.Empty{})
	if err != nil {
		return Info{}, c.err(ctx, "describe", err)
	}
	return fromPBInfo(i), nil
}

func (c *phClient) Compute(ctx context.Context, req HomologyRequest) ([]Diagram, error) {
	r, err := c.ComputeResult(ctx, req)
	return r.Diagrams, err
}

// ComputeResult is Compute with the scalars the plugin reported (nil
// from a plugin that reports none).
func (c *phClient) ComputeResult(ctx context.Context, req HomologyRequest) (HomologyResult, error) {
	r, err := c.c.Compute(ctx, &pb.HomologyRequest{
		Distances: optPBMatrix(req.Distances), Points: optPBMatrix(req.Points), Edges: optPBEdges(req.Edges),
		MaxDim: int32(req.MaxDim), Threshold: req.Threshold, Coeff: int32(req.Coeff),
		Params: req.Params,
	}, bigCalls...)
	if err != nil {
		return HomologyResult{}, c.err(ctx, "compute homology", err)
	}
	ds, err := fromPBDiagrams(r.Diagrams)
	if err == nil {
		err = ValidateDiagrams(ds, req.MaxDim)
	}
	if err != nil {
		return HomologyResult{}, c.err(ctx, "compute homology", fmt.Errorf("bad result: %w", err))
	}
	res := HomologyResult{Diagrams: ds}
	if len(r.Scalars) > 0 {
		res.Scalars = r.Scalars
	}
	return res, nil
}
