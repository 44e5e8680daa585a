"""Write a simulated NWB 2.x recording with h5py, for the recording tests.

usage: simnwb.py KIND SEED SECONDS UNITS OUT.nwb [BREAK] [vary] [KEY=VALUE ...]

KIND is hd (head-direction cells: von Mises tuning to a heading that
drifts as an Ornstein-Uhlenbeck angular velocity), grid (one grid-cell
module: hexagonal fields, the animal walking on the lattice's periodic
rectangle so its phase covers the torus), squaregrid (the same with
square fields: two plane waves at right angles), or poisson
(independent units of constant rate). Spikes are Poisson in 10 ms
steps, placed uniformly within them.
The heading (hd) or position (grid, squaregrid) is written as a SpatialSeries under
/processing/behavior. BREAK writes a broken file for error tests:
ragged (an index past the end of spike_times), noindex (no
spike_times_index), or notnwb (HDF5 without NWB attributes).

vary draws the simulation's parameters from the seed instead of using
the fixed ones (firing rates, tuning widths, the heading's speed; the
grid's spacing, orientation, field width and the animal's speed and
arena), so that a method is checked on many different populations, not
one. KEY=VALUE sets one parameter (see P below); arena=0 walks on the
lattice's periodic rectangle, arena=A in a square box of side A metres
with reflecting walls.
"""
import sys

import h5py
import numpy as np

kind, seed, seconds, units, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
extra = sys.argv[6:]
brk = next((a for a in extra if a in ("ragged", "noindex", "notnwb")), "")
rng = np.random.default_rng(seed)
# The simulation's parameters: fixed unless vary (drawn from the seed's
# own generator, so a seed is one population either way) or KEY=VALUE.
P = dict(kappa_lo=3.0, kappa_hi=8.0, peak_lo=10.0, peak_hi=30.0, base=0.5, hd_sd=1.5, hd_tau=0.5,
         spacing=0.5, orient=0.0, width=0.8, speed=0.25, turn=0.25, arena=0.0, grid_base=0.2)
if "vary" in extra:
    vr = np.random.default_rng([seed, 7])
    lo = vr.uniform(2, 5)
    P.update(kappa_lo=lo, kappa_hi=lo + vr.uniform(2, 6), peak_lo=vr.uniform(4, 12), base=vr.uniform(0.1, 1.0),
             hd_sd=vr.uniform(0.8, 2.5), hd_tau=vr.uniform(0.3, 1.0),
             spacing=vr.uniform(0.35, 0.8), orient=vr.uniform(0, np.pi / 3), width=vr.uniform(0.6, 1.2),
             speed=vr.uniform(0.15, 0.35), turn=vr.uniform(0.15, 0.4), arena=vr.choice([0.0, 1.5, 2.0]),
             grid_base=vr.uniform(0.1, 0.5))
    P["peak_hi"] = P["peak_lo"] + vr.uniform(8, 25)
for a in extra:
    if "=" in a:
        k, v = a.split("=", 1)
        if k not in P:
            sys.exit("simnwb.py: unknown parameter %s (have %s)" % (k, ", ".join(sorted(P))))
        P[k] = float(v)
dt = 0.01
n = int(round(seconds / dt))
t = np.arange(n) * dt

if kind == "hd":
    # Angular velocity: OU with 0.5 s time constant, 1.5 rad/s spread.
    tau, sd = P["hd_tau"], P["hd_sd"]
    w = np.empty(n)
    w[0] = 0.0
    a = np.exp(-dt / tau)
    noise = rng.normal(0, sd * np.sqrt(1 - a * a), n)
    for i in range(1, n):
        w[i] = a * w[i - 1] + noise[i]
    behaviour = np.mod(np.cumsum(w) * dt + rng.uniform(0, 2 * np.pi), 2 * np.pi)
    pref = rng.uniform(0, 2 * np.pi, units)
    kappa = rng.uniform(P["kappa_lo"], P["kappa_hi"], units)
    peak = rng.uniform(P["peak_lo"], P["peak_hi"], units)
    rate = P["base"] + peak[None, :] * np.exp(kappa[None, :] * (np.cos(behaviour[:, None] - pref[None, :]) - 1))
    bname, bcols = "heading", 1
elif kind in ("grid", "squaregrid"):
    # Fields on a hexagonal lattice of spacing s: three plane waves of
    # wave number 4 pi / (sqrt(3) s) at 0, 60 and 120 degrees, whose
    # common period is the rectangle sqrt(3) s x s. The animal walks on
    # that rectangle with wrap-around (arena 0: its phase covers the
    # torus), or in a square box with reflecting walls.
    s = P["spacing"]
    box = np.array([s * np.sqrt(3), s])
    angles = (0, np.pi / 3, 2 * np.pi / 3)
    k = 4 * np.pi / (np.sqrt(3) * s)
    if kind == "squaregrid":
        # Two plane waves at right angles: square fields, period s x s.
        box, angles, k = np.array([s, s]), (0, np.pi / 2), 2 * np.pi / s
    speed = P["speed"]
    heading = np.cumsum(rng.normal(0, P["turn"], n)) + rng.uniform(0, 2 * np.pi)
    step = speed * dt * np.stack([np.cos(heading), np.sin(heading)], 1)
    if P["arena"] > 0:
        # Reflecting walls: fold the free walk into the box.
        A = P["arena"]
        pos = np.abs(np.mod(np.cumsum(step, 0) + rng.uniform(0, A, 2), 2 * A) - A)
    o = P["orient"]
    rot = np.array([[np.cos(o), -np.sin(o)], [np.sin(o), np.cos(o)]])
    if P["arena"] <= 0:
        # Wrapped on the period rectangle of the lattice, which is
        # turned by the orientation.
        pos = np.mod(np.cumsum(step, 0) + rng.uniform(0, 1, 2) * box, box) @ rot.T
    dirs = np.array([[np.cos(a + o), np.sin(a + o)] for a in angles]) * k
    # Phases uniform on the torus: over the period rectangle, turned
    # with the lattice.
    phase = (rng.uniform(0, 1, (units, 2)) * box) @ rot.T
    g = np.zeros((n, units))
    for d in dirs:
        g += np.cos((pos @ d)[:, None] - (phase @ d)[None, :])
    peak = rng.uniform(P["peak_lo"], P["peak_hi"], units)
    rate = P["grid_base"] + peak[None, :] * np.exp(P["width"] * (g - len(angles)))
    behaviour = pos
    bname, bcols = "position", 2
else:
    rate = np.broadcast_to(rng.uniform(2, 20, units)[None, :], (n, units))
    behaviour = None

counts = rng.poisson(rate * dt)
trains = []
for u in range(units):
    idx = np.repeat(np.nonzero(counts[:, u])[0], counts[counts[:, u] > 0, u])
    trains.append(np.sort(t[idx] + rng.uniform(0, dt, len(idx))))
times = np.concatenate(trains) if trains else np.zeros(0)
index = np.cumsum([len(x) for x in trains]).astype(np.uint64)


def typed(obj, ntype, ns="core"):
    obj.attrs["neurodata_type"] = ntype
    obj.attrs["namespace"] = ns
    obj.attrs["object_id"] = "%032x" % rng.integers(0, 2**63)


with h5py.File(out, "w") as f:
    if brk != "notnwb":
        f.attrs["nwb_version"] = "2.6.0"
        typed(f, "NWBFile")
        f.create_dataset("identifier", data="sim-%s-%d" % (kind, seed))
        f.create_dataset("session_description", data="simulated %s population" % kind)
        f.create_dataset("session_start_time", data="2026-01-01T00:00:00+00:00")
    uu = f.create_group("units")
    typed(uu, "Units")
    uu.attrs["colnames"] = np.array(["spike_times"], dtype=h5py.string_dtype())
    uu.attrs["description"] = "simulated units"
    st = uu.create_dataset("spike_times", data=times)
    typed(st, "VectorData", "hdmf-common")
    st.attrs["description"] = "spike times (s)"
    if brk != "noindex":
        ix = index.copy()
        if brk == "ragged":
            ix[-1] += 5
        si = uu.create_dataset("spike_times_index", data=ix)
        typed(si, "VectorIndex", "hdmf-common")
        si.attrs["target"] = st.ref
    ids = uu.create_dataset("id", data=np.arange(units, dtype=np.int64))
    typed(ids, "ElementIdentifiers", "hdmf-common")
    if behaviour is not None:
        beh = f.create_group("processing/behavior")
        typed(beh, "ProcessingModule")
        beh.attrs["description"] = "behaviour"
        cont = beh.create_group("CompassDirection" if kind == "hd" else "Position")
        typed(cont, "CompassDirection" if kind == "hd" else "Position")
        ss = cont.create_group(bname)
        typed(ss, "SpatialSeries")
        ss.attrs["description"] = bname
        step = 2  # 50 Hz tracking
        d = ss.create_dataset("data", data=behaviour[::step] if bcols == 1 else behaviour[::step, :])
        d.attrs["unit"] = "radians" if kind == "hd" else "meters"
        ss.create_dataset("timestamps", data=t[::step])
