"""Run benchmark scenarios under Home Assistant's pytest harness and print their tables.

    python -m bench.scenarios NAME [NAME ...]

NAME: zaptec, faults, control, pairing, energy, push (bench/scenarios/NAME.py).

One pytest session collects the named modules; each records its figures in `ROWS`, and its
`print_tables` prints them here once pytest is done. Nothing Home Assistant is imported before
pytest has loaded its plugins (pytest-homeassistant-custom-component insists).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NAMES = ("zaptec", "faults", "control", "pairing", "energy", "push")


def main() -> int:
    """Run the named scenario modules; pytest's exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.scenarios", description=__doc__)
    parser.add_argument("names", nargs="+", choices=NAMES, metavar="NAME")
    names = parser.parse_args().names
    started = time.monotonic()
    code = pytest.main(
        [
            *(str(HERE / f"{name}.py") for name in names),
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(ROOT),
            "-c",
            str(ROOT / "pyproject.toml"),
            "-W",
            "ignore::DeprecationWarning",
        ]
    )
    for name in names:
        # Imported by pytest already (or, if it could not collect it, imported now to show why).
        module = importlib.import_module(f"bench.scenarios.{name}")
        print()
        module.print_tables(module.ROWS)
    print(
        f"\nbench.scenarios {' '.join(names)} took {time.monotonic() - started:.0f} s (real time)."
    )
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
