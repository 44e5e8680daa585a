package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/neuraltopology/neuraltopology/core/phbench"
)

func main() {
	var ins []phbench.Input
	for _, w := range os.Args[2:] {
		in, err := phbench.WorkloadInputs(w, 1)
		if err != nil {
			panic(err)
		}
		ins = append(ins, in...)
	}
	rep, _ := strconv.Atoi(os.Args[1])
	res, err := phbench.Run(context.Background(), phbench.Config{
		Backends: []string{"/tmp/bb/nt-ph-rips", "/tmp/bb/nt-ph-ripser", "/tmp/bb/nt-ph-gudhi"},
		Inputs:   ins, Repeat: rep, MaxDim: 2, Timeout: 5 * time.Minute,
		Progress: func(r phbench.Row) { fmt.Fprintf(os.Stderr, "%s %s %.3f %s\n", r.Input, r.Backend, r.Median, r.Error) },
	})
	if err != nil {
		panic(err)
	}
	res.WriteTable(os.Stdout)
	f, _ := os.Create("/tmp/bb/bench.json")
	res.WriteJSON(f)
	f.Close()
	res.WritePNG("/tmp/bb/bench.png")
}
