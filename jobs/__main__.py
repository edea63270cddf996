"""``python -m jobs failed list|show|requeue|purge`` (``jobs/cli.py``)."""

from __future__ import annotations

import sys

from jobs.cli import main

if __name__ == "__main__":
    sys.exit(main())
