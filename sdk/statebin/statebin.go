// Package statebin is a deterministic binary encoding for saved states
// (learner checkpoints, environment states, run checkpoints): equal
// values give equal bytes, whatever else the process encoded before.
// encoding/gob does not promise that - its type ids are numbered in the
// order a process first meets each type - so two runs in the same state
// could write different checkpoints.
//
// Values are encoded field by field in declaration order, without names:
// a format changes with its Go type, so callers put a magic and a version
// first and refuse what they do not know. Supported kinds are bool,
// signed and unsigned integers, float64 (its exact bits, NaN and
// infinities included), string, slices, arrays and structs of these;
// unexported struct fields are skipped. Decoding checks every length
// against the bytes left, so a forged length cannot allocate more than
// the input's size.
package statebin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// Marshal encodes v.
func Marshal(v any) ([]byte, error) {
	var e encoder
	if err := e.value(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return e.b, nil
}

// Unmarshal decodes b, which Marshal made from a value of the same type,
// into the value v points to. Trailing bytes are an error.
func Unmarshal(b []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("statebin: Unmarshal needs a non-nil pointer")
	}
	d := decoder{b: b}
	if err := d.value(rv.Elem()); err != nil {
		return err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("statebin: %d bytes left after the value", len(d.b))
	}
	return nil
}

type encoder struct{ b []byte }

func (e *encoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return errors.New("statebin: nil pointer")
		}
		return e.value(v.Elem())
	case reflect.Bool:
		if v.Bool() {
			e.b = append(e.b, 1)
		} else {
			e.b = append(e.b, 0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.b = binary.AppendVarint(e.b, v.Int())
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		e.b = binary.AppendUvarint(e.b, v.Uint())
	case reflect.Uint8:
		e.b = append(e.b, byte(v.Uint()))
	case reflect.Float64:
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v.Float()))
	case reflect.String:
		e.b = binary.AppendUvarint(e.b, uint64(v.Len()))
		e.b = append(e.b, v.String()...)
	case reflect.Slice:
		e.b = binary.AppendUvarint(e.b, uint64(v.Len()))
		if v.Type().Elem().Kind() == reflect.Uint8 {
			e.b = append(e.b, v.Bytes()...)
			return nil
		}
		for i := range v.Len() {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			if err := e.value(v.Field(i)); err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name(), t.Field(i).Name, err)
			}
		}
	default:
		return fmt.Errorf("statebin: cannot encode %s", v.Type())
	}
	return nil
}

type decoder struct{ b []byte }

var errShort = errors.New("statebin: input ends early")

func (d *decoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errShort
	}
	d.b = d.b[n:]
	return x, nil
}

// length reads a length and checks that at least min bytes per element
// are left for that many elements.
func (d *decoder) length(min int) (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.b)/max(min, 1)) {
		return 0, fmt.Errorf("statebin: length %d exceeds the %d bytes left", n, len(d.b))
	}
	return int(n), nil
}

// minSize is the fewest bytes a value of type t encodes to, for length
// checks; 0 for types that can encode to nothing (empty structs).
func minSize(t reflect.Type) int {
	switch t.Kind() {
	case reflect.Float64:
		return 8
	case reflect.Array:
		return t.Len() * minSize(t.Elem())
	case reflect.Struct:
		n := 0
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				n += minSize(t.Field(i).Type)
			}
		}
		return n
	default:
		return 1
	}
}

func (d *decoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.value(v.Elem())
	case reflect.Bool:
		if len(d.b) < 1 || d.b[0] > 1 {
			return errors.New("statebin: bad bool")
		}
		v.SetBool(d.b[0] == 1)
		d.b = d.b[1:]
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(d.b)
		if n <= 0 {
			return errShort
		}
		if v.OverflowInt(x) {
			return fmt.Errorf("statebin: %d overflows %s", x, v.Type())
		}
		v.SetInt(x)
		d.b = d.b[n:]
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x, err := d.uvarint()
		if err != nil {
			return err
		}
		if v.OverflowUint(x) {
			return fmt.Errorf("statebin: %d overflows %s", x, v.Type())
		}
		v.SetUint(x)
	case reflect.Uint8:
		if len(d.b) < 1 {
			return errShort
		}
		v.SetUint(uint64(d.b[0]))
		d.b = d.b[1:]
	case reflect.Float64:
		if len(d.b) < 8 {
			return errShort
		}
		v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(d.b)))
		d.b = d.b[8:]
	case reflect.String:
		n, err := d.length(1)
		if err != nil {
			return err
		}
		v.SetString(string(d.b[:n]))
		d.b = d.b[n:]
	case reflect.Slice:
		et := v.Type().Elem()
		n, err := d.length(minSize(et))
		if err != nil {
			return err
		}
		if n == 0 {
			// Empty decodes as nil, as in encoding/gob: the encoding
			// does not tell the two apart.
			v.SetZero()
			return nil
		}
		if et.Kind() == reflect.Uint8 {
			v.SetBytes(append([]byte(nil), d.b[:n]...))
			d.b = d.b[n:]
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			if err := d.value(s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			if err := d.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			if err := d.value(v.Field(i)); err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name(), t.Field(i).Name, err)
			}
		}
	default:
		return fmt.Errorf("statebin: cannot decode %s", v.Type())
	}
	return nil
}
