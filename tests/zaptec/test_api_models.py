"""Lenient parsing of the Zaptec models."""

from __future__ import annotations

import pytest

from custom_components.ksem_zaptec.zaptec.api import (
    Charger,
    Installation,
    UserRole,
    model_from_serial,
    parse_ocmf_reading,
    parse_retry_after,
)


@pytest.mark.parametrize(
    ("serial", "model"),
    [
        ("ZPR012345", "Zaptec Pro"),
        ("zap049387", "Zaptec Go"),
        ("GPN000001", "Zaptec Go 2"),
        ("APM1", "Zaptec Sense"),
        ("XYZ1", None),
        (None, None),
        ("", None),
    ],
)
def test_model_from_serial(serial: str | None, model: str | None) -> None:
    assert model_from_serial(serial) == model


def test_odd_values_become_unknown() -> None:
    installation = Installation.from_api(
        {
            "Id": "i",
            "CurrentUserRoles": "6",
            "MaxCurrent": "n/a",
            "AvailableCurrentPhase1": True,
            "AuthenticationType": "x",
            "IsRequiredAuthentication": "yes",
            "InstallationUsers": [{"UserId": "u"}, {"UserFullName": "no id"}, "junk"],
            "SupportGroup": {"LogoBase64": "A" * 1000},
        }
    )
    assert installation.roles == UserRole.OWNER | UserRole.MAINTAINER
    assert installation.max_current is None
    assert installation.available_current_phase1 is None
    assert installation.authentication_type is None
    assert installation.is_required_authentication is None
    assert [u.user_id for u in installation.users] == ["u"]
    assert "SupportGroup" not in installation.raw
    charger = Charger.from_api({"Id": "c", "SerialNo": "ZAP1", "DeviceType": None})
    assert charger.serial == "ZAP1"
    assert charger.model == "Zaptec Go"
    assert charger.device_type is None


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ('OCMF|{"RD":[{"RV":12.5}]}|{}', 12.5),
        ('OCMF|{"RD":[]}|{}', None),
        ('OCMF|{"RD":[{"RV":true},"x"]}|{}', None),
        ("OCMF|not json|{}", None),
        ("OCMF|[1]|{}", None),
        ("something else", None),
        (None, None),
    ],
)
def test_ocmf(text: str | None, reading: float | None) -> None:
    assert parse_ocmf_reading(text) == reading


def test_retry_after_date_without_zone() -> None:
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 -0000") is not None
