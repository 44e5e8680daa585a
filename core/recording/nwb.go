package recording

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"

	"gonum.org/v1/hdf5"
)

// An NWB 2.x file is HDF5 with a fixed layout: the root group carries the
// attributes nwb_version and neurodata_type "NWBFile"; spike-sorted
// units are the DynamicTable /units, whose ragged column spike_times
// holds every unit's times one after another and spike_times_index
// (a VectorIndex) the end offset of each unit's run; behaviour and
// imaging are TimeSeries (data, and timestamps or starting_time with
// its rate) under /processing/<module>/... or /acquisition.

// Units are the spike trains of an NWB Units table.
type Units struct {
	IDs    []int64     // the table's id column, one per unit
	Spikes [][]float64 // spike times in seconds, one slice per unit
}

// Series is an NWB TimeSeries: Data has one row per sample (time x
// channels; a one-dimensional data set is one channel) and Times the
// sample times in seconds.
type Series struct {
	Data  [][]float64
	Times []float64
}

// nwbFile is an open NWB file; every error it returns names the file.
type nwbFile struct {
	path string
	f    *hdf5.File
}

// openNWB opens path read-only and checks that it is an NWB 2.x file.
func openNWB(path string) (*nwbFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, want an NWB (HDF5) file", path)
	}
	// HDF5 keeps its error-printing switch per OS thread (Debian's
	// library is thread-safe), so silence it on the thread this file is
	// read from; our errors say what went wrong, in one line.
	runtime.LockOSThread()
	ok := false
	defer func() {
		if !ok {
			runtime.UnlockOSThread()
		}
	}()
	if err := hdf5.DisplayErrors(false); err != nil {
		return nil, err
	}
	if !hdf5.IsHDF5(path) {
		return nil, fmt.Errorf("%s: not an HDF5 file (no HDF5 signature), want an NWB 2.x file", path)
	}
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		// The signature is there but the library cannot read the
		// superblock or root: typically a file cut short in a copy.
		return nil, fmt.Errorf("%s: unreadable HDF5 (truncated or damaged file, %d bytes): %v", path, st.Size(), err)
	}
	n := &nwbFile{path: path, f: f}
	root, err := f.OpenGroup("/")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: unreadable HDF5 root group (truncated or damaged file): %v", path, err)
	}
	defer root.Close()
	ver, verErr := stringAttr(root, "nwb_version")
	typ, _ := stringAttr(root, "neurodata_type")
	if verErr != nil && typ != "NWBFile" {
		f.Close()
		return nil, fmt.Errorf("%s: HDF5 but not NWB: the root group has no nwb_version attribute nor neurodata_type NWBFile", path)
	}
	if verErr == nil && !strings.HasPrefix(ver, "2.") {
		f.Close()
		return nil, fmt.Errorf("%s: NWB version %q, want 2.x", path, ver)
	}
	ok = true
	return n, nil
}

// Close closes the file and releases the thread openNWB locked.
func (n *nwbFile) Close() error {
	defer runtime.UnlockOSThread()
	return n.f.Close()
}

// attrReader is what hdf5.Group and hdf5.Dataset share for attributes.
type attrReader interface {
	OpenAttribute(name string) (*hdf5.Attribute, error)
}

// stringAttr reads a string attribute (fixed or variable length).
func stringAttr(o attrReader, name string) (string, error) {
	a, err := o.OpenAttribute(name)
	if err != nil {
		return "", err
	}
	defer a.Close()
	var s string
	if err := a.Read(&s, hdf5.T_GO_STRING); err != nil {
		return "", err
	}
	return s, nil
}

// exists reports whether every component of the absolute path p exists
// (H5Lexists fails on a path whose parent is missing, so walk it).
func (n *nwbFile) exists(p string) bool {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	cur := ""
	for _, q := range parts {
		cur += "/" + q
		if !n.f.LinkExists(cur) {
			return false
		}
	}
	return true
}

// isDataset reports whether p names a data set (not a group).
func (n *nwbFile) isDataset(p string) bool {
	if !n.exists(p) {
		return false
	}
	d, err := n.f.OpenDataset(p)
	if err != nil {
		return false
	}
	d.Close()
	return true
}

// dataset reads the numeric data set at p as float64 with its shape.
// Integer and floating types of any native width are converted.
func (n *nwbFile) dataset(p string) ([]float64, []int, error) {
	if !n.exists(p) {
		return nil, nil, fmt.Errorf("%s: no %s", n.path, p)
	}
	d, err := n.f.OpenDataset(p)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s is not a data set: %v", n.path, p, err)
	}
	defer d.Close()
	sp := d.Space()
	if sp == nil {
		return nil, nil, fmt.Errorf("%s: %s: no dataspace", n.path, p)
	}
	defer sp.Close()
	dims, _, err := sp.SimpleExtentDims()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s: %v", n.path, p, err)
	}
	shape := make([]int, len(dims))
	size := 1
	for i, v := range dims {
		shape[i] = int(v)
		size *= int(v)
	}
	if len(dims) == 0 {
		size = sp.SimpleExtentNPoints()
	}
	dt, err := d.Datatype()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s: %v", n.path, p, err)
	}
	defer dt.Close()
	// Dataset.Read copies in the file's own type, so the Go buffer must
	// have that type; the native types cover what NWB writers produce
	// on little-endian machines.
	out := make([]float64, size)
	if size == 0 {
		return out, shape, nil
	}
	read := func(buf any, conv func(i int) float64) error {
		if err := d.Read(buf); err != nil {
			return fmt.Errorf("%s: reading %s (truncated or damaged file?): %v", n.path, p, err)
		}
		for i := range out {
			out[i] = conv(i)
		}
		return nil
	}
	switch {
	case dt.Equal(hdf5.T_NATIVE_DOUBLE):
		err = read(&out, func(i int) float64 { return out[i] })
	case dt.Equal(hdf5.T_NATIVE_FLOAT):
		b := make([]float32, size)
		err = read(&b, func(i int) float64 { return float64(b[i]) })
	case dt.Equal(hdf5.T_NATIVE_INT64):
		b := make([]int64, size)
		err = read(&b, func(i int) float64 { return float64(b[i]) })
	case dt.Equal(hdf5.T_NATIVE_UINT64):
		b := make([]uint64, size)
		err = read(&b, func(i int) float64 { return float64(b[i]) })
	case dt.Equal(hdf5.T_NATIVE_INT32):
		b := make([]int32, size)
		err = read(&b, func(i int) float64 { return float64(b[i]) })
	case dt.Equal(hdf5.T_NATIVE_UINT32):
		b := make([]uint32, size)
		err = read(&b, func(i int) float64 { return float64(b[i]) })
	case dt.Equal(hdf5.T_NATIVE_INT16):
		b := make([]int16, size)
		err = read(&b, func(i int) float64 { return float64(b[i]) })
	case dt.Equal(hdf5.T_NATIVE_UINT16):
		b := make([]uint16, size)
		err = read(&b, func(i int) float64 { return float64(b[i]) })
	case dt.Equal(hdf5.T_NATIVE_INT8):
		b := make([]int8, size)
		err = read(&b, func(i int) float64 { return float64(b[i]) })
	case dt.Equal(hdf5.T_NATIVE_UINT8):
		b := make([]uint8, size)
		err = read(&b, func(i int) float64 { return float64(b[i]) })
	default:
		return nil, nil, fmt.Errorf("%s: %s: data type is not a native integer or float (class %v, %d bytes)", n.path, p, dt.Class(), dt.Size())
	}
	if err != nil {
		return nil, nil, err
	}
	return out, shape, nil
}

// ReadUnits reads the spike trains of the Units table /units of the NWB
// file at path. The ragged spike_times column must be indexed by
// spike_times_index: non-decreasing end offsets, the last equal to the
// number of spike times.
func ReadUnits(path string) (Units, error) {
	n, err := openNWB(path)
	if err != nil {
		return Units{}, err
	}
	defer n.Close()
	if !n.exists("/units") {
		return Units{}, fmt.Errorf("%s: no /units table (NWB Units with spike_times): not spike-sorted data; for imaging give --series PATH", path)
	}
	times, _, err := n.dataset("/units/spike_times")
	if err != nil {
		return Units{}, err
	}
	index, _, err := n.dataset("/units/spike_times_index")
	if err != nil {
		return Units{}, err
	}
	ids, _, err := n.dataset("/units/id")
	if err != nil {
		return Units{}, err
	}
	if len(ids) != len(index) {
		return Units{}, fmt.Errorf("%s: /units/id has %d rows but /units/spike_times_index %d", path, len(ids), len(index))
	}
	u := Units{IDs: make([]int64, len(ids)), Spikes: make([][]float64, len(index))}
	prev := 0
	for k, e := range index {
		end := int(e)
		if e != math.Trunc(e) || end < prev {
			return Units{}, fmt.Errorf("%s: /units/spike_times_index[%d] = %v after %d: want non-decreasing whole end offsets", path, k, e, prev)
		}
		if end > len(times) {
			return Units{}, fmt.Errorf("%s: /units/spike_times_index[%d] = %d but /units/spike_times has only %d values: the ragged index does not add up", path, k, end, len(times))
		}
		u.Spikes[k] = times[prev:end:end]
		u.IDs[k] = int64(ids[k])
		prev = end
	}
	if prev != len(times) {
		return Units{}, fmt.Errorf("%s: /units/spike_times_index ends at %d but /units/spike_times has %d values: the ragged index does not add up", path, prev, len(times))
	}
	for k, s := range u.Spikes {
		for _, t := range s {
			if math.IsNaN(t) || math.IsInf(t, 0) {
				return Units{}, fmt.Errorf("%s: unit %d (id %d) has spike time %v", path, k, u.IDs[k], t)
			}
		}
	}
	return u, nil
}

// ReadSeries reads the TimeSeries at p: a group holding data and either
// timestamps or starting_time (with its rate attribute), or p may name
// the data set itself (.../data), whose group supplies the times.
func ReadSeries(path, p string) (Series, error) {
	nf, err := openNWB(path)
	if err != nil {
		return Series{}, err
	}
	defer nf.Close()
	p = "/" + strings.Trim(p, "/")
	if !nf.exists(p) {
		return Series{}, fmt.Errorf("%s: no %s", path, p)
	}
	group := p
	if nf.isDataset(p) {
		group = p[:strings.LastIndex(p, "/")]
		if group == "" {
			group = "/"
		}
	}
	data := group + "/data"
	if nf.isDataset(p) {
		data = p
	}
	vals, shape, err := nf.dataset(data)
	if err != nil {
		return Series{}, err
	}
	if len(shape) == 0 || len(shape) > 2 {
		return Series{}, fmt.Errorf("%s: %s has %d dimensions, want 1 (time) or 2 (time x channels)", path, data, len(shape))
	}
	rows, cols := shape[0], 1
	if len(shape) == 2 {
		cols = shape[1]
	}
	var times []float64
	switch {
	case nf.exists(group + "/timestamps"):
		times, _, err = nf.dataset(group + "/timestamps")
		if err != nil {
			return Series{}, err
		}
	case nf.exists(group + "/starting_time"):
		t0, _, err := nf.dataset(group + "/starting_time")
		if err != nil {
			return Series{}, err
		}
		d, err := nf.f.OpenDataset(group + "/starting_time")
		if err != nil {
			return Series{}, fmt.Errorf("%s: %s/starting_time: %v", path, group, err)
		}
		rate, err := floatAttr(d, "rate")
		d.Close()
		if err != nil || !(rate > 0) || len(t0) != 1 {
			return Series{}, fmt.Errorf("%s: %s/starting_time needs a positive rate attribute (sampling rate in Hz)", path, group)
		}
		times = make([]float64, rows)
		for i := range times {
			times[i] = t0[0] + float64(i)/rate
		}
	default:
		return Series{}, fmt.Errorf("%s: %s has neither timestamps nor starting_time: not an NWB TimeSeries", path, group)
	}
	if len(times) != rows {
		return Series{}, fmt.Errorf("%s: %s has %d samples but %s/timestamps %d", path, data, rows, group, len(times))
	}
	for i := 1; i < len(times); i++ {
		if !(times[i] >= times[i-1]) {
			return Series{}, fmt.Errorf("%s: %s/timestamps[%d] = %v after %v: want non-decreasing times", path, group, i, times[i], times[i-1])
		}
	}
	s := Series{Data: make([][]float64, rows), Times: times}
	for i := range rows {
		s.Data[i] = vals[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return s, nil
}

// floatAttr reads a numeric scalar attribute.
func floatAttr(o attrReader, name string) (float64, error) {
	a, err := o.OpenAttribute(name)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	var v float64
	if err := a.Read(&v, hdf5.T_NATIVE_DOUBLE); err != nil {
		return 0, err
	}
	return v, nil
}
