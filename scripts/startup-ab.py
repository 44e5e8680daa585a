#!/usr/bin/env python3
"""Compare the start-up of two builds of nthost and its plugins.

    scripts/startup-ab.py A_BIN_DIR B_BIN_DIR [REPS]

Each directory holds nthost and the nt-* plugins. For REPS repetitions
(3 by default), A and B alternating (ABAB, then BABA), it runs a
2048-step Hopper-v4 training through plugin processes and reports the
time from starting nthost to its first "training" log line (step 0: the
plugins are started, handshaken and initialised), to the end of the run,
and the CPU seconds of the whole process tree (getrusage of children).
Then it times each plugin binary from exec to its go-plugin handshake
line, which is all a plugin does before the host connects.
Used for docs/benchmarks.md, "`nthost tda` on point clouds".
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

COOKIE = ("NEURALTOPOLOGY_PLUGIN", "b7e0c3f2-topology-of-learning")


def train(bindir):
    rundir = tempfile.mkdtemp(prefix="startup-ab-")
    shutil.rmtree(rundir)
    env = dict(os.environ, NT_PLUGIN_DIR=bindir)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.Popen(
        [os.path.join(bindir, "nthost"), "--env-id", "Hopper-v4", "--total-timesteps", "2048",
         "--num-envs", "1", "--topology-analysis-interval", "0", "--no-report",
         "--log-level", "info", "--log-format", "json", "--run-dir", rundir],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
    first = None
    for line in p.stderr:
        if first is None and '"message":"training"' in line and '"step":0,' in line:
            first = time.monotonic() - t0
    p.wait()
    total = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(rundir, ignore_errors=True)
    if p.returncode != 0 or first is None:
        sys.exit(f"{bindir}: training run failed (exit {p.returncode})")
    return first, total, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def handshake(path):
    env = dict(os.environ, **{COOKIE[0]: COOKIE[1]}, PLUGIN_PROTOCOL_VERSIONS="1,2,3,4,5")
    t0 = time.monotonic()
    p = subprocess.Popen([path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    p.stdout.readline()
    t = time.monotonic() - t0
    p.kill()
    p.wait()
    return t


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    dirs = {"A": os.path.abspath(sys.argv[1]), "B": os.path.abspath(sys.argv[2])}
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    res = {"A": [], "B": []}
    for i in range(reps):
        for tag in ("A", "B") if i % 2 == 0 else ("B", "A"):
            res[tag].append(train(dirs[tag]))
    for tag in ("A", "B"):
        r = res[tag]
        print(f"{tag} {dirs[tag]}: to step 0 median {median(x[0] for x in r):.3f} s, "
              f"2048-step run median {median(x[1] for x in r):.3f} s, CPU median {median(x[2] for x in r):.3f} s "
              f"(to step 0: {', '.join(f'{x[0]:.3f}' for x in r)})")
    for name in ("nt-algo-ppo", "nt-env-mujoco", "nt-ph-rips"):
        ts = {"A": [], "B": []}
        for i in range(reps):
            for tag in ("A", "B") if i % 2 == 0 else ("B", "A"):
                ts[tag].append(handshake(os.path.join(dirs[tag], name)))
        print(f"{name}: exec to handshake median A {median(ts['A']) * 1000:.1f} ms, B {median(ts['B']) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
