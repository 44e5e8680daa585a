package report

import (
	"path/filepath"
	"testing"
)

// BenchmarkBuild builds the report of a run the size of the seed's 1M-step
// job: 50 snapshots of 5 clouds and 500 updates. Run with -benchtime=1x.
func BenchmarkBuild(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	makeRun(b, dir, 50, nil)
	for b.Loop() {
		if err := Build([]string{dir}, filepath.Join(dir, "report.html")); err != nil {
			b.Fatal(err)
		}
	}
}
