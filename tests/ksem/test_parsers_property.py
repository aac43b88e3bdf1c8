"""Every KSEM parser is total and physics-aware (hypothesis), plus the bugs that showed it.

Garbage in: only KsemProtocolError (KsemInvalidTokenError for tokens) may come out; every
float is finite and within its PLAUSIBLE_LIMITS entry; every datetime is None or in
[2000-01-01, 2100-01-01) UTC. Valid input (the simulator's encoder, the documented JSON
shapes): the values come out exactly (milli-units / 1000, mWh / 1e6), so the plausibility
filter never drops a plausible value (and drops exactly the values outside the table).

One property test per parser; its cases (tests/ksem/strategies.py) are about half valid, half
garbage. PhaseValues.from_milli is checked inside the MeterValues.from_milli test, on the same
maps. The plain tests at the end pin the bugs that were found.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given

from custom_components.ksem_zaptec.ksem.api import (
    DeviceSettings,
    EnergyFlow,
    KsemInvalidTokenError,
    KsemProtocolError,
    MeterValues,
    PhaseValues,
    TokenInfo,
)
from custom_components.ksem_zaptec.ksem.api.models import PLAUSIBLE_LIMITS
from custom_components.ksem_zaptec.ksem.api.obis import OBIS_TO_JSON, obis_to_json
from custom_components.ksem_zaptec.ksem.api.protobuf import Gdr, decode_gdrs
from simulator.ksem_protobuf import encode_gdrs, obis
from tests.ksem import strategies as kst
from tests.property import parser_settings

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATUS_NAMES = {0: "STATUS_UNKNOWN", 1: "STATUS_OK", 2: "STATUS_WARNING", 3: "STATUS_ERROR"}
# The float arithmetic of (seconds + nanos / 1e9) and the rounding to microseconds.
TIME_TOLERANCE = timedelta(microseconds=2)

# -- what every parsed value must satisfy -----------------------------------------------------


def _parse[T](
    parse: Callable[..., T], *args: Any, error: type[Exception] = KsemProtocolError
) -> T | None:
    """Run a parser; its declared error is fine (None), anything else fails the test."""
    try:
        return parse(*args)
    except error:
        return None


def check_number(name: str, value: object) -> None:
    if value is None:
        return
    assert type(value) is float, f"{name}: {value!r}"
    assert math.isfinite(value), f"{name}: {value!r}"
    low, high = PLAUSIBLE_LIMITS[name]
    assert low <= value <= high, f"{name}: {value!r} outside {low}..{high}"


def check_time(value: object) -> None:
    if value is None:
        return
    assert isinstance(value, datetime)
    assert value.utcoffset() is not None
    assert EARLIEST <= value < LATEST, value


def check_numbers(model: object, skip: tuple[str, ...] = ()) -> None:
    for item in fields(model):  # type: ignore[arg-type]
        if item.name not in skip:
            check_number(item.name, getattr(model, item.name))


def check_meter(meter: MeterValues) -> None:
    assert isinstance(meter, MeterValues)
    assert isinstance(meter.status, str)
    check_time(meter.timestamp)
    check_numbers(meter, skip=("status", "timestamp", "phases"))
    assert len(meter.phases) == 3
    for phase in meter.phases:
        assert isinstance(phase, PhaseValues)
        check_numbers(phase)


def check_flow(flow: EnergyFlow) -> None:
    assert isinstance(flow, EnergyFlow)
    check_time(flow.timestamp)
    check_numbers(flow, skip=("timestamp",))


def check_text(value: object) -> None:
    """Display text: None or a non-empty string Home Assistant can store."""
    if value is not None:
        assert isinstance(value, str)
        assert value
        value.encode()


def check_gdrs(gdrs: dict[str, Gdr]) -> None:
    assert isinstance(gdrs, dict)
    for key, gdr in gdrs.items():
        assert isinstance(key, str)
        assert isinstance(gdr, Gdr)
        assert isinstance(gdr.id, str)
        assert gdr.status in STATUS_NAMES.values()
        check_time(gdr.timestamp)
        for obis_key, value in gdr.values.items():
            assert type(obis_key) is int
            assert 0 <= obis_key <= kst.UINT64
            assert type(value) is int
            assert kst.INT64_MIN <= value <= kst.INT64_MAX
        for name, value in gdr.flex_values.items():
            assert isinstance(name, str)
            assert type(value) is int
            assert kst.INT64_MIN <= value <= kst.INT64_MAX
        # What the client does with a GDR must hold up too.
        check_meter(MeterValues.from_milli(obis_to_json(gdr.values), gdr.status, gdr.timestamp))
        check_flow(EnergyFlow.from_flex(gdr.flex_values, gdr.timestamp))


# -- what valid input must give ---------------------------------------------------------------


def _admits(name: str, milli: int, divisor: int) -> bool:
    low, high = PLAUSIBLE_LIMITS[name]
    return low <= Fraction(milli, divisor) <= high


def _milli(value: Any) -> int | None:
    """A JSON number as the parsers read it: floats truncate like int(), NaN/inf are None."""
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    return value  # type: ignore[no-any-return]


def expected(raw: Mapping[str, Any], key: str, name: str, divisor: int) -> float | None:
    milli = _milli(raw.get(key))
    return milli / divisor if milli is not None and _admits(name, milli, divisor) else None


def expected_net(raw: Mapping[str, Any], plus: str, minus: str, name: str) -> float | None:
    imp, exp = _milli(raw.get(plus)), _milli(raw.get(minus))
    if imp is None or exp is None:
        return None
    if not (_admits("power_import", imp, 1000) and _admits("power_export", exp, 1000)):
        return None
    return (imp - exp) / 1000 if _admits(name, imp - exp, 1000) else None


def _same(actual: float | None, want: float | None, what: str) -> None:
    assert actual == want, f"{what}: {actual!r} != {want!r}"
    assert actual is None or type(actual) is float


def assert_exact(model: object, raw: Mapping[str, Any], keys: dict[str, tuple[str, int]]) -> None:
    for key, (name, divisor) in keys.items():
        _same(getattr(model, name), expected(raw, key, name, divisor), key)


def assert_meter_exact(meter: MeterValues, raw: Mapping[str, Any]) -> None:
    assert_exact(meter, raw, kst.METER_KEYS)
    _same(
        meter.grid_power,
        expected_net(raw, "active_power_+", "active_power_-", "grid_power"),
        "grid",
    )
    for number, phase in enumerate(meter.phases, start=1):
        assert_exact(phase, raw, kst.phase_keys(number))
        net = expected_net(raw, f"active_power_+_L{number}", f"active_power_-_L{number}", "power")
        _same(phase.power, net, f"power_L{number}")
        assert PhaseValues.from_milli(raw, number) == phase


def assert_time_close(actual: datetime | None, seconds: int, nanos: int) -> None:
    """`actual` is the wire time (seconds, nanos), or None exactly when that is unusable."""
    if not (0 <= nanos < 10**9 and kst.WINDOW_START <= seconds < kst.WINDOW_END):
        assert actual is None
        return
    exact = EPOCH + timedelta(seconds=seconds, microseconds=nanos / 1000)
    if actual is None:  # only where rounding reaches the end of the window
        assert exact > LATEST - TIME_TOLERANCE
        return
    assert abs(actual - exact) <= TIME_TOLERANCE
    check_time(actual)


def _signed64(value: int) -> int:
    value &= kst.UINT64
    return value - 2**64 if value > kst.INT64_MAX else value


def wire_time(timestamp: float) -> tuple[int, int]:
    """The (seconds, nanos) the simulator's encoder puts on the wire, as int64."""
    seconds = int(timestamp)
    return _signed64(seconds), _signed64(int((timestamp - seconds) * 1e9))


# -- one property test per parser ---------------------------------------------------------


@parser_settings
@given(kst.gdr_cases)
def test_decode_gdrs(case: kst.Case) -> None:
    if not case.valid:
        gdrs = _parse(decode_gdrs, case.data)
        if gdrs is not None:
            check_gdrs(gdrs)
        return
    frame: kst.Frame = case.spec
    gdrs = decode_gdrs(case.data)
    assert list(gdrs) == [frame.gdr_id]
    gdr = gdrs[frame.gdr_id]
    assert gdr.id == frame.gdr_id
    assert gdr.status == STATUS_NAMES.get(frame.status & kst.UINT64, "STATUS_UNKNOWN")
    assert gdr.values == frame.raw
    assert gdr.flex_values == frame.flex
    assert_time_close(gdr.timestamp, *wire_time(frame.timestamp))
    # The client's path: decode -> rename -> models, exact where plausible, None where not.
    meter = MeterValues.from_milli(obis_to_json(gdr.values), gdr.status, gdr.timestamp)
    assert_meter_exact(meter, frame.values)
    assert meter.timestamp == gdr.timestamp
    flow = EnergyFlow.from_flex(gdr.flex_values, gdr.timestamp)
    assert_exact(flow, frame.flex, kst.FLEX_KEYS)
    assert flow.timestamp == gdr.timestamp


@parser_settings
@given(kst.obis_cases)
def test_obis_to_json(case: kst.Case) -> None:
    renamed = _parse(obis_to_json, case.data)
    if case.valid:
        want = {OBIS_TO_JSON[k]: v for k, v in case.data.items() if k in OBIS_TO_JSON}
        assert renamed == want
    elif renamed is not None:
        assert isinstance(renamed, dict)
        assert set(renamed) <= set(OBIS_TO_JSON.values())
        assert all(type(value) is int for value in renamed.values())


@parser_settings
@given(kst.smart_meter_cases)
def test_meter_from_json(case: kst.Case) -> None:
    if not case.valid:
        meter = _parse(MeterValues.from_json, case.data)
        if meter is not None:
            check_meter(meter)
        return
    meter = MeterValues.from_json(case.data)
    answer = case.data["smart-meter"]
    assert meter.status == answer["status"]
    assert_meter_exact(meter, answer["values"])
    if "timestamp" in answer:
        assert_time_close(
            meter.timestamp, answer["timestamp"]["seconds"], answer["timestamp"]["nanos"]
        )
    else:
        assert meter.timestamp is None


@parser_settings
@given(kst.milli_cases)
def test_meter_and_phase_from_milli(case: kst.Case) -> None:
    raw, timestamp, phase = case.data
    if not case.valid:
        meter = _parse(MeterValues.from_milli, raw, "STATUS_OK", timestamp)
        if meter is not None:
            check_meter(meter)
        values = _parse(PhaseValues.from_milli, raw, phase)
        if values is not None:
            check_numbers(values)
        return
    meter = MeterValues.from_milli(raw, "STATUS_OK", timestamp)
    assert meter.timestamp == timestamp
    assert meter.ok
    assert_meter_exact(meter, raw)  # PhaseValues.from_milli, too, for each phase


@parser_settings
@given(kst.flex_cases)
def test_energy_flow_from_flex(case: kst.Case) -> None:
    if not case.valid:
        flow = _parse(EnergyFlow.from_flex, case.data)
        if flow is not None:
            check_flow(flow)
        return
    assert_exact(EnergyFlow.from_flex(case.data), case.data, kst.FLEX_KEYS)


@parser_settings
@given(kst.device_cases)
def test_device_settings_from_json(case: kst.Case) -> None:
    device = _parse(DeviceSettings.from_json, case.data)
    if not case.valid:
        if device is not None:
            check_text(device.serial)
            for name in ("mac", "product_name", "device_type", "firmware_version", "hostname"):
                check_text(getattr(device, name))
        return
    body = case.data
    assert device is not None
    assert device.serial == body["Serial"]
    assert device.mac == (body.get("Mac") or None)
    assert device.product_name == (body.get("ProductName") or None)
    assert device.device_type == (body.get("DeviceType") or None)
    assert device.firmware_version == (body.get("FirmwareVersion") or None)
    assert device.hostname == (body.get("hostname") or None)


@parser_settings
@given(kst.token_cases)
def test_token_info_from_token(case: kst.Case) -> None:
    info = _parse(TokenInfo.from_token, case.data, error=KsemInvalidTokenError)
    if not case.valid:
        if info is not None:
            for name in ("name", "token_id", "role"):
                check_text(getattr(info, name))
            check_time(info.expires)
        return
    spec: kst.TokenSpec = case.spec
    assert info is not None
    assert info.name == (spec.aud or None)
    assert info.token_id == (spec.jti or None)
    assert info.role == spec.role
    assert info.expires == (None if spec.exp is None else datetime.fromtimestamp(spec.exp, UTC))


# -- the bugs, as plain examples --------------------------------------------------------------

_SAMPLE = {"active_power_+": 6730100, "active_power_-": 0, "supply_frequency": 50012}


@pytest.mark.parametrize(
    "seconds",
    [kst.INT64_MAX, kst.INT64_MIN, -1, 0, 10**12, 253402300800, 946684799, 4102444800],
)
def test_gdr_timestamp_out_of_range_keeps_values(seconds: int) -> None:
    gdr = decode_gdrs(encode_gdrs("smart-meter", _SAMPLE, timestamp=seconds))["smart-meter"]
    assert gdr.timestamp is None
    meter = MeterValues.from_milli(obis_to_json(gdr.values), gdr.status, gdr.timestamp)
    assert meter.grid_power == 6730.1
    assert meter.frequency == 50.012


@pytest.mark.parametrize(
    ("seconds", "when"),
    [
        (946684800, EARLIEST),
        (4102444799, datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (1729699542.5, datetime(2024, 10, 23, 16, 5, 42, 500000, tzinfo=UTC)),
    ],
)
def test_gdr_timestamp_window_edges(seconds: float, when: datetime) -> None:
    assert decode_gdrs(encode_gdrs("x", {}, timestamp=seconds))["x"].timestamp == when


def _one_gdr(gdr: bytes) -> bytes:
    """GDRs{1: {1: "x", 2: <gdr>}}."""
    return kst.len_field(1, kst.len_field(1, b"x") + kst.len_field(2, gdr))


@pytest.mark.parametrize("nanos", [-1, 10**9, kst.UINT64])
def test_gdr_timestamp_nanos_out_of_range(nanos: int) -> None:
    ts = kst.varint_field(1, 1729699542) + kst.varint_field(2, nanos)  # int32, sign-extended
    assert decode_gdrs(_one_gdr(kst.len_field(3, ts)))["x"].timestamp is None


def test_varint_beyond_64_bits_is_truncated() -> None:
    # A 10-byte varint whose last byte carries more than the 64th bit: protobuf keeps 64 bits.
    entry = kst.varint_field(1, obis(1, 4)) + b"\x10" + b"\xff" * 9 + b"\x7f"
    assert decode_gdrs(_one_gdr(kst.len_field(4, entry)))["x"].values == {obis(1, 4): -1}


def _body(values: dict[str, Any], timestamp: Any = None) -> dict[str, Any]:
    meter: dict[str, Any] = {"status": "STATUS_OK", "values": values}
    if timestamp is not None:
        meter["timestamp"] = timestamp
    return {"smart-meter": meter}


@pytest.mark.parametrize(
    "timestamp",
    [
        {"seconds": 1e20, "nanos": 0},
        {"seconds": -1e20},
        {"seconds": 10**30},
        {"seconds": math.nan},
        {"seconds": math.inf},
        {"seconds": "1729699542"},
        {"seconds": None},
        {"seconds": 1729699542, "nanos": 10**9},
        {"seconds": 1729699542, "nanos": -1},
        {"seconds": 1729699542, "nanos": [1]},
    ],
)
def test_json_timestamp_unusable_keeps_values(timestamp: dict[str, Any]) -> None:
    meter = MeterValues.from_json(_body(dict(_SAMPLE), timestamp))
    assert meter.timestamp is None
    assert meter.grid_power == 6730.1


def test_json_non_finite_values_become_unknown() -> None:
    text = (
        '{"smart-meter": {"status": "STATUS_OK", "values": {"active_power_+": NaN,'
        ' "active_power_-": 0, "supply_frequency": Infinity, "voltage_L1": -Infinity,'
        ' "current_L1": 1e400, "active_energy_+": 124596300, "power_factor": 998.0}}}'
    )
    meter = MeterValues.from_json(json.loads(text))
    assert meter.power_import is None
    assert meter.grid_power is None
    assert meter.power_export == 0.0
    assert meter.frequency is None
    assert meter.phases[0].voltage is None
    assert meter.phases[0].current is None
    assert meter.energy_import == 124.5963
    assert meter.power_factor == 0.998


@pytest.mark.parametrize(
    "values",
    [{"active_power_+": "6730100"}, {"active_power_+": True}, {"x": [1]}, {"x": {"y": 1}}],
)
def test_json_non_numbers_are_protocol_errors(values: dict[str, Any]) -> None:
    with pytest.raises(KsemProtocolError):
        MeterValues.from_json(_body(values))


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "x",
        {"smart-meter": []},
        {"smart-meter": {"values": []}},
        {"smart-meter": {"values": {}, "status": 1}},
    ],
)
def test_json_shape_errors(body: Any) -> None:
    with pytest.raises(KsemProtocolError):
        MeterValues.from_json(body)


def test_huge_and_negative_values_become_unknown() -> None:
    meter = MeterValues.from_milli(
        {
            "active_power_+": 10**400,
            "active_power_-": -5,
            "active_energy_+": -1,
            "active_energy_-": 10**15,
            "power_factor": 1001,
            "supply_frequency": 39999,
            "voltage_L1": 500_001,
            "current_L2": -1,
            "active_power_+_L3": 2**63 - 1,
            "active_power_-_L3": 0,
        }
    )
    assert meter.power_import is None
    assert meter.power_export is None
    assert meter.grid_power is None
    assert meter.energy_import is None
    assert meter.energy_export == 1e9  # the upper limit itself is plausible
    assert meter.power_factor is None
    assert meter.frequency is None
    assert meter.phases[0].voltage is None
    assert meter.phases[1].current is None
    assert meter.phases[2].power_import is None
    assert meter.phases[2].power is None


def test_each_implausible_value_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.ksem_zaptec.ksem.api.models")
    meter = MeterValues.from_milli({"active_power_+": -5, "active_power_-": 0, "voltage_L1": 10**9})
    assert meter.grid_power is None
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(lines) == 2, lines
    assert "power_import" in lines[0]
    assert "voltage" in lines[1]


def test_from_milli_out_of_window_timestamp() -> None:
    assert (
        MeterValues.from_milli({}, timestamp=datetime(1999, 12, 31, tzinfo=UTC)).timestamp is None
    )
    assert (
        MeterValues.from_milli(
            {}, timestamp=datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None)
        ).timestamp
        is None
    )  # naive


@pytest.mark.parametrize(
    "flex",
    [
        {"pvPowerTotal": [[1]]},
        {"systemStateOfCharge": {"a": None}},
        {"batteryPowerTotal": "1"},
        [],
        None,
    ],
)
def test_energy_flow_rejects_nested_garbage(flex: Any) -> None:
    with pytest.raises(KsemProtocolError):
        EnergyFlow.from_flex(flex)


def test_energy_flow_limits() -> None:
    flow = EnergyFlow.from_flex(
        {
            "pvPowerTotal": math.inf,
            "systemStateOfCharge": 101,
            "housePowerTotal": -(10**9),
            "wallboxPowerTotal": 10**9 + 1,
        }
    )
    assert flow == EnergyFlow(None, -1_000_000.0, None, None, None)


@pytest.mark.parametrize(
    "values", [None, [], {obis(1, 4): "1"}, {obis(1, 4): 1.5}, {obis(1, 4): True}]
)
def test_obis_to_json_rejects(values: Any) -> None:
    with pytest.raises(KsemProtocolError):
        obis_to_json(values)


def test_obis_to_json_skips_odd_keys() -> None:
    assert obis_to_json({float(obis(1, 4)): 5, True: 5, "x": 5, (1,): 5, obis(2, 4): 7}) == {
        "active_power_-": 7
    }


def test_device_settings_odd_fields() -> None:
    device = DeviceSettings.from_json(
        {"Serial": 76555758, "Mac": "\ud800", "ProductName": ["x"], "hostname": math.nan}
    )
    assert device.serial == "76555758"
    assert (device.mac, device.product_name, device.hostname) == (None, None, None)
    for serial in ("\udcff", "", None, [], {"a": 1}, True, math.inf, 10**5000):
        with pytest.raises(KsemProtocolError):
            DeviceSettings.from_json({"Serial": serial})


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 1_000_000 + b"]" * 1_000_000,
        b'{"a": ' * 1_000_000 + b"1" + b"}" * 1_000_000,  # too deep for any stack
        b"\xff\xfe\xfd",
        b"9" * 5000,
    ],
    ids=["deep list", "deep object", "bad UTF-8", "5000 digits"],
)
def test_token_odd_payloads(payload: bytes) -> None:
    with pytest.raises(KsemInvalidTokenError):
        TokenInfo.from_token(kst.jwt(payload))


@pytest.mark.parametrize(
    "exp",
    ["NaN", "Infinity", "-Infinity", "1e400", "1e20", "-1", "0", "4102444800", "253402214400"],
)
def test_token_expiry_out_of_window(exp: str) -> None:
    info = TokenInfo.from_token(kst.jwt(f'{{"aud": "HA", "exp": {exp}}}'.encode()))
    assert info.expires is None
    assert info.name == "HA"
