"""Copies the protocol (../proto/plugin.proto) into the built package, so
that an installed ntplugin can generate its message code; the rest of the
metadata is in pyproject.toml."""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithProto(build_py):
    def run(self):
        super().run()
        self.copy_file(os.path.join(HERE, "..", "proto", "plugin.proto"),
                       os.path.join(self.build_lib, "ntplugin", "plugin.proto"))


setup(cmdclass={"build_py": BuildWithProto})
