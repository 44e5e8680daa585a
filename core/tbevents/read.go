package tbevents

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// Value is one scalar of an event.
type Value struct {
	Tag   string
	Value float32
}

// Event is the part of a tensorflow.Event this package writes.
type Event struct {
	WallTime    float64
	Step        int64
	FileVersion string
	Values      []Value
}

// Read decodes every event of an event file, checking both CRCs of each
// record. Fields other than those Event holds are skipped, so files
// written by TensorFlow read too (their other summaries come back with
// no values). A record cut short at the end - a writer still running or
// killed - ends the read without error; a bad CRC is an error naming the
// record.
func Read(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// left is what the file still holds: a forged record length is never
	// allocated beyond it.
	left := st.Size()
	r := bufio.NewReader(f)
	var out []Event
	for n := 0; ; n++ {
		var head [12]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return out, nil
			}
			return out, fmt.Errorf("%s: record %d: %w", path, n, err)
		}
		if got, want := binary.LittleEndian.Uint32(head[8:]), maskedCRC(head[:8]); got != want {
			return out, fmt.Errorf("%s: record %d: length CRC %#x, want %#x", path, n, got, want)
		}
		left -= 12
		size := binary.LittleEndian.Uint64(head[:8])
		if size > 1<<30 {
			return out, fmt.Errorf("%s: record %d: implausible length %d", path, n, size)
		}
		if int64(size)+4 > left {
			return out, nil // a record cut short, as by a writer killed mid-write
		}
		left -= int64(size) + 4
		data := make([]byte, size+4)
		if _, err := io.ReadFull(r, data); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return out, nil
			}
			return out, fmt.Errorf("%s: record %d: %w", path, n, err)
		}
		body := data[:size]
		if got, want := binary.LittleEndian.Uint32(data[size:]), maskedCRC(body); got != want {
			return out, fmt.Errorf("%s: record %d: data CRC %#x, want %#x", path, n, got, want)
		}
		ev, err := decodeEvent(body)
		if err != nil {
			return out, fmt.Errorf("%s: record %d: %w", path, n, err)
		}
		out = append(out, ev)
	}
}

// fields walks the top-level fields of a message, calling fn with each
// field's number, wire type and raw value bytes (for varints and fixed
// types, the decoded number is passed as u).
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, u uint64, raw []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad protobuf tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var u uint64
		var raw []byte
		switch typ {
		case protowire.VarintType:
			u, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			u, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			u = uint64(v)
		case protowire.BytesType:
			raw, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("bad protobuf field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, u, raw); err != nil {
			return err
		}
	}
	return nil
}

func decodeEvent(b []byte) (Event, error) {
	var ev Event
	err := fields(b, func(num protowire.Number, typ protowire.Type, u uint64, raw []byte) error {
		switch {
		case num == eventWallTime && typ == protowire.Fixed64Type:
			ev.WallTime = math.Float64frombits(u)
		case num == eventStep && typ == protowire.VarintType:
			ev.Step = int64(u)
		case num == eventFileVersion && typ == protowire.BytesType:
			ev.FileVersion = string(raw)
		case num == eventSummary && typ == protowire.BytesType:
			return fields(raw, func(num protowire.Number, typ protowire.Type, _ uint64, raw []byte) error {
				if num != summaryValue || typ != protowire.BytesType {
					return nil
				}
				var v Value
				simple := false
				err := fields(raw, func(num protowire.Number, typ protowire.Type, u uint64, raw []byte) error {
					switch {
					case num == valueTag && typ == protowire.BytesType:
						v.Tag = string(raw)
					case num == valueSimpleValue && typ == protowire.Fixed32Type:
						v.Value = math.Float32frombits(uint32(u))
						simple = true
					}
					return nil
				})
				if err == nil && simple {
					ev.Values = append(ev.Values, v)
				}
				return err
			})
		}
		return nil
	})
	return ev, err
}
