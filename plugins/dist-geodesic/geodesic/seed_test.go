package geodesic

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"strconv"
	"testing"

	"github.com/neuraltopology/neuraltopology/sdk/plugintest"
)

// seedScript rebuilds the seed pipeline's metric with the libraries it
// used: scikit-learn's kneighbors on the training set itself (15
// neighbours, the point itself coming back first), a symmetric graph, and
// scipy's all-pairs shortest paths, then the 2 x max rule.
const seedScript = `
import json, sys
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path, connected_components
from sklearn.neighbors import NearestNeighbors
X = np.array(json.load(sys.stdin), dtype=float)
dist, ind = NearestNeighbors(n_neighbors=15).fit(X).kneighbors(X)
assert (ind[:, 0] == np.arange(len(X))).all(), "kneighbors did not return each point first"
n = len(X)
rows = np.repeat(np.arange(n), 15)
G = csr_matrix((dist.ravel(), (rows, ind.ravel())), shape=(n, n))
G = G.maximum(G.T)
D = shortest_path(G, method="D", directed=False)
ncomp, _ = connected_components(G, directed=False)
finite = D[np.isfinite(D)]
D[~np.isfinite(D)] = 2 * finite.max()
json.dump({"components": int(ncomp), "d": [repr(float(v)) for v in D.ravel()]}, sys.stdout)
`

// TestSeedGraphIsK14 pins the documented fact that the seed's graph is
// this package's k = 14, against scikit-learn and scipy (Debian packages
// python3-sklearn and python3-scipy); it fails rather than skips without
// them.
func TestSeedGraphIsK14(t *testing.T) {
	py := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import sklearn, scipy").Run() == nil {
			py = path
			break
		}
	}
	if py == "" {
		t.Fatal("python3 with scikit-learn and scipy is required (Debian packages python3-sklearn, python3-scipy; `make deps` installs them)")
	}
	// Two blobs far apart, so the 2 x max rule is exercised too.
	p := plugintest.RandomCloud(120, 5, 21)
	for i := 0; i < 40; i++ {
		p.Data[i*5] += 50
	}
	rows := make([][]float64, p.Rows)
	for i := range rows {
		rows[i] = p.Row(i)
	}
	in, _ := json.Marshal(rows)
	cmd := exec.Command(py, "-c", seedScript)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed script: %v\n%s", err, stderr.String())
	}
	var res struct {
		Components int      `json:"components"`
		D          []string `json:"d"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.D) != 120*120 {
		t.Fatalf("seed script output: %v (%d values)", err, len(res.D))
	}
	d, comps, err := Distances(p, 14, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if comps != res.Components || comps != 2 {
		t.Errorf("components: ours %d, seed %d, want 2", comps, res.Components)
	}
	for k, s := range res.D {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(d.Data[k]-want) > 1e-9*max(1, want) {
			t.Fatalf("d[%d][%d]: ours (k=14) %v, seed pipeline %v", k/120, k%120, d.Data[k], want)
		}
	}
	// And k = 15 is a different, denser graph: some distance must shrink.
	d15, _, _ := Distances(p, 15, Options{})
	shorter := 0
	for k := range d15.Data {
		if d15.Data[k] < d.Data[k]-1e-12 {
			shorter++
		}
	}
	if shorter == 0 {
		t.Errorf("k = 15 gave the same distances as k = 14: the test cannot tell them apart")
	}
}
