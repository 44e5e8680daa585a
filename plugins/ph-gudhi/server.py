"""nt-ph-gudhi: Vietoris-Rips persistent homology by GUDHI, served as an
nthost plugin.

It is built on the sdk's Python package ntplugin (sdk/python), which does
the plugin protocol: handshake, negotiated protocol version, health,
shutdown, signals, exit with the host, logging and status codes. Only the
Compute method is its own: it reads the request's matrices as raw bytes
(wire.proto), which numpy maps without a copy per element.

Conventions match nt-ph-rips and nt-ph-ripser: distances are compared as
float32 (ripser's precision), zero-length pairs are omitted, an essential
class dies at +inf, no threshold means the enclosing radius, and births
and deaths are reported as the caller's own float64 distances.

Each computation runs in a forked child, so that a cancelled call (the
host's deadline or Ctrl-C) really stops: GUDHI cannot be interrupted
from Python.
"""

import ctypes
import math
import os
import pickle
import resource
import select
import signal
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ntplugin  # noqa: E402  (copied beside this file by build.sh)
from ntplugin import BadInput, Cancelled, log  # noqa: E402

VERSION = "0.1.0"
# A sanity bound on the dimension, as ph-ripser's; what really bounds it
# is the memory limit below (GUDHI stores every simplex).
MAX_DIM = 64


def matrix(view_bytes, full_field, what):
    """Returns the numpy matrix of a request field, or None if absent."""
    import numpy as np
    import wire_pb2

    if not view_bytes:
        return None
    mv = wire_pb2.MatrixView.FromString(view_bytes)
    rows, cols = mv.rows, mv.cols
    if rows < 0 or cols < 0:
        raise BadInput("gudhi: %s matrix has negative shape %dx%d" % (what, rows, cols))
    if len(mv.data) % 8 == 0 and len(mv.data) // 8 == rows * cols:
        data = np.frombuffer(mv.data, dtype="<f8")
    else:
        # Not the packed encoding (or a shape mismatch): read it properly.
        data = np.asarray(full_field().data, dtype=np.float64)
        if data.size != rows * cols:
            raise BadInput(
                "gudhi: %s matrix shape %dx%d needs %d values, got %d"
                % (what, rows, cols, rows * cols, data.size))
    m = data.reshape(rows, cols)
    bad = ~np.isfinite(m)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise BadInput("gudhi: %s matrix element (%d,%d) is %r" % (what, i, j, float(m[i, j])))
    return m


def validate_distances(d):
    try:
        ntplugin.validate_distances(d)
    except BadInput as e:
        raise BadInput("gudhi: %s" % e)


def euclidean(p):
    import numpy as np

    if p.shape[0] == 0:
        raise BadInput("gudhi: point cloud has no points")
    sq = np.einsum("ij,ij->i", p, p)
    g = sq[:, None] + sq[None, :] - 2.0 * (p @ p.T)
    np.maximum(g, 0, out=g)
    d = np.sqrt(g)
    np.fill_diagonal(d, 0)
    return np.maximum(d, d.T)  # exact symmetry


def is_prime(p):
    if p < 2:
        return False
    q = 2
    while q * q <= p:
        if p % q == 0:
            return False
        q += 1
    return True


# GUDHI's Z/p field multiplies coefficients in 32-bit integers and
# refuses a modulus above 46337 (the largest prime whose square fits).
MAX_COEFF = 46337


def compute(d, max_dim, threshold, coeff):
    """Returns a list of (dim, births, deaths) for dims 0..max_dim."""
    import gudhi
    import numpy as np

    n = d.shape[0]
    if n == 1:
        out = [(0, [0.0], [math.inf])]
        return out + [(k, [], []) for k in range(1, max_dim + 1)]
    d32 = d.astype(np.float32)
    enclosing = float(d32.max(axis=1).min())
    t = enclosing
    if threshold != 0 and not math.isinf(threshold):
        t = min(t, float(np.float32(threshold)))
    rips = gudhi.RipsComplex(distance_matrix=d32.astype(np.float64), max_edge_length=t)
    st = rips.create_simplex_tree(max_dimension=1)
    return persistence(st, d[np.tril_indices(n, -1)], max_dim, coeff)


def edges_of(req_bytes):
    """Returns (n, i, j, d) numpy arrays of a request's Edges message,
    checked as sdk.Edges.Validate checks them."""
    import numpy as np
    import plugin_pb2 as pb

    e = pb.HomologyRequest.FromString(req_bytes).edges
    n = e.n
    i = np.asarray(e.i, dtype=np.int64)
    j = np.asarray(e.j, dtype=np.int64)
    d = np.asarray(e.d, dtype=np.float64)
    if n < 1:
        raise BadInput("gudhi: edges: %d points, want at least 1" % n)
    if not (i.size == j.size == d.size):
        raise BadInput("gudhi: edges: %d, %d and %d values in i, j and d, want as many" % (i.size, j.size, d.size))
    bad = (i < 0) | (j < 0) | (i >= n) | (j >= n)
    if bad.any():
        k = int(np.argmax(bad))
        raise BadInput("gudhi: edges: pair %d (%d, %d) is outside 0..%d" % (k, i[k], j[k], n - 1))
    bad = i == j
    if bad.any():
        k = int(np.argmax(bad))
        raise BadInput("gudhi: edges: pair %d joins vertex %d to itself" % (k, i[k]))
    bad = ~np.isfinite(d) | (d < 0)
    if bad.any():
        k = int(np.argmax(bad))
        raise BadInput("gudhi: edges: pair %d (%d, %d) has distance %r, want finite and >= 0" % (k, i[k], j[k], float(d[k])))
    keys = np.minimum(i, j) * n + np.maximum(i, j)
    keys.sort()
    rep = keys[1:] == keys[:-1]
    if rep.any():
        k = keys[1:][rep][0]
        raise BadInput("gudhi: edges: pair (%d, %d) is given twice" % (k // n, k % n))
    return n, i, j, d


def compute_edges(n, i, j, d, max_dim, threshold, coeff):
    """compute for a sparse distance matrix: the pairs within the
    threshold go into the simplex tree as they are, no n x n matrix."""
    import gudhi
    import numpy as np

    d32 = d.astype(np.float32)
    keep = np.ones(d.size, dtype=bool)
    if threshold != 0 and not math.isinf(threshold):
        keep = d32 <= np.float32(threshold)
    st = gudhi.SimplexTree()
    st.insert_batch(np.arange(n, dtype=np.int32).reshape(1, n), np.zeros(n))
    k = int(keep.sum())
    if k:
        st.insert_batch(np.vstack([i[keep], j[keep]]).astype(np.int32), d32[keep].astype(np.float64))
    return persistence(st, d[keep], max_dim, coeff)


def persistence(st, dists, max_dim, coeff):
    """Collapses and expands the 1-skeleton st, computes its persistence
    and reports the intervals with each float32 filtration value mapped
    back to the smallest of the caller's distances dists that rounds to
    it."""
    import numpy as np

    if max_dim >= 1:
        # Expanding all edges stores every simplex up to max_dim+1: for H2
        # of 500 points, billions. Edge collapse (Boissonnat and Pritam)
        # first removes edges that cannot change the persistence diagrams
        # of the flag filtration, GUDHI's recommended way for Rips; repeat
        # until nothing more collapses.
        for _ in range(100):
            before = st.num_simplices()
            st.collapse_edges(nb_iterations=1)
            if st.num_simplices() == before:
                break
        st.expansion(max_dim + 1)
    # GUDHI skips the homology of the complex's top dimension unless told
    # otherwise; when nothing of dimension max_dim+1 is left (a sparse
    # graph, or triangles collapsed away) that top dimension is one asked
    # for, and its classes, all essential, were silently lost.
    st.persistence(homology_coeff_field=coeff, min_persistence=0,
                   persistence_dim_max=st.dimension() <= max_dim)

    # Map each float32 filtration value back to the smallest caller's
    # distance that rounds to it.
    low = np.asarray(dists, dtype=np.float64)
    low32 = low.astype(np.float32)
    order = np.lexsort((low, low32))
    s32, s64 = low32[order], low[order]
    first = np.ones(s32.size, dtype=bool)
    first[1:] = s32[1:] != s32[:-1]
    keys, reps = s32[first], s64[first]

    def back(v):
        v = np.asarray(v, dtype=np.float64)
        out = v.copy()
        fin = np.isfinite(v) & (v != 0)
        idx = np.searchsorted(keys, v[fin].astype(np.float32))
        out[fin] = reps[np.minimum(idx, keys.size - 1)]
        return out

    out = []
    for k in range(max_dim + 1):
        iv = np.asarray(st.persistence_intervals_in_dimension(k), dtype=np.float64).reshape(-1, 2)
        out.append((k, back(iv[:, 0]).tolist(), back(iv[:, 1]).tolist()))
    return out


MEMORY_LIMIT_ENV = "NT_GUDHI_MEMORY_LIMIT"


def memory_limit():
    """The address-space limit of a computation in bytes: $NT_GUDHI_MEMORY_LIMIT
    (bytes, or with a K/M/G suffix), else half the machine's memory."""
    v = os.environ.get(MEMORY_LIMIT_ENV, "").strip().upper()
    if v:
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(v[-1], 1)
        try:
            return int(float(v.rstrip("KMG")) * mult)
        except ValueError:
            log("warn", "ignoring a malformed memory limit", value=v)
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


PR_SET_PDEATHSIG = 1


def die_with_parent(parent):
    """Asks the kernel to kill this (forked) process when the thread that
    forked it ends, so a worker never outlives a killed plugin: it held the
    plugin's pipes and kept the host waiting forever. The host also kills
    the plugin's whole process group; this covers a host that is gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the host's process-group kill still applies
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def run_in_child(fn, is_active):
    """Runs fn() in a forked child and returns its value. Kills the child
    and raises Cancelled when is_active() turns false."""
    r, w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # child: compute, send, exit without touching gRPC
        # Nothing here may return into the gRPC server's code: every path,
        # a failed write to a parent that is gone included, ends in _exit.
        try:
            die_with_parent(parent)
            os.close(r)
            limit = memory_limit()
            soft, _ = resource.getrlimit(resource.RLIMIT_AS)
            if soft != resource.RLIM_INFINITY:
                limit = min(limit, soft)  # never lift a limit the host set
            try:
                # GUDHI stores every simplex: H2 of a few hundred points can
                # want more memory than the machine has. A failed allocation
                # is better than the kernel's OOM killer picking a victim.
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
                res = ("ok", fn())
            except BadInput as e:
                res = ("bad", str(e))
            except MemoryError:
                res = ("err", "gudhi: out of memory (limit %.1f GiB, set %s): the Rips complex is too big; "
                              "lower max_dim or set a threshold" % (limit / 2**30, MEMORY_LIMIT_ENV))
            except BaseException as e:  # report, never crash silently
                res = ("err", "gudhi: %s: %s" % (type(e).__name__, e))
            data = pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(w, "wb") as f:
                f.write(struct.pack("<Q", len(data)))
                f.write(data)
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([r], [], [], 0.05)
            if not is_active():
                os.kill(pid, signal.SIGKILL)
                raise Cancelled()
            if ready:
                b = os.read(r, 1 << 20)
                if not b:
                    break
                chunks.append(b)
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    buf = b"".join(chunks)
    if len(buf) < 8:
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            why = "was killed (out of memory?)" if sig == signal.SIGKILL else "died of signal %d" % sig
            if sig == signal.SIGABRT:
                why += " (out of memory under the %.1f GiB limit?)" % (memory_limit() / 2**30)
        else:
            why = "exited with status %d" % os.WEXITSTATUS(status)
        raise RuntimeError("gudhi: the computing process %s" % why)
    kind, val = pickle.loads(buf[8:])
    if kind == "bad":
        raise BadInput(val)
    if kind == "err":
        raise RuntimeError(val)
    return val


class Gudhi(ntplugin.Homology):
    """The neuraltopology.v1.Homology service by GUDHI."""

    name = "gudhi"
    version = VERSION
    description = "Vietoris-Rips persistent homology by GUDHI (Debian python3-gudhi), a Python plugin"

    def __init__(self):
        self.capabilities = {
            "max_dim": str(MAX_DIM),
            "coeff": "any<%d" % (MAX_COEFF + 1),
            "input": "distances,points,edges",
            "engine": "gudhi " + gudhi_version(),
            "method": "Rips 1-skeleton, edge collapse, expansion, persistent cohomology",
        }

    def _service(self, pb, protocol):
        # Describe as every ntplugin plugin; Compute on raw bytes.
        name, methods = super()._service(pb, protocol)
        methods["Compute"] = (self.compute_raw, ntplugin.Raw, ntplugin.Raw)
        return name, methods

    def compute_raw(self, raw, context):
        import plugin_pb2 as pb
        import wire_pb2

        # BadInput, Cancelled and other errors become status codes in ntplugin.
        req = wire_pb2.HomologyRequestView.FromString(raw)
        full = lambda: pb.HomologyRequest.FromString(raw)
        d = matrix(req.distances, lambda: full().distances, "distance")
        edges = None
        if d is None and req.points == b"" and req.edges != b"":
            edges = edges_of(raw)
        elif d is None:
            p = matrix(req.points, lambda: full().points, "point")
            if p is None:
                raise BadInput("gudhi: request has no distances, points or edges")
            d = euclidean(p)
        else:
            validate_distances(d)
        if not 0 <= req.max_dim <= MAX_DIM:
            raise BadInput("gudhi: max dimension %d outside 0..%d" % (req.max_dim, MAX_DIM))
        coeff = req.coeff or 2
        if not is_prime(coeff):
            raise BadInput("gudhi: coefficient modulus %d is not a prime" % req.coeff)
        if coeff > MAX_COEFF:
            raise BadInput("gudhi: coefficient modulus %d: GUDHI computes Z/p only for primes p <= %d" % (coeff, MAX_COEFF))
        t = req.threshold
        if math.isnan(t) or t < 0:
            raise BadInput("gudhi: threshold %r is not a non-negative number" % t)
        if edges is not None:
            log("debug", "compute", points=edges[0], edges=int(edges[3].size), max_dim=req.max_dim, coeff=coeff)
            diagrams = run_in_child(lambda: compute_edges(*edges, req.max_dim, t, coeff), context.is_active)
        else:
            log("debug", "compute", points=int(d.shape[0]), max_dim=req.max_dim, coeff=coeff)
            diagrams = run_in_child(lambda: compute(d, req.max_dim, t, coeff), context.is_active)
        res = pb.HomologyResult()
        for k, births, deaths in diagrams:
            dg = res.diagrams.add()
            dg.dim = k
            dg.births.extend(births)
            dg.deaths.extend(deaths)
        return res.SerializeToString()


def gudhi_version():
    try:
        import gudhi

        return gudhi.__version__
    except Exception:
        return "unknown"


def main():
    # Import the engine first so a missing package is a start failure with
    # a clear message, not an error on the first call.
    if os.environ.get(ntplugin.MAGIC_COOKIE_KEY) == ntplugin.MAGIC_COOKIE_VALUE:
        try:
            import gudhi  # noqa: F401
            import numpy  # noqa: F401
        except ImportError as e:
            sys.stderr.write("nt-ph-gudhi: %s (install Debian's python3-gudhi and python3-numpy)\n" % e)
            sys.exit(1)
    ntplugin.serve(Gudhi())


if __name__ == "__main__":
    main()
