"""Fail when coverage is below the quality-scale targets (config flows 100 %, total >= 95 %)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

TOTAL_MIN = 95.0
FULL = ("config_flow.py",)  # bronze rule config-flow-test-coverage: every config-flow module


def main(path: str) -> int:
    """Read a coverage.py JSON report and check the targets."""
    report = json.loads(Path(path).read_text())
    failures = []
    total = report["totals"]["percent_covered"]
    print(f"total coverage: {total:.1f} % (target >= {TOTAL_MIN:.0f} %)")
    if total < TOTAL_MIN:
        failures.append(f"total coverage {total:.1f} % < {TOTAL_MIN:.0f} %")
    for name, data in sorted(report["files"].items()):
        if name.endswith(FULL):
            pct = data["summary"]["percent_covered"]
            print(f"{name}: {pct:.1f} % (target 100 %)")
            if pct < 100.0:
                failures.append(f"{name} coverage {pct:.1f} % < 100 %")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
