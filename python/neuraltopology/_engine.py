"""Finding and calling the nthost binary.

The Python package holds no homology code of its own: every diagram comes
from the same engine the training runs use, `nthost tda`, so a number
computed in a notebook and one in a run directory cannot disagree.
"""

import os
import shutil
import subprocess
from pathlib import Path

#: Environment variable naming the nthost binary (or the folder holding it).
BIN_ENV = "NEURALTOPOLOGY_BIN"


class EngineError(RuntimeError):
    """nthost failed; the message holds its own one-line reason."""


def find_nthost():
    """Return the path of the nthost binary.

    Looked up in this order: $NEURALTOPOLOGY_BIN (the binary, or a folder
    holding it), `nthost` on PATH, then bin/nthost of the repository this
    package was loaded from (PYTHONPATH=python in a checkout after
    `make build`).
    """
    env = os.environ.get(BIN_ENV, "")
    if env:
        p = Path(env)
        if p.is_dir():
            p = p / "nthost"
        if not (p.is_file() and os.access(p, os.X_OK)):
            raise FileNotFoundError("%s=%s: no executable nthost there" % (BIN_ENV, env))
        return str(p)
    found = shutil.which("nthost")
    if found:
        return found
    repo = Path(__file__).resolve().parent.parent.parent / "bin" / "nthost"
    if repo.is_file() and os.access(repo, os.X_OK):
        return str(repo)
    raise FileNotFoundError(
        "nthost not found: set %s=/path/to/nthost, put nthost on PATH, "
        "or run `make build` in the NeuralTopology checkout" % BIN_ENV)


def run_nthost(args, timeout=None):
    """Run nthost with args; return its standard output as text.

    A failure raises EngineError carrying nthost's own message (its last
    line of standard error names the culprit)."""
    cmd = [find_nthost()] + [str(a) for a in args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, check=False)
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        msg = err[-1] if err else "exit status %d" % p.returncode
        raise EngineError("nthost %s: %s" % (args[0] if args else "", msg))
    return p.stdout.decode("utf-8", "replace")
