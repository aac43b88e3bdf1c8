"""Constants of the Zaptec side: polling schedule, entry keys, client tuning."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

# `ksem_zaptec: zaptec_api_url: <url>` in configuration.yaml points every Zaptec entry at
# another cloud: the development instance and the tests use it for the simulator. Users never
# need it (no form field, nothing stored in the entry).
CONF_ZAPTEC_API_URL: Final = "zaptec_api_url"
# Entries made before 0.2 stored the URL in their data; the migration to 1.2 drops it.
LEGACY_CONF_API_URL: Final = "api_url"

# Charger state (`/api/chargers/{id}/state`, served from a 15 s cache by Zaptec):
# The scheduler looks for due work every 5 s, so that each read and the charger list below run
# on their own interval (a 15 s grid would round the list's 175 s up to 180 s).
STATE_TICK: Final = timedelta(seconds=5)
STATE_INTERVAL_ACTIVE: Final = timedelta(seconds=60)  # car connected or charging
# Idle: the charger list (below) tells when a car is plugged in and vouches for the rest (an
# idle charger's meter does not move); the state itself is only reconciled every 6 hours.
STATE_INTERVAL_IDLE: Final = timedelta(hours=6)
STATE_INTERVAL_MIN: Final = timedelta(seconds=15)  # never faster: the cache would answer
FINISHED_FAST_WINDOW: Final = timedelta(minutes=15)  # after "finished", poll fast this long
STATE_RETRY_NO_ACCESS: Final = timedelta(hours=1)  # 403 (User role): ask again hourly
MAX_STATE_READS_PER_TICK: Final = 5  # at most 1 state read per second on average
# Change detection: `GET /api/chargers` (one request per 100 chargers) carries every charger's
# OperatingMode and IsOnline; a charger whose values changed shows them at once and is read
# right after. Every 175 s: a car plugged in shows after 88 s in the median and 175 s at worst
# (issue 13: at most 90 s and 180 s), at 20.6 list requests an hour per 100 chargers, far below
# the older guideline's 30 a minute; with the login and the slow reads below, a small account
# stays under 23 requests an hour (bench/scenarios/zaptec.py, README "Performance").
LIST_INTERVAL: Final = timedelta(seconds=175)
# After a write the cloud caches state for up to 15 s: read the charger again after that.
STATE_AFTER_WRITE: Final = timedelta(seconds=16)

# Push (Service Bus): while an installation's push connection is up, its chargers' state is
# read at most this often, to reconcile what push does not carry (docs/zaptec.md, "Push").
PUSH_RECONCILE_INTERVAL: Final = timedelta(minutes=10)
# Push not available for an installation (no subscription, 403): ask again this much later.
PUSH_RECHECK_INTERVAL: Final = timedelta(hours=6)
# Option: the user group of a Service Bus subscription (Zaptec's current push model, enabled by
# a support request). No documented call gives a user's group id, so the user enters it; when
# set, one receiver covers every installation of the account (docs/zaptec.md, "Push").
CONF_PUSH_USER_GROUP: Final = "push_user_group"
# What the option accepts: a GUID (Zaptec's ids are GUIDs), in any case, stored lower-case.
USER_GROUP_ID_PATTERN: Final = (
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# `ksem_zaptec: zaptec_servicebus_ca: <file>` in configuration.yaml, for the simulator's broker
# only (scripts/develop, tests): trust this CA and connect to the connection details' Host:Port.
CONF_ZAPTEC_SERVICEBUS_CA: Final = "zaptec_servicebus_ca"

# Installation and charger details (authorization flags, roles, currents): every 2 hours, and at
# once when the charger list shows a charger's IsAuthorizationRequired or CurrentUserRoles
# change (a flag or role changed in the portal or app). Our own writes are read back at once;
# what only the detail shows (an available current set elsewhere) may take up to 2 hours.
DETAILS_INTERVAL: Final = timedelta(hours=2)
# `GET /api/installation` (finds installations without chargers; one the charger list names
# that is not known yet is listed at once); the known installations' details are read at every
# details refresh.
INSTALLATION_LIST_INTERVAL: Final = timedelta(hours=24)
# `/api/chargers/{id}` (the charger's own authorization flag, Pro/Home with a switch only);
# read sooner when the charger's IsAuthorizationRequired or roles change in the list:
CHARGER_DETAIL_INTERVAL: Final = timedelta(hours=12)
MAX_CHARGER_DETAILS_PER_REFRESH: Final = 25
# Firmware versions (`/api/chargerFirmware/installation/{id}`): once a day, like other clients.
FIRMWARE_INTERVAL: Final = timedelta(hours=24)
# After an upgrade command the firmware list is read again this much later (the charger
# downloads and installs first); the update entity shows "installing" until then.
FIRMWARE_AFTER_UPGRADE: Final = timedelta(minutes=15)
# Zaptec asks integrators to change an installation's available current at most about every
# 15 minutes: changes in between are coalesced (the last value wins) and applied then. The
# option (minutes) may make it longer, never shorter.
CONF_AVAILABLE_CURRENT_INTERVAL: Final = "available_current_interval"
DEFAULT_AVAILABLE_CURRENT_INTERVAL: Final = 15
MIN_AVAILABLE_CURRENT_INTERVAL: Final = 15
MAX_AVAILABLE_CURRENT_INTERVAL: Final = 120
# Unloading the entry waits this long for a write in flight before cancelling it, seconds.
WRITE_UNLOAD_TIMEOUT: Final = 20.0

# After a failed read that is not a cloud-wide fault (those pause the whole client): doubling
# from a minute up to the idle interval, and never sooner than the healthy interval.
FAULT_BACKOFF_BASE: Final = timedelta(minutes=1)
FAULT_BACKOFF_MAX: Final = timedelta(minutes=10)

USER_AGENT: Final = "ksem_zaptec/0.1.0 (+https://github.com/ksem-zaptec/ha-ksem-zaptec)"

# Repair issue raised when the account's role cannot change an installation's settings.
ISSUE_INSUFFICIENT_ROLE: Final = "zaptec_insufficient_role"
# Raised when Zaptec refuses an installation's current change because Sense/APM manages it.
ISSUE_MANAGED_BY_APM: Final = "zaptec_managed_by_apm"
