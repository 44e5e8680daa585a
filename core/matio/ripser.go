package matio

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// The text formats of ripser's --format option that ReadRipser reads, so
// ripser users can bring their files as they are.
const (
	// RipserDistance is a full distance matrix, one row per line.
	RipserDistance = "distance"
	// RipserLower is the strict lower triangle, row by row: d(1,0),
	// d(2,0), d(2,1), ...; values separated by commas, spaces or
	// newlines, so line breaks carry no meaning.
	RipserLower = "lower-distance"
	// RipserUpper is the strict upper triangle, row by row: d(0,1),
	// d(0,2), ..., d(1,2), ...
	RipserUpper = "upper-distance"
	// RipserSparse is one edge "i j d" per line; pairs not listed are
	// not in the complex at any scale.
	RipserSparse = "sparse"
	// RipserPoints is a point cloud, one point per line.
	RipserPoints = "point-cloud"
)

// RipserFormats lists the formats ReadRipser accepts.
var RipserFormats = []string{RipserDistance, RipserLower, RipserUpper, RipserSparse, RipserPoints}

// MaxRipserPoints bounds the number of points a file may describe: the
// matrix is held dense (n*n float64), and a sparse file's largest vertex
// index alone sets n, so one short line could otherwise ask for terabytes.
var MaxRipserPoints = 1 << 15

// RipserInput is what a file in one of ripser's formats holds.
type RipserInput struct {
	// Matrix is the n x n distance matrix, or the n x d point cloud
	// when Points is set.
	Matrix sdk.Matrix
	// Points is set for the point-cloud format.
	Points bool
	// Threshold, when positive, must bound the filtration: a sparse
	// file's missing pairs are stored as Absent, a distance above every
	// given one, and Threshold lies between the two.
	Threshold float64
	// Absent is the stand-in distance of a sparse file's missing pairs
	// (0 when none is missing).
	Absent float64
}

// ReadRipserFile reads path in the named ripser format; errors name the
// file.
func ReadRipserFile(path, format string) (RipserInput, error) {
	f, err := os.Open(path)
	if err != nil {
		return RipserInput{}, err
	}
	defer f.Close()
	in, err := ReadRipser(f, format)
	if err != nil {
		return RipserInput{}, fmt.Errorf("%s: %s: %v", path, format, err)
	}
	return in, nil
}

// ReadRipser reads r in the named ripser format. Distances must be
// finite and non-negative, full matrices symmetric with a zero diagonal;
// every error is one line naming the culprit.
func ReadRipser(r io.Reader, format string) (RipserInput, error) {
	switch format {
	case RipserDistance:
		m, err := readLines(r, "row")
		if err != nil {
			return RipserInput{}, err
		}
		if m.Rows != m.Cols {
			return RipserInput{}, fmt.Errorf("%d rows of %d values: a distance matrix is square", m.Rows, m.Cols)
		}
		if err := m.ValidateDistances(); err != nil {
			return RipserInput{}, err
		}
		return RipserInput{Matrix: m}, nil
	case RipserPoints:
		m, err := readLines(r, "point")
		if err != nil {
			return RipserInput{}, err
		}
		return RipserInput{Matrix: m, Points: true}, nil
	case RipserLower, RipserUpper:
		m, err := readTriangle(r, format == RipserLower)
		return RipserInput{Matrix: m}, err
	case RipserSparse:
		return readSparse(r)
	}
	return RipserInput{}, fmt.Errorf("unknown ripser format %q: want one of %s", format, strings.Join(RipserFormats, ", "))
}

// tokens splits a line at commas and white space; empty fields between
// two commas are skipped, as ripser skips them.
func tokens(line string) []string {
	return strings.FieldsFunc(line, func(c rune) bool {
		return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
	})
}

// number parses one finite value.
func number(tok string, line int) (float64, error) {
	v, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		return 0, fmt.Errorf("line %d: %q is not a number", line, tok)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("line %d: %q is not a finite number", line, tok)
	}
	return v, nil
}

// scanLines calls fn with the tokens of every non-blank line and its
// 1-based number.
func scanLines(r io.Reader, fn func(toks []string, line int) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		text, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("line %d: %v", line, err)
		}
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if toks := tokens(text); len(toks) > 0 {
			if ferr := fn(toks, line); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLines reads one row per non-blank line, every row as long as the
// first; what names a row in errors.
func readLines(r io.Reader, what string) (sdk.Matrix, error) {
	var m sdk.Matrix
	first := 0
	err := scanLines(r, func(toks []string, line int) error {
		if m.Rows == 0 {
			m.Cols, first = len(toks), line
		} else if len(toks) != m.Cols {
			return fmt.Errorf("line %d: %s has %d values, line %d has %d", line, what, len(toks), first, m.Cols)
		}
		if m.Rows >= MaxRipserPoints {
			return fmt.Errorf("line %d: more than %d %ss", line, MaxRipserPoints, what)
		}
		for _, t := range toks {
			v, err := number(t, line)
			if err != nil {
				return err
			}
			m.Data = append(m.Data, v)
		}
		m.Rows++
		return nil
	})
	if err != nil {
		return sdk.Matrix{}, err
	}
	if m.Rows == 0 {
		return sdk.Matrix{}, fmt.Errorf("no %ss", what)
	}
	return m, nil
}

// readTriangle reads a strict lower (or upper) triangle, row by row.
func readTriangle(r io.Reader, lower bool) (sdk.Matrix, error) {
	var vals []float64
	limit := MaxRipserPoints * (MaxRipserPoints - 1) / 2
	err := scanLines(r, func(toks []string, line int) error {
		for _, t := range toks {
			v, err := number(t, line)
			if err != nil {
				return err
			}
			if v < 0 {
				return fmt.Errorf("line %d: negative distance %v", line, v)
			}
			if len(vals) >= limit {
				return fmt.Errorf("line %d: more than %d values (%d points)", line, limit, MaxRipserPoints)
			}
			vals = append(vals, v)
		}
		return nil
	})
	if err != nil {
		return sdk.Matrix{}, err
	}
	if len(vals) == 0 {
		return sdk.Matrix{}, fmt.Errorf("no distances: a triangle of n points has n(n-1)/2 values")
	}
	n := int((1 + math.Sqrt(1+8*float64(len(vals)))) / 2)
	for n*(n-1)/2 > len(vals) {
		n--
	}
	for (n+1)*n/2 <= len(vals) {
		n++
	}
	if n*(n-1)/2 != len(vals) {
		return sdk.Matrix{}, fmt.Errorf("%d values are not a triangle: %d points need %d, %d points %d", len(vals), n, n*(n-1)/2, n+1, (n+1)*n/2)
	}
	m := sdk.NewMatrix(n, n)
	k := 0
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			// Lower: row i holds d(i,0..i-1). Upper, read column-wise
			// here: d(j,i) for i > j comes at position (row j, ...).
			var v float64
			if lower {
				v = vals[k]
				k++
			} else {
				v = vals[upperPos(j, i, n)]
			}
			m.Data[i*n+j], m.Data[j*n+i] = v, v
		}
	}
	return m, nil
}

// upperPos is the position of d(i,j), i < j, in a strict upper triangle
// of n points written row by row.
func upperPos(i, j, n int) int {
	return i*(2*n-i-1)/2 + (j - i - 1)
}

// sparseLine parses one "i j d" line of a sparse file: two vertices
// below limit (the error says the limit is what "what" may hold) and a
// non-negative distance.
func sparseLine(toks []string, line, limit int, what string) (i, j int, d float64, err error) {
	if len(toks) != 3 {
		return 0, 0, 0, fmt.Errorf("line %d: %d fields, want \"i j distance\"", line, len(toks))
	}
	var ij [2]int
	for k := range ij {
		v, err := strconv.Atoi(toks[k])
		if err != nil || v < 0 {
			return 0, 0, 0, fmt.Errorf("line %d: vertex %q is not a non-negative integer", line, toks[k])
		}
		if v >= limit {
			return 0, 0, 0, fmt.Errorf("line %d: vertex %d is beyond the %d points %s", line, v, limit, what)
		}
		ij[k] = v
	}
	d, err = number(toks[2], line)
	if err != nil {
		return 0, 0, 0, err
	}
	if d < 0 {
		return 0, 0, 0, fmt.Errorf("line %d: negative distance %v", line, d)
	}
	return ij[0], ij[1], d, nil
}

// readSparse reads "i j d" lines. Lines with i == j are skipped, as
// ripser skips them; an edge given twice must have one value.
func readSparse(r io.Reader) (RipserInput, error) {
	type edge struct {
		i, j int
		d    float64
	}
	var edges []edge
	n := 0
	err := scanLines(r, func(toks []string, line int) error {
		i, j, d, err := sparseLine(toks, line, MaxRipserPoints, "a dense matrix here may hold")
		if err != nil {
			return err
		}
		ij := [2]int{i, j}
		if d > math.MaxFloat32/4 {
			return fmt.Errorf("line %d: distance %v is beyond float32 range", line, d)
		}
		n = max(n, ij[0]+1, ij[1]+1)
		if ij[0] != ij[1] {
			edges = append(edges, edge{ij[0], ij[1], d})
		}
		return nil
	})
	if err != nil {
		return RipserInput{}, err
	}
	if n == 0 {
		return RipserInput{}, fmt.Errorf("no edges")
	}
	m := sdk.NewMatrix(n, n)
	given := make([]bool, n*n)
	top := 0.0
	for _, e := range edges {
		at := e.i*n + e.j
		if given[at] && m.Data[at] != e.d {
			return RipserInput{}, fmt.Errorf("edge %d %d given twice, as %v and %v", e.i, e.j, m.Data[at], e.d)
		}
		given[at], given[e.j*n+e.i] = true, true
		m.Data[at], m.Data[e.j*n+e.i] = e.d, e.d
		top = max(top, e.d)
	}
	in := RipserInput{Matrix: m}
	missing := false
	for i := 0; i < n && !missing; i++ {
		for j := 0; j < i; j++ {
			if !given[i*n+j] {
				missing = true
				break
			}
		}
	}
	if !missing {
		return in, nil
	}
	// Missing pairs get a distance above every given one and the
	// threshold goes between, so no engine ever adds those edges; both
	// survive float32 rounding (the range check above).
	in.Absent, in.Threshold = 2*top+1, 1.5*top+0.5
	for i := range n {
		for j := range n {
			if i != j && !given[i*n+j] {
				m.Data[i*n+j] = in.Absent
			}
		}
	}
	return in, nil
}

// WriteRipser writes m in the named ripser format: a distance matrix for
// the distance formats (sparse lists every pair at most threshold, all
// pairs when threshold <= 0, and ends with the diagonal line "n-1 n-1 0"
// that keeps n), a point cloud for point-cloud. Values are
// written in the shortest form that reads back exactly.
func WriteRipser(w io.Writer, format string, m sdk.Matrix, threshold float64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	n := m.Rows
	switch format {
	case RipserDistance, RipserPoints:
		for i := 0; i < m.Rows; i++ {
			for j := 0; j < m.Cols; j++ {
				if j > 0 {
					bw.WriteByte(',')
				}
				bw.WriteString(f(m.At(i, j)))
			}
			bw.WriteByte('\n')
		}
	case RipserLower:
		for i := 1; i < n; i++ {
			for j := 0; j < i; j++ {
				if j > 0 {
					bw.WriteByte(',')
				}
				bw.WriteString(f(m.At(i, j)))
			}
			bw.WriteByte('\n')
		}
	case RipserUpper:
		for i := 0; i < n-1; i++ {
			for j := i + 1; j < n; j++ {
				if j > i+1 {
					bw.WriteByte(' ')
				}
				bw.WriteString(f(m.At(i, j)))
			}
			bw.WriteByte('\n')
		}
	case RipserSparse:
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if v := m.At(i, j); threshold <= 0 || v <= threshold {
					fmt.Fprintf(bw, "%d %d %s\n", i, j, f(v))
				}
			}
		}
		// A diagonal line keeps the last point even if it has no edge.
		fmt.Fprintf(bw, "%d %d 0\n", n-1, n-1)
	default:
		return fmt.Errorf("unknown ripser format %q: want one of %s", format, strings.Join(RipserFormats, ", "))
	}
	return bw.Flush()
}
