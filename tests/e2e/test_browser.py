"""End-to-end: a person adds the KSEM and a Zaptec account, builds a dashboard, automates.

Real Home Assistant process, real simulators, headless Chromium (see conftest.py). Each test
ends in assertions on what the page shows; the REST/websocket API only sets things up (a
dashboard, an automation, an entry a test needs but does not add itself) and checks what a
page cannot show (the request the simulated Zaptec cloud received).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from custom_components.ksem_zaptec.const import DOMAIN
from simulator.ksem import KsemSimulator
from simulator.zaptec import ZaptecSimulator

from .harness import ARTIFACTS, ROOT, HomeAssistant, Simulators, wait_for
from .pages import (
    entity_row,
    expect_row_value,
    flow_dialog,
    open_devices_and_services,
    start_adding_integration,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

INTEGRATION = "KOSTAL KSEM & Zaptec"  # manifest name, shown in "Add integration"
STRINGS = json.loads((ROOT / "custom_components" / DOMAIN / "translations" / "en.json").read_text())
MODES = STRINGS["entity"]["sensor"]["zaptec_charger_mode"]["state"]
KSEM_DEFAULTS = KsemSimulator()
ZAPTEC_DEFAULTS = ZaptecSimulator()
KSEM_TITLE = f"KSEM {KSEM_DEFAULTS.serial}"
FINISH = re.compile(r"finish", re.IGNORECASE)  # "Finish" or "Skip and finish"


# ---- set-up helpers (API) ------------------------------------------------------------------


def _ksem_entries(ha: HomeAssistant) -> list[dict[str, Any]]:
    return [e for e in ha.config_entries(DOMAIN) if e["title"].startswith("KSEM ")]


def _zaptec_entries(ha: HomeAssistant) -> list[dict[str, Any]]:
    return [e for e in ha.config_entries(DOMAIN) if e["title"] == ZAPTEC_DEFAULTS.username]


def _loaded(
    ha: HomeAssistant, entries: Callable[[HomeAssistant], list[dict[str, Any]]]
) -> dict[str, Any] | None:
    found = entries(ha)
    return found[0] if found and found[0]["state"] == "loaded" else None


def _entity_id(ha: HomeAssistant, domain: str, unique_id: str) -> str:
    """Entity id from the registry by platform domain and unique id (names may change)."""

    def lookup() -> str | None:
        return next(
            (
                e["entity_id"]
                for e in ha.entity_registry()
                if e["platform"] == DOMAIN
                and e["unique_id"] == unique_id
                and e["entity_id"].startswith(f"{domain}.")
            ),
            None,
        )

    return wait_for(f"{domain} entity {unique_id}", lookup, 20, 0.5)


@pytest.fixture
def ksem_entry(ha: HomeAssistant, sims: Simulators) -> dict[str, Any]:
    """A loaded KSEM entry: the one test 1 added, or one paired through the flow API."""
    if not _ksem_entries(ha):
        flow = ha.flow(None, {"handler": DOMAIN})
        flow = ha.flow(flow["flow_id"], {"next_step_id": "ksem"})
        flow = ha.flow(flow["flow_id"], {"host": sims.ksem_url.removeprefix("http://")})
        assert flow["type"] == "progress", flow
        sims.authorize_ksem_tokens()
        # Like the frontend: once the progress step is done, fetching the flow moves it on.
        wait_for(
            "the KSEM flow to create the entry",
            lambda: ha.get_flow(flow["flow_id"])["type"] == "create_entry",
            20,
            0.5,
        )
    return wait_for("a loaded KSEM entry", lambda: _loaded(ha, _ksem_entries), 30, 0.5)


@pytest.fixture
def zaptec_entry(ha: HomeAssistant) -> dict[str, Any]:
    """A loaded Zaptec entry: the one test 2 added, or one created through the flow API."""
    if not _zaptec_entries(ha):
        flow = ha.flow(None, {"handler": DOMAIN})
        flow = ha.flow(flow["flow_id"], {"next_step_id": "zaptec"})
        flow = ha.flow(
            flow["flow_id"],
            {"username": ZAPTEC_DEFAULTS.username, "password": ZAPTEC_DEFAULTS.password},
        )
        assert flow["type"] == "create_entry", flow
    return wait_for("a loaded Zaptec entry", lambda: _loaded(ha, _zaptec_entries), 30, 0.5)


# ---- 1. KSEM -------------------------------------------------------------------------------


def test_add_ksem_through_the_ui(
    page: Page, context: BrowserContext, ha: HomeAssistant, sims: Simulators
) -> None:
    """Add integration -> KSEM -> host -> authorize in the meter's web UI -> live values."""
    for entry in _ksem_entries(ha):
        ha.remove_config_entry(entry["entry_id"])
    # Distinct values, so the page can only show them if they came from this meter.
    sims.set_ksem_values(
        **{"active_power_+": 4_321_000, "active_power_-": 0, "active_energy_+": 98_765_432}
    )

    open_devices_and_services(page, ha.url)
    start_adding_integration(page, "KOSTAL", INTEGRATION)
    dialog = flow_dialog(page)
    dialog.get_by_text(STRINGS["config"]["step"]["user"]["menu_options"]["ksem"]).click()
    dialog.get_by_role("textbox", name="Host").fill(sims.ksem_url.removeprefix("http://"))
    dialog.get_by_role("button", name="Submit").click()

    # The flow names the token it requested and tells the user to authorize it in the meter.
    expect(dialog.get_by_text("press the key icon")).to_be_visible()
    pending = wait_for(
        "HA's token request at the meter",
        lambda: [t for t in sims.ksem_state()["tokens"] if t["state"] == "pending"],
        10,
    )
    token_name = pending[-1]["name"]
    expect(dialog.get_by_text(token_name, exact=True).first).to_be_visible()
    # A unique name: its code in bold, so the right row is found among several tokens.
    expect(dialog.locator("strong", has_text=token_name[-4:]).first).to_be_visible()
    # How the (centred) instructions read to the user.
    page.screenshot(path=ARTIFACTS / "test_add_ksem_through_the_ui-authorize.png")

    # The user follows the link to the meter's web UI, in a second tab.
    with context.expect_page() as new_tab:
        dialog.get_by_role("link", name=sims.ksem_url).click()
    meter = new_tab.value
    # The meter accepts one POST per second and client on its token routes, and here HA and
    # the browser are the same client (127.0.0.1): HA's token request was just now.
    meter.wait_for_timeout(1100)
    meter.locator("#password").fill(KSEM_DEFAULTS.password)
    meter.get_by_role("button", name="Log in").click()
    meter.get_by_role("link", name="Access tokens").first.click()
    meter.get_by_role("button", name=f"Authorize {token_name}").last.click()
    meter.get_by_role("button", name="Confirm").click()
    expect(meter.get_by_role("row", name=f"{token_name} api authorized").first).to_be_visible()
    meter.screenshot(path=ARTIFACTS / "test_add_ksem_through_the_ui-meter.png")

    # Back in HA, the flow moves on by itself (it checks every 3 s) and creates the entry.
    page.bring_to_front()
    # Two devices: the meter and the home battery of its energy flow (linked to the meter).
    names = dialog.get_by_role("textbox", name="Device name")
    expect(names).to_have_count(2)
    expect(names.first).to_have_value(KSEM_TITLE)
    assert names.nth(1).input_value() == STRINGS["device"]["home_battery"]["name"]
    dialog.get_by_role("button", name=FINISH).click()

    # The device page lists live values that match the simulated meter.
    open_devices_and_services(page, ha.url)
    page.get_by_role("link", name=re.compile(rf"^{re.escape(INTEGRATION)}")).first.click()
    page.get_by_role("button", name=re.compile(rf"^{KSEM_TITLE} Smart Energy Meter")).click()
    expect(page.get_by_text(f"Serial number: {KSEM_DEFAULTS.serial}")).to_be_visible()
    values = sims.ksem_state()["values"]
    expect_row_value(
        page, "Grid power", (values["active_power_+"] - values["active_power_-"]) / 1000, "W"
    )
    expect_row_value(page, "Import power", values["active_power_+"] / 1000, "W")
    expect_row_value(page, "Import energy", values["active_energy_+"] / 1_000_000, "kWh")
    # ... and follows the meter: the next push arrives within the write interval (5 s).
    sims.set_ksem_values(**{"active_power_+": 5_432_100})
    expect_row_value(page, "Grid power", 5432.1, "W")


# ---- 2. Zaptec -----------------------------------------------------------------------------


def test_add_zaptec_account_through_the_ui(page: Page, ha: HomeAssistant, sims: Simulators) -> None:
    """A wrong password first (translated error, user name kept), then the right one."""
    for entry in _zaptec_entries(ha):
        ha.remove_config_entry(entry["entry_id"])

    open_devices_and_services(page, ha.url)
    start_adding_integration(page, "Zaptec", INTEGRATION)
    dialog = flow_dialog(page)
    dialog.get_by_text(STRINGS["config"]["step"]["user"]["menu_options"]["zaptec"]).click()
    dialog.get_by_role("textbox", name="Email").fill(ZAPTEC_DEFAULTS.username)
    dialog.get_by_role("textbox", name="Password").fill("not-the-password")
    dialog.get_by_role("button", name="Submit").click()

    # The error is an alert with the translated text (slotted: compare the accessible text).
    error = STRINGS["config"]["error"]["zaptec_invalid_auth"]
    expect(dialog.get_by_role("alert")).to_match_aria_snapshot(f"- alert: {json.dumps(error)}")
    expect(dialog.get_by_role("textbox", name="Email")).to_have_value(ZAPTEC_DEFAULTS.username)
    assert any(r["path"] == "/oauth/token" for r in sims.zaptec_requests())

    dialog.get_by_role("textbox", name="Password").fill(ZAPTEC_DEFAULTS.password)
    dialog.get_by_role("button", name="Submit").click()
    names = dialog.get_by_role("textbox", name="Device name")
    expect(names).to_have_count(3)
    shown = sorted(names.nth(i).input_value() for i in range(3))
    assert shown == ["Driveway", "Garage", "Home"]  # the installation, the Pro and the Go
    dialog.get_by_role("button", name=FINISH).click()

    # The installation and both chargers are devices of the integration.
    open_devices_and_services(page, ha.url)
    page.get_by_role("link", name=re.compile(rf"^{re.escape(INTEGRATION)}")).first.click()
    expect(page.get_by_text(ZAPTEC_DEFAULTS.username, exact=True)).to_be_visible()
    for name, model in (
        ("Home", "Installation"),
        ("Garage", "Zaptec Pro"),
        ("Driveway", "Zaptec Go"),
    ):
        device = page.get_by_role("button", name=re.compile(rf"^{name} {model} •"))
        expect(device).to_be_visible()


# ---- 3. dashboard --------------------------------------------------------------------------


def test_dashboard_follows_the_simulators(
    page: Page,
    ha: HomeAssistant,
    sims: Simulators,
    ksem_entry: dict[str, Any],
    zaptec_entry: dict[str, Any],
) -> None:
    """Grid power, a charger's state and its switch on a dashboard, then a change."""
    garage = sims.zaptec_charger("Garage")
    sims.set_zaptec_charger(garage["id"], operating_mode=1, auth_disabled=False, power_w=0)
    sims.set_ksem_values(**{"active_power_+": 2_500_000, "active_power_-": 0})
    grid = _entity_id(ha, "sensor", f"{KSEM_DEFAULTS.serial}_grid_power")
    frequency = _entity_id(ha, "sensor", f"{KSEM_DEFAULTS.serial}_frequency")
    mode = _entity_id(ha, "sensor", f"{garage['id']}_charger_mode")
    switch = _entity_id(ha, "switch", f"{garage['id']}_authorization_required")
    # Start from the simulator's defaults even after an earlier test changed the charger.
    ha.call_service("homeassistant", "reload_config_entry", entry_id=zaptec_entry["entry_id"])
    ha.ws(
        {
            "type": "lovelace/dashboards/create",
            "url_path": "e2e-energy",
            "title": "E2E energy",
            "icon": "mdi:flash",
            "show_in_sidebar": True,
            "require_admin": False,
            "mode": "storage",
        },
        {
            "type": "lovelace/config/save",
            "url_path": "e2e-energy",
            "config": {
                "views": [
                    {
                        "title": "Energy",
                        "path": "energy",
                        "cards": [
                            {
                                "type": "entities",
                                "title": "Grid and charger",
                                "entities": [
                                    {"entity": grid, "name": "Grid power"},
                                    {"entity": frequency, "name": "Grid frequency"},
                                    {"entity": mode, "name": "Garage state"},
                                    {"entity": switch, "name": "Garage authorization"},
                                ],
                            }
                        ],
                    }
                ]
            },
        },
    )

    page.goto(f"{ha.url}/")
    page.get_by_role("link", name="E2E energy").click()
    page.wait_for_url("**/e2e-energy/**")
    expect_row_value(page, "Grid power", 2500, "W")
    # Frequency as a user reads it: two decimals (HA's default for Hz would show "50 Hz").
    expect(entity_row(page, "Grid frequency")).to_contain_text(re.compile(r"\d\.\d\d\s*Hz"))
    expect(entity_row(page, "Garage state")).to_contain_text(MODES["disconnected"])
    toggle = entity_row(page, "Garage authorization").get_by_role("switch")
    expect(toggle).to_be_checked()

    # The meter pushes about every second (HA writes every 5 s): no trigger needed.
    sims.set_ksem_values(**{"active_power_+": 0, "active_power_-": 1_800_000})
    expect_row_value(page, "Grid power", -1800, "W")
    # An idle charger's state is read every 10 min, and update_entity does not make it due
    # earlier (the cloud caches state for 15 s anyway): reloading the entry reads it at once.
    sims.set_zaptec_charger(garage["id"], operating_mode=3, power_w=7400, auth_disabled=True)
    ha.call_service("homeassistant", "reload_config_entry", entry_id=zaptec_entry["entry_id"])
    expect(entity_row(page, "Garage state")).to_contain_text(MODES["connected_charging"])
    expect(toggle).not_to_be_checked()


# ---- 3b. Energy dashboard -----------------------------------------------------------------


def _pick_statistic(page: Page, entity_id: str) -> None:
    """The first empty statistic picker of the open dialog: search the entity, take it."""
    page.get_by_text("Select a statistic").first.click()
    popup = page.locator("ha-picker-combo-box").last
    popup.get_by_role("textbox").first.fill(entity_id)
    popup.locator("ha-combo-box-item").first.click()


def _configure_energy(
    page: Page, url: str, ksem: dict[str, str], lifetime: str, charge_power: str
) -> None:
    """Settings -> Dashboards -> Energy, each section's dialog filled as a user would."""
    page.goto(f"{url}/config/energy")
    page.get_by_role("button", name="Add grid connection").click()
    expect(page.get_by_text("Energy imported from grid")).to_be_visible()
    _pick_statistic(page, ksem["import_energy"])
    _pick_statistic(page, ksem["export_energy"])
    page.get_by_role("radio", name="Standard").click()  # + = import, as Grid power is
    _pick_statistic(page, ksem["grid_power"])
    page.get_by_role("button", name="Save").click()

    page.get_by_role("button", name="Add solar production").click()
    expect(page.get_by_text("Solar production energy")).to_be_visible()
    _pick_statistic(page, ksem["pv_energy"])
    _pick_statistic(page, ksem["pv_power"])
    page.get_by_role("button", name="Save").click()

    page.get_by_role("button", name="Add battery system").click()
    expect(page.get_by_text("Energy discharged from the battery")).to_be_visible()
    _pick_statistic(page, ksem["battery_discharge_energy"])
    _pick_statistic(page, ksem["battery_charge_energy"])
    page.get_by_role("radio", name="Standard").click()  # + = discharge: no "Inverted"
    _pick_statistic(page, ksem["battery_power"])
    _pick_statistic(page, ksem["battery_soc"])
    page.get_by_role("button", name="Save").click()

    page.get_by_role("button", name="Add device").click()
    expect(page.get_by_text("Device energy consumption")).to_be_visible()
    _pick_statistic(page, lifetime)
    _pick_statistic(page, charge_power)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("button", name="Add device")).to_be_visible()


def _check_energy_prefs(
    ha: HomeAssistant, ksem: dict[str, str], lifetime: str, charge_power: str
) -> None:
    """What the dialogs saved: every source from this integration, nothing else."""
    prefs = ha.ws({"type": "energy/get_prefs"})[0]
    grid, solar, battery = prefs["energy_sources"]
    assert (grid["type"], grid["stat_energy_from"], grid["stat_energy_to"]) == (
        "grid",
        ksem["import_energy"],
        ksem["export_energy"],
    )
    assert grid["power_config"] == {"stat_rate": ksem["grid_power"]}
    assert (solar["stat_energy_from"], solar["stat_rate"]) == (ksem["pv_energy"], ksem["pv_power"])
    assert battery["stat_energy_from"] == ksem["battery_discharge_energy"]
    assert battery["stat_energy_to"] == ksem["battery_charge_energy"]
    assert battery["power_config"] == {"stat_rate": ksem["battery_power"]}
    assert battery["stat_soc"] == ksem["battery_soc"]
    assert prefs["device_consumption"] == [
        {"stat_consumption": lifetime, "stat_rate": charge_power}
    ]


def test_energy_dashboard_from_this_integration_only(
    page: Page,
    ha: HomeAssistant,
    sims: Simulators,
    ksem_entry: dict[str, Any],
    zaptec_entry: dict[str, Any],
) -> None:
    """Settings -> Energy: grid, solar, home battery and the charger, all from this integration.

    Then the Energy dashboard's "Now" view shows the power flow the simulators set: PV 6 kW,
    the home battery discharging 1 kW, 1.5 kW from the grid, the Garage charging the car. The
    screenshot of that view is the README's (docs/images/energy-dashboard.png).
    """
    serial = KSEM_DEFAULTS.serial
    garage = sims.zaptec_charger("Garage")
    sims.set_zaptec_charger(garage["id"], operating_mode=3, power_w=7400, auth_disabled=True)
    ha.call_service("homeassistant", "reload_config_entry", entry_id=zaptec_entry["entry_id"])
    sims.set_ksem_values(**{"active_power_+": 1_500_000, "active_power_-": 0})
    sims.set_ksem_energy_flow(
        pvPowerTotal=6_000_000,
        batteryPowerTotal=-1_000_000,  # the meter's sign: discharging
        housePowerTotal=1_100_000,
        wallboxPowerTotal=7_400_000,
        systemStateOfCharge=64,
    )
    ksem = {
        key: _entity_id(ha, "sensor", f"{serial}_{key}")
        for key in (
            "import_energy",
            "export_energy",
            "grid_power",
            "pv_energy",
            "pv_power",
            "battery_discharge_energy",
            "battery_charge_energy",
            "battery_power",
            "battery_soc",
        )
    }
    lifetime = _entity_id(ha, "sensor", f"{garage['id']}_lifetime_energy")
    charge_power = _entity_id(ha, "sensor", f"{garage['id']}_charge_power")
    wait_for(
        "battery power + = discharge",
        lambda: ha.state(ksem["battery_power"])["state"] == "1000.0",
        20,
        0.5,
    )
    wait_for(
        "the Garage charging", lambda: _number(ha.state(charge_power)["state"]) == 7400, 30, 0.5
    )
    ha.ws({"type": "energy/save_prefs", "energy_sources": [], "device_consumption": []})

    _configure_energy(page, ha.url, ksem, lifetime, charge_power)
    _check_energy_prefs(ha, ksem, lifetime, charge_power)

    # The dashboard's "Now" view: the home uses 8.5 kW (6 solar + 1 battery + 1.5 grid).
    page.goto(f"{ha.url}/energy")
    # The first visit loads the dashboard's chart code: slow on a busy 2-core machine.
    now_tab = page.get_by_text("Now", exact=True).first
    expect(now_tab).to_be_visible(timeout=60_000)
    now_tab.click()
    expect(page.get_by_text("Current power flow")).to_be_visible()
    expect(page.get_by_text("8.5 kW").first).to_be_visible()
    expect(page.get_by_text("64%").first).to_be_visible()
    page.wait_for_timeout(1500)  # the flow chart animates in
    images = ROOT / "docs" / "images"
    images.mkdir(exist_ok=True)
    page.screenshot(path=images / "energy-dashboard.png", full_page=True)


# ---- 4. automation -------------------------------------------------------------------------


def test_automation_turns_authorization_off(
    page: Page,
    ha: HomeAssistant,
    sims: Simulators,
    ksem_entry: dict[str, Any],
    zaptec_entry: dict[str, Any],
) -> None:
    """Exporting to the grid while authorization is required -> let anyone charge.

    Trigger: the KSEM's grid power falls below 0 W; condition: the Garage still requires
    authorization; action: its switch off. The simulated cloud must receive the portal write.
    """
    garage = sims.zaptec_charger("Garage")
    grid = _entity_id(ha, "sensor", f"{KSEM_DEFAULTS.serial}_grid_power")
    switch = _entity_id(ha, "switch", f"{garage['id']}_authorization_required")
    # Start importing with authorization required, so the trigger below is a real crossing.
    sims.set_zaptec_charger(garage["id"], auth_disabled=False)
    sims.set_ksem_values(**{"active_power_+": 3_000_000, "active_power_-": 0})
    ha.call_service("homeassistant", "reload_config_entry", entry_id=zaptec_entry["entry_id"])
    wait_for("grid power > 0", lambda: (_number(ha.state(grid)["state"]) or 0) > 0, 20, 0.5)
    wait_for("switch on", lambda: ha.state(switch)["state"] == "on", 20, 0.5)

    ha.api(
        "POST",
        "/api/config/automation/config/e2e_surplus_free_charging",
        {
            "alias": "Free charging on solar surplus",
            "description": "When the house exports, anyone may charge at the Garage.",
            "triggers": [{"trigger": "numeric_state", "entity_id": grid, "below": 0}],
            "conditions": [{"condition": "state", "entity_id": switch, "state": "on"}],
            "actions": [{"action": "switch.turn_off", "target": {"entity_id": switch}}],
            "mode": "single",
        },
    )
    automation = "automation.free_charging_on_solar_surplus"
    wait_for("the automation", lambda: ha.state(automation)["state"] == "on", 20, 0.5)

    started = max((r["time"] for r in sims.zaptec_requests()), default=0.0)
    sims.set_ksem_values(**{"active_power_+": 0, "active_power_-": 2_000_000})

    def put_sent() -> list[dict[str, Any]]:
        return [
            r
            for r in sims.zaptec_requests()
            if r["time"] > started
            and r["method"] == "PUT"
            and r["path"] == f"/api/chargers/{garage['id']}"
        ]

    puts = wait_for("the PUT of the automation", put_sent, 30, 0.5)
    assert puts[0]["body"] == {"PropertyAuthenticationDisabled": True}

    # The automation list shows that it ran; the Garage device shows the switch off.
    page.goto(f"{ha.url}/config/automation/dashboard")
    row = page.get_by_role("row").filter(has_text="Free charging on solar surplus")
    expect(row).to_be_visible()
    expect(row).to_contain_text(re.compile(r"\b(ago|now)\b"))  # last triggered, not "Never"
    page.goto(f"{ha.url}/config/devices/device/{_device_of(ha, switch)}")
    # "Related" lists the automation; the switch is off.
    expect(page.get_by_role("link", name="Free charging on solar surplus")).to_be_visible()
    toggle = entity_row(page, "Require authorization").get_by_role("switch")
    expect(toggle).not_to_be_checked()


def _device_of(ha: HomeAssistant, entity_id: str) -> str:
    entry = next(e for e in ha.entity_registry() if e["entity_id"] == entity_id)
    return str(entry["device_id"])


def _number(state: str) -> float | None:
    try:
        return float(state)
    except ValueError:  # "unknown", "unavailable"
        return None


# ---- 5. revoked token ----------------------------------------------------------------------


def test_revoked_token_asks_to_pair_again(
    page: Page,
    context: BrowserContext,
    ha: HomeAssistant,
    sims: Simulators,
    ksem_entry: dict[str, Any],
) -> None:
    """Revoke HA's token in the meter's web UI -> HA asks to pair again -> pair -> same entities."""
    entity_ids = _entity_ids(ha, ksem_entry["entry_id"])
    assert f"{KSEM_DEFAULTS.serial}_grid_power" in entity_ids
    token_name = next(
        t["name"] for t in reversed(sims.ksem_state()["tokens"]) if t["state"] == "authorized"
    )

    # In the meter's web UI (second tab) the user revokes Home Assistant's token. Every valid
    # one of that name: a token of an entry deleted earlier in this session may still be valid.
    meter = context.new_page()
    meter.goto(sims.ksem_url)
    meter.wait_for_timeout(1100)  # one POST per second and client (see test 1)
    meter.locator("#password").fill(KSEM_DEFAULTS.password)
    meter.get_by_role("button", name="Log in").click()
    meter.get_by_role("link", name="Access tokens").first.click()
    revoke = meter.get_by_role("button", name=f"Revoke {token_name}", exact=True)
    expect(revoke.first).to_be_visible()
    for remaining in range(revoke.count(), 0, -1):
        revoke.first.click()
        expect(revoke).to_have_count(remaining - 1)
    expect(meter.get_by_role("row", name=f"{token_name} api revoked").first).to_be_visible()

    # Home Assistant notices at once (the meter drops the WebSocket, the poll gets 401) and
    # lists the meter under "Discovered" as needing attention, with "Reconfigure".
    page.bring_to_front()
    open_devices_and_services(page, ha.url)
    card = page.locator("ha-config-flow-card").filter(has_text=KSEM_TITLE)
    card.get_by_role("button", name="Reconfigure").click()
    dialog = flow_dialog(page)
    reauth = STRINGS["config"]["step"]["ksem_reauth_confirm"]
    expect(dialog.get_by_text(reauth["title"])).to_be_visible()
    expect(dialog.get_by_text(token_name, exact=True).first).to_be_visible()
    dialog.get_by_role("button", name="Submit").click()

    # A new token (a new name: its own code) waits for authorization: the key icon in the
    # meter's tab, in the row the dialog names.
    expect(dialog.get_by_text("press the key icon")).to_be_visible()
    pending = wait_for(
        "HA's new token request at the meter",
        lambda: [t for t in sims.ksem_state()["tokens"] if t["state"] == "pending"],
        10,
    )
    new_name = pending[-1]["name"]
    assert new_name != token_name
    expect(dialog.get_by_text(new_name, exact=True).first).to_be_visible()
    meter.bring_to_front()  # its token list refreshes every 2 s
    meter.get_by_role("button", name=f"Authorize {new_name}").last.click()
    meter.get_by_role("button", name="Confirm").click()
    expect(meter.get_by_role("row", name=f"{new_name} api authorized")).to_have_count(1)
    meter.screenshot(path=ARTIFACTS / "test_revoked_token_asks_to_pair_again-meter.png")

    # Back in HA the flow finishes by itself and reloads the entry; nothing needs attention.
    page.bring_to_front()
    expect(dialog.get_by_text("Re-authentication was successful")).to_be_visible()
    dialog.get_by_role("button", name="Close", exact=True).last.click()
    expect(card).to_have_count(0)

    # The same device shows live values again, from the same entities.
    sims.set_ksem_values(**{"active_power_+": 1_234_500, "active_power_-": 0})
    page.get_by_role("link", name=re.compile(rf"^{re.escape(INTEGRATION)}")).first.click()
    page.get_by_role("button", name=re.compile(rf"^{KSEM_TITLE} Smart Energy Meter")).click()
    expect_row_value(page, "Grid power", 1234.5, "W")
    sims.set_ksem_values(**{"active_power_+": 2_345_600})
    expect_row_value(page, "Grid power", 2345.6, "W")
    assert _entity_ids(ha, ksem_entry["entry_id"]) == entity_ids


def _entity_ids(ha: HomeAssistant, entry_id: str) -> dict[str, str]:
    """Unique id -> entity id of a config entry's entities."""
    return {
        e["unique_id"]: e["entity_id"]
        for e in ha.entity_registry()
        if e["config_entry_id"] == entry_id
    }


# ---- 6. charging control -------------------------------------------------------------------


def _commands_sent(sims: Simulators, charger_id: str, since: float) -> list[str]:
    """The command ids the simulated cloud received for a charger after `since`."""
    prefix = f"/api/chargers/{charger_id}/sendCommand/"
    return [
        r["path"].removeprefix(prefix)
        for r in sims.zaptec_requests()
        if r["time"] > since and r["method"] == "POST" and r["path"].startswith(prefix)
    ]


def test_pause_and_resume_from_the_device_page(
    page: Page, ha: HomeAssistant, sims: Simulators, zaptec_entry: dict[str, Any]
) -> None:
    """A session runs; Stop on the charger's device page pauses it, Resume resumes it."""
    garage = sims.zaptec_charger("Garage")
    sims.set_zaptec_charger(
        garage["id"], operating_mode=3, power_w=7400, final_stop=False, schedule_active=False
    )
    # Read the charging state at once (an idle charger is read every 10 min).
    ha.call_service("homeassistant", "reload_config_entry", entry_id=zaptec_entry["entry_id"])
    stop = _entity_id(ha, "button", f"{garage['id']}_stop_charging")
    wait_for("Stop available", lambda: ha.state(stop)["state"] != "unavailable", 30, 0.5)
    started = max((r["time"] for r in sims.zaptec_requests()), default=0.0)

    page.goto(f"{ha.url}/config/devices/device/{_device_of(ha, stop)}")
    expect(entity_row(page, "Charger mode")).to_contain_text(MODES["connected_charging"])
    entity_row(page, "Stop charging").get_by_role("button", name="Press").click()
    expect(entity_row(page, "Charger mode")).to_contain_text(MODES["connected_finished"])
    assert _commands_sent(sims, garage["id"], started) == ["506"]

    entity_row(page, "Resume charging").get_by_role("button", name="Press").click()
    expect(entity_row(page, "Charger mode")).to_contain_text(MODES["connected_charging"])
    assert _commands_sent(sims, garage["id"], started) == ["506", "507"]
    # Resume is only offered while paused: unavailable again now.
    resume = _entity_id(ha, "button", f"{garage['id']}_resume_charging")
    wait_for("Resume unavailable", lambda: ha.state(resume)["state"] == "unavailable", 20, 0.5)


def test_set_available_current_from_a_dashboard_card(
    page: Page, ha: HomeAssistant, sims: Simulators, zaptec_entry: dict[str, Any]
) -> None:
    """The installation's available current typed into an entities card reaches the cloud."""
    home = next(i for i in sims.zaptec_state()["installations"] if i["name"] == "Home")
    current = _entity_id(ha, "number", f"{home['id']}_available_current")
    # A fresh entry: its rate guard has sent nothing yet, so the change goes out at once.
    ha.call_service("homeassistant", "reload_config_entry", entry_id=zaptec_entry["entry_id"])
    wait_for("the number", lambda: ha.state(current)["state"] != "unavailable", 30, 0.5)
    ha.ws(
        {
            "type": "lovelace/dashboards/create",
            "url_path": "e2e-charging",
            "title": "E2E charging",
            "icon": "mdi:ev-station",
            "show_in_sidebar": True,
            "require_admin": False,
            "mode": "storage",
        },
        {
            "type": "lovelace/config/save",
            "url_path": "e2e-charging",
            "config": {
                "views": [
                    {
                        "title": "Charging",
                        "path": "charging",
                        "cards": [
                            {
                                "type": "entities",
                                "title": "Home",
                                "entities": [{"entity": current, "name": "Home current"}],
                            }
                        ],
                    }
                ]
            },
        },
    )
    started = max((r["time"] for r in sims.zaptec_requests()), default=0.0)
    page.goto(f"{ha.url}/")
    page.get_by_role("link", name="E2E charging").click()
    page.wait_for_url("**/e2e-charging/**")
    field = entity_row(page, "Home current").get_by_role("spinbutton")
    expect(field).to_have_value(re.compile(r"^\d+(\.0)?$"))
    field.fill("13")
    field.press("Enter")

    def update_sent() -> list[dict[str, Any]]:
        return [
            r
            for r in sims.zaptec_requests()
            if r["time"] > started and r["path"] == f"/api/installation/{home['id']}/update"
        ]

    updates = wait_for("the installation update", update_sent, 20, 0.5)
    assert updates[0]["body"] == {"AvailableCurrent": 13.0}
    wait_for("the state", lambda: ha.state(current)["state"] == "13.0", 20, 0.5)
    expect(field).to_have_value(re.compile(r"^13(\.0)?$"))
