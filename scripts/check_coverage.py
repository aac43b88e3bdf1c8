"""Fail when coverage is below the quality-scale targets.

Config flows 100 % (bronze: config-flow-test-coverage); every module and the total >= 95 %
(silver: test-coverage asks it of every module, not only of the sum).
"""

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
        pct = data["summary"]["percent_covered"]
        if name.endswith(FULL):
            print(f"{name}: {pct:.1f} % (target 100 %)")
            if pct < 100.0:
                failures.append(f"{name} coverage {pct:.1f} % < 100 %")
        elif pct < TOTAL_MIN:
            failures.append(f"{name} coverage {pct:.1f} % < {TOTAL_MIN:.0f} %")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
