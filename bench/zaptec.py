"""How many requests the Zaptec side sends, counted by the simulated Zaptec cloud.

Run with `.venv/bin/python bench/zaptec.py`. It runs Home Assistant's test harness
(pytest-homeassistant-custom-component) on this file:

- a simulated hour per scenario: the entry is set up against the simulator, then the clock is
  frozen and moved in 15 s steps for one hour (the real polling schedule, the client's limits
  are lifted only so that no real sleep is needed on the frozen clock);
- a real-time setup of the largest account with the real client limits (at most 5 requests
  in any second, 3 in flight) to measure the worst one-second burst on the wire.

It prints a table; nothing is written outside a temporary directory.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS_ENV = "ZAPTEC_BENCH_RESULTS"

SCENARIOS = {
    "1 installation, 2 idle chargers": (1, 2, 0),
    "1 installation, 2 charging chargers": (1, 2, 2),
    "10 installations, 250 idle chargers": (10, 250, 0),
    "10 installations, 250 chargers, 50 charging": (10, 250, 50),
}


def _category(path: str) -> str:
    parts = path.strip("/").split("/")
    if path == "/oauth/token":
        return "login"
    if path in ("/api/installation", "/api/chargers"):
        return "lists"
    if path.endswith("/state"):
        return "state"
    if parts[:2] == ["api", "installation"]:
        return "installation"
    return "charger"


def _record(name: str, values: dict[str, Any]) -> None:
    with Path(os.environ[RESULTS_ENV]).open("a", encoding="utf-8") as out:
        out.write(json.dumps({"name": name, **values}) + "\n")


if __name__ != "__main__":
    # Collected by pytest (see the bottom of the file): the harness and the fixtures.
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_fire_time_changed,
    )

    import custom_components.ksem_zaptec  # noqa: F401 - before phacc's testing_config
    from custom_components.ksem_zaptec.const import CONF_KIND, DOMAIN, KIND_ZAPTEC
    from custom_components.ksem_zaptec.zaptec import const as zaptec_const
    from custom_components.ksem_zaptec.zaptec.api import ClientTuning
    from custom_components.ksem_zaptec.zaptec.const import CONF_API_URL
    from simulator import server
    from simulator.zaptec import ZaptecSimulator

    @pytest.fixture(autouse=True)
    def _custom_integrations(enable_custom_integrations: None) -> None:
        """Let Home Assistant load the integration from this checkout."""

    def _build_sim(installations: int, chargers: int, charging: int, rate_limit: int) -> Any:
        sim = ZaptecSimulator(seed=False, advance_energy=False, rate_limit=rate_limit)
        per_installation = chargers // installations
        for number in range(installations):
            # Half Pro (with a switch and its own detail), half Go.
            prefix = "ZPR" if number % 2 == 0 else "ZAP"
            sim.add_installation(f"Site {number}", per_installation, prefix=f"{prefix}{number:02d}")
        for charger in list(sim.chargers.values())[:charging]:
            sim.set_charger(charger.id, operating_mode=3, power_w=7000.0)
        return sim

    async def _setup(hass: HomeAssistant, url: str, sim: Any) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=sim.username,
            unique_id=sim.username,
            data={
                CONF_KIND: KIND_ZAPTEC,
                CONF_USERNAME: sim.username,
                CONF_PASSWORD: sim.password,
                CONF_API_URL: url,
            },
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    @pytest.fixture
    async def running(socket_enabled: None) -> AsyncIterator[list[Any]]:
        """Holds [server] so the test can start it with its own simulator."""
        holder: list[Any] = []
        yield holder
        for item in holder:
            await item.stop()

    @pytest.mark.parametrize("name", list(SCENARIOS))
    async def test_simulated_hour(
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        running: list[Any],
        monkeypatch: pytest.MonkeyPatch,
        name: str,
    ) -> None:
        """One hour of polling on a stepped clock, counted by the simulator."""
        # No real sleeps on a frozen clock: lift the client's limits (the schedule is real).
        monkeypatch.setattr(zaptec_const, "CLIENT_TUNING", ClientTuning(rate=1e6, max_attempts=1))
        sim = _build_sim(*SCENARIOS[name], rate_limit=10**9)
        srv = await server.start(sim.app)
        running.append(srv)
        await _setup(hass, srv.url, sim)
        setup_requests = len(sim.requests)
        sim.reset_requests()
        per_tick: list[int] = []
        for _ in range(3600 // 15):
            before = len(sim.requests)
            freezer.tick(timedelta(seconds=15))
            async_fire_time_changed(hass)
            await hass.async_block_till_done(wait_background_tasks=True)
            per_tick.append(len(sim.requests) - before)
        categories = Counter(_category(r.path) for r in sim.requests)
        _record(
            name,
            {
                "setup": setup_requests,
                "hour": len(sim.requests),
                "categories": dict(categories),
                "max_per_tick": max(per_tick),
            },
        )

    async def test_real_time_burst(hass: HomeAssistant, running: list[Any]) -> None:
        """Set the largest account up in real time and find the busiest second on the wire."""
        # The real client limits; the simulator enforces Zaptec's 10 requests/s.
        sim = _build_sim(10, 250, 50, rate_limit=10)
        srv = await server.start(sim.app)
        running.append(srv)
        await _setup(hass, srv.url, sim)
        times = [r.time for r in sim.requests]
        worst = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
        _record(
            "real-time setup, 10 installations / 250 chargers",
            {
                "setup": len(times),
                "seconds": round(times[-1] - times[0], 1),
                "worst_1s": worst,
            },
        )


def main() -> int:
    """Run the scenarios through pytest and print the table."""
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.jsonl"
        results.touch()
        os.environ[RESULTS_ENV] = str(results)
        code = pytest.main(
            [
                __file__,
                "-q",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                "--rootdir",
                str(ROOT),
                "-c",
                str(ROOT / "pyproject.toml"),
                "-W",
                "ignore::DeprecationWarning",
            ]
        )
        rows = [json.loads(line) for line in results.read_text().splitlines()]
    print()
    print(f"{'scenario':48} {'setup':>6} {'per hour':>9} {'max/15 s':>9}  per hour by kind")
    for row in rows:
        if "hour" not in row:
            continue
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(row["categories"].items()))
        print(
            f"{row['name']:48} {row['setup']:>6} {row['hour']:>9} {row['max_per_tick']:>9}  {kinds}"
        )
    for row in rows:
        if "worst_1s" in row:
            print(
                f"\n{row['name']}: {row['setup']} requests in {row['seconds']} s, "
                f"worst 1-second window {row['worst_1s']} requests (Zaptec allows 10)"
            )
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
