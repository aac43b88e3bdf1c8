"""KSEM protocol client: no Home Assistant imports here (a test enforces it)."""

from .client import KsemClient, SilenceWatchdog, normalize_host
from .exceptions import (
    KsemAuthError,
    KsemCertificateChangedError,
    KsemConnectionError,
    KsemError,
    KsemInvalidTokenError,
    KsemNotSupportedError,
    KsemPairingNotSupportedError,
    KsemProtocolError,
    KsemRateLimitError,
)
from .models import DeviceSettings, EnergyFlow, MeterValues, PhaseValues, TokenInfo
from .pairing import Probe, TokenGrant

__all__ = [
    "DeviceSettings",
    "EnergyFlow",
    "KsemAuthError",
    "KsemCertificateChangedError",
    "KsemClient",
    "KsemConnectionError",
    "KsemError",
    "KsemInvalidTokenError",
    "KsemNotSupportedError",
    "KsemPairingNotSupportedError",
    "KsemProtocolError",
    "KsemRateLimitError",
    "MeterValues",
    "PhaseValues",
    "Probe",
    "SilenceWatchdog",
    "TokenGrant",
    "TokenInfo",
    "normalize_host",
]
