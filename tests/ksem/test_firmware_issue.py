"""Repair issue when the meter's firmware offers no way to read it with an access token."""

from __future__ import annotations

import logging
from datetime import timedelta
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ksem_zaptec.const import DOMAIN
from custom_components.ksem_zaptec.ksem.api import KsemCertificateChangedError, KsemClient

from .conftest import RunningKsem, next_poll, setup_entry, setup_polling_entry, wait_until

GRID = "sensor.ksem_76555758_grid_power"


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"ksem_firmware_too_old_{entry.entry_id}")


def _old_firmware(ksem: RunningKsem) -> None:
    """No JSON app, and the data-transfer WebSocket only lets the web UI's admin login in."""
    ksem.sim.flags.json_interface = False
    ksem.sim.flags.websocket_accepts_api = False


async def test_setup_retries_until_firmware_update(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Setup fails with an explained retry and an issue; a firmware update fixes both."""
    _old_firmware(ksem)
    await setup_entry(hass, ksem_entry)
    assert ksem_entry.state is ConfigEntryState.SETUP_RETRY
    assert ksem_entry.reason is not None
    assert "firmware is too old" in ksem_entry.reason
    assert not hass.config_entries.flow.async_progress()  # no reauth: a new token would not help
    issue = _issue(hass, ksem_entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert issue.translation_key == "ksem_firmware_too_old"
    assert issue.translation_placeholders == {"title": ksem_entry.title, "host": ksem.host}

    # still old at the first retry: the issue stays, once
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ksem_entry.state is ConfigEntryState.SETUP_RETRY
    assert [i for i in ir.async_get(hass).issues if i[1].startswith("ksem_firmware")] == [
        (DOMAIN, f"ksem_firmware_too_old_{ksem_entry.entry_id}")
    ]

    ksem.sim.flags.json_interface = True  # the meter got new firmware
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ksem_entry.state is ConfigEntryState.LOADED
    assert _issue(hass, ksem_entry) is None
    assert hass.states.get(GRID).state == "6730.1"


async def test_firmware_lost_mid_run_and_updated(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The JSON app goes away while polling: unavailable + issue; back after the update."""
    await setup_polling_entry(hass, ksem, ksem_entry)
    caplog.set_level(logging.INFO)
    ksem.sim.flags.json_interface = False
    for _ in range(3):
        await next_poll(hass, freezer)
        assert hass.states.get(GRID).state == STATE_UNAVAILABLE
        assert _issue(hass, ksem_entry) is not None
    assert not hass.config_entries.flow.async_progress()
    assert caplog.text.count("JSON interface is missing") == 1
    ksem.sim.flags.json_interface = True
    await next_poll(hass, freezer, seconds=60)  # the polls backed off after three failures
    assert hass.states.get(GRID).state == "6730.1"
    assert _issue(hass, ksem_entry) is None
    assert caplog.text.count("Fetching KSEM 76555758 data recovered") == 1


async def test_unload_deletes_issue(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_polling_entry(hass, ksem, ksem_entry)
    ksem.sim.flags.json_interface = False
    await next_poll(hass, freezer)
    assert _issue(hass, ksem_entry) is not None
    assert await hass.config_entries.async_unload(ksem_entry.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, ksem_entry) is None


async def test_revoked_on_websocket_only_meter_is_reauth(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """The WebSocket took the token before: a refusal now is a revocation, not old firmware."""
    ksem.sim.flags.json_interface = False
    await setup_entry(hass, ksem_entry)
    assert ksem_entry.state is ConfigEntryState.LOADED
    await wait_until(lambda: ksem_entry.runtime_data.coordinator.push_connected)
    await ksem.sim.revoke()
    await wait_until(lambda: bool(hass.config_entries.flow.async_progress()))
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert _issue(hass, ksem_entry) is None


async def test_removing_an_entry_in_setup_retry_deletes_issue(
    hass: HomeAssistant, ksem: RunningKsem, ksem_entry: MockConfigEntry
) -> None:
    """Unload never runs for an entry that did not load: removal still cleans up."""
    _old_firmware(ksem)
    await setup_entry(hass, ksem_entry)
    assert ksem_entry.state is ConfigEntryState.SETUP_RETRY
    assert _issue(hass, ksem_entry) is not None
    await hass.config_entries.async_remove(ksem_entry.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, ksem_entry) is None


async def test_changed_certificate_while_running_is_a_repair_issue(
    hass: HomeAssistant,
    ksem: RunningKsem,
    ksem_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The pinned certificate no longer answers: values unavailable, an issue says why."""
    await setup_polling_entry(hass, ksem, ksem_entry)
    issue_id = f"ksem_certificate_changed_{ksem_entry.entry_id}"
    changed = KsemCertificateChangedError("ab" * 32, "cd" * 32)
    with patch.object(KsemClient, "get_values", side_effect=changed):
        await next_poll(hass, freezer)
        await next_poll(hass, freezer, 60)  # past the staleness limit
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "ksem_certificate_changed_running"
    assert issue.translation_placeholders == {"title": ksem_entry.title, "host": ksem.host}
    assert hass.states.get(GRID).state == STATE_UNAVAILABLE

    # The trusted certificate answers again: the issue goes by itself.
    await next_poll(hass, freezer, 60)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get(GRID).state != STATE_UNAVAILABLE
