"""Tests of the scripts/ helpers (make run, its stop, the demo output)."""
