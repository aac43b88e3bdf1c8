"""Hypothesis strategies for the Zaptec parsers: realistic cloud answers, and broken ones.

Each `*_cases` strategy yields `Case`s for one parser. About half are realistic answers shaped
like the simulator's (simulator/zaptec_model.py, simulator/zaptec.py) and carry what the parser
must return for them. The rest are broken: a realistic answer with one to three values replaced
by odd ones (missing keys, wrong types, nested garbage, "NaN", "inf", "1e400", "-0", huge ints,
bools where numbers belong, unsafe ids, out-of-range timestamps), or no object at all.

Budget: every parser gets 10,000 examples, and each hypothesis draw costs about as much as a
whole parse, so an example is two draws: a seed for a `Random` that builds the structure and
picks from the pools below, and one odd value from hypothesis' own strategies (floats, ints,
text), which it steers to edge cases. When the protocol grows a field or an observation, add
it to the `*_from` builders (realistic shape and expected value) and the pools.
"""

from __future__ import annotations

import copy
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from random import Random
from typing import Any, Final

from hypothesis import strategies as st

from custom_components.ksem_zaptec.zaptec.api import (
    Charger,
    Installation,
    Observation,
    OperatingMode,
    UserRole,
)
from custom_components.ksem_zaptec.zaptec.api.models import InstallationUser


@dataclass(frozen=True, slots=True)
class Case[T]:
    """One input of a parser; a realistic one carries what the parser must return."""

    data: Any
    expected: T | None = None
    realistic: bool = False


MISSING: Final = object()  # a key left out of an object


def _utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# -- pools of odd values ----------------------------------------------------------------------

# Strings that float() or int() take (or almost take) but that are no plausible reading.
NASTY_NUMBER_TEXTS: Final = (
    *("NaN", "nan", "-NaN", "inf", "-inf", "+inf", "Infinity", "-Infinity", "infinity"),
    *("1e400", "-1e400", "1e-400", "1e30", "-1e30", "-0", "-0.0", "+0", "0", "1", "2", "-1"),
    *("0.5", "7.", ".5", "1_000", "\u0661\u0662", "0x1A", " 7 ", "1e", "e5", "--1", "1e+", ""),
    *(" ", "9" * 400, "1" * 5000, "true", "false", "TRUE", "null", "3.0", "3.5", "5", "4"),
    *("250000", "1000", "-230.1", "100.01", "500.1", "1e7", "10000000.5"),
)
# Deep nesting comes from here: generating it costs more than 10,000 examples can afford.
_NESTED: Final = (
    [[[[["NaN"]]]]],
    {"Id": {"Id": {"Id": "x"}}},
    {"RD": [{"RV": [1]}], "Circuits": {"Chargers": None}},
    [{"Id": "c1", "Chargers": [{"Id": ["x"]}]}],
    [{"StateId": 710, "ValueAsString": "NaN"}],
)
NASTY_VALUES: Final[tuple[Any, ...]] = (
    *(None, True, False, 0, 1, -1, 3, 6, 17, 0.5, -0.0, math.nan, math.inf, -math.inf),
    *(1e30, -1e30, 1e308, 5e-324, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**400, -(10**400)),
    *([], {}, [1], [[[]]], {"Id": "x"}, {"RV": 1}, ["NaN"], "", " ", "x" * 300, "\x00"),
    *_NESTED,
    *NASTY_NUMBER_TEXTS,
)
# Ids: none may reach a URL path or a unique id unless it is URL-safe.
NASTY_IDS: Final = (
    *("", ".", "..", "...", "../x", "a/b", "x?y=1", "%2e%2e", " ", "with space", "\x00", "é"),
    *("i", "c1", "x" * 128, "x" * 129, 5, 0, True, None, 1.5, ["id"], {"Id": "x"}),
)
NASTY_TIMESTAMPS: Final = (
    *("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59.999999-23:59", "2026-13-01", "bad"),
    *("1999-12-31T23:59:59.999999", "1999-12-31T23:30:00-01:00", "2000-01-01T00:00:00"),
    *("2099-12-31T23:59:59.999999Z", "2100-01-01T00:00:00", "2100-01-01T00:30:00+01:00"),
    *("2026-W01-1", "2026-01-01", "", "2026-01-01T10:00:00.123+00:00"),
)
STATE_IDS: Final = (*Observation, -1, 854, 99999, "710", " 554 ", "710.0", 710.0, 710.5, "-2")
_OCMF_VALUES: Final = (
    *("NaN", "Infinity", "-Infinity", "1e400", "1e30", "-5", "12.5", "1" * 5000, '"12.5"'),
    *("true", "null", "[]", "{}", "-0", "0", "1e7", "10000000.5", "1234.5", "5e-324"),
)
_OCMF_UNITS: Final = ("", ',"RU":"kWh"', ',"RU":"Wh"', ',"RU":"kwh"', ',"RU":"mOhm"', ',"RU":5')
_OCMF_PAYLOADS: Final = ('{"RD":5}', '{"RD":"x"}', '{"RD":{"RV":1}}', "[" * 50, '{"a":"x|y"}')
_OCMF_TAILS: Final = ("|{}", '|{"SD":"00"}', "", "|", "x", " |{}")
_IDS_NAMESPACE: Final = uuid.UUID("0b7c7f52-3f4c-4e55-9b47-0f1f6a0c2d10")
IDS: Final = tuple(str(uuid.uuid5(_IDS_NAMESPACE, str(number))) for number in range(64))
NAMES: Final = ("Home", "Garage", "Hytta på fjellet", "Carport 🚗", "A", "名前", " ", "x" * 300)

_seeds = st.integers()  # unbounded draws are the cheapest; Random takes any int


def _rng(seed: int) -> Random:
    return Random(seed)  # noqa: S311 - test data, not secrets


# The one value per example that hypothesis picks (and steers to edge cases).
odd_scalars = st.one_of(
    st.sampled_from(NASTY_VALUES), st.floats(), st.integers(), st.text(max_size=4)
)
_odd_texts = st.one_of(st.floats().map(repr), st.integers().map(str), st.text(max_size=4))


def odd_timestamp(rng: Random) -> Any:
    """A timestamp fromisoformat takes (any year, any offset), or text that looks like one."""
    if rng.random() < 0.3:
        return rng.choice(NASTY_TIMESTAMPS)
    # Naive on purpose: the zone (or none) is chosen next.
    when = datetime(1, 1, 2) + timedelta(seconds=rng.uniform(0, 315_000_000_000))  # noqa: DTZ001
    zone = rng.choice((None, UTC, timezone(timedelta(minutes=rng.randint(-1439, 1439)))))
    return when.replace(tzinfo=zone).isoformat(timespec=rng.choice(("auto", "milliseconds")))


def odd_ocmf_text(rng: Random, value: str) -> str:
    """An OCMF record with odd readings (`value` among them), written as text, or junk."""
    readings = [
        '{"RV":' + rng.choice((value, *_OCMF_VALUES)) + rng.choice(_OCMF_UNITS) + "}"
        for _ in range(rng.randint(0, 3))
    ]
    payload = rng.choice(
        (
            '{"FV":"1.0","GI":"ZAPTEC","RD":[' + ",".join(readings) + "]}",
            rng.choice(_OCMF_PAYLOADS),
            json.dumps(rng.choice(NASTY_VALUES), default=str),
            value,
        )
    )
    return rng.choice(("OCMF|", "OCMF|", "OCMF", "ocmf|", "")) + payload + rng.choice(_OCMF_TAILS)


def odd_value(rng: Random) -> Any:
    """Anything a field could hold in a broken answer; MISSING removes the key."""
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(NASTY_IDS)
    if kind == 1:
        return rng.choice(STATE_IDS)
    if kind == 2:
        return odd_timestamp(rng)
    if kind == 3:
        return odd_ocmf_text(rng, rng.choice(_OCMF_VALUES))
    if kind == 4:
        return MISSING
    return rng.choice(NASTY_VALUES)


# Keys a mutation may add; it also picks among the target's own keys.
_STRAY_KEYS: Final = ("Id", "Name", "StateId", "ValueAsString", "RD", "Circuits", "", "é", "0")


def _is_number(value: Any) -> bool:
    # repr() refuses ints of more than 4300 digits
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 10**4000


def broken(rng: Random, data: Any, value: Any) -> Any:
    """A deep copy of `data` with one to three values replaced (`value` is the first)."""
    data = copy.deepcopy(data)
    for number in range(rng.randint(1, 3)):
        new = value if number == 0 else odd_value(rng)
        if new is not MISSING:
            new = copy.deepcopy(new)  # a later change must never edit the pools
        node = data
        for _ in range(rng.randint(0, 2)):  # go down into a nested dict or list
            children = node.values() if isinstance(node, dict) else node
            containers = [child for child in children if isinstance(child, dict | list)]
            if not containers:
                break
            node = rng.choice(containers)
        if isinstance(node, dict):
            key = rng.choice(list(node) if node and rng.random() < 0.8 else _STRAY_KEYS)
            old = node.get(key)
            if new is MISSING:
                node.pop(key, None)
            elif isinstance(old, str) and _is_number(new) and rng.random() < 0.5:
                node[key] = repr(new)  # where the cloud sends strings, odd numbers come as text
            else:
                node[key] = new
        elif isinstance(node, list) and node:
            index = rng.randrange(len(node))
            if new is MISSING:
                del node[index]
            else:
                node[index] = new
    return data


def answer_cases[T](valid_from: Callable[[Random], Case[T]]) -> st.SearchStrategy[Case[T]]:
    """Half realistic answers from `valid_from`, half broken ones (or no object at all)."""

    def build(seed: int, value: Any) -> Case[T]:
        rng = _rng(seed)
        case = valid_from(rng)
        if rng.random() < 0.5:
            return case
        if rng.random() < 0.1:
            return Case(rng.choice((value, *NASTY_VALUES)))
        return Case(broken(rng, case.data, value))

    return st.builds(build, _seeds, odd_scalars)


# -- realistic answers ----------------------------------------------------------------------

MODEL_PREFIXES: Final = {
    "Zaptec Pro": ("ZCS", "ZPR", "ZCH", "ZPG"),
    "Zaptec Go": ("ZAP", "ZGB", "ZAG"),
    "Zaptec Go 2": ("GPN", "GPG"),
    "Zaptec Sense": ("APH", "APG", "APM"),
}
_PREFIXES: Final = tuple(
    (prefix, model) for model, prefixes in MODEL_PREFIXES.items() for prefix in prefixes
)


def serial_from(rng: Random) -> tuple[str, str]:
    """A serial number (the prefix in any case) and its model."""
    prefix, model = rng.choice(_PREFIXES)
    prefix = "".join(rng.choice((c, c.lower())) for c in prefix)
    return f"{prefix}{rng.randrange(1_000_000):06d}", model


def _amps(rng: Random) -> float:
    # Whole amps (JSON ints or floats), any float in range, the limits.
    return rng.choice((rng.randint(0, 63), float(rng.randint(0, 63)), rng.uniform(0, 1000), 1000))


def _kept[K](rng: Random, keys: list[K]) -> list[K]:
    """All keys half the time, else any subset (User-role list items lack fields)."""
    if rng.random() < 0.5:
        return keys
    return [key for key in keys if rng.random() < 0.5]


def installation_from(rng: Random) -> Case[Installation]:
    """`GET /api/installation/{id}` like the simulator renders it, some fields left out."""
    installation_id = rng.choice(IDS)
    users = [(rng.choice(IDS), rng.choice((None, *NAMES))) for _ in range(rng.randint(0, 2))]
    fields: dict[str, Any] = {
        "Name": rng.choice(NAMES),
        "CurrentUserRoles": rng.randint(0, 15),
        "AuthenticationType": rng.randint(0, 3),
        "IsRequiredAuthentication": rng.random() < 0.5,
        "Active": rng.random() < 0.5,
        "MaxCurrent": _amps(rng),
        "AvailableCurrentPhase1": _amps(rng),
        "AvailableCurrentPhase2": _amps(rng),
        "AvailableCurrentPhase3": _amps(rng),
        "InstallationUsers": [
            {"UserId": user_id, "UserEmail": "owner@example.com"}
            | ({} if full_name is None else {"UserFullName": full_name})
            for user_id, full_name in users
        ],
        "SupportGroup": {"Name": "Sim installer", "LogoBase64": "AAAA"},
    }
    data: dict[str, Any] = {"Id": installation_id, "Address": "Sim street 1", "NetworkType": 4}
    data["Latitude"] = 59.91
    data |= {key: fields[key] for key in _kept(rng, list(fields))}
    expected = Installation(
        id=installation_id,
        name=data.get("Name", installation_id),
        roles=UserRole(data.get("CurrentUserRoles", 0)),
        authentication_type=data.get("AuthenticationType"),
        is_required_authentication=data.get("IsRequiredAuthentication"),
        available_current_phase1=data.get("AvailableCurrentPhase1"),
        available_current_phase2=data.get("AvailableCurrentPhase2"),
        available_current_phase3=data.get("AvailableCurrentPhase3"),
        max_current=data.get("MaxCurrent"),
        users=tuple(
            InstallationUser(user_id, full_name)
            for user_id, full_name in (users if "InstallationUsers" in data else [])
        ),
    )
    return Case(data, expected, realistic=True)


def charger_from(rng: Random) -> Case[Charger]:
    """An item of `GET /api/chargers` or `GET /api/chargers/{id}` like the simulator's."""
    charger_id = rng.choice(IDS)
    meter = rng.choice((0.0, 1e7, rng.uniform(0, 1e7), round(rng.uniform(0, 1e5), 3)))
    fields: dict[str, Any] = {
        "OperatingMode": rng.choice(list(OperatingMode)).value,
        "IsOnline": rng.random() < 0.5,
        "DeviceId": serial_from(rng)[0],
        "Name": rng.choice(NAMES),
        "Active": rng.random() < 0.5,
        "CurrentUserRoles": rng.randint(0, 15),
        "DeviceType": rng.choice((1, 2, 4)),
        "InstallationId": rng.choice(IDS),
        "AuthenticationType": rng.randint(0, 3),
        "IsAuthorizationRequired": rng.random() < 0.5,
        "PropertyAuthenticationDisabled": rng.random() < 0.5,
        "SignedMeterValueKwh": meter,
    }
    data: dict[str, Any] = {"Id": charger_id, "CircuitId": IDS[0], "Pin": "1234"}
    data["InstallationName"] = "Home"
    data |= {key: fields[key] for key in _kept(rng, list(fields))}
    expected = Charger(
        id=charger_id,
        name=data.get("Name", charger_id),
        serial=data.get("DeviceId"),
        installation_id=data.get("InstallationId"),
        device_type=data.get("DeviceType"),
        roles=UserRole(data.get("CurrentUserRoles", 0)),
        authentication_type=data.get("AuthenticationType"),
        is_authorization_required=data.get("IsAuthorizationRequired"),
        authentication_disabled=data.get("PropertyAuthenticationDisabled"),
        operating_mode=data.get("OperatingMode"),
        is_online=data.get("IsOnline"),
        signed_meter_value_kwh=data.get("SignedMeterValueKwh"),
    )
    return Case(data, expected, realistic=True)


@dataclass(slots=True)
class ExpectedState:
    """What `ChargerState` must report for a realistic state answer."""

    texts: dict[Observation, str | None] = field(default_factory=dict)
    numbers: dict[Observation, float] = field(default_factory=dict)
    flags: dict[Observation, bool] = field(default_factory=dict)
    timestamp: datetime | None = None
    operating_mode: int | None = None
    meter_reading_kwh: float | None = None


# Observation -> (decimals, highest value) of realistic readings, formatted like the
# simulator's (f"{x:.2f}"); rounding never leaves [0, highest].
_READINGS: Final = {
    Observation.VOLTAGE_PHASE1: (1, 500),
    Observation.VOLTAGE_PHASE2: (1, 500),
    Observation.VOLTAGE_PHASE3: (1, 500),
    Observation.CURRENT_PHASE1: (2, 100),
    Observation.CURRENT_PHASE2: (2, 100),
    Observation.CURRENT_PHASE3: (2, 100),
    Observation.TOTAL_CHARGE_POWER: (1, 100_000),
    Observation.TOTAL_CHARGE_POWER_SESSION: (3, 1000),
    Observation.CHARGE_CURRENT_SET: (0, 63),
}
_FLAG_TEXTS: Final = {"1": True, "0": False, "true": True, "false": False, "True": True}
_TEXTS: Final = {
    Observation.CHARGER_CURRENT_USER_UUID: ("", "nfc-04A2B3C4D5", *(f"ble-{u}" for u in IDS[:4])),
    Observation.MAINBOARD_SOFTWARE_VERSION: ("4.1.0.1", "3.3.0.0"),
    Observation.COMPUTER_SOFTWARE_VERSION: ("4.1.0.1", "3.3.0.0"),
}
_FIRST_STAMP: Final = datetime(2000, 1, 1, tzinfo=UTC)
_LAST_STAMP: Final = datetime(2099, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)


def _reading(rng: Random, digits: int, high: float) -> str:
    value = rng.choice((0.0, float(high), rng.uniform(0, high), rng.uniform(0, 40)))
    return f"{value:.{digits}f}"


def ocmf_record(kwh: tuple[float, ...], unit: str | None) -> Case[float]:
    """Observation 554 like the simulator writes it (RU kWh, Wh or absent), and its kWh."""
    readings: list[dict[str, Any]] = [
        {"TM": "2026-01-01T10:00:00,000+00:00 R", "RV": value * 1000 if unit == "Wh" else value}
        | ({} if unit is None else {"RU": unit})
        for value in kwh
    ]
    payload = {"FV": "1.0", "GI": "ZAPTEC", "RD": readings}
    record = "OCMF|" + json.dumps(payload, separators=(",", ":")) + '|{"SD":"3045"}'
    expected = max(r["RV"] / 1000 if unit == "Wh" else r["RV"] for r in readings)
    return Case(record, expected, realistic=True)


def ocmf_from(rng: Random) -> Case[float]:
    """A realistic OCMF record: one or two readings up to 1e7 kWh."""
    kwh = [
        rng.choice((0.0, 1e7, round(rng.uniform(0, 1e6), 3), rng.uniform(0, 1e7)))
        for _ in range(rng.randint(1, 2))
    ]
    return ocmf_record(tuple(kwh), rng.choice((None, "kWh", "Wh")))


def _stamp(rng: Random) -> datetime | None:
    """UTC in milliseconds, from 2000 to 2099, like the state endpoint sends; or none."""
    choice = rng.randrange(5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice((_FIRST_STAMP, _LAST_STAMP))
    millis = rng.randrange((_LAST_STAMP - _FIRST_STAMP) // timedelta(milliseconds=1))
    return _FIRST_STAMP + timedelta(milliseconds=millis)


def state_from(rng: Random) -> Case[ExpectedState]:
    """`GET /api/chargers/{id}/state` like the simulator renders it (any subset of ids)."""
    # Like the simulator: one timestamp for all; "Z" on it as in service bus pushes.
    stamp, zulu = _stamp(rng), rng.random() < 0.5
    expected = ExpectedState(timestamp=stamp)
    items: list[dict[str, Any]] = [{"ChargerId": IDS[1], "StateId": -1}]  # the pulse
    for observation in _kept(rng, list(Observation)):
        if observation in _READINGS:
            text = _reading(rng, *_READINGS[observation])
            expected.numbers[observation] = float(text)
        elif observation == Observation.CHARGER_OPERATION_MODE:
            mode = rng.choice(list(OperatingMode))
            text = str(mode.value)
            expected.numbers[observation] = float(mode)
            expected.operating_mode = mode.value
        elif observation == Observation.SIGNED_METER_VALUE:
            record = ocmf_from(rng)
            text, expected.meter_reading_kwh = record.data, record.expected
        elif observation in _TEXTS:
            text = rng.choice(_TEXTS[observation])
        else:  # the flags
            text = rng.choice(sorted(_FLAG_TEXTS))
            expected.flags[observation] = _FLAG_TEXTS[text]
        expected.texts[observation] = text or None
        item = {"ChargerId": IDS[1], "StateId": observation.value, "ValueAsString": text}
        if stamp is not None:
            iso = stamp.replace(tzinfo=None).isoformat(timespec="milliseconds")
            item["Timestamp"] = iso + "Z" if zulu else iso
        items.append(item)
    items.append({"ChargerId": IDS[1], "StateId": 854, "ValueAsString": "not parsed"})
    rng.shuffle(items)
    return Case(items, expected, realistic=True)


def error_body_from(rng: Random) -> Case[tuple[int | None, str | None]]:
    """`{Code, Details}` (500s), `{errorCode, message}` (404 on state), an OAuth error body."""
    code = rng.choice((527, 528, 512, rng.randint(-(2**31), 2**31 - 1)))
    details = rng.choice(("Cannot update installation when using APM", *NAMES))
    shape = rng.choice(("Code", "errorCode", "oauth"))
    if shape == "oauth":
        body: dict[str, Any] = {"error": "invalid_grant", "error_description": details}
        return Case(body, (None, details), realistic=True)
    other = {"Code": "Details", "errorCode": "message"}[shape]
    return Case({shape: code, other: details}, (code, details), realistic=True)


# -- the cases of each parser -----------------------------------------------------------------

installation_cases = answer_cases(installation_from)
charger_cases = answer_cases(charger_from)
state_cases = answer_cases(state_from)
# Error bodies as json.loads makes them (the only way they reach _error_fields).
error_body_cases = answer_cases(error_body_from).map(
    lambda case: case if case.realistic else Case(json.loads(json.dumps(case.data)))
)


def _ocmf_case(seed: int, value: str) -> Case[float]:
    rng = _rng(seed)
    return ocmf_from(rng) if rng.random() < 0.5 else Case(odd_ocmf_text(rng, value))


ocmf_cases = st.builds(_ocmf_case, _seeds, _odd_texts)


def _serial_case(seed: int, tail: str) -> Case[str]:
    rng = _rng(seed)
    if rng.random() < 0.5:
        serial, model = serial_from(rng)
        return Case(serial, model, realistic=True)
    head = rng.choice(("ZPR", "zap", "GPN", "APM", "ZP", "", "ẞPR", "ﬀZ", " ZPR", "ZPRO"))
    return Case(rng.choice((head + tail, tail, *NASTY_VALUES)))


serial_cases = st.builds(_serial_case, _seeds, st.text(max_size=4))


def _retry_after_case(seed: int, header: str) -> Case[float]:
    """Delta seconds or an HTTP date `seconds` after `now`; or an odd header (any `now`)."""
    rng = _rng(seed)
    base = _FIRST_STAMP + timedelta(seconds=rng.randrange(3_124_137_600))  # up to 2099
    if rng.random() < 0.5:
        seconds = rng.choice((0, 1, rng.randint(0, 86_400)))
        as_date = format_datetime(base + timedelta(seconds=seconds), usegmt=True)
        return Case((rng.choice((as_date, str(seconds))), base), float(seconds), realistic=True)
    when = _utc(1970, 1, 1) + timedelta(seconds=rng.uniform(0, 253_402_000_000))
    header = rng.choice(
        (
            header,
            rng.choice(NASTY_NUMBER_TEXTS),
            format_datetime(when, usegmt=True),
            format_datetime(when.replace(tzinfo=None)),  # "-0000"
            "Mon, 01 Jan 0000 00:00:00 GMT",
            "Thu, 01 Jan 2026 12:00:30 +9999",
            "Thu, 32 Jan 2026",
        )
    )
    now = rng.choice((None, base, _utc(1, 1, 2), _utc(9999, 12, 30)))
    return Case((header, now))


retry_after_cases = st.builds(_retry_after_case, _seeds, _odd_texts)
