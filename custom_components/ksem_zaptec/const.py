"""Constants shared by both sides of the integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "ksem_zaptec"
LOGGER = logging.getLogger(__package__)

# entry.data["kind"] tells which backend a config entry belongs to.
CONF_KIND: Final = "kind"
KIND_KSEM: Final = "ksem"
KIND_ZAPTEC: Final = "zaptec"
