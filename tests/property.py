"""Shared settings of the property-based (hypothesis) tests.

Budgets: every parser gets `PARSER_EXAMPLES` generated inputs (10,000 in the default run); the
Home Assistant-level update paths, which set up a whole entry per run, get `HA_EXAMPLES`.
`scripts/test --min-ha` lowers both through KSEM_ZAPTEC_HYPOTHESIS_SCALE: the parsers do not
depend on the Home Assistant version, so the full budget runs once, on the newest HA.
No deadline: a property test must not depend on how loaded the machine is.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SCALE = float(os.environ.get("KSEM_ZAPTEC_HYPOTHESIS_SCALE", "1"))
PARSER_EXAMPLES = max(50, int(10_000 * _SCALE))
HA_EXAMPLES = max(10, int(200 * _SCALE))

settings.register_profile(
    "ksem_zaptec",
    deadline=None,
    database=None,  # no .hypothesis/ directory in the clone; failures print a reproduce blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ksem_zaptec")

parser_settings = settings(max_examples=PARSER_EXAMPLES)
ha_settings = settings(max_examples=HA_EXAMPLES)
