package matio

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// MaxRipserSparsePoints bounds the points of a file read as edges: only
// per-point arrays grow with it, not an n x n matrix.
var MaxRipserSparsePoints = 1 << 26

// RipserEdges is a ripser file read as a sparse distance matrix.
type RipserEdges struct {
	Edges sdk.Edges
	// Enclosing is the enclosing radius (the smallest over points of the
	// largest distance to the others), +Inf when some pair is absent or
	// the format does not let it be found while reading (upper-distance).
	Enclosing float64
}

// ReadRipserEdgesFile is ReadRipserEdges on the file at path; errors
// name the file.
func ReadRipserEdgesFile(path, format string, threshold float64) (RipserEdges, error) {
	f, err := os.Open(path)
	if err != nil {
		return RipserEdges{}, err
	}
	defer f.Close()
	in, err := ReadRipserEdges(f, format, threshold)
	if err != nil {
		return RipserEdges{}, fmt.Errorf("%s: %s: %v", path, format, err)
	}
	return in, nil
}

// ReadRipserEdges reads a distance file in ripser's format without
// building its n x n matrix: a sparse file's pairs as they are (with
// threshold > 0, only those within it), or the pairs of a distance,
// lower-distance or upper-distance file within threshold, which must
// then be > 0. Pairs are compared with the threshold in float32, the
// precision the engines filter in, so no pair one of them would take is
// dropped. A pair a sparse file gives twice must have one value.
func ReadRipserEdges(r io.Reader, format string, threshold float64) (RipserEdges, error) {
	t32 := float32(math.Inf(1))
	if threshold > 0 && !math.IsInf(threshold, 1) {
		t32 = float32(threshold)
	}
	switch format {
	case RipserSparse:
		return readSparseEdges(r, t32)
	case RipserLower, RipserUpper, RipserDistance:
		if math.IsInf(float64(t32), 1) {
			return RipserEdges{}, fmt.Errorf("a %s file is read as edges only below a threshold", format)
		}
		if format == RipserDistance {
			return readFullEdges(r, t32)
		}
		return readTriangleEdges(r, format == RipserLower, t32)
	}
	return RipserEdges{}, fmt.Errorf("format %q cannot be read as edges: want sparse, distance, lower-distance or upper-distance", format)
}

// keyed is one pair with its vertices ordered, for sorting and checks.
type keyed struct {
	key uint64 // low vertex << 32 | high vertex
	d   float64
}

func pairKey(i, j int) uint64 { return uint64(min(i, j))<<32 | uint64(max(i, j)) }

func readSparseEdges(r io.Reader, t32 float32) (RipserEdges, error) {
	var ps []keyed
	n := 0
	err := scanLines(r, func(toks []string, line int) error {
		i, j, d, err := sparseLine(toks, line, MaxRipserSparsePoints, "a file may hold")
		if err != nil {
			return err
		}
		ij := [2]int{i, j}
		n = max(n, ij[0]+1, ij[1]+1)
		if ij[0] != ij[1] && float32(d) <= t32 {
			ps = append(ps, keyed{pairKey(ij[0], ij[1]), d})
		}
		return nil
	})
	if err != nil {
		return RipserEdges{}, err
	}
	if n == 0 {
		return RipserEdges{}, fmt.Errorf("no edges")
	}
	slices.SortStableFunc(ps, func(a, b keyed) int {
		if a.key < b.key {
			return -1
		}
		if a.key > b.key {
			return 1
		}
		return 0
	})
	out := RipserEdges{Edges: sdk.Edges{N: n}, Enclosing: math.Inf(1)}
	for k, p := range ps {
		if k > 0 && ps[k-1].key == p.key {
			if ps[k-1].d != p.d {
				return RipserEdges{}, fmt.Errorf("edge %d %d given twice, as %v and %v", p.key>>32, uint32(p.key), ps[k-1].d, p.d)
			}
			continue
		}
		out.Edges.I = append(out.Edges.I, int32(p.key>>32))
		out.Edges.J = append(out.Edges.J, int32(uint32(p.key)))
		out.Edges.D = append(out.Edges.D, p.d)
	}
	if 2*len(out.Edges.D) == n*(n-1) {
		out.Enclosing = enclosingOf(out.Edges)
	}
	return out, nil
}

// enclosingOf is the enclosing radius of a complete edge list.
func enclosingOf(e sdk.Edges) float64 {
	far := make([]float64, e.N)
	for k, d := range e.D {
		far[e.I[k]] = max(far[e.I[k]], d)
		far[e.J[k]] = max(far[e.J[k]], d)
	}
	return slices.Min(far)
}

// readTriangleEdges reads a strict lower or upper triangle, keeping the
// pairs within t32. A lower triangle's position k is (i, j) as it comes;
// an upper one's needs n, known only at the end, so its kept positions
// are placed then.
func readTriangleEdges(r io.Reader, lower bool, t32 float32) (RipserEdges, error) {
	var e sdk.Edges
	var far []float64 // lower: each point's largest distance so far
	var pos []int64   // upper: the kept values' positions
	i, j := 1, 0      // lower: the pair of the next value
	count := int64(0)
	limit := int64(MaxRipserSparsePoints) * int64(MaxRipserSparsePoints-1) / 2
	err := scanLines(r, func(toks []string, line int) error {
		for _, tok := range toks {
			v, err := number(tok, line)
			if err != nil {
				return err
			}
			if v < 0 {
				return fmt.Errorf("line %d: negative distance %v", line, v)
			}
			if count >= limit {
				return fmt.Errorf("line %d: more than %d values (%d points)", line, limit, MaxRipserSparsePoints)
			}
			keep := float32(v) <= t32
			if lower {
				if j == 0 {
					if i == 1 {
						far = append(far, 0)
					}
					far = append(far, 0)
				}
				far[i], far[j] = max(far[i], v), max(far[j], v)
				if keep {
					e.I, e.J, e.D = append(e.I, int32(i)), append(e.J, int32(j)), append(e.D, v)
				}
				if j++; j == i {
					i, j = i+1, 0
				}
			} else if keep {
				pos, e.D = append(pos, count), append(e.D, v)
			}
			count++
		}
		return nil
	})
	if err != nil {
		return RipserEdges{}, err
	}
	if count == 0 {
		return RipserEdges{}, fmt.Errorf("no distances: a triangle of n points has n(n-1)/2 values")
	}
	n := int((1 + math.Sqrt(1+8*float64(count))) / 2)
	for int64(n)*int64(n-1)/2 > count {
		n--
	}
	for int64(n+1)*int64(n)/2 <= count {
		n++
	}
	if int64(n)*int64(n-1)/2 != count {
		return RipserEdges{}, fmt.Errorf("%d values are not a triangle: %d points need %d, %d points %d", count, n, n*(n-1)/2, n+1, (n+1)*n/2)
	}
	e.N = n
	out := RipserEdges{Enclosing: math.Inf(1)}
	if lower {
		out.Enclosing = slices.Min(far)
	} else {
		// Walk the positions in order: row a of the upper triangle holds
		// d(a, a+1..n-1).
		e.I, e.J = make([]int32, len(pos)), make([]int32, len(pos))
		a, start := 0, int64(0) // row a starts at position start
		for k, p := range pos {
			for p >= start+int64(n-1-a) {
				start += int64(n - 1 - a)
				a++
			}
			e.I[k], e.J[k] = int32(a), int32(a+1+int(p-start))
		}
	}
	out.Edges = e
	return out, nil
}

// readFullEdges reads a full matrix, one row per line, keeping the pairs
// within t32. Both halves are read; a pair must come twice with values
// that agree as ValidateDistances wants, and the diagonal must be zero.
func readFullEdges(r io.Reader, t32 float32) (RipserEdges, error) {
	var ps []keyed
	n, row := 0, 0
	enc := math.Inf(1)
	err := scanLines(r, func(toks []string, line int) error {
		if row == 0 {
			n = len(toks)
			if n > MaxRipserSparsePoints {
				return fmt.Errorf("line %d: more than %d values in a row", line, MaxRipserSparsePoints)
			}
		} else if len(toks) != n {
			return fmt.Errorf("line %d: row has %d values, the first row has %d", line, len(toks), n)
		}
		if row >= n {
			return fmt.Errorf("line %d: more rows than the %d values of a row: a distance matrix is square", line, n)
		}
		far := 0.0
		for j, tok := range toks {
			v, err := number(tok, line)
			if err != nil {
				return err
			}
			switch {
			case j == row && v != 0:
				return fmt.Errorf("line %d: diagonal (%d,%d) is %v, want 0", line, row, row, v)
			case v < 0:
				return fmt.Errorf("line %d: distance (%d,%d) is negative: %v", line, row, j, v)
			}
			far = max(far, v)
			if j != row && float32(v) <= t32 {
				ps = append(ps, keyed{pairKey(row, j), v})
			}
		}
		enc = min(enc, far)
		row++
		return nil
	})
	if err != nil {
		return RipserEdges{}, err
	}
	if row == 0 {
		return RipserEdges{}, fmt.Errorf("no rows")
	}
	if row != n {
		return RipserEdges{}, fmt.Errorf("%d rows of %d values: a distance matrix is square", row, n)
	}
	// Stable: of a pair's two values, the lower triangle's comes second.
	slices.SortStableFunc(ps, func(a, b keyed) int {
		if a.key < b.key {
			return -1
		}
		if a.key > b.key {
			return 1
		}
		return 0
	})
	out := RipserEdges{Edges: sdk.Edges{N: n}, Enclosing: enc}
	for k := 0; k < len(ps); k++ {
		p := ps[k]
		a, b := int(p.key>>32), int(uint32(p.key))
		if k+1 == len(ps) || ps[k+1].key != p.key {
			return RipserEdges{}, fmt.Errorf("distance matrix is not symmetric: (%d,%d) is within the threshold and (%d,%d) is not", a, b, b, a)
		}
		q := ps[k+1]
		if math.Abs(p.d-q.d) > 1e-9*math.Max(p.d, q.d) {
			return RipserEdges{}, fmt.Errorf("distance matrix is not symmetric: (%d,%d) and (%d,%d) are %v and %v", a, b, b, a, p.d, q.d)
		}
		// The lower triangle's value, as ReadRipser keeps the matrix.
		out.Edges.I, out.Edges.J, out.Edges.D = append(out.Edges.I, int32(b)), append(out.Edges.J, int32(a)), append(out.Edges.D, q.d)
		k++
	}
	return out, nil
}
