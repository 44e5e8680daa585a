// Package tbevents writes TensorBoard event files holding scalars, images
// (PNG) and text, so `tensorboard --logdir runs` shows a run's training
// curves, topology numbers, persistence diagrams and config without
// TensorFlow or any Python on the writing side.
//
// An event file is a sequence of TFRecords, each
//
//	uint64 length (little endian)
//	uint32 masked CRC32C of the 8 length bytes
//	length bytes of data: one serialized tensorflow.Event protobuf
//	uint32 masked CRC32C of the data
//
// where the mask is ((crc >> 15) | (crc << 17)) + 0xa282ead8. The first
// event carries file_version "brain.Event:2"; each later one a Summary
// of (tag, simple_value) pairs. The protobuf is encoded by hand with
// protowire: the three messages used are tiny and stable, and hand
// encoding spares the tree a generated TensorFlow proto package.
package tbevents

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	_ "image/png" // DecodeConfig of the images
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// FileVersion is the file_version of the first event of every file.
const FileVersion = "brain.Event:2"

// Field numbers of tensorflow.Event, tensorflow.Summary and
// tensorflow.Summary.Value (tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto).
const (
	eventWallTime    protowire.Number = 1 // double
	eventStep        protowire.Number = 2 // int64
	eventFileVersion protowire.Number = 3 // string
	eventSummary     protowire.Number = 5 // Summary
	summaryValue     protowire.Number = 1 // repeated Summary.Value
	valueTag         protowire.Number = 1 // string
	valueSimpleValue protowire.Number = 2 // float
	valueImage       protowire.Number = 4 // Summary.Image
	valueTensor      protowire.Number = 8 // TensorProto
	valueMetadata    protowire.Number = 9 // SummaryMetadata
	imageHeight      protowire.Number = 1 // int32
	imageWidth       protowire.Number = 2 // int32
	imageColorspace  protowire.Number = 3 // int32: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
	imageEncoded     protowire.Number = 4 // bytes
	metaPluginData   protowire.Number = 1 // SummaryMetadata.PluginData
	metaDataClass    protowire.Number = 4 // DataClass enum
	pluginName       protowire.Number = 1 // string
	tensorDtype      protowire.Number = 1 // DataType enum
	tensorShape      protowire.Number = 2 // TensorShapeProto
	tensorStringVal  protowire.Number = 8 // repeated bytes
	dtString                          = 7 // DataType DT_STRING
	dataClassTensor                   = 2 // DataClass DATA_CLASS_TENSOR
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's masked CRC32C. The mask exists because a CRC
// of data that itself contains CRCs is weak; TensorFlow applies it to
// every stored checksum.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// Writer appends scalar events to one event file. It is safe for
// concurrent use.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	path string
	now  func() time.Time
	err  error // first write error; later calls return it
}

// New creates dir if needed and opens a new event file in it named
// events.out.tfevents.<unix seconds>.<hostname>, as TensorFlow names them
// (TensorBoard finds files by the "tfevents" in the name). If a file of
// that name exists - two writers in the same second - a numeric suffix
// keeps them apart.
func New(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tensorboard events: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	now := time.Now()
	base := filepath.Join(dir, fmt.Sprintf("events.out.tfevents.%d.%s", now.Unix(), host))
	var f *os.File
	path := base
	for i := 1; ; i++ {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i > 100 {
			return nil, fmt.Errorf("tensorboard events: %w", err)
		}
		path = base + "." + strconv.Itoa(i)
	}
	w := &Writer{f: f, w: bufio.NewWriter(f), path: path, now: time.Now}
	if err := w.writeRecord(encodeEvent(wallTime(now), 0, FileVersion, nil)); err != nil {
		f.Close()
		return nil, err
	}
	// The version record goes to disk at once so TensorBoard recognises
	// the file even before the first scalar is flushed.
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Path is the event file's path.
func (w *Writer) Path() string { return w.path }

// Scalar appends one event with one scalar. TensorBoard stores scalars as
// float32, so value is rounded to it.
func (w *Writer) Scalar(tag string, step int64, value float64) error {
	return w.Scalars(step, map[string]float64{tag: value})
}

// Scalars appends one event holding every (tag, value) of values, in tag
// order: one record per update rather than one per scalar.
func (w *Writer) Scalars(step int64, values map[string]float64) error {
	if len(values) == 0 {
		return nil
	}
	tags := make([]string, 0, len(values))
	for t := range values {
		if t == "" {
			return fmt.Errorf("tensorboard events %s: empty tag", w.path)
		}
		tags = append(tags, t)
	}
	sort.Strings(tags)
	vals := make([]Value, len(tags))
	for i, t := range tags {
		vals[i] = Value{Tag: t, Value: float32(values[t])}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeRecord(encodeEvent(wallTime(w.now()), step, "", vals))
}

// Image appends one event with one PNG image under tag (TensorBoard's
// Images tab). Width, height and colour space are read from the PNG.
func (w *Writer) Image(tag string, step int64, png []byte) error {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(png))
	if err != nil || format != "png" {
		return fmt.Errorf("tensorboard events %s: image %q is not a PNG (%v)", w.path, tag, err)
	}
	space := 4 // RGBA
	switch cfg.ColorModel {
	case color.GrayModel, color.Gray16Model:
		space = 1
	}
	var img []byte
	img = protowire.AppendTag(img, imageHeight, protowire.VarintType)
	img = protowire.AppendVarint(img, uint64(cfg.Height))
	img = protowire.AppendTag(img, imageWidth, protowire.VarintType)
	img = protowire.AppendVarint(img, uint64(cfg.Width))
	img = protowire.AppendTag(img, imageColorspace, protowire.VarintType)
	img = protowire.AppendVarint(img, uint64(space))
	img = protowire.AppendTag(img, imageEncoded, protowire.BytesType)
	img = protowire.AppendBytes(img, png)
	var val []byte
	val = protowire.AppendTag(val, valueTag, protowire.BytesType)
	val = protowire.AppendString(val, tag)
	val = protowire.AppendTag(val, valueImage, protowire.BytesType)
	val = protowire.AppendBytes(val, img)
	return w.writeValue(tag, step, val)
}

// Text appends one event with text under tag, as TensorBoard's text
// plugin reads it: a scalar DT_STRING tensor whose metadata names the
// plugin "text". TensorBoard renders it as Markdown.
func (w *Writer) Text(tag string, step int64, text string) error {
	var plugin []byte
	plugin = protowire.AppendTag(plugin, pluginName, protowire.BytesType)
	plugin = protowire.AppendString(plugin, "text")
	var meta []byte
	meta = protowire.AppendTag(meta, metaPluginData, protowire.BytesType)
	meta = protowire.AppendBytes(meta, plugin)
	meta = protowire.AppendTag(meta, metaDataClass, protowire.VarintType)
	meta = protowire.AppendVarint(meta, dataClassTensor)
	var tensor []byte
	tensor = protowire.AppendTag(tensor, tensorDtype, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, dtString)
	tensor = protowire.AppendTag(tensor, tensorShape, protowire.BytesType)
	tensor = protowire.AppendBytes(tensor, nil) // rank 0
	tensor = protowire.AppendTag(tensor, tensorStringVal, protowire.BytesType)
	tensor = protowire.AppendString(tensor, text)
	var val []byte
	val = protowire.AppendTag(val, valueTag, protowire.BytesType)
	val = protowire.AppendString(val, tag)
	val = protowire.AppendTag(val, valueMetadata, protowire.BytesType)
	val = protowire.AppendBytes(val, meta)
	val = protowire.AppendTag(val, valueTensor, protowire.BytesType)
	val = protowire.AppendBytes(val, tensor)
	return w.writeValue(tag, step, val)
}

// writeValue appends one event whose summary holds the encoded
// Summary.Value val.
func (w *Writer) writeValue(tag string, step int64, val []byte) error {
	if tag == "" {
		return fmt.Errorf("tensorboard events %s: empty tag", w.path)
	}
	var sum []byte
	sum = protowire.AppendTag(sum, summaryValue, protowire.BytesType)
	sum = protowire.AppendBytes(sum, val)
	b := encodeEvent(wallTime(w.now()), step, "", nil)
	b = protowire.AppendTag(b, eventSummary, protowire.BytesType)
	b = protowire.AppendBytes(b, sum)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeRecord(b)
}

// Flush writes buffered events to the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.w == nil {
		return fmt.Errorf("tensorboard events %s: writer is closed", w.path)
	}
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("tensorboard events %s: %w", w.path, err)
	}
	return w.err
}

// Close flushes and closes the file. Closing twice is harmless.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.w == nil {
		return w.err
	}
	ferr := w.w.Flush()
	cerr := w.f.Close()
	w.w = nil
	if w.err == nil && ferr != nil {
		w.err = fmt.Errorf("tensorboard events %s: %w", w.path, ferr)
	}
	if w.err == nil && cerr != nil {
		w.err = fmt.Errorf("tensorboard events %s: %w", w.path, cerr)
	}
	return w.err
}

// writeRecord frames data as a TFRecord. The caller holds mu (or owns w
// exclusively, as New does).
func (w *Writer) writeRecord(data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.w == nil {
		return fmt.Errorf("tensorboard events %s: writer is closed", w.path)
	}
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(head[8:], maskedCRC(head[:8]))
	var foot [4]byte
	binary.LittleEndian.PutUint32(foot[:], maskedCRC(data))
	for _, b := range [][]byte{head[:], data, foot[:]} {
		if _, err := w.w.Write(b); err != nil {
			w.err = fmt.Errorf("tensorboard events %s: %w", w.path, err)
			return w.err
		}
	}
	return nil
}

func wallTime(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// encodeEvent serializes a tensorflow.Event. Zero-valued fields are left
// out, as proto3 does.
func encodeEvent(wall float64, step int64, version string, vals []Value) []byte {
	var b []byte
	b = protowire.AppendTag(b, eventWallTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(wall))
	if step != 0 {
		b = protowire.AppendTag(b, eventStep, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(step))
	}
	if version != "" {
		b = protowire.AppendTag(b, eventFileVersion, protowire.BytesType)
		b = protowire.AppendString(b, version)
	}
	if len(vals) > 0 {
		var sum []byte
		for _, v := range vals {
			var val []byte
			val = protowire.AppendTag(val, valueTag, protowire.BytesType)
			val = protowire.AppendString(val, v.Tag)
			val = protowire.AppendTag(val, valueSimpleValue, protowire.Fixed32Type)
			val = protowire.AppendFixed32(val, math.Float32bits(v.Value))
			sum = protowire.AppendTag(sum, summaryValue, protowire.BytesType)
			sum = protowire.AppendBytes(sum, val)
		}
		b = protowire.AppendTag(b, eventSummary, protowire.BytesType)
		b = protowire.AppendBytes(b, sum)
	}
	return b
}
