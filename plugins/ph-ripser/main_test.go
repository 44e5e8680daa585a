package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuraltopology/neuraltopology/sdk"
	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

func TestConformance(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-ph-ripser")
	plugintest.Run(t, bin)
}

// ripserChild finds the ripser process the plugin started.
func ripserChild(pid int) int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, f := range strings.Fields(string(b)) {
			c, _ := strconv.Atoi(f)
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c)); strings.HasPrefix(string(comm), "ripser") {
				return c
			}
		}
	}
	return 0
}

// TestKilledMidHomology kills the plugin while ripser computes: the host's
// call fails within a second naming the plugin, and ripser dies too (it
// used to run on at 100% CPU, growing to gigabytes).
func TestKilledMidHomology(t *testing.T) {
	bin := plugintest.Build(t, ".", "nt-ph-ripser")
	c := plugintest.OpenWith(t, bin, sdk.OpenOptions{NoRestart: true})
	// Without NoRestart the killed plugin would be restarted and retried.
	h, _ := c.PH()
	r := rand.New(rand.NewPCG(2, 7))
	pts := sdk.NewMatrix(400, 8) // H2 of these takes ripser many seconds
	for i := range pts.Data {
		pts.Data[i] = r.NormFloat64()
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Compute(context.Background(), sdk.HomologyRequest{Points: &pts, MaxDim: 2})
		done <- err
	}()
	pid := c.Pid()
	child := 0
	for end := time.Now().Add(20 * time.Second); child == 0 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		child = ripserChild(pid)
	}
	if child == 0 {
		t.Fatal("the plugin never started ripser")
	}
	time.Sleep(500 * time.Millisecond)
	plugintest.KillMidCall(t, "nt-ph-ripser", pid, child, done)
}
