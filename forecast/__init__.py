"""forecast: Bayesian policy forecasting and prediction tracking.

The Python API (``forecast.open_store`` and what it returns) lives in :mod:`forecast.api`; it is
imported on first use, so that ``import forecast`` (and the command line) stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .basics.version import DISTRIBUTION, __version__

if TYPE_CHECKING:
    from .api import ForecastStore, RunSummary, open_store

__all__ = ["DISTRIBUTION", "ForecastStore", "RunSummary", "__version__", "open_store"]
_API = ("ForecastStore", "RunSummary", "open_store")


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")
