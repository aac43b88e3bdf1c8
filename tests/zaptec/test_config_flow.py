"""The Zaptec config flow against the simulated cloud: add, errors, reauth, reconfigure."""

from __future__ import annotations

from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.ksem_zaptec.const import CONF_KIND, DOMAIN, KIND_ZAPTEC
from custom_components.ksem_zaptec.zaptec.api import DEFAULT_BASE_URL

from .conftest import SimHandle

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "zaptec"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zaptec_user"
    assert result["errors"] == {}
    return str(result["flow_id"])


async def test_add_account(hass: HomeAssistant, zaptec_sim: SimHandle) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: " Demo@Example.com ", CONF_PASSWORD: "zaptec-demo"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Demo@Example.com"
    assert result["data"] == {
        CONF_KIND: KIND_ZAPTEC,
        CONF_USERNAME: "Demo@Example.com",
        CONF_PASSWORD: "zaptec-demo",
    }
    assert result["result"].unique_id == "demo@example.com"
    paths = [r.path for r in zaptec_sim.sim.requests]
    assert paths == ["/oauth/token", "/api/installation"]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (None, "zaptec_invalid_auth"),
        ({"pattern": "^/api/installation$", "status": 500}, "zaptec_cannot_connect"),
        ({"pattern": "^/oauth/token$", "status": 503, "count": 10}, "zaptec_cannot_connect"),
        ({"pattern": "^/oauth/token$", "status": 429, "count": 1}, "zaptec_rate_limited"),
        (
            {"pattern": "^/api/installation$", "status": 429, "count": 1, "retry_after": "30"},
            "zaptec_rate_limited",
        ),
    ],
)
async def test_errors_recover(
    hass: HomeAssistant, zaptec_sim: SimHandle, fault: dict | None, error: str
) -> None:
    flow_id = await _start(hass)
    password = "zaptec-demo"
    if fault is None:
        password = "wrong"
    else:
        zaptec_sim.sim.add_fault(**fault)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: "demo@example.com", CONF_PASSWORD: password}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    zaptec_sim.sim.faults.clear()
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: "demo@example.com", CONF_PASSWORD: "zaptec-demo"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unexpected_error_recovers(hass: HomeAssistant, zaptec_sim: SimHandle) -> None:
    flow_id = await _start(hass)
    with patch(
        "custom_components.ksem_zaptec.zaptec.api.ZaptecClient.get_installations",
        AsyncMock(side_effect=RuntimeError("surprise")),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_USERNAME: "demo@example.com", CONF_PASSWORD: "zaptec-demo"}
        )
    assert result["errors"] == {"base": "zaptec_unknown"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: "demo@example.com", CONF_PASSWORD: "zaptec-demo"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_zaptec_cloud_without_configuration(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Without the development key in configuration.yaml the flow talks to Zaptec's cloud."""
    aioclient_mock.post(
        f"{DEFAULT_BASE_URL}/oauth/token",
        json={"access_token": "t", "token_type": "bearer", "expires_in": 3600},
    )
    aioclient_mock.get(f"{DEFAULT_BASE_URL}/api/installation", json={"Pages": 1, "Data": []})
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: "demo@example.com", CONF_PASSWORD: "zaptec-demo"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert [str(call[1]).split("?")[0] for call in aioclient_mock.mock_calls] == [
        f"{DEFAULT_BASE_URL}/oauth/token",
        f"{DEFAULT_BASE_URL}/api/installation",
    ]
    # The URL is not part of the entry: configuration.yaml decides it at every start.
    assert "api_url" not in result["data"]


async def test_same_account_twice_aborts(
    hass: HomeAssistant, zaptec_entry: MockConfigEntry
) -> None:
    zaptec_entry.add_to_hass(hass)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_USERNAME: "DEMO@example.com", CONF_PASSWORD: "whatever"}
    )
    assert result["type"] is FlowResultType.ABORT
    # The account's own text, not the meter's (which names an entry title).
    assert result["reason"] == "zaptec_already_configured"
    assert not result["description_placeholders"]


async def test_reauth(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    zaptec_entry.add_to_hass(hass)
    zaptec_sim.sim.password = "new-password"
    result = await zaptec_entry.start_reauth_flow(hass)
    assert result["step_id"] == "zaptec_reauth_confirm"
    assert result["description_placeholders"]["username"] == "demo@example.com"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "zaptec-demo"}
    )
    assert result["errors"] == {"base": "zaptec_invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "new-password"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert zaptec_entry.data[CONF_PASSWORD] == "new-password"


async def test_reconfigure(
    hass: HomeAssistant, zaptec_sim: SimHandle, zaptec_entry: MockConfigEntry
) -> None:
    zaptec_entry.add_to_hass(hass)
    zaptec_sim.sim.password = "changed"
    result = await zaptec_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "zaptec_reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "demo@example.com", CONF_PASSWORD: "zaptec-demo"}
    )
    assert result["errors"] == {"base": "zaptec_invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "Demo@Example.com", CONF_PASSWORD: "changed"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert zaptec_entry.data[CONF_PASSWORD] == "changed"
    assert zaptec_entry.data[CONF_USERNAME] == "Demo@Example.com"
    assert zaptec_entry.title == "Demo@Example.com"


async def test_reconfigure_other_account_aborts(
    hass: HomeAssistant, zaptec_entry: MockConfigEntry
) -> None:
    zaptec_entry.add_to_hass(hass)
    result = await zaptec_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "someone@else.com", CONF_PASSWORD: "x"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "zaptec_wrong_account"


GROUP_ID = "01234567-89ab-cdef-0123-456789abcdef"


async def _options(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zaptec_options"
    shown = {str(key): key.description for key in result["data_schema"].schema}
    assert shown["push_user_group"] == {"suggested_value": entry.options.get("push_user_group")}
    return str(result["flow_id"])


async def test_options_user_group_is_stored_normalised(
    hass: HomeAssistant, zaptec_entry: MockConfigEntry
) -> None:
    """A GUID in braces and capitals is stored as Zaptec writes ids (lower case)."""
    flow_id = await _options(hass, zaptec_entry)
    result = await hass.config_entries.options.async_configure(
        flow_id,
        {"available_current_interval": 15, "push_user_group": f" {{{GROUP_ID.upper()}}} "},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert zaptec_entry.options == {
        "available_current_interval": 15,
        "push_user_group": GROUP_ID,
    }


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        (
            {"available_current_interval": 15, "push_user_group": "my-group"},
            {"push_user_group": "zaptec_push_user_group_invalid"},
        ),
        (
            {"available_current_interval": 15, "push_user_group": GROUP_ID + "0"},
            {"push_user_group": "zaptec_push_user_group_invalid"},
        ),
        (
            {"available_current_interval": 1, "push_user_group": "../installation"},
            {
                "available_current_interval": "zaptec_available_current_interval_range",
                "push_user_group": "zaptec_push_user_group_invalid",
            },
        ),
    ],
)
async def test_options_invalid_user_group_recovers(
    hass: HomeAssistant,
    zaptec_entry: MockConfigEntry,
    user_input: dict[str, object],
    errors: dict[str, str],
) -> None:
    """Anything but a GUID is a translated form error; the form keeps it and then accepts one."""
    flow_id = await _options(hass, zaptec_entry)
    result = await hass.config_entries.options.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    result = await hass.config_entries.options.async_configure(
        flow_id, {"available_current_interval": 20, "push_user_group": GROUP_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert zaptec_entry.options == {"available_current_interval": 20, "push_user_group": GROUP_ID}


async def test_options_user_group_cleared(hass: HomeAssistant, zaptec_sim: SimHandle) -> None:
    """The form shows the stored group; emptied, the option is gone (installation model)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=zaptec_sim.sim.username,
        data={
            CONF_KIND: KIND_ZAPTEC,
            CONF_USERNAME: zaptec_sim.sim.username,
            CONF_PASSWORD: zaptec_sim.sim.password,
        },
        options={"available_current_interval": 30, "push_user_group": GROUP_ID},
    )
    flow_id = await _options(hass, entry)
    result = await hass.config_entries.options.async_configure(
        flow_id, {"available_current_interval": 30, "push_user_group": ""}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {"available_current_interval": 30}
