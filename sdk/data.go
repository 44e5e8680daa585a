package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/go-plugin"
	"github.com/neuraltopology/neuraltopology/sdk/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Supervised learning: a data plugin (kind "data") generates labelled
// point clouds, and an algorithm plugin with the capability CapSupervised
// trains on them (Classifier.Fit) and answers Activations as for an RL
// learner. Both cross the boundary in batches: one Generate per split,
// one Fit per network.

// The data splits every data plugin serves.
const (
	SplitTrain    = "train"    // what a learner is fitted on
	SplitHomology = "homology" // the points whose activations are analysed
)

// Capability keys of the supervised kinds.
const (
	// CapDatasets (data): the data set ids the plugin generates, comma
	// separated, e.g. "D-I,D-II,D-III". The host refuses an id not listed.
	CapDatasets = "datasets"
	// CapSupervised (algo): "true" when the learner implements
	// Classifier (Fit on labelled points).
	CapSupervised = "supervised"
)

// DataRequest asks a data plugin for one split of a data set. The same
// request always returns the same points: Seed picks the random stream,
// and splits of one seed are drawn from independent streams.
type DataRequest struct {
	DatasetID string
	Seed      int64
	Split     string // SplitTrain or SplitHomology
	Samples   int    // 0: the data set's own size for the split
	Params    map[string]string
}

// DataSet is a labelled point cloud: row i of Points has class
// Labels[i], an index into Classes.
type DataSet struct {
	Points  Matrix
	Labels  []int
	Classes []string
}

// Validate checks that the points are finite, that there is one label per
// row and that every label names a class. The error names the first bad
// row.
func (d DataSet) Validate() error {
	if err := d.Points.Validate(true); err != nil {
		return fmt.Errorf("data set points: %w", err)
	}
	if d.Points.Rows == 0 {
		return fmt.Errorf("data set has no points")
	}
	if len(d.Labels) != d.Points.Rows {
		return fmt.Errorf("data set has %d labels for %d points", len(d.Labels), d.Points.Rows)
	}
	if len(d.Classes) < 2 {
		return fmt.Errorf("data set names %d classes, want at least 2", len(d.Classes))
	}
	for i, l := range d.Labels {
		if l < 0 || l >= len(d.Classes) {
			return fmt.Errorf("data set row %d has label %d, want 0..%d", i, l, len(d.Classes)-1)
		}
	}
	return nil
}

// Data is a source of labelled point clouds.
type Data interface {
	Describer
	Generate(ctx context.Context, req DataRequest) (DataSet, error)
}

// Datasets returns the data set ids a data plugin declares (CapDatasets).
func Datasets(info Info) []string {
	var out []string
	for _, s := range strings.Split(info.Capabilities[CapDatasets], ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// FitRequest asks a supervised learner to train on a labelled set until
// its accuracy on that set reaches TargetAccuracy, or MaxEpochs pass.
type FitRequest struct {
	Points         Matrix
	Labels         []int
	Classes        int
	TargetAccuracy float64 // in (0, 1]; 0 means 1 (every point right)
	MaxEpochs      int     // 0: the plugin's own cap
}

// EpochStat is one training epoch: the training loss (a learner's own
// measure: the mean over the epoch's minibatches, or over the whole
// training set after the epoch, as the mlp plugin reports it) and the
// accuracy on the whole training set after it. Attempt is 1 for the
// learner's first initialisation and counts up each time it restarts a
// stalled training from a new one (0, from a learner that never
// restarts, means 1).
type EpochStat struct {
	Epoch    int
	Loss     float64
	Accuracy float64
	Attempt  int
}

// FitResult says how a Fit ended. Reached is false when the epoch cap
// came first; the learner then holds the last epoch's weights.
type FitResult struct {
	Epochs  []EpochStat
	Reached bool
}

// Classifier is an Algorithm that learns from labelled points. Its Init
// takes the data's shape in AlgoConfig.Env: ObsDim inputs and ActDim
// classes. Algorithm plugins behind gRPC always have Fit; it returns an
// error wrapping ErrFitUnsupported when the plugin does not implement it
// (check CapSupervised first).
type Classifier interface {
	Algorithm
	Fit(ctx context.Context, req FitRequest) (FitResult, error)
}

// ErrFitUnsupported says an algorithm plugin is not a supervised learner.
var ErrFitUnsupported = errors.New("algorithm plugin does not learn from labelled data (no capability supervised)")

// ---- gRPC shims of the data kind and of Fit ----

type dataPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Data
}

func (p *dataPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.impl != nil {
		pb.RegisterDataServer(s, &dataServer{impl: p.impl})
	}
	return nil
}

func (p *dataPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &dataClient{c: pb.NewDataClient(c)}, nil
}

type dataServer struct {
	pb.UnimplementedDataServer
	impl Data
}

func (s *dataServer) Describe(ctx context.Context, _ *pb.Empty) (*pb.Info, error) {
	i, err := s.impl.Describe(ctx)
	return toPBInfo(i), err
}

func (s *dataServer) Generate(ctx context.Context, r *pb.DataRequest) (*pb.DataSet, error) {
	d, err := s.impl.Generate(ctx, DataRequest{DatasetID: r.DatasetId, Seed: r.Seed, Split: r.Split, Samples: int(r.Samples), Params: r.Params})
	if err != nil {
		return nil, err
	}
	labels := make([]int32, len(d.Labels))
	for i, l := range d.Labels {
		labels[i] = int32(l)
	}
	return &pb.DataSet{Points: toPBMatrix(d.Points), Labels: labels, Classes: d.Classes}, nil
}

type dataClient struct {
	errWrap
	c pb.DataClient
}

func (c *dataClient) Describe(ctx context.Context) (Info, error) {
	i, err := c.c.Describe(ctx, &pb.Empty{})
	if err != nil {
		return Info{}, c.err(ctx, "describe", err)
	}
	return fromPBInfo(i), nil
}

func (c *dataClient) Generate(ctx context.Context, req DataRequest) (DataSet, error) {
	r, err := c.c.Generate(ctx, &pb.DataRequest{DatasetId: req.DatasetID, Seed: req.Seed, Split: req.Split, Samples: int32(req.Samples), Params: req.Params}, bigCalls...)
	if err != nil {
		return DataSet{}, c.err(ctx, "generate", err)
	}
	labels := make([]int, len(r.Labels))
	for i, l := range r.Labels {
		labels[i] = int(l)
	}
	return DataSet{Points: fromPBMatrix(r.Points), Labels: labels, Classes: r.Classes}, nil
}

func (s *algoServer) Fit(ctx context.Context, r *pb.FitRequest) (*pb.FitResult, error) {
	cl, ok := s.impl.(Classifier)
	if !ok {
		return nil, status.Error(codes.Unimplemented, ErrFitUnsupported.Error())
	}
	labels := make([]int, len(r.Labels))
	for i, l := range r.Labels {
		labels[i] = int(l)
	}
	res, err := cl.Fit(ctx, FitRequest{Points: fromPBMatrix(r.Points), Labels: labels, Classes: int(r.Classes), TargetAccuracy: r.TargetAccuracy, MaxEpochs: int(r.MaxEpochs)})
	if err != nil {
		return nil, err
	}
	out := &pb.FitResult{Reached: res.Reached}
	for _, e := range res.Epochs {
		out.Epochs = append(out.Epochs, &pb.EpochStat{Epoch: int32(e.Epoch), Loss: e.Loss, Accuracy: e.Accuracy, Attempt: int32(e.Attempt)})
	}
	return out, nil
}

// Fit trains the plugin on labelled points (Classifier).
func (c *algoClient) Fit(ctx context.Context, req FitRequest) (FitResult, error) {
	labels := make([]int32, len(req.Labels))
	for i, l := range req.Labels {
		labels[i] = int32(l)
	}
	r, err := c.c.Fit(ctx, &pb.FitRequest{Points: toPBMatrix(req.Points), Labels: labels, Classes: int32(req.Classes), TargetAccuracy: req.TargetAccuracy, MaxEpochs: int32(req.MaxEpochs)}, bigCalls...)
	if st, ok := status.FromError(err); ok && err != nil && st.Code() == codes.Unimplemented {
		return FitResult{}, fmt.Errorf("fit: %w", ErrFitUnsupported)
	}
	if err != nil {
		return FitResult{}, c.err(ctx, "fit", err)
	}
	out := FitResult{Reached: r.Reached}
	for _, e := range r.Epochs {
		out.Epochs = append(out.Epochs, EpochStat{Epoch: int(e.Epoch), Loss: e.Loss, Accuracy: e.Accuracy, Attempt: int(e.Attempt)})
	}
	return out, nil
}

// Data returns the plugin as a Data source, or an error naming its kind.
func (c *Client) Data() (Data, error) {
	if d := asData(c.current()); d != nil && c.Kind == KindData {
		return d, nil
	}
	return nil, c.wrongKind(KindData)
}
