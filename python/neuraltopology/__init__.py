"""NeuralTopology from Python.

    from neuraltopology import ripser          # ripser.py's ripser(), our engine
    from neuraltopology import load_run, load_sweep

ripser() computes with `nthost tda` (found through $NEURALTOPOLOGY_BIN,
PATH, or the checkout's bin/); load_run and load_sweep read run and sweep
directories into pandas DataFrames (dicts of numpy arrays without pandas).
"""

from ._engine import EngineError, find_nthost
from ._ripser import pairwise_distances, ripser
from .runs import (EPISODIC_LENGTH, EPISODIC_RETURN, RETURN_MEAN, RETURN_WINDOW, Run, Sweep,
                   final_return, load_diagrams, load_run, load_sweep)

__version__ = "0.1.0"

__all__ = ["ripser", "pairwise_distances", "load_run", "load_sweep", "load_diagrams",
           "final_return", "Run", "Sweep", "EngineError", "find_nthost", "EPISODIC_RETURN",
           "EPISODIC_LENGTH", "RETURN_MEAN", "RETURN_WINDOW"]
