"""The ProSaaS REST API (Quart-Trio under Hypercorn): webhooks, auth, resources, runbook probes."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prosaas")
except PackageNotFoundError:  # running from a checkout that was never pip-installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
