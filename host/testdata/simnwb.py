"""Write a simulated NWB 2.x recording with h5py, for the recording tests.

usage: simnwb.py KIND SEED SECONDS UNITS OUT.nwb [BREAK]

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
"""
import sys

import h5py
import numpy as np

kind, seed, seconds, units, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
brk = sys.argv[6] if len(sys.argv) > 6 else ""
rng = np.random.default_rng(seed)
dt = 0.01
n = int(round(seconds / dt))
t = np.arange(n) * dt

if kind == "hd":
    # Angular velocity: OU with 0.5 s time constant, 1.5 rad/s spread.
    tau, sd = 0.5, 1.5
    w = np.empty(n)
    w[0] = 0.0
    a = np.exp(-dt / tau)
    noise = rng.normal(0, sd * np.sqrt(1 - a * a), n)
    for i in range(1, n):
        w[i] = a * w[i - 1] + noise[i]
    behaviour = np.mod(np.cumsum(w) * dt + rng.uniform(0, 2 * np.pi), 2 * np.pi)
    pref = rng.uniform(0, 2 * np.pi, units)
    kappa = rng.uniform(3, 8, units)
    peak = rng.uniform(10, 30, units)
    rate = 0.5 + peak[None, :] * np.exp(kappa[None, :] * (np.cos(behaviour[:, None] - pref[None, :]) - 1))
    bname, bcols = "heading", 1
elif kind in ("grid", "squaregrid"):
    # Fields on a hexagonal lattice of spacing s: three plane waves of
    # wave number 4 pi / (sqrt(3) s) at 0, 60 and 120 degrees, whose
    # common period is the rectangle sqrt(3) s x s. The animal walks on
    # that rectangle with wrap-around: its phase covers the torus.
    s = 0.5
    box = np.array([s * np.sqrt(3), s])
    angles = (0, np.pi / 3, 2 * np.pi / 3)
    k = 4 * np.pi / (np.sqrt(3) * s)
    if kind == "squaregrid":
        # Two plane waves at right angles: square fields, period s x s.
        box, angles, k = np.array([s, s]), (0, np.pi / 2), 2 * np.pi / s
    speed = 0.25
    heading = np.cumsum(rng.normal(0, 0.25, n)) + rng.uniform(0, 2 * np.pi)
    step = speed * dt * np.stack([np.cos(heading), np.sin(heading)], 1)
    pos = np.mod(np.cumsum(step, 0) + rng.uniform(0, 1, 2) * box, box)
    dirs = np.array([[np.cos(a), np.sin(a)] for a in angles]) * k
    phase = rng.uniform(0, 1, (units, 2)) * box
    g = np.zeros((n, units))
    for d in dirs:
        g += np.cos((pos @ d)[:, None] - (phase @ d)[None, :])
    peak = rng.uniform(10, 30, units)
    rate = 0.2 + peak[None, :] * np.exp(0.8 * (g - len(angles)))
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
