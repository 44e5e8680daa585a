package matio

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// python returns Debian's python3 (where python3-numpy lives) in
// preference to whatever python3 comes first on PATH, e.g. a pyenv shim
// without numpy. The test fails rather than skips without it: the
// Makefile's deps target installs python3-numpy.
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil {
			if exec.Command(path, "-c", "import numpy").Run() == nil {
				return path
			}
		}
	}
	t.Fatal("python3 with numpy is required for the numpy cross-check (Debian package python3-numpy; `make deps` installs it)")
	return ""
}

// The script loads the files we wrote and writes the ones we must read,
// with a manifest of the values numpy holds, as the hex of each float64's
// bits so every bit (NaN payloads, -0, subnormals) survives JSON.
const numpyScript = `
import json, sys, zipfile
import numpy as np
d = sys.argv[1]
out = {}
def desc(a):
    a = np.asarray(a)
    return {"dtype": a.dtype.str, "shape": list(a.shape), "fortran": bool(a.flags.f_contiguous and not a.flags.c_contiguous),
            "values": ["%016x" % v for v in np.ascontiguousarray(a, dtype=np.float64).ravel().view(np.uint64)]}
# What we wrote.
out["ours.npy"] = desc(np.load(d + "/ours.npy"))
with np.load(d + "/ours.npz") as z:
    out["ours.npz"] = {k: desc(z[k]) for k in z.files}
    out["ours.npz order"] = list(z.files)
# What we must read.
base = np.arange(12, dtype=np.float64).reshape(3, 4) * 0.75 - 2
made = {
    "f8": base,
    "f4": base.astype(np.float32),
    "i4": (base * 4).astype(np.int32),
    "i8": (base * 4).astype(np.int64) * 3000000000,
    "u1": np.arange(6, dtype=np.uint8).reshape(2, 3) * 50,
    "bool": np.array([[True, False], [False, True]]),
    "be": base.astype(">f8"),
    "fortran": np.asfortranarray(base),
    "vector": np.linspace(0, 1, 5),
    "special": np.array([[np.nan, np.inf], [-np.inf, -0.0]]),
    "empty": np.zeros((0, 2)),
}
for k, a in made.items():
    np.save(d + "/np_" + k + ".npy", a)
    out["np_" + k] = desc(a)
with open(d + "/np_v2.npy", "wb") as f:
    np.lib.format.write_array(f, base, version=(2, 0))
out["np_v2"] = desc(base)
np.savez(d + "/np_plain.npz", dgm0=base, dgm1=made["special"], empty=made["empty"])
np.savez_compressed(d + "/np_compressed.npz", a=made["vector"], b=made["f4"])
with zipfile.ZipFile(d + "/np_compressed.npz") as z:
    out["compressed members deflated"] = all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
json.dump(out, open(d + "/manifest.json", "w"))
`

type npDesc struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Fortran bool     `json:"fortran"`
	Values  []string `json:"values"`
}

func (d npDesc) matrix(t *testing.T) sdk.Matrix {
	t.Helper()
	rows, cols := 1, 1
	switch len(d.Shape) {
	case 1:
		rows = d.Shape[0]
	case 2:
		rows, cols = d.Shape[0], d.Shape[1]
	}
	m := sdk.NewMatrix(rows, cols)
	for i, s := range d.Values {
		bits, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			t.Fatalf("manifest value %q: %v", s, err)
		}
		m.Data[i] = math.Float64frombits(bits)
	}
	return m
}

func TestNumpyCrossCheck(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	ours := sample()
	if err := Write(filepath.Join(dir, "ours.npy"), ours); err != nil {
		t.Fatal(err)
	}
	arrays := []NamedArray{{"zeta", ours}, {"alpha", sdk.NewMatrix(0, 2)}, {"mid", sdk.Matrix{Rows: 2, Cols: 1, Data: []float64{1, 2}}}}
	if err := WriteNPZ(filepath.Join(dir, "ours.npz"), arrays); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", numpyScript, dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("numpy script: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]json.RawMessage
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	desc := func(key string) npDesc {
		var d npDesc
		if err := json.Unmarshal(man[key], &d); err != nil {
			t.Fatalf("manifest %s: %v", key, err)
		}
		return d
	}

	// numpy reads what we write, as '<f8' C-order, bit for bit.
	d := desc("ours.npy")
	if d.Dtype != "<f8" || d.Fortran || len(d.Shape) != 2 || !same(d.matrix(t), ours) {
		t.Errorf("numpy read our .npy as %s %v fortran=%v %v", d.Dtype, d.Shape, d.Fortran, d.Values)
	}
	var members map[string]npDesc
	json.Unmarshal(man["ours.npz"], &members)
	var order []string
	json.Unmarshal(man["ours.npz order"], &order)
	if len(order) != 3 || order[0] != "zeta" || order[1] != "alpha" || order[2] != "mid" {
		t.Errorf("numpy lists our .npz members as %v", order)
	}
	for _, a := range arrays {
		if got := members[a.Name].matrix(t); !same(got, a.Matrix) || len(members[a.Name].Shape) != 2 {
			t.Errorf("numpy read member %s as %v %v", a.Name, members[a.Name].Shape, got.Data)
		}
	}

	// We read what numpy writes.
	for _, k := range []string{"f8", "f4", "i4", "i8", "u1", "bool", "be", "fortran", "vector", "special", "empty", "v2"} {
		want := desc("np_" + k).matrix(t)
		got, err := Read(filepath.Join(dir, "np_"+k+".npy"))
		if err != nil {
			t.Errorf("np_%s: %v", k, err)
			continue
		}
		if !same(got, want) {
			t.Errorf("np_%s: read %dx%d %v, numpy holds %dx%d %v", k, got.Rows, got.Cols, got.Data, want.Rows, want.Cols, want.Data)
		}
	}
	plain, err := ReadNPZ(filepath.Join(dir, "np_plain.npz"))
	if err != nil {
		t.Fatal(err)
	}
	wantPlain := []struct {
		name string
		m    sdk.Matrix
	}{{"dgm0", desc("np_f8").matrix(t)}, {"dgm1", desc("np_special").matrix(t)}, {"empty", desc("np_empty").matrix(t)}}
	if len(plain) != 3 {
		t.Fatalf("np_plain.npz: %d arrays, want 3", len(plain))
	}
	for i, w := range wantPlain {
		if plain[i].Name != w.name || !same(plain[i].Matrix, w.m) {
			t.Errorf("np_plain.npz member %d: %s %v, want %s %v", i, plain[i].Name, plain[i].Matrix, w.name, w.m)
		}
	}
	if string(man["compressed members deflated"]) != "true" {
		t.Errorf("savez_compressed did not deflate: the compressed case is not tested")
	}
	comp, err := ReadNPZ(filepath.Join(dir, "np_compressed.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(comp) != 2 || comp[0].Name != "a" || !same(comp[0].Matrix, desc("np_vector").matrix(t)) || !same(comp[1].Matrix, desc("np_f4").matrix(t)) {
		t.Errorf("np_compressed.npz read as %v", comp)
	}
	if v := desc("np_f4").matrix(t).Data[1]; v != -1.25 || math.IsNaN(v) {
		t.Errorf("manifest sanity: np_f4[0][1] = %v, want -1.25", v)
	}
}
