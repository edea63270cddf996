"""Benchmarks of the calls service (``make bench`` / ``python -m bench``); see README.md."""
