"""What a user does and reads in Home Assistant's frontend, as small helpers.

HA's frontend is made of web components with open shadow roots; Playwright's role, text and
CSS locators pierce them. Locators here are by role and visible text wherever the frontend
offers them; entity rows are found by the entity name they show.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import Locator, Page

ROW_WAIT_S = 20.0

_NUMBER = re.compile(r"(-?[\d,]+(?:\.(\d+))?)\s*([^\d\s].*)?$")


def open_devices_and_services(page: Page, base_url: str) -> None:
    """Sidebar "Settings", then "Devices & services"."""
    page.goto(f"{base_url}/")
    page.get_by_role("link", name="Settings").click()
    page.get_by_text("Devices & services", exact=True).first.click()
    page.wait_for_url("**/config/integrations/dashboard")


def start_adding_integration(page: Page, search: str, integration: str) -> None:
    """Press "Add integration", search, pick the integration from the results."""
    page.get_by_role("button", name="Add integration").click()
    page.get_by_placeholder("Search").or_(page.get_by_label("Search")).first.fill(search)
    page.get_by_role("button", name=integration, exact=True).click()


def flow_dialog(page: Page) -> Locator:
    """The config flow dialog.

    Not `get_by_role("dialog")`: that is the <dialog> inside ha-dialog's shadow root, and the
    flow's content is slotted into it, so it is not a descendant Playwright could scope to.
    """
    return page.locator("dialog-data-entry-flow")


def entity_row(page: Page, name: str) -> Locator:
    """The row of an entity list (device page, entities card) that shows `name`."""
    return page.locator("hui-generic-entity-row").filter(has=page.get_by_text(name, exact=True))


def parse_number(text: str) -> tuple[float, int, str]:
    """Parse a shown value: "6,730.1 W" -> (6730.1, 1 decimal, "W") (en-US formatting)."""
    match = _NUMBER.search(text.strip())
    if match is None:
        raise ValueError(f"no number in {text!r}")
    value = float(match.group(1).replace(",", ""))
    return value, len(match.group(2) or ""), (match.group(3) or "").strip()


def shows_value(text: str, expected: float, unit: str) -> bool:
    """Whether `text` is `expected` in `unit`, rounded the way the page shows it."""
    try:
        value, decimals, shown_unit = parse_number(text)
    except ValueError:
        return False
    return shown_unit == unit and abs(value - expected) <= 0.5 * 10**-decimals + 1e-9


def wait_until(what: str, check: Callable[[], bool], timeout: float = ROW_WAIT_S) -> None:
    """Poll a page check (bounded) and fail with `what` when it never holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.25)


def expect_row_value(
    page: Page, name: str, expected: float, unit: str, timeout: float = ROW_WAIT_S
) -> str:
    """Wait until the row `name` shows `expected` (in `unit`); returns the text shown."""
    row = entity_row(page, name).first
    row.wait_for()
    shown: list[str] = []

    def check() -> bool:
        shown[:] = [row.inner_text().strip()]
        return shows_value(shown[0], expected, unit)

    try:
        wait_until(f"{name} shows {expected:g} {unit}", check, timeout)
    except AssertionError as err:
        raise AssertionError(f"{err}; the page shows {shown[0]!r}") from None
    return shown[0]
