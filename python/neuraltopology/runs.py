"""Run and sweep directories as tables.

    run = load_run("runs/Hopper-v4__ppo__1__1764700000")
    run.scalars      # one row per update: step, update, losses/..., charts/...
    run.episodes     # one row per finished episode: charts/episodic_return at its step
    run.topology     # one row per cloud, snapshot and homology dimension
    run.diagrams     # one row per persistence pair: step, cloud, dim, birth, death
    run.config       # config.yaml as a dict

Tables are pandas DataFrames when pandas is installed, else dicts of
numpy arrays (column name -> array), so that numpy is the only
requirement.

Episodic return has one meaning, CleanRL's: `charts/episodic_return` is
one finished episode's return at the global step it ended. The mean of
the last 100 is `charts/episodic_return_mean100` (in `scalars`, one per
update). Run directories written before the two were told apart logged
the 100-episode mean under `charts/episodic_return` in scalars.jsonl; it
is read under its own name, `charts/episodic_return_mean100`.
"""

import json
import math
import os
import re

import numpy as np

try:
    import pandas as _pd
except ImportError:  # pandas is optional
    _pd = None

EPISODIC_RETURN = "charts/episodic_return"
EPISODIC_LENGTH = "charts/episodic_length"
RETURN_MEAN = "charts/episodic_return_mean100"
LENGTH_MEAN = "charts/episodic_length_mean100"
#: Episodes in the final return (and in RETURN_MEAN).
RETURN_WINDOW = 100


def _table(rows, columns=None):
    """rows (list of dicts) as a DataFrame, or a dict of numpy arrays."""
    if columns is None:
        columns = []
        for r in rows:
            for k in r:
                if k not in columns:
                    columns.append(k)
    if _pd is not None:
        return _pd.DataFrame(rows, columns=columns)
    out = {}
    for c in columns:
        vals = [r.get(c, math.nan) for r in rows]
        try:
            out[c] = np.array(vals, dtype=np.float64) if all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals) else np.array(vals, dtype=object)
        except (TypeError, ValueError):
            out[c] = np.array(vals, dtype=object)
    return out


def _read_jsonl(path):
    """Records of a JSON-lines file; a torn last line (a run killed while
    writing) is skipped, any other bad line is an error naming it."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as e:
            if i == len(lines) - 1:
                break
            raise ValueError("%s:%d: %s" % (path, i + 1, e)) from None
    return out


def _latest(recs, key):
    """The last record of each key stands (a resumed run may repeat one)."""
    at, out = {}, []
    for r in recs:
        k = key(r)
        if k in at:
            out[at[k]] = r
        else:
            at[k] = len(out)
            out.append(r)
    return out


def _load_config(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        text = f.read()
    try:
        import yaml
        return yaml.safe_load(text) or {}
    except ImportError:
        pass
    cfg = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z_][\w]*):\s*(.*)$", line)
        if not m:
            continue
        v = m.group(2).strip()
        try:
            cfg[m.group(1)] = json.loads(v)
        except ValueError:
            cfg[m.group(1)] = v
    return cfg


def final_return(episodes_returns):
    """The run's final return: the mean of its last RETURN_WINDOW finished
    episodes' returns (the value `nthost` logs as return= and the report
    shows). NaN when no episode finished."""
    r = np.asarray(episodes_returns, dtype=np.float64)
    r = r[np.isfinite(r)][-RETURN_WINDOW:]
    return float(r.mean()) if len(r) else math.nan


class Run:
    """One run directory read into tables (see the module doc)."""

    def __init__(self, path, config, scalars, episodes, topology, diagrams, final):
        self.path = path
        self.config = config
        self.scalars = scalars
        self.episodes = episodes
        self.topology = topology
        self.diagrams = diagrams
        self.final_return = final

    def __repr__(self):
        return "Run(%r, final_return=%.4g)" % (self.path, self.final_return)


def _cloud_of_file(name):
    """actor_1.npz -> actor/1, input.npz -> input."""
    base = name[:-4]
    m = re.match(r"^(.*)_(\d+)$", base)
    return "%s/%s" % (m.group(1), m.group(2)) if m else base


def load_diagrams(path):
    """A saved diagram file as a list of (n_pairs, 2) arrays, one per
    dimension: .npz as ripser.py writes it (dgm0, dgm1, ...), the JSON
    of `nthost tda --format json`, or Ripser's text output."""
    if path.endswith(".npz"):
        z = np.load(path)
        # dgm0, dgm1, ...; or arr_0, arr_1, ... from np.savez(f, *dgms).
        prefix = "dgm" if any(re.match(r"^dgm\d+$", k) for k in z.files) else "arr_"
        dims = sorted(int(k[len(prefix):]) for k in z.files if re.match("^%s\\d+$" % prefix, k))
        return [np.asarray(z["%s%d" % (prefix, d)], dtype=np.float64).reshape(-1, 2) for d in dims]
    with open(path) as f:
        text = f.read()
    if path.endswith(".json"):
        doc = json.loads(text)
        items = doc.get("diagrams", doc) if isinstance(doc, dict) else doc
        out = []
        for it in items:
            pairs = [[_num(a), _num(b)] for a, b in it.get("pairs", [])]
            d = int(it.get("dim", len(out)))
            while len(out) <= d:
                out.append(np.zeros((0, 2)))
            out[d] = np.array(pairs, dtype=np.float64).reshape(-1, 2)
        return out
    out, dim = [], None
    for line in text.splitlines():
        m = re.match(r"^persistence intervals in dim (\d+):", line)
        if m:
            dim = int(m.group(1))
            while len(out) <= dim:
                out.append([])
            continue
        m = re.match(r"^\s*\[([^,]+),\s*([^)]*)\)", line)
        if m and dim is not None:
            death = m.group(2).strip()
            out[dim].append([float(m.group(1)), float(death) if death else math.inf])
    return [np.array(p, dtype=np.float64).reshape(-1, 2) for p in out]


def _num(v):
    """A number as the run files write it: non-finite values are the
    strings "NaN", "Inf", "-Inf" (JSON has no such numbers); null in a
    diagram is an infinite death."""
    if v is None:
        return math.inf
    if isinstance(v, str):
        return float(v.replace("Infinity", "inf"))
    return float(v)


def load_run(path, diagrams=True):
    """Read a run directory (see the module doc). diagrams=False skips
    the diagram files, the slow part of a long run."""
    if not os.path.isdir(path):
        raise FileNotFoundError("run directory %s: not a directory" % path)
    files = [os.path.join(path, f) for f in ("config.yaml", "scalars.jsonl", "topology.jsonl")]
    if not any(os.path.exists(f) for f in files):
        raise ValueError("%s is not a run directory (no config.yaml, scalars.jsonl or topology.jsonl)" % path)
    config = _load_config(files[0])
    recs = _read_jsonl(files[1])
    recs = _latest(recs, lambda r: r.get("update"))
    upd_rows, ep_rows = [], []
    for r in recs:
        vals = dict(r.get("values", {}))
        eps = r.get("episodes") or []
        for e in eps:
            ep_rows.append({"step": e["step"], "update": r.get("update"),
                            EPISODIC_RETURN: _num(e["return"]), EPISODIC_LENGTH: e["length"]})
        if not eps:
            # Old files: the 100-episode mean under the per-episode name.
            for old, new in ((EPISODIC_RETURN, RETURN_MEAN), (EPISODIC_LENGTH, LENGTH_MEAN)):
                if old in vals:
                    vals.setdefault(new, vals[old])
                    del vals[old]
        row = {"step": r.get("step"), "update": r.get("update")}
        row.update({k: _num(v) for k, v in vals.items()})
        upd_rows.append(row)
    if ep_rows:
        final = final_return([r[EPISODIC_RETURN] for r in ep_rows])
    else:
        means = [r[RETURN_MEAN] for r in upd_rows if math.isfinite(r.get(RETURN_MEAN, math.nan))]
        final = float(means[-1]) if means else math.nan

    topo_rows = []
    for r in _latest(_read_jsonl(files[2]), lambda r: (r.get("update"), r.get("cloud"))):
        s = r.get("summary", {})
        base = {k: r.get(k) for k in ("step", "update", "cloud", "net", "layer", "points", "metric", "seconds")}
        base["diameter"] = s.get("diameter")
        base["betti_scale"] = s.get("betti_scale")
        for d in s.get("dims", []):
            row = dict(base)
            row.update({k: v for k, v in d.items() if k != "betti_curve"})
            row["betti_curve"] = np.asarray(d.get("betti_curve", []))
            topo_rows.append(row)
        if not s.get("dims"):
            topo_rows.append(base)
    dg_rows = []
    if diagrams:
        root = os.path.join(path, "diagrams")
        steps = []
        if os.path.isdir(root):
            for name in os.listdir(root):
                m = re.match(r"^step_(\d+)$", name)
                if m:
                    steps.append((int(m.group(1)), name))
        for step, name in sorted(steps):
            for f in sorted(os.listdir(os.path.join(root, name))):
                if not f.endswith(".npz"):
                    continue
                cloud = _cloud_of_file(f)
                for dim, pairs in enumerate(load_diagrams(os.path.join(root, name, f))):
                    for b, d in pairs:
                        dg_rows.append({"step": step, "cloud": cloud, "dim": dim,
                                        "birth": float(b), "death": float(d)})
    return Run(path, config,
               _table(upd_rows, None if upd_rows else ["step", "update"]),
               _table(ep_rows, ["step", "update", EPISODIC_RETURN, EPISODIC_LENGTH]),
               _table(topo_rows, None if topo_rows else ["step", "update", "cloud", "dim"]),
               _table(dg_rows, ["step", "cloud", "dim", "birth", "death"]),
               final)


class Sweep:
    """A sweep directory: each table of its runs stacked, with the
    trial's name and grid values as columns."""

    def __init__(self, path, trials, runs, scalars, episodes, topology, diagrams):
        self.path = path
        self.trials = trials
        self.runs = runs
        self.scalars = scalars
        self.episodes = episodes
        self.topology = topology
        self.diagrams = diagrams


def _stack(tables, keys):
    if _pd is not None:
        parts = []
        for t, k in zip(tables, keys):
            t = t.copy()
            for c, v in reversed(list(k.items())):
                t.insert(0, c, v)
            parts.append(t)
        return _pd.concat(parts, ignore_index=True) if parts else _pd.DataFrame()
    out = {}
    cols = []
    for t, k in zip(tables, keys):
        for c in list(k) + list(t):
            if c not in cols:
                cols.append(c)
    for c in cols:
        vals = []
        for t, k in zip(tables, keys):
            n = len(next(iter(t.values()))) if t else 0
            if c in k:
                vals.append(np.array([k[c]] * n, dtype=object))
            elif c in t:
                vals.append(t[c])
            else:
                vals.append(np.full(n, math.nan))
        out[c] = np.concatenate(vals) if vals else np.array([])
    return out


def load_sweep(path, diagrams=False):
    """Read every trial's run directory of a sweep (sweep.json) that
    exists. diagrams=True reads the diagram files too."""
    manifest = os.path.join(path, "sweep.json")
    if not os.path.exists(manifest):
        raise ValueError("%s is not a sweep directory (no sweep.json)" % path)
    with open(manifest) as f:
        m = json.load(f)
    trials, runs, keys = [], {}, []
    for t in m.get("trials", []):
        name = t["name"]
        row = {"trial": name}
        for p in t.get("params", []):
            row[p["key"]] = p["value"]
        d = os.path.join(path, "runs", name)
        row["dir"] = d
        if os.path.isdir(d):
            run = load_run(d, diagrams=diagrams)
            runs[name] = run
            row["final_return"] = run.final_return
            keys.append({k: v for k, v in row.items() if k not in ("dir", "final_return")})
        else:
            row["final_return"] = math.nan
        trials.append(row)
    rs = list(runs.values())
    return Sweep(path, _table(trials), runs,
                 _stack([r.scalars for r in rs], keys), _stack([r.episodes for r in rs], keys),
                 _stack([r.topology for r in rs], keys), _stack([r.diagrams for r in rs], keys))
