"""load_run and load_sweep on a real run of nthost, checked against the
other code paths: the CSV files and the log the Go side writes, the pair
counts of its topology records, and the diagram formats of nthost tda."""

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import neuraltopology as nt  # noqa: E402
import tbreader  # noqa: E402

TESTDATA = os.path.join(os.path.dirname(__file__), "testdata")


def col(table, name):
    """A column of a DataFrame or of a dict of arrays, as a numpy array."""
    return np.asarray(table[name])


def nrows(table):
    return len(table) if hasattr(table, "iloc") else (len(next(iter(table.values()))) if table else 0)


def tiny_run(dirname):
    """Train Hopper-v4 for 6 updates of 256 steps, one snapshot of 100
    states at update 3 and one at the end; return nthost's log."""
    p = subprocess.run(
        [nt.find_nthost(), "--env", "mujoco", "--algo", "ppo", "--ph", "rips", "--in-process",
         "--total-timesteps", "1536", "--num-steps", "256", "--topology-analysis-interval", "3",
         "--save-checkpoint-interval", "3", "--tda-samples", "100", "--maxdim", "1",
         "--run-dir", dirname, "--log-format", "json"],
        capture_output=True, text=True, check=True)
    return p.stderr


class LoadRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nt-pytest-")
        cls.dir = os.path.join(cls.tmp, "run")
        cls.log = tiny_run(cls.dir)
        cls.r = nt.load_run(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_final_return_is_the_logged_one(self):
        done = [json.loads(l) for l in self.log.splitlines() if '"run finished"' in l]
        self.assertEqual(len(done), 1, self.log[-2000:])
        self.assertAlmostEqual(self.r.final_return, done[0]["return"], places=9)
        # The same number by its definition: the last 100 episodes.
        rets = col(self.r.episodes, nt.EPISODIC_RETURN)
        self.assertGreater(len(rets), 0)
        self.assertAlmostEqual(self.r.final_return, rets[-100:].mean(), places=9)
        # ...and the last per-update mean.
        self.assertAlmostEqual(self.r.final_return, col(self.r.scalars, nt.RETURN_MEAN)[-1], places=9)

    def test_scalars_match_the_csv(self):
        with open(os.path.join(self.dir, "scalars.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(nrows(self.r.scalars), len(rows))
        self.assertEqual(list(col(self.r.scalars, "update")), [int(r["update"]) for r in rows])
        for name in ("losses/value_loss", "charts/learning_rate", nt.RETURN_MEAN):
            want = np.array([float(r[name]) for r in rows])
            self.assertTrue(np.array_equal(col(self.r.scalars, name), want), name)
        self.assertNotIn(nt.EPISODIC_RETURN, list(self.r.scalars))
        steps = col(self.r.episodes, "step")
        self.assertTrue(np.all(np.diff(steps) >= 0) and steps.max() <= 1536)

    def test_topology_and_diagrams(self):
        with open(os.path.join(self.dir, "topology.csv")) as f:
            rows = list(csv.DictReader(f))
        topo = self.r.topology
        self.assertEqual(sorted(set(col(topo, "step").tolist())), [768, 1536])
        # Each diagram's pair count is the one the Go summary recorded.
        dg = self.r.diagrams
        step, cloud, dim = col(dg, "step"), col(dg, "cloud"), col(dg, "dim")
        checked = 0
        for s, c, d, pairs in zip(col(topo, "step"), col(topo, "cloud"), col(topo, "dim"), col(topo, "pairs")):
            n = int(np.count_nonzero((step == s) & (cloud == c) & (dim == d)))
            self.assertEqual(n, int(pairs), "step %s %s H%s" % (s, c, d))
            checked += 1
        self.assertEqual(checked, 2 * 5 * 2)  # snapshots x clouds x dims
        self.assertEqual(len(rows), 10)
        self.assertEqual(self.r.config["env_id"], "Hopper-v4")

    def test_tensorboard(self):
        # Read with protoc-generated classes, not nthost's own reader.
        events = tbreader.read_events(os.path.join(self.dir, "tb"))
        self.assertEqual(events[0].file_version, "brain.Event:2")
        scalars, images, texts = {}, {}, {}
        for e in events:
            for v in e.summary.value:
                kind = v.WhichOneof("value")
                if kind == "simple_value":
                    scalars.setdefault(v.tag, []).append((e.step, v.simple_value))
                elif kind == "image":
                    images.setdefault(v.tag, []).append((e.step, v.image))
                elif kind == "tensor":
                    texts[v.tag] = (e.step, v)
        # CleanRL's charts/episodic_return: every episode at its step,
        # the same episodes as scalars.jsonl.
        eps = self.r.episodes
        want = [(int(s), float(np.float32(r))) for s, r in zip(col(eps, "step"), col(eps, nt.EPISODIC_RETURN))]
        got = [(s, float(np.float32(v))) for s, v in scalars[nt.EPISODIC_RETURN]]
        self.assertEqual(got, want)
        means = [float(np.float32(v)) for v in col(self.r.scalars, nt.RETURN_MEAN)]
        self.assertEqual([float(np.float32(v)) for _, v in scalars[nt.RETURN_MEAN]], means)
        # The figures of each snapshot as PNG images.
        for tag in ("topology/persistence_diagrams", "topology/betti_curves"):
            self.assertEqual([s for s, _ in images[tag]], [768, 1536], tag)
            for _, img in images[tag]:
                self.assertEqual(tbreader.png_size(img.encoded_image_string), (img.width, img.height))
                self.assertGreater(img.width, 300)
        # The config as text for the text plugin.
        step, v = texts["config"]
        self.assertEqual(v.metadata.plugin_data.plugin_name, "text")
        self.assertEqual(v.tensor.dtype, 7)
        self.assertIn(b'env_id: "Hopper-v4"', v.tensor.string_val[0])

    def test_saved_diagram_formats(self):
        pts = os.path.join(self.tmp, "pts.npy")
        np.save(pts, np.random.default_rng(0).normal(size=(40, 3)))
        got = {}
        for fmt, ext in (("npz", "npz"), ("json", "json"), ("ripser", "txt")):
            out = os.path.join(self.tmp, "d." + ext)
            subprocess.run([nt.find_nthost(), "tda", "--points", pts, "--maxdim", "1", "--format", fmt,
                            "--out", out], check=True, capture_output=True)
            got[fmt] = nt.load_diagrams(out)
        for d in (0, 1):
            self.assertTrue(np.array_equal(got["npz"][d], got["json"][d]))
            # Ripser's text has six significant digits.
            self.assertTrue(np.allclose(got["npz"][d], got["ripser"][d], rtol=1e-5))
        self.assertTrue(np.isinf(got["json"][0][:, 1]).sum() == 1)

    def test_sweep(self):
        sw = os.path.join(self.tmp, "sweep")
        os.makedirs(os.path.join(sw, "runs"))
        trials = []
        for seed in (1, 2):
            name = "Hopper-v4__seed%d" % seed
            shutil.copytree(self.dir, os.path.join(sw, "runs", name))
            trials.append({"index": seed - 1, "name": name, "params": [{"key": "seed", "value": str(seed)}]})
        trials.append({"index": 2, "name": "never-started", "params": [{"key": "seed", "value": "3"}]})
        with open(os.path.join(sw, "sweep.json"), "w") as f:
            json.dump({"version": 1, "trials": trials}, f)
        s = nt.load_sweep(sw)
        self.assertEqual(nrows(s.trials), 3)
        self.assertEqual(sorted(s.runs), ["Hopper-v4__seed1", "Hopper-v4__seed2"])
        self.assertEqual(nrows(s.scalars), 2 * nrows(self.r.scalars))
        self.assertEqual(sorted(set(col(s.scalars, "seed").tolist())), ["1", "2"])
        fr = col(s.trials, "final_return").astype(float)
        self.assertAlmostEqual(fr[0], self.r.final_return)
        self.assertTrue(math.isnan(fr[2]))


class LegacyRun(unittest.TestCase):
    def test_old_scalars_read_under_their_own_name(self):
        r = nt.load_run(os.path.join(TESTDATA, "legacy_run"))
        self.assertEqual(list(col(r.scalars, nt.RETURN_MEAN)), [18.5, 221.6])
        self.assertNotIn(nt.EPISODIC_RETURN, list(r.scalars))
        self.assertEqual(nrows(r.episodes), 0)
        self.assertEqual(r.final_return, 221.6)  # what its log printed

    def test_not_a_run(self):
        with self.assertRaises(ValueError):
            nt.load_run(TESTDATA)


if __name__ == "__main__":
    unittest.main()
