package phbench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/matio"
	"github.com/neuraltopology/neuraltopology/core/workloads"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// WorkloadInputs returns the distance matrices of a named benchmark
// workload (W1, W2, W3, or the suite of standard datasets "suite" and
// its small rows "suite-quick", see core/workloads). The suite's inputs
// carry their own dimension and threshold, shown in their names. geo
// computes the geodesic rows' distances.
func WorkloadInputs(name string, seed int64, geo workloads.Geodesic) ([]Input, error) {
	ws, err := workloads.Generate(name, seed, geo)
	if err != nil {
		return nil, fmt.Errorf("phbench: %w", err)
	}
	suite := slices.Contains(workloads.SuiteNames, name)
	out := make([]Input, len(ws))
	for i, w := range ws {
		out[i] = Input{Name: w.Name, Distances: w.Distances}
		if suite {
			out[i].Name = fmt.Sprintf("%s dim%d", w.Name, w.MaxDim)
			out[i].Own, out[i].MaxDim, out[i].Threshold = true, w.MaxDim, w.Threshold
		}
	}
	return out, nil
}

// PointsInput reads a point cloud (one point per row, .csv/.txt/.npy)
// and returns its Euclidean distance matrix, named after the file.
func PointsInput(path string) (Input, error) {
	m, err := matio.Read(path)
	if err != nil {
		return Input{}, fmt.Errorf("phbench: points %s: %w", path, err)
	}
	d, err := Euclidean(m)
	if err != nil {
		return Input{}, fmt.Errorf("phbench: points %s: %w", path, err)
	}
	return Input{Name: filepath.Base(path), Distances: d}, nil
}

// DistancesInput reads a square distance matrix (.csv/.txt/.npy).
func DistancesInput(path string) (Input, error) {
	m, err := matio.Read(path)
	if err != nil {
		return Input{}, fmt.Errorf("phbench: distances %s: %w", path, err)
	}
	if m.Rows != m.Cols {
		return Input{}, fmt.Errorf("phbench: distances %s: matrix is %dx%d, not square", path, m.Rows, m.Cols)
	}
	return Input{Name: filepath.Base(path), Distances: m}, nil
}

// RunDirInputs reads the point clouds a training run saved, laid out as
// RUN_DIR/clouds/step_<N>/<cloud>.npz, in step order, and returns their
// Euclidean distance matrices named "step_<N>/<cloud>". Each archive
// holds one array, or one named "points".
func RunDirInputs(runDir string) ([]Input, error) {
	clouds, err := RunDirClouds(runDir)
	if err != nil {
		return nil, err
	}
	out := make([]Input, 0, len(clouds))
	for _, c := range clouds {
		d, err := Euclidean(c.Points)
		if err != nil {
			return nil, fmt.Errorf("phbench: %s: %w", c.Name, err)
		}
		out = append(out, Input{Name: c.Name, Distances: d})
	}
	return out, nil
}

// Cloud is a saved point cloud of a run, named "step_<N>/<cloud>".
type Cloud struct {
	Name   string
	Points sdk.Matrix
}

// RunDirClouds reads the point clouds a training run saved (see
// RunDirInputs), in step order, for callers that compute their own
// distances (the run's metric rather than the Euclidean one).
func RunDirClouds(runDir string) ([]Cloud, error) {
	root := filepath.Join(runDir, "clouds")
	steps, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("phbench: run %s: %w", runDir, err)
	}
	type stepDir struct {
		n    int
		name string
	}
	var dirs []stepDir
	for _, s := range steps {
		num, ok := strings.CutPrefix(s.Name(), "step_")
		n, err := strconv.Atoi(num)
		if s.IsDir() && ok && err == nil {
			dirs = append(dirs, stepDir{n, s.Name()})
		}
	}
	slices.SortFunc(dirs, func(a, b stepDir) int { return a.n - b.n })
	var out []Cloud
	for _, s := range dirs {
		files, err := filepath.Glob(filepath.Join(root, s.name, "*.npz"))
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		for _, f := range files {
			pts, err := cloudOf(f)
			if err != nil {
				return nil, err
			}
			out = append(out, Cloud{Name: s.name + "/" + strings.TrimSuffix(filepath.Base(f), ".npz"), Points: pts})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("phbench: run %s has no clouds/step_<N>/<cloud>.npz files", runDir)
	}
	return out, nil
}

func cloudOf(path string) (sdk.Matrix, error) {
	arrays, err := matio.ReadNPZ(path)
	if err != nil {
		return sdk.Matrix{}, fmt.Errorf("phbench: %w", err)
	}
	if len(arrays) == 1 {
		return arrays[0].Matrix, nil
	}
	var names []string
	for _, a := range arrays {
		if a.Name == "points" {
			return a.Matrix, nil
		}
		names = append(names, a.Name)
	}
	return sdk.Matrix{}, fmt.Errorf("phbench: %s holds arrays %v; want one array or one named \"points\"", path, names)
}

// Euclidean returns the Euclidean distance matrix of the rows of pts
// (dist-euclid's computation).
func Euclidean(pts sdk.Matrix) (sdk.Matrix, error) { return workloads.Euclidean(pts) }
