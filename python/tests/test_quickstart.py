"""The quickstart example runs as documented."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class Quickstart(unittest.TestCase):
    def test_runs(self):
        env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "python"))
        p = subprocess.run([sys.executable, os.path.join(REPO, "examples", "python", "quickstart.py")],
                           env=env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("longest H1 bar", p.stdout)
        self.assertIn("final return", p.stdout)
        self.assertIn("pairs per dimension", p.stdout)


if __name__ == "__main__":
    unittest.main()
