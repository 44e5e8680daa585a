package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/neuraltopology/neuraltopology/core/plots"
	"github.com/neuraltopology/neuraltopology/core/provenance"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/core/summary"
)

// run is what the report knows of one run directory.
type run struct {
	Dir      string
	Name     string
	Config   string // config.yaml as written, "" if absent
	EnvID    string
	Timings  map[string]float64
	Topology []summary.TopologyRecord
	Scalars  []summary.ScalarRecord
	// Provenance is one record per start of the run; none for a run
	// made before runs recorded it.
	Provenance []provenance.Record
	Notes      []string // what was missing, said in the report
}

// loadRun reads a run directory. Missing files are notes, not errors, so
// a run still going, or killed, gets a report of what it has; a file that
// exists but is corrupt is an error.
func loadRun(dir string) (*run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("run directory %s: not a directory", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	// A folder with none of a run's files is no run: writing report.html
	// into it (say, the home folder) would only litter it.
	isRun := false
	for _, f := range []string{runstore.ConfigFile, runstore.ScalarsFile, runstore.TopologyFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			isRun = true
		}
	}
	if !isRun {
		return nil, fmt.Errorf("%s is not a run directory (no %s, %s or %s)", dir, runstore.ConfigFile, runstore.ScalarsFile, runstore.TopologyFile)
	}
	r := &run{Dir: dir, Name: filepath.Base(abs)}

	if b, err := os.ReadFile(filepath.Join(dir, runstore.ConfigFile)); err == nil {
		r.Config = string(b)
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("%s does not parse as YAML: %v", runstore.ConfigFile, err))
		} else if id, ok := m["env_id"].(string); ok {
			r.EnvID = id
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		r.Notes = append(r.Notes, "no "+runstore.ConfigFile)
	} else {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}

	if r.Provenance, err = provenance.Read(filepath.Join(dir, provenance.File)); err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}

	if b, err := os.ReadFile(filepath.Join(dir, runstore.TimingsFile)); err == nil {
		if err := json.Unmarshal(b, &r.Timings); err != nil {
			return nil, fmt.Errorf("run %s: %s: %w", dir, runstore.TimingsFile, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}

	// A resumed run may repeat a snapshot or update; the last one stands.
	r.Topology, err = summary.ReadTopology(filepath.Join(dir, summary.TopologyFile))
	r.Topology = summary.LatestTopology(r.Topology)
	if errors.Is(err, fs.ErrNotExist) {
		r.Notes = append(r.Notes, "no "+summary.TopologyFile+": no topology snapshot was taken")
	} else if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	r.Scalars, err = summary.ReadScalars(filepath.Join(dir, summary.ScalarsFile))
	r.Scalars = summary.LatestScalars(r.Scalars)
	if errors.Is(err, fs.ErrNotExist) {
		r.Notes = append(r.Notes, "no "+summary.ScalarsFile+": no update finished")
	} else if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	return r, nil
}

func (r *run) data() plots.RunData {
	return plots.RunData{Name: r.Name, Topology: r.Topology, Scalars: r.Scalars}
}

// steps is the last environment step the run logged.
func (r *run) steps() int {
	s := 0
	for _, x := range r.Scalars {
		s = max(s, x.Step)
	}
	for _, x := range r.Topology {
		s = max(s, x.Step)
	}
	return s
}

// finalReturn is the run's final return as its log printed it: the mean
// return of its last 100 episodes (summary.FinalReturn).
func (r *run) finalReturn() (float64, bool) {
	return summary.FinalReturn(r.Scalars)
}

// at returns the topology records of one snapshot in cloud order (input
// first, then by net and layer).
func (r *run) at(step int) []summary.TopologyRecord {
	var out []summary.TopologyRecord
	for _, x := range r.Topology {
		if x.Step == step {
			out = append(out, x)
		}
	}
	nets := plots.Nets(out)
	rank := map[string]int{summary.NetInput: -1}
	for i, n := range nets {
		rank[n] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		if rank[out[i].Net] != rank[out[j].Net] {
			return rank[out[i].Net] < rank[out[j].Net]
		}
		return out[i].Layer < out[j].Layer
	})
	return out
}
