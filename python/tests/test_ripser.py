"""neuraltopology.ripser against Debian's ripser binary, the oracle.

Ripser prints values with six significant digits, too few to compare
exactly. A Rips filtration depends only on the order of the distances, so
the oracle is shown each distinct float32 distance as its rank (1, 2, ...;
zero stays 0), integers it prints exactly, and each printed rank is turned
back into its distance. Diagrams must then agree exactly as sets of pairs.
"""

import math
import os
import subprocess
import sys
import unittest
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import neuraltopology as nt  # noqa: E402


def oracle(D, maxdim, thresh=math.inf, coeff=2):
    """Diagrams of the float32 distance matrix D by Debian's ripser."""
    n = D.shape[0]
    iu = np.triu_indices(n, 1)
    vals = D[iu].astype(np.float32)
    uniq = np.unique(vals[vals > 0])
    rank = {float(v): i + 1 for i, v in enumerate(uniq)}
    back = {0: 0.0}
    back.update({i + 1: float(v) for i, v in enumerate(uniq)})
    lines = []
    for i in range(n):
        lines.append(",".join(str(rank.get(float(np.float32(D[min(i, j), max(i, j)])), 0)) for j in range(n)))
    cmd = ["ripser" if coeff == 2 else "ripser-coeff", "--format", "distance", "--dim", str(max(maxdim, 1))]
    if coeff != 2:
        cmd += ["--modulus", str(coeff)]
    if math.isfinite(thresh):
        cmd += ["--threshold", str(int(np.count_nonzero(uniq <= np.float32(thresh))))]
    out = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True, check=True).stdout
    # Debian's ripser 1.2.1 aborts at --dim 0: it is asked for dim 1 too.
    return parse_ripser(out, max(maxdim, 1), back)[:maxdim + 1]


def parse_ripser(out, maxdim, back):
    dgms = [[] for _ in range(maxdim + 1)]
    dim = None
    for line in out.splitlines():
        if line.startswith("persistence intervals in dim"):
            dim = int(line.split()[-1].rstrip(":"))
        elif line.startswith(" [") and dim is not None:
            b, d = line.strip()[1:-1].split(",")
            dgms[dim].append([back[int(float(b))], back[int(float(d))] if d.strip() else math.inf])
    return [np.array(p, dtype=np.float64).reshape(-1, 2) for p in dgms]


def as_set(dgm):
    dgm = np.asarray(dgm).reshape(-1, 2)
    return dgm[np.lexsort((dgm[:, 1], dgm[:, 0]))]


class RipserAgainstDebianRipser(unittest.TestCase):
    def assertSameDiagrams(self, got, want, what):
        self.assertEqual(len(got), len(want), what)
        for d, (g, w) in enumerate(zip(got, want)):
            g, w = as_set(g), as_set(w)
            self.assertEqual(g.shape, w.shape, "%s: H%d: %d pairs, ripser %d" % (what, d, len(g), len(w)))
            self.assertTrue(np.array_equal(g, w), "%s: H%d differs:\n%s\nripser:\n%s" % (what, d, g, w))

    def test_point_clouds(self):
        rng = np.random.default_rng(1)
        for trial, (n, dim, maxdim) in enumerate([(40, 2, 1), (50, 3, 2), (35, 4, 2), (60, 2, 0), (45, 3, 1)]):
            X = rng.normal(size=(n, dim))
            r = nt.ripser(X, maxdim=maxdim)
            self.assertEqual(len(r["dgms"]), maxdim + 1)
            self.assertSameDiagrams(r["dgms"], oracle(r["dperm2all"], maxdim), "cloud %d" % trial)
            self.assertTrue(np.array_equal(r["idx_perm"], np.arange(n)))
            self.assertEqual(r["r_cover"], 0.0)
            self.assertEqual(r["cocycles"], [[] for _ in range(maxdim + 1)])

    def test_distances_are_scikit_learns(self):
        # ripser.py takes a point cloud's distances from scikit-learn.
        try:
            from sklearn.metrics.pairwise import pairwise_distances
        except ImportError:
            self.fail("scikit-learn (Debian python3-sklearn, in DEB_PKGS) is needed as the reference")
        rng = np.random.default_rng(2)
        X = rng.normal(size=(50, 5))
        for metric in ("euclidean", "manhattan", "cosine", "chebyshev"):
            got = nt.pairwise_distances(X, metric).astype(np.float32)
            want = pairwise_distances(X, metric=metric).astype(np.float32)
            self.assertTrue(np.allclose(got, want, rtol=1e-6, atol=1e-7), metric)
            if metric != "cosine":
                # float32 rounding hides last-bit differences of float64.
                self.assertGreater(np.mean(got == want), 0.999, metric)

    def test_distance_matrices_with_ties(self):
        rng = np.random.default_rng(3)
        for trial in range(3):
            n = 30 + 5 * trial
            # Integer distances: many ties, which the order must break as
            # Ripser does.
            A = rng.integers(1, 12, size=(n, n)).astype(np.float64)
            D = np.triu(A, 1) + np.triu(A, 1).T
            for maxdim in (0, 1, 2):
                r = nt.ripser(D, maxdim=maxdim, distance_matrix=True)
                self.assertSameDiagrams(r["dgms"], oracle(D, maxdim), "matrix %d maxdim %d" % (trial, maxdim))
                self.assertIs(r["dperm2all"], D)

    def test_threshold(self):
        rng = np.random.default_rng(4)
        X = rng.uniform(size=(50, 3))
        full = nt.ripser(X, maxdim=1)
        D = full["dperm2all"]
        for t in (0.15, 0.3, 0.6):
            r = nt.ripser(X, maxdim=2, thresh=t)
            self.assertSameDiagrams(r["dgms"], oracle(D, 2, thresh=t), "thresh %g" % t)
            iu = np.triu_indices(50, 1)
            self.assertEqual(r["num_edges"], int(np.count_nonzero(D[iu].astype(np.float32) <= np.float32(t))))
        # Infinite threshold: the enclosing radius, every edge within it.
        D32 = D.astype(np.float32)
        enc = D32.max(axis=1).min()
        self.assertEqual(full["num_edges"], int(np.count_nonzero(D32[np.triu_indices(50, 1)] <= enc)))

    def test_coefficients(self):
        rng = np.random.default_rng(5)
        X = rng.normal(size=(40, 3))
        r = nt.ripser(X, maxdim=2, coeff=3)
        self.assertSameDiagrams(r["dgms"], oracle(r["dperm2all"], 2, coeff=3), "Z/3")

    def test_sparse_matrix(self):
        from scipy import sparse
        rng = np.random.default_rng(6)
        X = rng.uniform(size=(40, 2))
        D = nt.pairwise_distances(X)
        t = 0.35
        i, j = np.where(np.triu(D <= t, 1))
        S = sparse.coo_matrix((D[i, j], (i, j)), shape=D.shape)
        r = nt.ripser(S, maxdim=1, distance_matrix=True)
        self.assertSameDiagrams(r["dgms"], oracle(D, 1, thresh=t), "sparse")
        self.assertEqual(r["num_edges"], len(i))

    def test_duplicate_points_and_tiny_inputs(self):
        X = np.array([[0, 0], [0, 0], [1, 0], [0, 1], [1, 1]], dtype=float)
        r = nt.ripser(X, maxdim=1)
        self.assertSameDiagrams(r["dgms"], oracle(r["dperm2all"], 1), "duplicates")
        r = nt.ripser(np.zeros((1, 2)), maxdim=2)
        self.assertEqual([d.shape for d in r["dgms"]], [(1, 2), (0, 2), (0, 2)])

    def test_greedy_permutation(self):
        rng = np.random.default_rng(7)
        X = rng.normal(size=(60, 3))
        r = nt.ripser(X, maxdim=1, n_perm=20)
        idx = r["idx_perm"]
        self.assertEqual(len(set(idx.tolist())), 20)
        self.assertEqual(idx[0], 0)
        D = nt.pairwise_distances(X)
        self.assertAlmostEqual(r["r_cover"], D[:, idx].min(axis=1).max(), places=12)
        self.assertEqual(r["dperm2all"].shape, (20, 60))
        sub = D[np.ix_(idx, idx)]
        self.assertSameDiagrams(r["dgms"], oracle(sub, 1), "subsample")

    def test_refusals(self):
        X = np.random.default_rng(8).normal(size=(10, 2))
        with self.assertRaises(NotImplementedError):
            nt.ripser(X, do_cocycles=True)
        with self.assertRaises(ValueError):
            nt.ripser(X, coeff=4)
        with self.assertRaises(ValueError):
            nt.ripser(X, metric="mahalanobis")
        D = nt.pairwise_distances(X)
        D[3, 3] = 1
        with self.assertRaises(NotImplementedError):
            nt.ripser(D, distance_matrix=True)
        with self.assertRaises(ValueError):
            nt.ripser(X, n_perm=11)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            nt.ripser(X[:2], maxdim=0)
            self.assertTrue(any("square" in str(x.message) for x in w))


if __name__ == "__main__":
    unittest.main()
