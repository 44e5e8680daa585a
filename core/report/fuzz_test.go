package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/runstore"
)

// FuzzLoadRun: no scalars.jsonl or topology.jsonl (a run killed mid-line,
// a file edited by hand, a hostile one) makes loading a run panic.
func FuzzLoadRun(f *testing.F) {
	f.Add([]byte(`{"step":2048,"tag":"charts/episodic_return","value":12.5}`+"\n"), []byte(`{"step":2048,"update":1,"layer":0,"betti":[1,0,0]}`+"\n"))
	f.Add([]byte(`{"step":1,"tag":"x","value":"NaN"}`+"\n{\"step\":"), []byte("{}\n[]\nnull\n"))
	f.Add([]byte{}, []byte(`{"step":-1,"update":-5,"layer":999999999,"betti":[-1]}`))
	f.Fuzz(func(t *testing.T, scalars, topology []byte) {
		dir := t.TempDir()
		for name, b := range map[string][]byte{
			runstore.ConfigFile:   []byte("env_id: Hopper-v4\n"),
			runstore.ScalarsFile:  scalars,
			runstore.TopologyFile: topology,
		} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		r, err := loadRun(dir)
		if err == nil {
			r.steps()
			r.finalReturn()
		}
	})
}
