// Command ripsdump writes the distance matrices of ripsbench's workloads
// to files in the format ripsbench's child reads (-child FILE), so that
// builds of the engine can be compared on the same inputs, alternated,
// without ripser and without regenerating the inputs each run:
//
//	go run ./plugins/ph-rips/cmd/ripsdump -workload suite -only seed -dir /tmp/rd
//	/usr/bin/time ripsbench -child /tmp/rd/NAME.bin -maxdim 2 -workers 1
//
// It prints one line per file: name, dimension and threshold to pass.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/neuraltopology/neuraltopology/core/workloads"
	"github.com/neuraltopology/neuraltopology/sdk"
)

func main() {
	workload := flag.String("workload", "suite", "W1, W2, W3, suite or suite-quick")
	only := flag.String("only", "", "only the inputs whose name contains this")
	dir := flag.String("dir", ".", "directory to write NAME.bin files to")
	seed := flag.Int64("seed", 1, "workload seed")
	flag.Parse()
	ins, err := workloads.Generate(*workload, *seed, geodesicK)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ripsdump:", err)
		os.Exit(1)
	}
	// File names keep letters, digits, '.', '-' and '_' only.
	clean := strings.NewReplacer(" ", "_", "/", "_", "^", "", ">", "", "=", "", "(", "", ")", "")
	for _, in := range ins {
		if !strings.Contains(in.Name, *only) {
			continue
		}
		path := filepath.Join(*dir, clean.Replace(in.Name)+".bin")
		if err := write(path, in.Distances); err != nil {
			fmt.Fprintln(os.Stderr, "ripsdump:", err)
			os.Exit(1)
		}
		fmt.Printf("%s -maxdim %d -threshold %g\n", path, in.MaxDim, in.Threshold)
	}
}

// write stores d as ripsbench's child reads it: rows and columns as
// little-endian int64, then the entries as float64.
func write(path string, d sdk.Matrix) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var b [8]byte
	for _, x := range []uint64{uint64(d.Rows), uint64(d.Cols)} {
		binary.LittleEndian.PutUint64(b[:], x)
		w.Write(b[:])
	}
	for _, x := range d.Data {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
