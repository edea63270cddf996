"""ProSaaS calls service: an actor per Twilio media stream, on Trio.

``python -m callengine`` runs it; ``python -m callengine.loadtest`` plays Twilio's side.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prosaas")
except PackageNotFoundError:  # running from a checkout without `pip install -e .`
    __version__ = "0+unknown"

__all__ = ["__version__"]
