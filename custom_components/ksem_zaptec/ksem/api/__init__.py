"""KSEM protocol client: no Home Assistant imports here (a test enforces it)."""

from .client import KsemClient, SilenceWatchdog, normalize_host
from .exceptions import (
    KsemAuthError,
    KsemConnectionError,
    KsemError,
    KsemInvalidTokenError,
    KsemNotSupportedError,
    KsemPairingNotSupportedError,
    KsemProtocolError,
    KsemRateLimitError,
)
from .models import DeviceSettings, EnergyFlow, MeterValues, PhaseValues, TokenInfo

__all__ = [
    "DeviceSettings",
    "EnergyFlow",
    "KsemAuthError",
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
    "SilenceWatchdog",
    "TokenInfo",
    "normalize_host",
]
