"""OBIS codes of the smart-meter stream and their JSON-interface names (docs/ksem.md#obis-codes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .exceptions import KsemProtocolError


def obis_key(c: int, d: int, *, a: int = 1, b: int = 0, e: int = 0, f: int = 255) -> int:
    """Pack `A-B:C.D.E*F` the way em-gdr does: A<<40 | B<<32 | C<<24 | D<<16 | E<<8 | F."""
    return a << 40 | b << 32 | c << 24 | d << 16 | e << 8 | f


def _phase_codes() -> dict[int, str]:
    codes: dict[int, str] = {}
    for phase, base in ((1, 20), (2, 40), (3, 60)):
        sfx = f"_L{phase}"
        codes[obis_key(base + 1, 4)] = f"active_power_+{sfx}"
        codes[obis_key(base + 2, 4)] = f"active_power_-{sfx}"
        codes[obis_key(base + 11, 4)] = f"current{sfx}"
        codes[obis_key(base + 12, 4)] = f"voltage{sfx}"
        codes[obis_key(base + 13, 4)] = f"power_factor{sfx}"
        codes[obis_key(base + 1, 8)] = f"active_energy_+{sfx}"
        codes[obis_key(base + 2, 8)] = f"active_energy_-{sfx}"
    return codes


# Packed OBIS key -> JSON-interface value name; both paths then share MeterValues.from_milli.
OBIS_TO_JSON: Final[dict[int, str]] = {
    obis_key(1, 4): "active_power_+",
    obis_key(2, 4): "active_power_-",
    obis_key(13, 4): "power_factor",
    obis_key(14, 4): "supply_frequency",
    obis_key(1, 8): "active_energy_+",
    obis_key(2, 8): "active_energy_-",
    **_phase_codes(),
}


def obis_to_json(values: Mapping[int, int]) -> dict[str, int]:
    """Rename the OBIS-keyed values we know; others are dropped. Known ones must be ints."""
    return {
        OBIS_TO_JSON[key]: _int(OBIS_TO_JSON[key], value)
        for key, value in _items(values)
        if isinstance(key, int) and not isinstance(key, bool) and key in OBIS_TO_JSON
    }


def _items(values: object) -> list[tuple[object, object]]:
    if not isinstance(values, Mapping):
        raise KsemProtocolError(f"OBIS values are a {type(values).__name__}, not a mapping")
    return list(values.items())


def _int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise KsemProtocolError(f"OBIS value {name} is a {type(value).__name__}, not an int")
    return value
