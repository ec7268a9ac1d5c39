"""Benchmarks: `python -m benchmarks [name ...]` (or `make bench`) prints numbers and ratios."""
