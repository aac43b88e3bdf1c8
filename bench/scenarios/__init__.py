"""Benchmark scenarios under Home Assistant's pytest harness: `python -m bench.scenarios`.

Ordinary pytest modules, collected only by that runner (pytest's `testpaths` keeps the test
run to tests/). Each module records its figures in `ROWS` and prints them with `print_tables`.
"""
