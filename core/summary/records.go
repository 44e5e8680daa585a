package summary

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/runstore"
)

// File names of the records inside a run directory.
const (
	TopologyFile = "topology.jsonl"
	ScalarsFile  = "scalars.jsonl"
)

// The conventional cloud and net names of the PPO runs. Plots and reports
// read Net and Layer, not these strings, so another learner may name its
// clouds differently.
const (
	NetInput  = "input"
	NetActor  = "actor"
	NetCritic = "critic"
)

// TopologyRecord is one line of RUN_DIR/topology.jsonl: the summary of
// one point cloud at one snapshot.
type TopologyRecord struct {
	Step   int    `json:"step"`   // environment steps so far
	Update int    `json:"update"` // updates so far
	Cloud  string `json:"cloud"`  // "input", "actor/1", "critic/2", ...
	Net    string `json:"net"`    // "input", "actor", "critic"
	Layer  int    `json:"layer"`  // 0 for the input, 1.. for hidden layers
	Points int    `json:"points"` // number of states in the cloud
	// Dim is the ambient dimension of the cloud (columns: obs_dim for the
	// input, the layer width for a hidden layer).
	Dim    int    `json:"dim"`
	Metric string `json:"metric"` // e.g. "geodesic k=15" or "euclidean"
	// Class is the data class the cloud holds, in a supervised run
	// (core/classify: "a", "b", ...); empty in an RL run, whose clouds
	// mix every state. Records written before it existed read as "".
	Class string `json:"class,omitempty"`
	// Duplicates is the number of repeated points removed from the cloud
	// before its distances (Points counts the distinct ones).
	Duplicates int     `json:"duplicates,omitempty"`
	Summary    Summary `json:"summary"`
	// Seconds is the wall time of distance plus homology for this cloud.
	Seconds float64 `json:"seconds"`
	// PHScalars are the numbers the homology backend reported beside the
	// diagrams, e.g. "covering_radius" and "bottleneck_bound" of ph-rips
	// with parameter subsample; absent when it reported none.
	PHScalars map[string]float64 `json:"ph_scalars,omitempty"`
}

// ScalarRecord is one line of RUN_DIR/scalars.jsonl: the training
// statistics of one update, under CleanRL's names
// ("charts/episodic_return_mean100", "losses/value_loss", ...), and the
// episodes that finished during its rollout (see EpisodicReturn).
type ScalarRecord struct {
	Step     int                `json:"step"`
	Update   int                `json:"update"`
	Values   map[string]float64 `json:"values"`
	Episodes []Episode          `json:"episodes,omitempty"`
}

// AppendLine writes v as one JSON line with a single Write call, so a
// run killed mid-write leaves at most one truncated last line, which the
// readers skip.
func AppendLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

// ReadTopology reads a topology.jsonl file.
func ReadTopology(path string) ([]TopologyRecord, error) {
	return readJSONL[TopologyRecord](path)
}

// ReadScalars reads a scalars.jsonl file.
//
// Records of files written before episodes were recorded one by one are
// upgraded: their 100-episode means come under ReturnMean and LengthMean.
func ReadScalars(path string) ([]ScalarRecord, error) {
	recs, err := readJSONL[ScalarRecord](path)
	for i := range recs {
		if len(recs[i].Episodes) == 0 {
			recs[i].upgrade()
		}
	}
	return recs, err
}

// readJSONL decodes one record per line. Blank lines are skipped. A last
// line without its newline that does not decode is what a run killed
// mid-write leaves behind: it is dropped and the rest returned. Any other
// bad line is an error naming the file and line.
func readJSONL[T any](path string) ([]T, error) {
	f, err := runstore.OpenRegular(path, runstore.MaxLog)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var src io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		// Published results keep their records compressed.
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		src = gz
	}
	// Bounded after decompression too: a small .gz can expand without end.
	r := bufio.NewReaderSize(io.LimitReader(src, runstore.MaxLog), 1<<16)
	var out []T
	for n := 1; ; n++ {
		line, err := readLine(r, maxRecordLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("%s: line %d: %w", path, n, err)
		}
		complete := len(line) > 0 && line[len(line)-1] == '\n'
		if t := bytes.TrimSpace(line); len(t) > 0 {
			var v T
			derr := json.Unmarshal(t, &v)
			if derr != nil && !complete {
				return out, nil // truncated last line
			}
			if c, ok := any(&v).(interface{ check() error }); ok && derr == nil {
				derr = c.check()
			}
			if derr != nil {
				return out, fmt.Errorf("%s: line %d: %v", path, n, derr)
			}
			out = append(out, v)
		}
		if err != nil { // io.EOF
			return out, nil
		}
	}
}

// Bounds of what a record may say. nthost writes nothing beyond them; a
// file that does is damaged or forged, and values past them once sized
// plot axes and loops (an out-of-range step panicked the report, a
// dimension of -5 too).
const (
	maxRecordStep  = 1 << 50 // steps and updates
	maxRecordDim   = 64      // homology dimension (diagram.MaxDim)
	maxRecordCount = 1 << 40 // Betti numbers, bars, points
)

func checkCounter(what string, v int) error {
	if v < 0 || v > maxRecordStep {
		return fmt.Errorf("%s %d: want 0..%d", what, v, maxRecordStep)
	}
	return nil
}

func (r *ScalarRecord) check() error {
	if err := checkCounter("step", r.Step); err != nil {
		return err
	}
	return checkCounter("update", r.Update)
}

func (r *TopologyRecord) check() error {
	if err := checkCounter("step", r.Step); err != nil {
		return err
	}
	if err := checkCounter("update", r.Update); err != nil {
		return err
	}
	if r.Layer < 0 || r.Layer > maxRecordCount || r.Points < 0 || r.Points > maxRecordCount || r.Dim < 0 || r.Dim > maxRecordCount {
		return fmt.Errorf("cloud %q: layer %d, %d points of dimension %d: out of range", r.Cloud, r.Layer, r.Points, r.Dim)
	}
	if len(r.Summary.Scales) > 1<<20 {
		return fmt.Errorf("cloud %q: %d Betti curve scales", r.Cloud, len(r.Summary.Scales))
	}
	for _, d := range r.Summary.Dims {
		if d.Dim < 0 || d.Dim > maxRecordDim {
			return fmt.Errorf("cloud %q: dimension %d: want 0..%d", r.Cloud, d.Dim, maxRecordDim)
		}
		for _, c := range []int{d.Pairs, d.Infinite, d.Betti, d.Persistent} {
			if c < 0 || c > maxRecordCount {
				return fmt.Errorf("cloud %q dimension %d: count %d out of range", r.Cloud, d.Dim, c)
			}
		}
		for _, c := range d.BettiCurve {
			if c < 0 || c > maxRecordCount {
				return fmt.Errorf("cloud %q dimension %d: Betti curve value %d out of range", r.Cloud, d.Dim, c)
			}
		}
	}
	return nil
}

// maxRecordLine bounds one JSON line of a log: a record is a few KB, so
// a longer line is damage (or not a log at all), not something to buffer.
const maxRecordLine = 64 << 20

// readLine is bufio.Reader.ReadBytes('\n') that gives up on a line
// longer than limit.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > limit {
			return nil, fmt.Errorf("longer than %d MiB: not a JSON-lines log", limit>>20)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}

// topoStats are the per-dimension columns of the topology CSV, in order.
var topoStats = []struct {
	name string
	get  func(DimSummary) string
}{
	{"betti", func(d DimSummary) string { return strconv.Itoa(d.Betti) }},
	{"persistent", func(d DimSummary) string { return strconv.Itoa(d.Persistent) }},
	{"pairs", func(d DimSummary) string { return strconv.Itoa(d.Pairs) }},
	{"infinite", func(d DimSummary) string { return strconv.Itoa(d.Infinite) }},
	{"total_persistence", func(d DimSummary) string { return ftoa(d.TotalPersistence) }},
	{"max_persistence", func(d DimSummary) string { return ftoa(d.MaxPersistence) }},
	{"entropy", func(d DimSummary) string { return ftoa(d.Entropy) }},
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// WriteTopologyCSV writes one row per record with the per-dimension
// numbers flattened into columns betti_0, betti_1, ..., persistent_0, ...,
// total_persistence_0, ... up to the largest dimension any record has. A
// dimension a record did not compute is an empty cell, not a zero. Betti
// curves are left out; they stay in the JSON lines.
func WriteTopologyCSV(w io.Writer, recs []TopologyRecord) error {
	maxDim := -1
	for _, r := range recs {
		maxDim = max(maxDim, r.Summary.MaxDim())
	}
	head := []string{"step", "update", "cloud", "class", "net", "layer", "points", "duplicates", "dim", "metric", "seconds", "diameter", "betti_scale", "fraction"}
	for _, st := range topoStats {
		for k := 0; k <= maxDim; k++ {
			head = append(head, fmt.Sprintf("%s_%d", st.name, k))
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("write topology csv: %w", err)
	}
	for _, r := range recs {
		row := []string{
			strconv.Itoa(r.Step), strconv.Itoa(r.Update), r.Cloud, r.Class, r.Net,
			strconv.Itoa(r.Layer), strconv.Itoa(r.Points), strconv.Itoa(r.Duplicates), strconv.Itoa(r.Dim),
			r.Metric, ftoa(r.Seconds), ftoa(r.Summary.Diameter),
			ftoa(r.Summary.BettiScale), ftoa(r.Summary.Fraction),
		}
		for _, st := range topoStats {
			for k := 0; k <= maxDim; k++ {
				if d, ok := r.Summary.Dim(k); ok {
					row = append(row, st.get(d))
				} else {
					row = append(row, "")
				}
			}
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write topology csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write topology csv: %w", err)
	}
	return nil
}

// ScalarNames returns the sorted union of the scalar names of recs.
func ScalarNames(recs []ScalarRecord) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range recs {
		for k := range r.Values {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	return names
}

// WriteScalarsCSV writes one row per update: step, update, then one column
// per scalar name (sorted); an update that did not log a name leaves its
// cell empty.
func WriteScalarsCSV(w io.Writer, recs []ScalarRecord) error {
	names := ScalarNames(recs)
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"step", "update"}, names...)); err != nil {
		return fmt.Errorf("write scalars csv: %w", err)
	}
	for _, r := range recs {
		row := []string{strconv.Itoa(r.Step), strconv.Itoa(r.Update)}
		for _, n := range names {
			if v, ok := r.Values[n]; ok {
				row = append(row, ftoa(v))
			} else {
				row = append(row, "")
			}
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write scalars csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write scalars csv: %w", err)
	}
	return nil
}

// MarshalJSON writes the record with non-finite values as the strings
// "NaN", "Inf" and "-Inf": encoding/json refuses them as numbers, and a
// NaN explained variance (a constant return batch) must not lose the line.
func (r ScalarRecord) MarshalJSON() ([]byte, error) {
	vals := make(map[string]any, len(r.Values))
	for k, v := range r.Values {
		switch {
		case math.IsNaN(v):
			vals[k] = "NaN"
		case math.IsInf(v, 1):
			vals[k] = "Inf"
		case math.IsInf(v, -1):
			vals[k] = "-Inf"
		default:
			vals[k] = v
		}
	}
	return json.Marshal(struct {
		Step     int            `json:"step"`
		Update   int            `json:"update"`
		Values   map[string]any `json:"values"`
		Episodes []Episode      `json:"episodes,omitempty"`
	}{r.Step, r.Update, vals, r.Episodes})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *ScalarRecord) UnmarshalJSON(b []byte) error {
	var raw struct {
		Step     int                        `json:"step"`
		Update   int                        `json:"update"`
		Values   map[string]json.RawMessage `json:"values"`
		Episodes []Episode                  `json:"episodes"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	r.Step, r.Update, r.Episodes = raw.Step, raw.Update, raw.Episodes
	r.Values = make(map[string]float64, len(raw.Values))
	for k, m := range raw.Values {
		var v float64
		if err := json.Unmarshal(m, &v); err != nil {
			var s string
			if json.Unmarshal(m, &s) != nil {
				return fmt.Errorf("value %q: %s is not a number", k, m)
			}
			switch s {
			case "NaN":
				v = math.NaN()
			case "Inf", "+Inf":
				v = math.Inf(1)
			case "-Inf":
				v = math.Inf(-1)
			default:
				return fmt.Errorf("value %q: %q is not a number", k, s)
			}
		}
		r.Values[k] = v
	}
	return nil
}

// LatestTopology drops all but the last record of each (step, cloud,
// class): a run resumed from a checkpoint may repeat a snapshot, and
// counting it twice would double a total Betti number. Records keep the order of
// their first appearance.
func LatestTopology(recs []TopologyRecord) []TopologyRecord {
	type key struct {
		step         int
		cloud, class string
	}
	at := map[key]int{}
	var out []TopologyRecord
	for _, r := range recs {
		k := key{r.Step, r.Cloud, r.Class}
		if i, ok := at[k]; ok {
			out[i] = r
			continue
		}
		at[k] = len(out)
		out = append(out, r)
	}
	return out
}

// LatestScalars drops all but the last record of each update, for the
// same reason as LatestTopology.
func LatestScalars(recs []ScalarRecord) []ScalarRecord {
	at := map[int]int{}
	var out []ScalarRecord
	for _, r := range recs {
		if i, ok := at[r.Update]; ok {
			out[i] = r
			continue
		}
		at[r.Update] = len(out)
		out = append(out, r)
	}
	return out
}

// NetTotalBetti is the total Betti number of a network in one snapshot:
// the Betti numbers of every dimension summed over net's hidden layers
// (Layer >= 1) among recs. The input cloud is left out: it belongs to
// neither network, and the seed's figures leave it out too (its critic
// curve sits at 2, beta_0 of two hidden layers; with the input it could
// not go below 3, since every cloud has an essential H0 class).
func NetTotalBetti(recs []TopologyRecord, net string) int {
	n := 0
	for _, r := range recs {
		if r.Net == net && r.Layer >= 1 {
			n += r.Summary.TotalBetti()
		}
	}
	return n
}
