package matio

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// MaxCSVLine bounds one line of a .csv: a file without newlines (a binary
// file given by mistake) would otherwise be read whole into one string.
const MaxCSVLine = 16 << 20

// readLine reads up to and including the next '\n', refusing a line
// longer than max bytes.
func readLine(br *bufio.Reader, max int) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > max {
			return "", fmt.Errorf("longer than %d MiB: not a text matrix (no line breaks?)", max>>20)
		}
		if err != bufio.ErrBufferFull {
			return string(buf), err
		}
	}
}

// ReadCSV reads a matrix written one row per line, values separated by
// commas or, on lines without a comma, by spaces and tabs. Blank lines and
// lines starting with '#' (numpy.savetxt's header) are skipped. The first
// remaining line is a header, and skipped, if none of its fields is a
// number; a line mixing numbers and other text is an error. Every row must
// have as many values as the first; the error names the line. NaN and Inf
// (in any spelling Go's strconv.ParseFloat takes) are read as such:
// callers that need finite values check with sdk.Matrix.Validate(true).
func ReadCSV(r io.Reader) (sdk.Matrix, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var m sdk.Matrix
	first := true
	firstLine := 0
	csvChecked := 1 << 20 // values below which the budget is not asked
	for line := 1; ; line++ {
		text, err := readLine(br, MaxCSVLine)
		if err != nil && err != io.EOF {
			return sdk.Matrix{}, fmt.Errorf("line %d: %v", line, err)
		}
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // a spreadsheet's byte order mark
		}
		t := strings.TrimSpace(text)
		if t != "" && !strings.HasPrefix(t, "#") {
			fields := splitFields(t)
			if len(m.Data)+len(fields) > csvChecked {
				// Text of a few bytes a value becomes 8 bytes each (twice,
				// while the slice grows): check the budget as the matrix
				// grows, not after.
				csvChecked = max(2*csvChecked, len(m.Data)+len(fields))
				if err := sdk.CheckMemory(fmt.Sprintf("text matrix at line %d", line), 16*float64(csvChecked)); err != nil {
					return sdk.Matrix{}, fmt.Errorf("line %d: %v", line, err)
				}
			}
			vals, bad := make([]float64, len(fields)), -1
			for i, f := range fields {
				v, perr := strconv.ParseFloat(strings.TrimSpace(f), 64)
				if perr != nil && bad < 0 {
					bad = i
				}
				vals[i] = v
			}
			switch {
			case bad >= 0 && first && allText(fields):
				// The header: column names.
			case bad >= 0:
				return sdk.Matrix{}, fmt.Errorf("line %d: field %d %q is not a number", line, bad+1, strings.TrimSpace(fields[bad]))
			case m.Rows == 0:
				m.Cols = len(vals)
				m.Data = append(m.Data, vals...)
				m.Rows = 1
				firstLine = line
			case len(vals) != m.Cols:
				return sdk.Matrix{}, fmt.Errorf("line %d has %d values, line %d has %d", line, len(vals), firstLine, m.Cols)
			default:
				m.Data = append(m.Data, vals...)
				m.Rows++
			}
			first = false
		}
		if err == io.EOF {
			break
		}
	}
	if m.Rows == 0 {
		return sdk.Matrix{}, fmt.Errorf("no rows of numbers")
	}
	return m, nil
}

func splitFields(t string) []string {
	if strings.Contains(t, ",") {
		return strings.Split(t, ",")
	}
	return strings.Fields(t)
}

func allText(fields []string) bool {
	for _, f := range fields {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err == nil {
			return false
		}
	}
	return true
}

// WriteCSV writes m one row per line, comma separated, each value in the
// shortest form that reads back to the same float64 (NaN, +Inf and -Inf
// spelled so). There is no header line.
func WriteCSV(w io.Writer, m sdk.Matrix) error {
	if err := m.Validate(false); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var buf []byte
	for i := 0; i < m.Rows; i++ {
		buf = buf[:0]
		for j, v := range m.Row(i) {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
