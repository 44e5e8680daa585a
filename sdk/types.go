// Package sdk is the public contract between the nthost host and its
// plugins: the Go interfaces of the five plugin kinds (environment,
// algorithm, distance, homology, labelled data), the plain data they exchange, and the
// go-plugin glue that carries them over gRPC (see plugin.go).
//
// A plugin author implements one of the interfaces below and calls Serve
// from main; a host calls Open to start a plugin binary and gets back a
// value implementing the same interface, backed by gRPC.
package sdk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Kind names one of the four plugin kinds. It is also the middle part of a
// plugin binary's name: nt-<kind>-<name>.
type Kind string

// The plugin kinds.
const (
	KindEnv  Kind = "env"
	KindAlgo Kind = "algo"
	KindDist Kind = "dist"
	KindPH   Kind = "ph"
	KindData Kind = "data"
)

// Kinds lists every plugin kind in a stable order.
var Kinds = []Kind{KindEnv, KindAlgo, KindDist, KindPH, KindData}

// Info is what every plugin says about itself, so the host can list it and
// refuse a mismatch before any work starts.
type Info struct {
	Name        string // short name, e.g. "rips"; the <name> in nt-<kind>-<name>
	Kind        Kind
	Version     string // the plugin's own semantic version
	Protocol    int    // the sdk protocol version it was built against
	Description string // one line for `nthost plugins`
	// Capabilities are facts the host checks before a run starts; the
	// documented keys (CapTasks, CapMaxDim, CapMetric, ...; see params.go
	// and docs/plugins.md) have values of a fixed form, other keys are
	// shown to users as they are, e.g. "engine": "ripser 1.2.1".
	Capabilities map[string]string
	// Params are the parameters the plugin takes; the host refuses any
	// other before starting work.
	Params []ParamSpec
}

// Matrix is a dense row-major matrix of float64: element (i, j) is
// Data[i*Cols+j]. It is the one array type that crosses the plugin
// boundary.
type Matrix struct {
	Rows, Cols int
	Data       []float64
}

// NewMatrix returns a zeroed rows x cols matrix.
func NewMatrix(rows, cols int) Matrix {
	return Matrix{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
}

// At returns element (i, j).
func (m Matrix) At(i, j int) float64 { return m.Data[i*m.Cols+j] }

// Row returns row i as a slice that shares storage with m.
func (m Matrix) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// Validate checks that the shape matches the data and, if finite is true,
// that every element is a finite number. The error names the first bad
// element so a user can find it in their file.
func (m Matrix) Validate(finite bool) error {
	if m.Rows < 0 || m.Cols < 0 {
		return fmt.Errorf("matrix has negative shape %dx%d", m.Rows, m.Cols)
	}
	if len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("matrix shape %dx%d needs %d values, got %d", m.Rows, m.Cols, m.Rows*m.Cols, len(m.Data))
	}
	if finite {
		for k, v := range m.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("matrix element (%d,%d) is %v", k/max(m.Cols, 1), k%max(m.Cols, 1), v)
			}
		}
	}
	return nil
}

// ValidateDistances checks that m is a distance matrix a homology backend
// can take: square, non-empty, finite, non-negative, zero on the diagonal
// and symmetric up to the last-bit noise of a symmetric computation. The
// error names the first offending entry.
func (m Matrix) ValidateDistances() error {
	if err := m.Validate(true); err != nil {
		return fmt.Errorf("distance matrix: %w", err)
	}
	if m.Rows != m.Cols {
		return fmt.Errorf("distance matrix is %dx%d, not square", m.Rows, m.Cols)
	}
	n := m.Rows
	if n == 0 {
		return fmt.Errorf("distance matrix is empty")
	}
	for i := 0; i < n; i++ {
		if v := m.Data[i*n+i]; v != 0 {
			return fmt.Errorf("distance matrix diagonal (%d,%d) is %v, want 0", i, i, v)
		}
		for j := 0; j < i; j++ {
			a, b := m.Data[i*n+j], m.Data[j*n+i]
			if a < 0 {
				return fmt.Errorf("distance (%d,%d) is negative: %v", i, j, a)
			}
			if math.Abs(a-b) > 1e-9*math.Max(math.Abs(a), math.Abs(b)) {
				return fmt.Errorf("distance matrix is not symmetric: (%d,%d)=%v but (%d,%d)=%v", i, j, a, j, i, b)
			}
		}
	}
	return nil
}

// ValidateDistanceResult checks what a distance backend returned for n
// points: an n x n distance matrix (ValidateDistances) and at least one
// component.
func ValidateDistanceResult(n int, r DistanceResult) error {
	m := r.Distances
	if m.Rows != n || m.Cols != n || len(m.Data) != n*n {
		return fmt.Errorf("bad result: want a %dx%d matrix (%d values) for %d points, got %dx%d with %d values", n, n, n*n, n, m.Rows, m.Cols, len(m.Data))
	}
	if n == 0 {
		return nil
	}
	if err := m.ValidateDistances(); err != nil {
		return fmt.Errorf("bad result: %w", err)
	}
	if r.Components < 1 || r.Components > n {
		return fmt.Errorf("bad result: %d connected components for %d points", r.Components, n)
	}
	return nil
}

// Describer is the call every plugin answers.
type Describer interface {
	Describe(ctx context.Context) (Info, error)
}

// ---- Environment ---------------------------------------------------------

// EnvConfig asks an environment plugin for a batch of NumEnvs copies of one
// task. Each copy gets its own random stream derived from Seed.
type EnvConfig struct {
	TaskID  string
	NumEnvs int
	Seed    int64
	Options map[string]string
}

// EnvSpec describes an opened batch of environments.
type EnvSpec struct {
	TaskID          string
	NumEnvs         int
	ObsDim, ActDim  int
	ObsLow, ObsHigh []float64 // per coordinate; +-Inf where unbounded
	ActLow, ActHigh []float64
	MaxEpisodeSteps int     // time limit; reaching it is a truncation
	DT              float64 // simulated seconds per step
	InfoKeys        []string
}

// EpisodeStat is reported once for each episode that ends.
type EpisodeStat struct {
	Env    int     // index of the environment in the batch
	Return float64 // undiscounted sum of rewards
	Length int     // number of steps
}

// StepResult is the outcome of one step of every environment in a batch.
// Environments that end an episode are reset automatically: Obs then holds
// the first observation of the new episode and FinalObs the last one of the
// finished episode, so a learner can bootstrap on truncation.
type StepResult struct {
	Obs        Matrix // NumEnvs x ObsDim
	Reward     []float64
	Terminated []bool // the task ended (failure or success)
	Truncated  []bool // the time limit cut the episode
	// FinalObs holds, for each env that ended (Terminated or Truncated),
	// the last observation of its episode; rows of the other envs are zero.
	FinalObs Matrix
	Episodes []EpisodeStat
	// Info holds named per-env scalars (e.g. "x_position",
	// "x_velocity", "reward_forward", "reward_ctrl"), each of length NumEnvs.
	Info map[string][]float64
}

// Frame is one rendered RGB image, 3 bytes per pixel, row-major.
type Frame struct {
	Width, Height int
	Pix           []byte
}

// Environment is a vectorised simulator. An environment plugin may hold
// several batches at once (e.g. the training batch and an analysis batch),
// each named by the handle Open returns.
type Environment interface {
	Describer
	Open(ctx context.Context, cfg EnvConfig) (handle int, spec EnvSpec, err error)
	// Reset starts a new episode in every env of the batch. seed < 0 keeps
	// the batch's random stream; seed >= 0 reseeds it.
	Reset(ctx context.Context, handle int, seed int64) (Matrix, error)
	// Step applies one row of actions per env.
	Step(ctx context.Context, handle int, actions Matrix) (StepResult, error)
	// Render draws env index i of the batch as it is now.
	Render(ctx context.Context, handle, i, width, height int) (Frame, error)
	Close(ctx context.Context, handle int) error
}

// EnvStater is implemented by an Environment whose batches can be saved
// and restored exactly, which a run needs to resume bit for bit from a
// checkpoint: physics, random streams, episode counters, everything the
// next Step depends on. The state's format is the plugin's own.
// Environments behind gRPC always have these methods; they return an
// error wrapping ErrStateUnsupported when the plugin does not implement
// them.
type EnvStater interface {
	SaveState(ctx context.Context, handle int) ([]byte, error)
	// LoadState makes batch handle (opened with the same EnvConfig as the
	// saved one) continue as the saved batch would, and returns its
	// current observations, as Reset does.
	LoadState(ctx context.Context, handle int, state []byte) (Matrix, error)
}

// ErrStateUnsupported says an environment plugin cannot save and restore
// its state.
var ErrStateUnsupported = errors.New("environment cannot save and restore its state")

// ---- Algorithm -----------------------------------------------------------

// AlgoConfig initialises a learner for an environment. Hyper carries the
// seed's config keys (learning_rate, num_steps, hidden_size, ...) as text,
// so a plugin can accept keys the host does not know.
type AlgoConfig struct {
	Env   EnvSpec
	Seed  int64
	Hyper map[string]string
}

// AlgoSpec is what a learner reports after Init.
type AlgoSpec struct {
	// Layers names the hidden layers Activations can return, in network
	// order, e.g. "actor/1", "actor/2", "critic/1", "critic/2".
	Layers []string
	// RolloutSteps is the number of Act calls between updates.
	RolloutSteps int
	// TotalUpdates is the number of updates the configured budget makes.
	TotalUpdates int
}

// Outcome is what the environment did with the previous Act's actions.
type Outcome struct {
	Reward     []float64
	Terminated []bool
	Truncated  []bool
	FinalObs   Matrix // as StepResult.FinalObs
}

// ActRequest carries the current observations and, except for the first
// call of a run, the outcome of the previous actions.
type ActRequest struct {
	Obs  Matrix
	Prev *Outcome
}

// UpdateStats are the training statistics of one update, named as CleanRL
// names them (e.g. "losses/value_loss", "losses/approx_kl", "charts/SPS").
type UpdateStats struct {
	Update int // 1-based index of the update just made
	Step   int // environment steps (summed over the batch) so far
	Stats  map[string]float64
}

// ActResult holds the actions to apply (already clipped to the action
// bounds) and, when the previous outcome completed the learner's rollout,
// the statistics of the update it then made before acting.
type ActResult struct {
	Actions Matrix
	Update  *UpdateStats
}

// NormalizedInputLayer names the states as a learner's networks see them
// (after its observation normalisation), for Activations.
const NormalizedInputLayer = "input/normalized"

// Layer is a named matrix of hidden activations: one row per state.
type Layer struct {
	Name   string
	Values Matrix
}

// Algorithm is a learner. Act is its training step: one call per
// environment step, so a rollout costs one boundary crossing per step.
type Algorithm interface {
	Describer
	Init(ctx context.Context, cfg AlgoConfig) (AlgoSpec, error)
	Act(ctx context.Context, req ActRequest) (ActResult, error)
	// Policy returns actions for states without learning from them and
	// without touching the rollout or the normalisation statistics.
	Policy(ctx context.Context, obs Matrix, deterministic bool) (Matrix, error)
	// Activations returns the post-activation outputs of the named hidden
	// layers (all of them if names is empty) for a batch of raw states,
	// normalised as during training. A learner that normalises its inputs
	// should also answer NormalizedInputLayer, which is never part of the
	// default set.
	Activations(ctx context.Context, states Matrix, names []string) ([]Layer, error)
	Save(ctx context.Context) ([]byte, error)
	Load(ctx context.Context, checkpoint []byte) error
}

// ---- Distance ------------------------------------------------------------

// DistanceResult is a symmetric n x n distance matrix with zero diagonal.
type DistanceResult struct {
	Distances Matrix
	// Components is the number of connected components of the graph a
	// graph-based metric used (1 for a plain metric).
	Components int
}

// Distance turns a point cloud (n x d) into a distance matrix: symmetric,
// non-negative, zero on the diagonal. The triangle inequality is promised
// only by a plugin that declares capability CapMetric "true". Params are
// values of the plugin's declared parameters, e.g. "k": "15" for a k-NN
// geodesic metric.
type Distance interface {
	Describer
	Compute(ctx context.Context, points Matrix, params map[string]string) (DistanceResult, error)
}

// ---- Homology ------------------------------------------------------------

// HomologyRequest asks for the persistent homology of a finite metric space
// given either as a distance matrix or as a point cloud (Euclidean).
type HomologyRequest struct {
	Distances *Matrix // n x n symmetric, zero diagonal; or nil
	Points    *Matrix // n x d; used when Distances is nil
	// Edges, set instead of Distances and Points, is a sparse distance
	// matrix; only for a plugin whose CapInput lists "edges".
	Edges     *Edges
	MaxDim    int     // compute dimensions 0..MaxDim
	Threshold float64 // largest filtration value; +Inf (or 0) means none
	Coeff     int     // prime p of the coefficient field Z/p; 0 means 2
	// Params are values of the plugin's declared parameters, as text.
	Params map[string]string
}

// Edges is a sparse distance matrix on N points: pair (I[k], J[k]) is
// at distance D[k], and a pair not listed is absent from the complex at
// every scale (ripser's sparse input). It lets a thresholded input of
// thousands of points cross the protocol in the size of its pairs, not
// in N*N values.
type Edges struct {
	N    int
	I, J []int32
	D    []float64
}

// Validate checks that e is a sparse distance matrix a homology backend
// can take: parallel arrays, vertices in 0..N-1, no loop, finite
// non-negative distances, each pair at most once. The error names the
// first offending pair.
func (e Edges) Validate() error {
	if e.N < 1 {
		return fmt.Errorf("edges: %d points, want at least 1", e.N)
	}
	if len(e.I) != len(e.D) || len(e.J) != len(e.D) {
		return fmt.Errorf("edges: %d, %d and %d values in i, j and d, want as many", len(e.I), len(e.J), len(e.D))
	}
	// Pairs as sorted keys, not a map: 8 bytes per pair, a tenth of a
	// map's footprint on millions of pairs.
	keys := make([]uint64, len(e.D))
	for k, d := range e.D {
		i, j := e.I[k], e.J[k]
		if i < 0 || j < 0 || int(i) >= e.N || int(j) >= e.N {
			return fmt.Errorf("edges: pair %d (%d, %d) is outside 0..%d", k, i, j, e.N-1)
		}
		if i == j {
			return fmt.Errorf("edges: pair %d joins vertex %d to itself", k, i)
		}
		if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
			return fmt.Errorf("edges: pair %d (%d, %d) has distance %v, want finite and >= 0", k, i, j, d)
		}
		keys[k] = uint64(min(i, j))<<32 | uint64(max(i, j))
	}
	slices.Sort(keys)
	for k := 1; k < len(keys); k++ {
		if keys[k] == keys[k-1] {
			return fmt.Errorf("edges: pair (%d, %d) is given twice", keys[k]>>32, uint32(keys[k]))
		}
	}
	return nil
}

// Dense returns the n x n matrix of e for a backend that takes only
// distances, and the threshold that keeps the absent pairs out: they
// get a distance above every given one (absent) and the threshold lies
// between, both exact in float32 so no backend rounds one onto the
// other. thr is the caller's threshold t when that already excludes
// them. All pairs present: absent is 0 and thr is t.
func (e Edges) Dense(t float64) (m Matrix, thr float64) {
	n := e.N
	m = NewMatrix(n, n)
	top := 0.0
	for _, d := range e.D {
		top = max(top, d)
	}
	thr = t
	if len(e.D) < n*(n-1)/2 {
		absent := float64(float32(2*top + 1))
		for k := range m.Data {
			m.Data[k] = absent
		}
		for i := range n {
			m.Data[i*n+i] = 0
		}
		if cut := float64(float32(1.5*top + 0.5)); t == 0 || math.IsInf(t, 1) || t > cut {
			thr = cut
		}
	}
	for k, d := range e.D {
		i, j := int(e.I[k]), int(e.J[k])
		m.Data[i*n+j], m.Data[j*n+i] = d, d
	}
	return m, thr
}

// Diagram is a persistence diagram in one dimension. Death is +Inf for an
// essential class.
type Diagram struct {
	Dim   int
	Pairs [][2]float64
	// Cocycles, when the plugin was asked for them (ph-rips: parameter
	// cocycles=true), hold a representative cocycle of each pair of a
	// dimension-1 diagram: Cocycles[k] belongs to Pairs[k]. Nil otherwise.
	Cocycles []Cocycle
}

// Cocycle is a 1-cochain over Z/p on the points of a homology request:
// the oriented edge (I[k], J[k]), I[k] < J[k], has value V[k] in
// 1..p-1 and every edge not listed has 0 (the reverse orientation has
// -V[k]). Restricted to the edges of length <= s for a scale s in the
// bar's [birth, death), it is a cocycle of the Rips complex at s that
// represents the bar's class.
type Cocycle struct {
	I, J []int32
	V    []int32
}

// ValidateDiagrams checks what a homology backend returned for a
// request up to maxDim: one diagram for each dimension 0..maxDim, no
// other and none twice, every birth finite and >= 0, every death NaN-free
// and >= its birth (+Inf for an essential class). The host checks every
// plugin's answer so; the error names the first fault.
func ValidateDiagrams(ds []Diagram, maxDim int) error {
	if len(ds) > maxDim+1 {
		// Checked first, so a forged dimension never sizes anything.
		return fmt.Errorf("returned %d diagrams, want %d: one for each dimension 0..%d asked for", len(ds), maxDim+1, maxDim)
	}
	seen := make([]bool, maxDim+1)
	for _, d := range ds {
		if d.Dim < 0 || d.Dim > maxDim {
			return fmt.Errorf("returned a diagram of dimension %d, want dimensions 0..%d only (asked for)", d.Dim, maxDim)
		}
		if seen[d.Dim] {
			return fmt.Errorf("returned dimension %d twice", d.Dim)
		}
		seen[d.Dim] = true
		for j, p := range d.Pairs {
			b, e := p[0], p[1]
			switch {
			case math.IsNaN(b) || math.IsInf(b, 0) || b < 0:
				return fmt.Errorf("dimension %d pair %d has birth %v: want a finite value >= 0", d.Dim, j, b)
			case math.IsNaN(e) || e < b:
				return fmt.Errorf("dimension %d pair %d dies at %v before its birth %v", d.Dim, j, e, b)
			}
		}
	}
	for k, ok := range seen {
		if !ok {
			return fmt.Errorf("returned no diagram for dimension %d (want one per dimension 0..%d, empty if it has no pairs)", k, maxDim)
		}
	}
	return nil
}

// Homology computes persistence diagrams.
type Homology interface {
	Describer
	Compute(ctx context.Context, req HomologyRequest) ([]Diagram, error)
}

// HomologyResult is the diagrams of a computation with the named numbers
// a backend reports beside them (e.g. "covering_radius" and
// "bottleneck_bound" of a subsample, "approximation_factor" of a sparse
// filtration). Scalars is nil when the backend reports none.
type HomologyResult struct {
	Diagrams []Diagram
	Scalars  map[string]float64
}

// HomologyReporter is implemented by a Homology backend that reports
// scalars with its diagrams. It is optional: ComputeHomology falls back
// to Compute for a backend without it.
type HomologyReporter interface {
	ComputeResult(ctx context.Context, req HomologyRequest) (HomologyResult, error)
}

// ComputeHomology runs h on req, with its scalars when h reports them.
func ComputeHomology(ctx context.Context, h Homology, req HomologyRequest) (HomologyResult, error) {
	if r, ok := h.(HomologyReporter); ok {
		return r.ComputeResult(ctx, req)
	}
	ds, err := h.Compute(ctx, req)
	return HomologyResult{Diagrams: ds}, err
}
