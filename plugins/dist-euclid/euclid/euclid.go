// Package euclid computes full pairwise Euclidean distance matrices and
// serves them as the "euclid" distance plugin.
//
// Each distance is the square root of the summed squared coordinate
// differences, computed from the differences themselves rather than with
// the |x|^2+|y|^2-2<x,y> expansion: the expansion cancels catastrophically
// for nearby points far from the origin (it can even go negative), and
// persistent homology is most sensitive exactly to the small distances.
// The result is exactly symmetric (each pair is computed once and
// mirrored) with an exact zero diagonal.
package euclid

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Version is the plugin's own semantic version.
const Version = "0.1.0"

// CheckPoints reports whether points is a usable point cloud: its shape
// matches its data, it has at least one point and one coordinate, and every
// coordinate is finite. The error names the first bad coordinate.
func CheckPoints(points sdk.Matrix) error {
	if err := points.Validate(false); err != nil {
		return fmt.Errorf("points: %v", err)
	}
	if points.Rows < 1 || points.Cols < 1 {
		return fmt.Errorf("points: empty point cloud (%dx%d)", points.Rows, points.Cols)
	}
	for k, v := range points.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("points: coordinate %d of point %d is %v", k%points.Cols, k/points.Cols, v)
		}
		if math.Abs(v) > MaxCoordinate {
			return fmt.Errorf("points: coordinate %d of point %d is %g, beyond +-%g, where squared distances overflow to +Inf; scale the data", k%points.Cols, k/points.Cols, v, MaxCoordinate)
		}
	}
	return nil
}

// MaxCoordinate bounds the magnitude of a coordinate: with it, a squared
// difference is at most 4e300, and summed over any number of columns a
// float64 holds (points of 1e300 gave +Inf distances).
const MaxCoordinate = 1e150

// Matrix returns the n x n Euclidean distance matrix of the rows of
// points. It checks points with CheckPoints first.
func Matrix(points sdk.Matrix) (sdk.Matrix, error) {
	return matrix(context.Background(), points)
}

func matrix(ctx context.Context, points sdk.Matrix) (sdk.Matrix, error) {
	if err := CheckPoints(points); err != nil {
		return sdk.Matrix{}, err
	}
	n, d := points.Rows, points.Cols
	out := sdk.NewMatrix(n, n)
	// Row i costs n-1-i pairs, so rows are dealt out round-robin to keep
	// the workers' shares of the triangle even. Every element is written by
	// exactly one worker from inputs alone: the result does not depend on
	// scheduling.
	workers := Workers(n * n * d / 2)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if ctx.Err() != nil {
					return
				}
				xi := points.Data[i*d : (i+1)*d]
				for j := i + 1; j < n; j++ {
					xj := points.Data[j*d : (j+1)*d]
					var s float64
					for k, v := range xi {
						t := v - xj[k]
						s += t * t
					}
					r := math.Sqrt(s)
					out.Data[i*n+j] = r
					out.Data[j*n+i] = r
				}
			}
		}(w)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return sdk.Matrix{}, err
	}
	return out, nil
}

// Workers returns how many goroutines a job of about work inner-loop steps
// deserves: one for small jobs, where starting goroutines costs more than
// it saves, else GOMAXPROCS.
func Workers(work int) int {
	if work < 1<<16 {
		return 1
	}
	return max(1, runtime.GOMAXPROCS(0))
}

// Plugin is the "euclid" distance plugin. It takes no parameters.
type Plugin struct{}

var _ sdk.Distance = Plugin{}

// Describe reports the plugin's name, kind and versions.
func (Plugin) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "euclid",
		Kind:         sdk.KindDist,
		Version:      Version,
		Protocol:     sdk.ProtocolVersion,
		Description:  "Euclidean distance matrix of a point cloud",
		Capabilities: map[string]string{sdk.CapMetric: "true"},
	}, nil
}

// Compute returns the Euclidean distance matrix of points with
// Components = 1. Any parameter is an error: silently ignoring, say, a "k"
// meant for the geodesic metric would hide a mistake.
func (Plugin) Compute(ctx context.Context, points sdk.Matrix, params map[string]string) (sdk.DistanceResult, error) {
	if len(params) > 0 {
		keys := make([]string, 0, len(params))
		for k := range params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return sdk.DistanceResult{}, fmt.Errorf("euclid: takes no parameters, got %s", strings.Join(keys, ", "))
	}
	// The result and its gRPC message: checked before allocating either.
	if err := sdk.CheckSquare("euclid", points.Rows, 2); err != nil {
		return sdk.DistanceResult{}, err
	}
	d, err := matrix(ctx, points)
	if err != nil {
		return sdk.DistanceResult{}, fmt.Errorf("euclid: %w", err)
	}
	return sdk.DistanceResult{Distances: d, Components: 1}, nil
}
