"""Protobuf ENCODER for the simulated KSEM's data-transfer stream (gdr.proto `GDRs`).

Written independently of the integration's decoder, so a decoder bug makes tests fail.
"""

from __future__ import annotations

from collections.abc import Mapping

# OBIS C.D of the smart-meter values (A=1, B=0, E=0, F=255), by JSON-interface name.
OBIS_CD: dict[str, tuple[int, int]] = {
    "active_power_+": (1, 4),
    "active_power_-": (2, 4),
    "power_factor": (13, 4),
    "supply_frequency": (14, 4),
    "active_energy_+": (1, 8),
    "active_energy_-": (2, 8),
    "active_power_+_L1": (21, 4),
    "active_power_-_L1": (22, 4),
    "current_L1": (31, 4),
    "voltage_L1": (32, 4),
    "power_factor_L1": (33, 4),
    "active_energy_+_L1": (21, 8),
    "active_energy_-_L1": (22, 8),
    "active_power_+_L2": (41, 4),
    "active_power_-_L2": (42, 4),
    "current_L2": (51, 4),
    "voltage_L2": (52, 4),
    "power_factor_L2": (53, 4),
    "active_energy_+_L2": (41, 8),
    "active_energy_-_L2": (42, 8),
    "active_power_+_L3": (61, 4),
    "active_power_-_L3": (62, 4),
    "current_L3": (71, 4),
    "voltage_L3": (72, 4),
    "power_factor_L3": (73, 4),
    "active_energy_+_L3": (61, 8),
    "active_energy_-_L3": (62, 8),
}


def obis(c: int, d: int) -> int:
    """Packed OBIS 1-0:C.D.0*255 as em-gdr encodes it."""
    return (1 << 40) | (0 << 32) | (c << 24) | (d << 16) | (0 << 8) | 255


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 -> two's complement, 10 bytes
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _tag(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _int_field(number: int, value: int) -> bytes:
    return _tag(number, 0) + _varint(value)


def _len_field(number: int, payload: bytes) -> bytes:
    return _tag(number, 2) + _varint(len(payload)) + payload


def encode_gdrs(
    gdr_id: str,
    values: Mapping[str, int],
    *,
    flex_values: Mapping[str, int] | None = None,
    status: int = 1,
    timestamp: float = 0.0,
    config_uuid: str = "sim-config",
) -> bytes:
    """One `GDRs` message holding one GDR; values by JSON name, milli-units."""
    seconds = int(timestamp)
    nanos = int((timestamp - seconds) * 1e9)
    gdr = _len_field(1, gdr_id.encode()) + _int_field(2, status)
    gdr += _len_field(3, _int_field(1, seconds) + _int_field(2, nanos))
    for name, value in values.items():
        if name in OBIS_CD:
            entry = _int_field(1, obis(*OBIS_CD[name])) + _int_field(2, value)
            gdr += _len_field(4, entry)
    for key, value in (flex_values or {}).items():
        flex = _int_field(1, value)
        gdr += _len_field(5, _len_field(1, key.encode()) + _len_field(2, flex))
    entry = _len_field(1, gdr_id.encode()) + _len_field(2, gdr)
    return _len_field(1, entry) + _len_field(2, config_uuid.encode())
