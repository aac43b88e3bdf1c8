"""The two kinds of config entry, told apart with a type guard so each side gets its own type.

`entry.data["kind"]` says which side an entry belongs to. The root modules (set-up, platforms,
diagnostics) narrow with `is_ksem` and hand the typed entry to `ksem/` or `zaptec/`.
"""

from __future__ import annotations

from typing import Any, TypeIs

from homeassistant.config_entries import ConfigEntry

from .const import CONF_KIND, KIND_KSEM
from .ksem.coordinator import KsemConfigEntry
from .zaptec.coordinator import ZaptecConfigEntry

type KsemZaptecConfigEntry = KsemConfigEntry | ZaptecConfigEntry


def is_ksem(entry: ConfigEntry[Any]) -> TypeIs[KsemConfigEntry]:
    """True for a KOSTAL Smart Energy Meter entry, False for a Zaptec account."""
    return entry.data.get(CONF_KIND) == KIND_KSEM
