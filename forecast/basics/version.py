"""The distribution's name and the installed version, recorded with every stored run."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "policy-forecast"  # "forecast" is taken on PyPI; the import name and command stay "forecast"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
