"""NeuralTopology from Python, in the order a notebook would go.

Run from the repository after `make build`:

    PYTHONPATH=python python3 examples/python/quickstart.py [RUN_DIR]

or after `pip install ./python` with nthost on PATH (or
NEURALTOPOLOGY_BIN=/path/to/nthost). Without RUN_DIR it trains a tiny run
first (a few seconds) so that there is something to load.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

# 1. ripser.py's ripser(), computed by NeuralTopology's engine. A script
#    written for ripser.py changes only its import:
#        from ripser import ripser   ->   from neuraltopology import ripser
from neuraltopology import find_nthost, load_diagrams, load_run, ripser

rng = np.random.default_rng(0)
theta = rng.uniform(0, 2 * np.pi, 200)
circle = np.c_[np.cos(theta), np.sin(theta)] + rng.normal(scale=0.05, size=(200, 2))
res = ripser(circle, maxdim=1)
h1 = res["dgms"][1]
longest = h1[np.argmax(h1[:, 1] - h1[:, 0])]
print("noisy circle: %d H0 pairs, %d H1 pairs; longest H1 bar [%.3f, %.3f)"
      % (len(res["dgms"][0]), len(h1), longest[0], longest[1]))
assert longest[1] - longest[0] > 1.0, "the circle's loop is the one long H1 bar"

# 2. A run directory in one call: scalars, episodes, topology, diagrams.
scratch = None
if len(sys.argv) > 1:
    run_dir = sys.argv[1]
else:
    scratch = tempfile.mkdtemp(prefix="nt-quickstart-")
    run_dir = os.path.join(scratch, "run")
    subprocess.run([find_nthost(), "--env", "mujoco", "--algo", "ppo", "--ph", "rips", "--in-process",
                    "--total-timesteps", "1024", "--num-steps", "256", "--topology-analysis-interval", "2",
                    "--tda-samples", "100", "--maxdim", "1", "--run-dir", run_dir, "--log-level", "warn"],
                   check=True)
run = load_run(run_dir)
print(run)
# DataFrames with pandas (else dicts of numpy arrays): the same columns.
print("scalars:", len(run.scalars["step"]), "updates;",
      "episodes:", len(run.episodes["step"]), "finished;",
      "final return (mean of the last 100 episodes): %.2f" % run.final_return)

# Betti numbers at the seed's scale, per cloud, at the last snapshot.
topo = run.topology
last = np.max(np.asarray(topo["step"]))
rows = [(c, d, b) for s, c, d, b in zip(topo["step"], topo["cloud"], topo["dim"], topo["betti"]) if s == last]
print("Betti numbers at step %d:" % last, ", ".join("%s H%d=%d" % r for r in rows))

# 3. Any saved diagram (npz as ripser.py writes it, nthost's JSON or
#    Ripser's text) loads as a list of arrays, one per dimension.
npz = os.path.join(run_dir, "diagrams", "step_%d" % last, "actor_1.npz")
dgms = load_diagrams(npz)
print("actor/1 at step %d: %s pairs per dimension" % (last, [len(d) for d in dgms]))

if scratch:
    shutil.rmtree(scratch)
