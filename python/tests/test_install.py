"""pip installs the package offline, from Debian's setuptools alone."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class OfflineInstall(unittest.TestCase):
    def test_pip_install_no_index(self):
        tmp = tempfile.mkdtemp(prefix="nt-pip-")
        try:
            # Build from a copy: pip writes build/ and *.egg-info beside
            # the sources.
            src = os.path.join(tmp, "src")
            shutil.copytree(os.path.join(REPO, "python"), src, ignore=shutil.ignore_patterns("tests", "__pycache__"))
            target = os.path.join(tmp, "site")
            p = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                                "--no-build-isolation", "--no-deps", "--target", target, src],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            env = dict(os.environ, PYTHONPATH=target,
                       NEURALTOPOLOGY_BIN=os.path.join(REPO, "bin", "nthost"))
            code = ("import neuraltopology as nt, numpy as np; "
                    "assert nt.__file__.startswith(%r), nt.__file__; "
                    "r = nt.ripser(np.eye(3) * 2, maxdim=0); print(len(r['dgms'][0]))" % target)
            p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.strip(), "3")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
