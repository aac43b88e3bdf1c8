"""Every Zaptec parser is total and physics-aware (hypothesis), plus the bugs that showed it.

One property test per parser, fed by `tests/zaptec/strategies.py`: broken answers may only
raise `ZaptecProtocolError`, every float is finite and within its `PLAUSIBLE_LIMITS` entry,
every timestamp is None or in [2000-01-01, 2100-01-01) UTC; realistic answers (shaped like the
simulator's) come out exactly. The client's `parse_retry_after` and `_error_fields` are tested
the same way.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.ksem_zaptec.zaptec.api import (
    Charger,
    ChargerFirmware,
    ChargerState,
    Installation,
    Observation,
    OperatingMode,
    UserRole,
    ZaptecError,
    ZaptecProtocolError,
    model_from_serial,
    models,
    parse_ocmf_reading,
    parse_retry_after,
)
from custom_components.ksem_zaptec.zaptec.api import client as client_module
from custom_components.ksem_zaptec.zaptec.api.models import PLAUSIBLE_LIMITS, Limit
from tests.property import parser_settings
from tests.zaptec import strategies as zst

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
KNOWN_ROLES = UserRole.USER | UserRole.OWNER | UserRole.MAINTAINER | UserRole.ADMINISTRATOR
MODELS = set(zst.MODEL_PREFIXES)
CHARGER = "22222222-2222-2222-2222-222222222222"
URL_SAFE_ID = re.compile(r"[A-Za-z0-9_.~-]{1,128}")

# -- what every parsed value must satisfy ---------------------------------------------------


def _parse[T](parse: Callable[..., T], *args: Any) -> T | None:
    """Run a parser; a `ZaptecProtocolError` is fine (None), anything else fails the test."""
    try:
        return parse(*args)
    except ZaptecProtocolError:
        return None


def _check_float(key: Observation | str, value: object) -> None:
    if value is None:
        return
    assert type(value) is float
    assert math.isfinite(value)
    assert not (value == 0 and math.copysign(1, value) < 0), "HA would show -0.0"
    limit = PLAUSIBLE_LIMITS.get(key)
    if limit is not None:
        assert limit.low <= value <= limit.high, (key, value)


def _check_int(value: object) -> None:
    assert value is None or (type(value) is int and -(2**31) <= value < 2**31)


def _check_timestamp(value: object) -> None:
    assert value is None or (
        isinstance(value, datetime) and value.tzinfo is not None and EARLIEST <= value < LATEST
    )


def _check_id(value: object) -> None:
    assert isinstance(value, str)
    assert URL_SAFE_ID.fullmatch(value)
    assert value.strip(".")


def _check_roles(roles: object) -> None:
    assert isinstance(roles, UserRole)
    assert roles == roles & KNOWN_ROLES
    assert roles >= 0


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _check_installation(installation: Installation) -> None:
    _check_id(installation.id)
    assert isinstance(installation.name, str)
    assert installation.name
    _check_roles(installation.roles)
    _check_int(installation.authentication_type)
    assert installation.is_required_authentication in {None, True, False}
    for key, value in {
        "AvailableCurrentPhase1": installation.available_current_phase1,
        "AvailableCurrentPhase2": installation.available_current_phase2,
        "AvailableCurrentPhase3": installation.available_current_phase3,
        "MaxCurrent": installation.max_current,
    }.items():
        _check_float(key, value)
    for user in installation.users:
        _check_id(user.user_id)
        assert user.full_name is None or isinstance(user.full_name, str)
    assert "SupportGroup" not in installation.raw


def _check_charger(charger: Charger) -> None:
    _check_id(charger.id)
    assert isinstance(charger.name, str)
    assert charger.name
    assert charger.serial is None or isinstance(charger.serial, str)
    if charger.installation_id is not None:
        _check_id(charger.installation_id)
    _check_int(charger.device_type)
    _check_roles(charger.roles)
    _check_int(charger.authentication_type)
    assert charger.operating_mode is None or charger.operating_mode in set(OperatingMode)
    assert type(charger.operating_mode) in {type(None), int}
    _check_float("SignedMeterValueKwh", charger.signed_meter_value_kwh)
    for flag in (
        charger.is_authorization_required,
        charger.authentication_disabled,
        charger.is_online,
    ):
        assert flag in {None, True, False}
    assert charger.model is None or charger.model in MODELS


def _check_state(state: ChargerState) -> None:
    for observation in Observation:
        text = state.text(observation)
        assert text is None or (isinstance(text, str) and text)
        _check_float(observation, state.number(observation))
        assert state.flag(observation) in {None, True, False}
        item = state.values.get(observation)
        if item is not None:
            _check_timestamp(item.timestamp)
    mode = state.operating_mode
    assert mode is None or (type(mode) is int and mode in set(OperatingMode))
    _check_float(Observation.SIGNED_METER_VALUE, state.meter_reading_kwh)
    assert all(isinstance(key, Observation) for key in state.values)


# -- one property test per parser: odd input total, realistic input exact ------------------


@parser_settings
@given(case=zst.installation_cases)
def test_installation_parser(case: zst.Case[Installation]) -> None:
    installation = _parse(Installation.from_api, case.data)
    if isinstance(case.data, dict) and _is_uuid(case.data.get("Id")):
        assert installation is not None, "a uuid Id is always enough"
    if installation is None:
        return
    _check_installation(installation)
    # The coordinator merges raw dicts and parses them again.
    assert Installation.from_api(installation.raw) == installation
    if case.realistic:
        assert installation == case.expected
        assert installation.raw == {k: v for k, v in case.data.items() if k != "SupportGroup"}


@parser_settings
@given(case=zst.charger_cases)
def test_charger_parser(case: zst.Case[Charger]) -> None:
    charger = _parse(Charger.from_api, case.data)
    if isinstance(case.data, dict) and _is_uuid(case.data.get("Id")):
        assert charger is not None, "a uuid Id is always enough"
    if charger is None:
        return
    _check_charger(charger)
    assert Charger.from_api(charger.raw) == charger
    if case.realistic:
        assert charger == case.expected
        assert charger.raw == case.data


@parser_settings
@given(case=zst.state_cases)
def test_charger_state_parser(case: zst.Case[zst.ExpectedState]) -> None:
    state = _parse(ChargerState.from_api, CHARGER, case.data)
    if state is None:
        return
    _check_state(state)
    if not case.realistic:
        return
    expected = case.expected
    assert expected is not None
    assert set(state.values) == set(expected.texts)
    for observation, text in expected.texts.items():
        assert state.text(observation) == text
        assert state.values[observation].timestamp == expected.timestamp
    for observation, number in expected.numbers.items():
        assert state.number(observation) == number
    for observation, flag in expected.flags.items():
        assert state.flag(observation) is flag
    assert state.operating_mode == expected.operating_mode
    assert state.meter_reading_kwh == expected.meter_reading_kwh


@parser_settings
@given(case=zst.ocmf_cases)
def test_ocmf_parser(case: zst.Case[float]) -> None:
    reading = _parse(parse_ocmf_reading, case.data)
    _check_float(Observation.SIGNED_METER_VALUE, reading)
    if case.realistic:
        assert reading == case.expected


@parser_settings
@given(case=zst.serial_cases)
def test_model_from_serial(case: zst.Case[str]) -> None:
    model = _parse(model_from_serial, case.data)
    assert model is None or model in MODELS
    if case.realistic:
        assert model == case.expected


@parser_settings
@given(case=zst.retry_after_cases)
def test_parse_retry_after(case: zst.Case[float]) -> None:
    header, now = case.data
    wait = parse_retry_after(header, now)
    # None, or a finite wait of at most a day.
    assert wait is None or (type(wait) is float and 0 <= wait <= 86400)
    if case.realistic:
        assert wait == case.expected


@parser_settings
@given(case=zst.error_body_cases)
def test_error_fields(case: zst.Case[tuple[int | None, str | None]]) -> None:
    code, details = client_module._error_fields(case.data)
    assert code is None or type(code) is int
    assert details is None or (isinstance(details, str) and details)
    if case.realistic:
        assert (code, details) == case.expected


# -- the bugs that were seen, and the limit table ---------------------------------------------


def _state(*items: tuple[Observation, str]) -> ChargerState:
    return ChargerState.from_api(
        CHARGER,
        [{"StateId": obs.value, "ValueAsString": text, "Timestamp": "bad"} for obs, text in items],
    )


@pytest.mark.parametrize("text", ["NaN", "nan", "inf", "-Infinity", "1e400", "3.5", "4", "6"])
def test_odd_operating_mode_is_unknown_not_a_crash(text: str) -> None:
    state = _state((Observation.CHARGER_OPERATION_MODE, text))
    assert state.operating_mode is None


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "NaN", "1e400", "-0.5", "250000"])
def test_odd_charge_power_is_unknown(text: str) -> None:
    assert (
        _state((Observation.TOTAL_CHARGE_POWER, text)).number(Observation.TOTAL_CHARGE_POWER)
        is None
    )


def test_negative_zero_power_is_zero() -> None:
    power = _state((Observation.TOTAL_CHARGE_POWER, "-0")).number(Observation.TOTAL_CHARGE_POWER)
    assert power == 0
    assert math.copysign(1, power or 0) == 1


@pytest.mark.parametrize(
    "payload",
    [
        '{"RD":[{"RV":1e30}]}',
        '{"RD":[{"RV":1234.5},{"RV":1e30}]}',
        '{"RD":[{"RV":1e400}]}',
        '{"RD":[{"RV":NaN}]}',
        '{"RD":[{"RV":Infinity}]}',
        '{"RD":[{"RV":-5}]}',
    ],
)
def test_implausible_ocmf_reading_is_unknown(payload: str) -> None:
    text = f"OCMF|{payload}|{{}}"
    assert parse_ocmf_reading(text) is None
    assert _state((Observation.SIGNED_METER_VALUE, text)).meter_reading_kwh is None


@pytest.mark.parametrize(
    ("reading", "kwh"),
    [
        ('{"RV":1234.5,"RU":"kWh"}', 1234.5),
        ('{"RV":1234500,"RU":"Wh"}', 1234.5),
        ('{"RV":1234.5}', 1234.5),  # the simulator sends no RU
        ('{"RV":"1234.5","RU":"kWh"}', None),  # OCMF readings are numbers, not strings
        ('{"RV":0.5,"RU":"mOhm"}', None),  # not an energy reading
    ],
)
def test_ocmf_reading_units(reading: str, kwh: float | None) -> None:
    assert parse_ocmf_reading(f'OCMF|{{"RD":[{reading}]}}|{{}}') == kwh


def test_implausible_value_logs_one_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    state = _state((Observation.VOLTAGE_PHASE1, "1000"), (Observation.VOLTAGE_PHASE2, "230.1"))
    with caplog.at_level(logging.DEBUG, logger=models.__name__):
        assert state.number(Observation.VOLTAGE_PHASE1) is None
        assert state.number(Observation.VOLTAGE_PHASE2) == 230.1
    records = [r for r in caplog.records if r.name == models.__name__]
    assert len(records) == 1
    assert records[0].levelno == logging.DEBUG
    assert "VOLTAGE_PHASE1" in records[0].getMessage()


@pytest.mark.parametrize(
    ("bits", "roles"),
    [(-1, UserRole.NONE), (17, UserRole.USER), (2**40, UserRole.NONE), ("6", UserRole(6))],
)
def test_roles_keep_only_known_bits(bits: object, roles: UserRole) -> None:
    assert Installation.from_api({"Id": "i", "CurrentUserRoles": bits}).roles == roles


@pytest.mark.parametrize("data", [{"Id": "../x"}, {"Id": 5}, {"Id": {"a": 1}}, {"Id": ""}, []])
def test_unusable_id_is_a_protocol_error(data: object) -> None:
    with pytest.raises(ZaptecProtocolError, match="without an Id"):
        Charger.from_api(data)
    assert issubclass(ZaptecProtocolError, ZaptecError)


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        *(("1", True), ("0", False), ("true", True), ("False", False), (" 1 ", True)),
        *(("1.0", True), ("-0", False), ("2", None), ("0.5", None), ("NaN", None), ("inf", None)),
    ],
)
def test_flags_are_zero_or_one(text: str, flag: bool | None) -> None:
    assert _state((Observation.IS_ONLINE, text)).flag(Observation.IS_ONLINE) is flag


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("1999-12-31T23:59:59.999999", False),
        ("1999-12-31T23:30:00-01:00", True),  # 2000-01-01 00:30 UTC
        ("2000-01-01T00:00:00", True),
        ("2099-12-31T23:59:59.999999Z", True),
        ("2100-01-01T00:00:00", False),
        ("2100-01-01T00:30:00+01:00", True),  # 2099-12-31 23:30 UTC
        ("0001-01-01T00:00:00+23:59", False),
        ("9999-12-31T23:59:59.999999-23:59", False),
    ],
)
def test_timestamps_outside_the_window_are_unknown(text: str, accepted: bool) -> None:
    parsed = models._parse_timestamp(text)
    assert (parsed is not None) is accepted


def test_limit_table_is_consistent() -> None:
    for key, limit in PLAUSIBLE_LIMITS.items():
        assert isinstance(key, Observation | str)
        assert isinstance(limit, Limit)
        assert limit.low < limit.high
        assert limit.why
    # Every number the parsers return has a limit (texts and enums aside).
    numeric = set(Observation) - {
        Observation.CHARGER_CURRENT_USER_UUID,
        Observation.MAINBOARD_SOFTWARE_VERSION,
        Observation.COMPUTER_SOFTWARE_VERSION,
        Observation.NEXT_SCHEDULE_EVENT,
    }
    fields = {"AvailableCurrentPhase1", "AvailableCurrentPhase2", "AvailableCurrentPhase3"}
    fields |= {"MaxCurrent", "SignedMeterValueKwh", "ThreeToOnePhaseSwitchCurrent"}
    assert numeric | fields <= set(PLAUSIBLE_LIMITS)


# -- client helpers that are not total (client.py is not this module's to change) ----------


@pytest.mark.parametrize("header", ["inf", "Infinity", "1e400", "1_0", "nan", "-5"])
def test_retry_after_that_is_no_delay_is_ignored(header: str) -> None:
    assert parse_retry_after(header) is None


@pytest.mark.parametrize(
    ("header", "wait"),
    [("9" * 400, 86400.0), ("Fri, 31 Dec 9999 23:59:59 GMT", 86400.0), ("1.5", 1.5)],
)
def test_retry_after_is_capped_at_a_day(header: str, wait: float) -> None:
    assert parse_retry_after(header) == wait


def test_error_fields_huge_int_details() -> None:
    # Unreachable from the wire (json.loads refuses such ints), but the function is total.
    assert client_module._error_fields({"Details": 10**5000}) == (None, None)


def test_deeply_nested_error_body() -> None:
    assert client_module._json_or_none("[" * 100_000) is None


def test_deeply_nested_ocmf_is_unknown() -> None:
    # json raises RecursionError here, not ValueError (too slow for the property test's pool).
    assert parse_ocmf_reading("OCMF|" + "[" * 100_000 + "|{}") is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=16), inner),
    max_leaves=20,
)
_firmware_item = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(
        ("ChargerId", "CurrentVersion", "AvailableVersion", "IsUpToDate", "IsOnline"), _json
    ),
)


@parser_settings
@given(st.one_of(_json, st.lists(st.one_of(_firmware_item, _json), max_size=5)))
def test_firmware_list_parser(data: Any) -> None:
    """Any answer: the firmware items with a usable charger id, or the client's own error."""
    try:
        items = ChargerFirmware.list_from_api(data)
    except ZaptecProtocolError:
        assert not isinstance(data, list)
        return
    assert isinstance(data, list)
    for item in items:
        assert isinstance(item.charger_id, str)
        assert item.charger_id
        for version in (item.current_version, item.available_version):
            assert version is None or isinstance(version, str)
        for flag in (item.is_up_to_date, item.is_online):
            assert flag is None or isinstance(flag, bool)
