"""Benchmarks against the simulators; `scripts/bench` runs them all and prints their tables.

Run from the repository root (the root is on `sys.path` that way):

- `python -m bench.ksem`: the KSEM client and coordinator (CPU time, freshness);
- `python -m bench.ha`: a real Home Assistant process (set-up times, round trips, memory);
- `python -m bench.scenarios zaptec faults`: the scenarios that need Home Assistant's pytest
  harness (bench/scenarios/, on a simulated clock).

Shared code of the scenarios and of bench/ksem.py lives in bench/harness.py.
"""
