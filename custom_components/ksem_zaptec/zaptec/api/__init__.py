"""Zaptec cloud client: no Home Assistant imports here (a test enforces it)."""

from .client import DEFAULT_BASE_URL, PAGE_SIZE, ClientTuning, ZaptecClient, parse_retry_after
from .exceptions import (
    ZaptecAuthenticationError,
    ZaptecConnectionError,
    ZaptecError,
    ZaptecForbiddenError,
    ZaptecNotFoundError,
    ZaptecProtocolError,
    ZaptecRateLimitError,
    ZaptecResponseError,
    ZaptecWriteNotConfirmedError,
)
from .models import (
    AuthenticationType,
    Charger,
    ChargerState,
    DeviceType,
    Installation,
    Observation,
    OperatingMode,
    UserRole,
    model_from_serial,
    parse_ocmf_reading,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "PAGE_SIZE",
    "AuthenticationType",
    "Charger",
    "ChargerState",
    "ClientTuning",
    "DeviceType",
    "Installation",
    "Observation",
    "OperatingMode",
    "UserRole",
    "ZaptecAuthenticationError",
    "ZaptecClient",
    "ZaptecConnectionError",
    "ZaptecError",
    "ZaptecForbiddenError",
    "ZaptecNotFoundError",
    "ZaptecProtocolError",
    "ZaptecRateLimitError",
    "ZaptecResponseError",
    "ZaptecWriteNotConfirmedError",
    "model_from_serial",
    "parse_ocmf_reading",
    "parse_retry_after",
]
