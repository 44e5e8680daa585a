"""ripser.py's ripser() on NeuralTopology's own Rips engine.

Same signature and the same result dictionary as ripser.py, so that a
script switches by changing its import:

    from neuraltopology import ripser     # was: from ripser import ripser

What ripser.py does and this module reproduces: a point cloud becomes a
float64 distance matrix by the metric (Euclidean by scikit-learn's
formula), the matrix is read from its upper triangle and rounded to
float32 (the precision Ripser computes in), an infinite threshold means
the enclosing radius, and diagrams hold float32 values as float64 arrays
with the essential classes at death inf. What it cannot do it refuses
with a ValueError or NotImplementedError instead of ignoring it:
representative cocycles and vertex births (a non-zero diagonal).

Pairs within a diagram are sorted by (birth, death); ripser.py lists
them in the order its reduction finds them, so compare diagrams as
sets of pairs (np.lexsort), not row by row.
"""

import math
import os
import tempfile
import warnings

import numpy as np

from ._engine import run_nthost

_METRICS = ("euclidean", "l2", "manhattan", "cityblock", "l1", "cosine",
            "chebyshev", "sqeuclidean", "precomputed")


def pairwise_distances(X, metric="euclidean"):
    """Distances between the rows of X, as ripser.py gets them from
    scikit-learn's pairwise_distances (for the metrics in _METRICS, or a
    callable called on each pair of rows)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if callable(metric):
        D = np.zeros((n, n))
        for i in range(n):
            for j in range(i + 1, n):
                D[i, j] = D[j, i] = metric(X[i], X[j])
        return D
    if metric not in _METRICS:
        raise ValueError("metric %r: neuraltopology.ripser computes %s or a callable"
                         % (metric, ", ".join(_METRICS)))
    if metric == "precomputed":
        return X
    if metric in ("euclidean", "l2", "sqeuclidean"):
        # scikit-learn's expansion |x|^2 - 2 x.y + |y|^2: the values it
        # gives differ from the direct difference in the last bits, and
        # ripser.py sees these.
        sq = np.einsum("ij,ij->i", X, X)
        D = -2.0 * (X @ X.T)
        D += sq[:, None]
        D += sq[None, :]
        np.maximum(D, 0, out=D)
        np.fill_diagonal(D, 0)
        return D if metric == "sqeuclidean" else np.sqrt(D)
    if metric == "cosine":
        norms = np.sqrt(np.einsum("ij,ij->i", X, X))
        norms[norms == 0] = 1
        U = X / norms[:, None]
        D = 1.0 - U @ U.T
        np.clip(D, 0, 2, out=D)
        np.fill_diagonal(D, 0)
        return D
    D = np.empty((n, n))
    for i in range(n):
        diff = np.abs(X - X[i])
        D[i] = diff.max(axis=1) if metric == "chebyshev" else diff.sum(axis=1)
    return D


def greedy_permutation(X, n_perm, distance_matrix=False, metric="euclidean"):
    """Furthest point sampling from point 0, as ripser.py's n_perm does.

    Returns (idx_perm, lambdas, dperm2all): the chosen indices, each
    one's insertion radius (the last is the covering radius of the
    sample) and the distances from the chosen points to all points."""
    n = X.shape[0]

    def row(i):
        if distance_matrix:
            return np.asarray(X[i], dtype=np.float64)
        d = pairwise_to(X, i, metric)
        d[i] = 0
        return d

    idx = np.zeros(n_perm, dtype=np.int64)
    lambdas = np.zeros(n_perm)
    rows = [row(0)]
    nearest = rows[0].copy()
    for k in range(1, n_perm):
        far = int(np.argmax(nearest))
        idx[k] = far
        lambdas[k - 1] = nearest[far]
        rows.append(row(far))
        np.minimum(nearest, rows[-1], out=nearest)
    lambdas[-1] = nearest.max()
    return idx, lambdas, np.array(rows)


def pairwise_to(X, i, metric):
    """Distances from row i of X to every row, by the same formulas as
    pairwise_distances."""
    X = np.asarray(X, dtype=np.float64)
    both = np.vstack([X[i:i + 1], X])
    return pairwise_distances(both, metric)[0, 1:].copy()


def _is_prime(p):
    return p >= 2 and all(p % q for q in range(2, int(math.isqrt(p)) + 1))


def _f32(a):
    """Values rounded to float32, the precision Ripser computes in, held
    as float64 as ripser.py returns them."""
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def ripser(X, maxdim=1, thresh=np.inf, coeff=2, distance_matrix=False,
           do_cocycles=False, metric="euclidean", n_perm=None):
    """Persistence diagrams of the Vietoris-Rips filtration of X.

    Parameters and the returned dictionary are ripser.py's (see the module
    doc): X is a point cloud (n_samples x n_features), or with
    distance_matrix=True a square distance matrix, dense or scipy.sparse
    (entries below the diagonal and absent entries are no edge, as in
    ripser.py). Returns {'dgms': [ndarray (n_pairs, 2) per dimension
    0..maxdim], 'cocycles': [[] per dimension], 'num_edges': int,
    'dperm2all': the distance matrix used, 'idx_perm': the indices of
    the points used, 'r_cover': covering radius of the subsample (0
    without n_perm)}.
    """
    if do_cocycles:
        raise NotImplementedError(
            "do_cocycles=True: the NeuralTopology engine computes diagrams, not "
            "representative cocycles; use ripser.py for cocycles")
    if isinstance(maxdim, bool) or int(maxdim) != maxdim or maxdim < 0:
        raise ValueError("maxdim=%r: want an integer >= 0" % (maxdim,))
    maxdim = int(maxdim)
    if isinstance(coeff, bool) or int(coeff) != coeff or not _is_prime(int(coeff)):
        raise ValueError("coeff=%r: want a prime (the field Z/p)" % (coeff,))
    coeff = int(coeff)
    thresh = float(thresh)
    if math.isnan(thresh) or thresh < 0:
        raise ValueError("thresh=%r: want a value >= 0 (inf: the whole filtration)" % (thresh,))

    sparse = hasattr(X, "tocoo") and not isinstance(X, np.ndarray)
    if sparse and not distance_matrix:
        raise ValueError("X is a scipy.sparse matrix: it is read as a sparse distance "
                         "matrix, so pass distance_matrix=True")
    if not sparse:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError("X has shape %s: want a 2-D array" % (X.shape,))
    if distance_matrix:
        if X.shape[0] != X.shape[1]:
            raise ValueError("Distance matrix is not square")
    elif X.shape[0] == X.shape[1]:
        warnings.warn("The input matrix is square, but the distance_matrix flag is off. "
                      "Did you mean to indicate that this was a distance matrix?")
    elif X.shape[0] < X.shape[1]:
        warnings.warn("The input point cloud has more columns than rows; did you mean to transpose?")
    n = X.shape[0]
    if n_perm is not None and n_perm:
        if sparse:
            raise ValueError("Greedy permutation is not supported for sparse distance matrices")
        if n_perm < 0:
            raise ValueError("Should be a strictly positive number of points in the greedy permutation")
        if n_perm > n:
            raise ValueError("Number of points in greedy permutation is greater than "
                             "number of points in the point cloud")

    idx_perm = np.arange(n)
    r_cover = 0.0
    if n_perm and n_perm < n:
        idx_perm, lambdas, dperm2all = greedy_permutation(X, int(n_perm), distance_matrix, metric)
        r_cover = float(lambdas[-1])
        dm = dperm2all[:, idx_perm]
    elif sparse:
        dm = dperm2all = X
    else:
        dm = X if distance_matrix else pairwise_distances(X, metric)
        dperm2all = dm

    n = dm.shape[0]
    # ripser.py hands Ripser its threshold as a C float.
    t32 = float(np.float32(thresh)) if math.isfinite(thresh) else math.inf
    with tempfile.TemporaryDirectory(prefix="neuraltopology-") as tmp:
        out = os.path.join(tmp, "dgms.npz")
        args = ["tda", "--maxdim", maxdim, "--coeff", coeff, "--format", "npz", "--out", out,
                "--log-level", "error"]
        if sparse:
            ii, jj, vv, m = _sparse_edges(dm)
            path = os.path.join(tmp, "edges.txt")
            with open(path, "w") as f:
                for i, j, v in zip(ii, jj, vv):
                    f.write("%d %d %r\n" % (i, j, float(v)))
            num_edges = int(np.count_nonzero(vv <= t32))
            args += ["--distances", path, "--input-format", "sparse"]
        else:
            D = _upper_symmetric(dm)
            finite = np.isfinite(D)
            if not finite.all():
                # Ripser takes an infinite entry for an absent edge: such
                # a matrix goes to the engine as its list of edges.
                iu = np.triu_indices(n, 1)
                keep = finite[iu]
                ii, jj, vv = iu[0][keep], iu[1][keep], D[iu][keep]
                path = os.path.join(tmp, "edges.txt")
                with open(path, "w") as f:
                    for i, j, v in zip(ii, jj, vv):
                        f.write("%d %d %r\n" % (i, j, float(v)))
                m = int(max(ii.max(), jj.max())) + 1 if len(ii) else 0
                num_edges = int(np.count_nonzero(vv <= t32))
                args += ["--distances", path, "--input-format", "sparse"]
            else:
                m = n
                t = t32 if math.isfinite(t32) else _enclosing_radius(D)
                num_edges = int(np.count_nonzero(D[np.triu_indices(n, 1)] <= t))
                path = os.path.join(tmp, "dm.npy")
                np.save(path, D)
                args += ["--distances", path]
        if math.isfinite(t32):
            # --threshold 0 means "the enclosing radius" to nthost; a
            # threshold of 0 keeps only the zero-length edges, which the
            # smallest positive double does as well (values are float32).
            args += ["--threshold", repr(t32 if t32 > 0 else 5e-324)]
        if m >= 1:
            run_nthost(args)
            z = np.load(out)
            dgms = [_f32(z["dgm%d" % d]) if "dgm%d" % d in z.files else np.zeros((0, 2))
                    for d in range(maxdim + 1)]
        else:
            m = 0
            dgms = [np.zeros((0, 2)) for _ in range(maxdim + 1)]
    # Points after the last one an edge names are unknown to the edge
    # list; each is a component of its own.
    if m < dm.shape[0]:
        extra = np.tile([0.0, np.inf], (dm.shape[0] - m, 1))
        dgms[0] = np.vstack([dgms[0], extra]) if len(dgms[0]) else extra
    for d in range(len(dgms)):
        dgms[d] = dgms[d].reshape(-1, 2)
    return {
        "dgms": dgms,
        "cocycles": [[] for _ in range(maxdim + 1)],
        "num_edges": num_edges,
        "dperm2all": dperm2all,
        "idx_perm": idx_perm,
        "r_cover": r_cover,
    }


def _upper_symmetric(dm):
    """The float32 values of dm's strict upper triangle, mirrored: Ripser
    reads only that triangle, and nthost wants a symmetric matrix."""
    D = np.asarray(dm, dtype=np.float64)
    if np.isnan(D).any():
        raise ValueError("the distance matrix holds NaN")
    if np.any(np.diagonal(D) != 0):
        raise NotImplementedError(
            "the distance matrix has a non-zero diagonal (vertex births): "
            "the NeuralTopology engine starts every point at 0")
    U = np.triu(_f32(D), 1)
    if (U < 0).any():
        raise ValueError("the distance matrix holds negative entries")
    return U + U.T


def _enclosing_radius(D):
    """Ripser's default threshold: beyond it the complex is a cone."""
    return float(D.max(axis=1).min()) if len(D) else 0.0


def _sparse_edges(S):
    """The edges of a scipy.sparse distance matrix as ripser.py takes them:
    entries above the diagonal only; a non-zero diagonal is refused."""
    coo = S.tocoo()
    r, c, v = np.asarray(coo.row), np.asarray(coo.col), np.asarray(coo.data, dtype=np.float64)
    if np.any(v[r == c] != 0):
        raise NotImplementedError(
            "the sparse distance matrix has non-zero diagonal entries (vertex births): "
            "the NeuralTopology engine starts every point at 0")
    up = r < c
    r, c, v = r[up], c[up], _f32(v[up])
    if np.isnan(v).any() or (v < 0).any():
        raise ValueError("the sparse distance matrix holds NaN or negative entries")
    o = np.lexsort((c, r))
    r, c, v = r[o], c[o], v[o]
    m = int(max(r.max(), c.max())) + 1 if len(r) else 0
    return r, c, v, m
