package matio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// npyMagic opens every .npy file.
const npyMagic = "\x93NUMPY"

// maxHeader bounds the header a reader will hold in memory; numpy's own
// headers for 2-D arrays are a few dozen bytes.
const maxHeader = 1 << 20

// WriteNPY writes m as a 2-D little-endian float64 ('<f8') C-order array in
// .npy format version 1.0, padded as numpy pads it so that the data starts
// on a 64-byte boundary.
func WriteNPY(w io.Writer, m sdk.Matrix) error {
	if err := m.Validate(false); err != nil {
		return err
	}
	dict := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }", m.Rows, m.Cols)
	// magic(6) + version(2) + length(2) + dict + padding + '\n'.
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(npyMagic)
	bw.Write([]byte{1, 0})
	binary.Write(bw, binary.LittleEndian, uint16(len(hdr)))
	bw.WriteString(hdr)
	var buf [8]byte
	for _, v := range m.Data {
		binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
		if _, err := bw.Write(buf[:]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadNPY reads one array in .npy format (versions 1.0 and 2.0) from r
// and returns it as a float64 matrix. It reads exactly the array's bytes,
// so several arrays can follow each other in a stream.
//
// Supported element types: float64 and float32 ('f8', 'f4'), signed and
// unsigned integers of 1, 2, 4 and 8 bytes, and booleans ('b1'), in either
// byte order. Integers beyond 2^53 lose precision as float64. Both C and
// Fortran order are read. Shapes: a 2-D (r, c) array is r x c; a 1-D (n,)
// array is n x 1 (a column: n points of one coordinate); a 0-D scalar is
// 1 x 1. Anything else (structured, complex, string or object dtypes, 3 or
// more dimensions, version 3.0) is an error saying which.
func ReadNPY(r io.Reader) (sdk.Matrix, error) { return readNPY(r, -1) }

// readNPY is ReadNPY for a source known to hold at most avail bytes
// (negative: unknown): a header whose shape needs more is refused before
// any of it is read or allocated, as is one beyond the memory budget.
func readNPY(r io.Reader, avail int64) (sdk.Matrix, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return sdk.Matrix{}, fmt.Errorf("not a .npy array: %v", shortRead(err))
	}
	if string(pre[:6]) != npyMagic {
		return sdk.Matrix{}, fmt.Errorf("not a .npy array: missing the \\x93NUMPY magic")
	}
	var hlen int
	switch major, minor := pre[6], pre[7]; {
	case major == 1 && minor == 0:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return sdk.Matrix{}, fmt.Errorf(".npy header: %v", shortRead(err))
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case major == 2 && minor == 0:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return sdk.Matrix{}, fmt.Errorf(".npy header: %v", shortRead(err))
		}
		n := binary.LittleEndian.Uint32(b[:])
		if n > maxHeader {
			return sdk.Matrix{}, fmt.Errorf(".npy header claims %d bytes, more than the %d allowed", n, maxHeader)
		}
		hlen = int(n)
	default:
		return sdk.Matrix{}, fmt.Errorf(".npy format version %d.%d is not supported (want 1.0 or 2.0)", major, minor)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return sdk.Matrix{}, fmt.Errorf(".npy header: %v", shortRead(err))
	}
	h, err := parseHeader(string(hdr))
	if err != nil {
		return sdk.Matrix{}, fmt.Errorf(".npy header %q: %v", strings.TrimSpace(string(hdr)), err)
	}
	dt, err := parseDescr(h.descr)
	if err != nil {
		return sdk.Matrix{}, err
	}
	rows, cols := 1, 1
	switch len(h.shape) {
	case 0:
	case 1:
		rows = h.shape[0]
	case 2:
		rows, cols = h.shape[0], h.shape[1]
	default:
		return sdk.Matrix{}, fmt.Errorf(".npy array has %d dimensions %v: want at most 2", len(h.shape), h.shape)
	}
	// Shapes come from the file: guard the product before trusting it.
	const limit = 1 << 40
	if rows > limit || cols > limit || (cols > 0 && rows > limit/cols) || rows*cols > limit/dt.size {
		return sdk.Matrix{}, fmt.Errorf(".npy shape %v is too large", h.shape)
	}
	count := rows * cols
	need := int64(count * dt.size)
	if avail >= 0 && need > avail {
		return sdk.Matrix{}, fmt.Errorf(".npy shape %v of %s needs %d bytes, but only %d are there", h.shape, h.descr, need, avail)
	}
	// The data as read and the float64 matrix made of it.
	if err := sdk.CheckMemory(fmt.Sprintf(".npy array of shape %v", h.shape), float64(need)+8*float64(count)); err != nil {
		return sdk.Matrix{}, err
	}
	// Grow the buffer as bytes arrive rather than trusting the header's
	// size, so a lying header cannot make us allocate what is not there.
	var buf bytes.Buffer
	got, err := buf.ReadFrom(io.LimitReader(r, need))
	if err != nil {
		return sdk.Matrix{}, fmt.Errorf(".npy data: %v", err)
	}
	if got < need {
		return sdk.Matrix{}, fmt.Errorf(".npy data truncated: shape %v of %s needs %d bytes, found %d", h.shape, h.descr, need, got)
	}
	m := sdk.NewMatrix(rows, cols)
	b := buf.Bytes()
	for k := 0; k < count; k++ {
		v := dt.decode(b[k*dt.size : (k+1)*dt.size])
		if h.fortran {
			// Column-major: element k is (k % rows, k / rows).
			m.Data[(k%rows)*cols+k/rows] = v
		} else {
			m.Data[k] = v
		}
	}
	return m, nil
}

func shortRead(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("file ends early")
	}
	return err
}

// header is the parsed dictionary of a .npy header.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader reads the Python dict literal numpy writes, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }. It accepts
// exactly the three keys numpy requires and nothing else.
func parseHeader(s string) (header, error) {
	p := &lit{s: s}
	var h header
	seen := map[string]bool{}
	if !p.eat('{') {
		return h, fmt.Errorf("want a {...} dictionary")
	}
	for {
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, fmt.Errorf("key: %v", err)
		}
		if !p.eat(':') {
			return h, fmt.Errorf("want ':' after key %q", key)
		}
		if seen[key] {
			return h, fmt.Errorf("key %q repeated", key)
		}
		seen[key] = true
		switch key {
		case "descr":
			if p.peek() == '[' {
				return h, fmt.Errorf("structured dtypes are not supported: want a plain numeric array")
			}
			if h.descr, err = p.str(); err != nil {
				return h, fmt.Errorf("descr: %v", err)
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return h, fmt.Errorf("fortran_order: want True or False")
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, fmt.Errorf("shape: %v", err)
			}
		default:
			return h, fmt.Errorf("unexpected key %q", key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return h, fmt.Errorf("want ',' or '}' after %q", key)
			}
			break
		}
	}
	p.skip()
	if p.i != len(p.s) {
		return h, fmt.Errorf("text after the dictionary")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("missing key %q", k)
		}
	}
	return h, nil
}

// lit is a cursor over a Python literal.
type lit struct {
	s string
	i int
}

func (p *lit) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *lit) peek() byte {
	p.skip()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *lit) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *lit) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *lit) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("want a quoted string")
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *lit) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("want a (...) tuple")
	}
	out := []int{}
	for {
		if p.eat(')') {
			return out, nil
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(p.s[p.i:j])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("want non-negative integers")
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' { // Python 2 long suffix
			p.i++
		}
		out = append(out, n)
		if len(out) > 32 {
			return nil, fmt.Errorf("too many dimensions")
		}
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, fmt.Errorf("want ',' or ')'")
			}
			return out, nil
		}
	}
}

// dtype decodes one element type.
type dtype struct {
	size   int
	decode func([]byte) float64
}

// parseDescr understands numpy's simple type strings: a byte order
// ('<' little, '>' big, '|' not applicable, '=' native, taken as little as
// on every platform we build for), a kind and a size in bytes.
func parseDescr(d string) (dtype, error) {
	bad := func(why string) (dtype, error) {
		return dtype{}, fmt.Errorf(".npy dtype %q is not supported (%s): want float64, float32 or an integer type", d, why)
	}
	if len(d) < 3 {
		return bad("too short")
	}
	var bo binary.ByteOrder
	switch d[0] {
	case '<', '=', '|':
		bo = binary.LittleEndian
	case '>':
		bo = binary.BigEndian
	default:
		return bad("unknown byte order")
	}
	size, err := strconv.Atoi(d[2:])
	if err != nil {
		return bad("unknown size")
	}
	if d[0] == '|' && size != 1 {
		return bad("'|' byte order needs a 1-byte type")
	}
	switch kind := d[1]; {
	case kind == 'f' && size == 8:
		return dtype{8, func(b []byte) float64 { return math.Float64frombits(bo.Uint64(b)) }}, nil
	case kind == 'f' && size == 4:
		return dtype{4, func(b []byte) float64 { return float64(math.Float32frombits(bo.Uint32(b))) }}, nil
	case kind == 'i' && size == 1:
		return dtype{1, func(b []byte) float64 { return float64(int8(b[0])) }}, nil
	case kind == 'i' && size == 2:
		return dtype{2, func(b []byte) float64 { return float64(int16(bo.Uint16(b))) }}, nil
	case kind == 'i' && size == 4:
		return dtype{4, func(b []byte) float64 { return float64(int32(bo.Uint32(b))) }}, nil
	case kind == 'i' && size == 8:
		return dtype{8, func(b []byte) float64 { return float64(int64(bo.Uint64(b))) }}, nil
	case (kind == 'u' || kind == 'b') && size == 1:
		return dtype{1, func(b []byte) float64 { return float64(b[0]) }}, nil
	case kind == 'u' && size == 2:
		return dtype{2, func(b []byte) float64 { return float64(bo.Uint16(b)) }}, nil
	case kind == 'u' && size == 4:
		return dtype{4, func(b []byte) float64 { return float64(bo.Uint32(b)) }}, nil
	case kind == 'u' && size == 8:
		return dtype{8, func(b []byte) float64 { return float64(bo.Uint64(b)) }}, nil
	}
	return bad("unknown kind or size")
}
