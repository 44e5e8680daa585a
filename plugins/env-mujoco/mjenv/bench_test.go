package mjenv

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// BenchmarkStep reports the cost of one Step of a batch, per environment
// step, with uniform random actions (episodes end often and auto-reset).
func BenchmarkStep(b *testing.B) {
	for _, task := range []string{"InvertedPendulum-v4", "Hopper-v4"} {
		for _, n := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/N=%d", task, n), func(b *testing.B) {
				e := New()
				h, spec, err := e.Open(bg, sdk.EnvConfig{TaskID: task, NumEnvs: n, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close(bg, h)
				r := rand.New(rand.NewPCG(1, 1))
				act := randomActions(spec, r)
				for b.Loop() {
					if _, err := e.Step(bg, h, act); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/envstep")
			})
		}
	}
}
