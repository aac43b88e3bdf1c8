"""Simulated KOSTAL Smart Energy Meter and Zaptec cloud: real aiohttp servers on loopback.

Used by the tests (fixtures start them on a free port) and by `scripts/develop`
(`python -m simulator`). Each backend has a control API under `/_sim/` that tests and people
use to change values and inject faults.
"""
