package ripserbin

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// Ripser prints values with C++'s default six significant digits, too few
// to tell close distances apart. So it is never shown the distances:
// each distance is replaced by a code that keeps their order (ties and
// zeros included) and that six digits print exactly. A Rips filtration
// only compares distances, so the pairs are the same, and each printed
// code decodes to the caller's own distance.
//
// Distances are ranked as float32, the precision ripser computes in, so
// distances that round to the same float32 are one filtration value as in
// ripser and a pair between them is omitted as zero-length. Such a class
// is reported as its smallest float64 member.
//
// The code of rank r is the r-th six-digit decimal mantissa
// 100000..999999 (900,000 of them) in decade r/900,000, counted from
// 10^-42 so that the 75 decades up to 10^32 all stay normal float32s:
// (100000 + r%900000) * 10^(r/900000 - 42). Zero stays zero. That is
// room for 67.5 million distinct distances, about 11,600 points.

const (
	perDecade = 900000
	minExp    = -42
	maxRanks  = 75 * perDecade
)

// code returns the float32 ripser is given for rank r < maxRanks.
func code(r int) float32 {
	return float32(float64(100000+r%perDecade) * math.Pow10(r/perDecade+minExp))
}

// rank inverts code for a value as ripser printed it.
func rank(v float64) (int, bool) {
	if !(v > 0) || math.IsInf(v, 0) {
		return 0, false
	}
	k := int(math.Floor(math.Log10(v)+1e-9)) - 5
	m := math.Round(v / math.Pow10(k))
	if m >= 1e6 { // Log10 a hair under a power of ten
		k++
		m = math.Round(v / math.Pow10(k))
	}
	if m < 100000 || m > 999999 || k < minExp {
		return 0, false
	}
	r := (k-minExp)*perDecade + int(m) - 100000
	return r, r < maxRanks
}

// encoding holds the codes of one distance matrix.
type encoding struct {
	codes []float32 // strict lower triangle, row by row, or one per edge
	rep   []float64 // rep[r]: the distance reported for rank r
	bits  []uint32  // bits[r]: the float32 bits of rank r
}

// newEncoding ranks the strict lower triangle of the valid matrix d.
func newEncoding(d sdk.Matrix) (*encoding, error) {
	n := d.Rows
	vals := make([]float64, 0, n*(n-1)/2)
	for i := 1; i < n; i++ {
		vals = append(vals, d.Data[i*n:i*n+i]...)
	}
	return encodeValues(vals)
}

// encodeValues ranks vals (non-negative, finite); codes[k] is the code of
// vals[k].
func encodeValues(vals []float64) (*encoding, error) {
	m := len(vals)
	// key: float32 bits above, position below. Non-negative float32s sort
	// as their bits do.
	keys := make([]uint64, m)
	for k, v := range vals {
		keys[k] = uint64(math.Float32bits(float32(v)))<<32 | uint64(k)
	}
	radixSortHigh32(keys)
	e := &encoding{codes: make([]float32, m)}
	for _, k := range keys {
		b, pos := uint32(k>>32), int(uint32(k))
		if b == 0 {
			continue // zero stays zero
		}
		if len(e.bits) == 0 || e.bits[len(e.bits)-1] != b {
			e.bits = append(e.bits, b)
			e.rep = append(e.rep, vals[pos])
		}
		r := len(e.bits) - 1
		if r >= maxRanks {
			return nil, fmt.Errorf("ripser: more than %d distinct distances, more than six printed digits can tell apart", maxRanks)
		}
		e.rep[r] = min(e.rep[r], vals[pos])
		e.codes[pos] = code(r)
	}
	return e, nil
}

// radixSortHigh32 sorts keys by their upper 32 bits, stably.
func radixSortHigh32(keys []uint64) {
	tmp := make([]uint64, len(keys))
	src, dst := keys, tmp
	for shift := 32; shift < 64; shift += 8 {
		var count [257]int
		for _, k := range src {
			count[(k>>shift)&0xff+1]++
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, k := range src {
			b := (k >> shift) & 0xff
			dst[count[b]] = k
			count[b]++
		}
		src, dst = dst, src
	}
	// Four passes leave the result back in keys.
}

// threshold returns the code of the largest filtration value <= t.
func (e *encoding) threshold(t float64) float32 {
	tb := math.Float32bits(float32(t))
	lo, hi := 0, len(e.bits) // first rank whose bits exceed tb
	for lo < hi {
		mid := (lo + hi) / 2
		if e.bits[mid] <= tb {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return 0
	}
	return code(lo - 1)
}

// decode turns a printed value back into the caller's distance.
func (e *encoding) decode(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed value %q", s)
	}
	if v == 0 {
		return 0, nil
	}
	r, ok := rank(v)
	if !ok || r >= len(e.rep) {
		return 0, fmt.Errorf("value %q is not a distance code", s)
	}
	return e.rep[r], nil
}

// writeBinary writes the codes in ripser's binary format: the strict
// lower triangle, row by row, as little-endian float32.
//
// ripser 1.2.1 reads until end of file and appends one extra 0 for the
// read that hits it, so the stream must end one value short of a
// triangle. A copy of the last point fills it: its row repeats the last
// point's distances and the appended 0 is its distance to that point. A
// duplicate point changes no homology; it only adds a zero-length H0 pair,
// which ripser does not print.
func (e *encoding) writeBinary(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var b [4]byte
	put := func(vs []float32) error {
		for _, v := range vs {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			if _, err := bw.Write(b[:]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := put(e.codes); err != nil {
		return err
	}
	if err := put(e.codes[len(e.codes)-(n-1):]); err != nil {
		return err
	}
	return bw.Flush()
}

// writeSparse writes the pairs of e in ripser's sparse text format, each
// distance replaced by its code (codes[k] for pair k); keep[k] false
// leaves pair k out.
func (enc *encoding) writeSparse(w io.Writer, e *sdk.Edges, keep []bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var b []byte
	for k := range e.D {
		if !keep[k] {
			continue
		}
		b = strconv.AppendInt(b[:0], int64(e.I[k]), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(e.J[k]), 10)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, float64(enc.codes[k]), 'g', -1, 32)
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ParseOutput reads ripser's standard output: header lines, then for each
// dimension k a line "persistence intervals in dim k:" followed by
// " [b,d)" lines, or " [b, )" for an essential class. decode turns a
// printed number into the value to report. It stops at the header of a
// dimension above maxDim and then reports early = true.
func ParseOutput(r io.Reader, maxDim int, decode func(string) (float64, error)) ([]sdk.Diagram, error) {
	ds, _, err := parseOutput(r, maxDim, decode)
	return ds, err
}

func parseOutput(r io.Reader, maxDim int, decode func(string) (float64, error)) (out []sdk.Diagram, early bool, err error) {
	out = make([]sdk.Diagram, maxDim+1)
	for k := range out {
		out[k].Dim = k
	}
	dim := -1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(s, "persistence intervals in dim "); ok {
			k, err := strconv.Atoi(strings.TrimSuffix(rest, ":"))
			if err != nil || k < 0 {
				return nil, false, fmt.Errorf("line %d: unexpected dimension header %q", line, s)
			}
			if k > maxDim {
				return out, true, nil
			}
			dim = k
			continue
		}
		if !strings.HasPrefix(s, "[") {
			continue // header lines: value range, matrix size
		}
		if dim < 0 {
			return nil, false, fmt.Errorf("line %d: interval %q before any dimension header", line, s)
		}
		bs, ds, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(s, "["), ")"), ",")
		if !ok {
			return nil, false, fmt.Errorf("line %d: malformed interval %q", line, s)
		}
		birth, err := decode(strings.TrimSpace(bs))
		if err != nil {
			return nil, false, fmt.Errorf("line %d: birth: %v", line, err)
		}
		death := math.Inf(1)
		if ds = strings.TrimSpace(ds); ds != "" {
			if death, err = decode(ds); err != nil {
				return nil, false, fmt.Errorf("line %d: death: %v", line, err)
			}
		}
		out[dim].Pairs = append(out[dim].Pairs, [2]float64{birth, death})
	}
	if err := sc.Err(); err != nil {
		return nil, false, err
	}
	return out, false, nil
}
