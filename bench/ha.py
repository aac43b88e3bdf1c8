"""Benchmarks that need a real Home Assistant process (prints a table; asserts nothing).

Run from the repository root: .venv/bin/python -m bench.ha  (or scripts/bench, which runs every
benchmark)

Starts the simulators and Home Assistant the way the end-to-end tests do (tests/e2e/harness.py),
then measures:
- memory of Home Assistant without and with both entries (RSS and peak RSS from /proc);
- setup time of each entry (a config-entry reload: unload + set-up against the simulator);
- KSEM freshness: a value changed in the simulated meter -> the HA state (push path, default
  5 s write interval, and with the option at 1 s);
- Zaptec switch round trip: `switch.turn_off`/`turn_on` service call -> HA state confirmed, and the
  write seen by the simulated cloud.
Zaptec freshness is set by the poll schedule (60 s / 600 s); bench/scenarios/zaptec.py reports it.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from tests.e2e.harness import (
    HomeAssistant,
    HttpError,
    Simulators,
    start_home_assistant,
    start_simulators,
    wait_for,
)

DOMAIN = "ksem_zaptec"


def _memory_kib(pid: int) -> tuple[int, int]:
    """Current and peak resident memory of a process, in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _add_ksem(ha: HomeAssistant, sims: Simulators) -> dict[str, Any]:
    """Pair the simulated meter through the config flow; the token is authorized via /_sim/."""
    before = {e["entry_id"] for e in ha.config_entries(DOMAIN)}
    flow = ha.flow(None, {"handler": DOMAIN})
    flow = ha.flow(flow["flow_id"], {"next_step_id": "ksem"})
    flow = ha.flow(flow["flow_id"], {"host": sims.ksem_url.removeprefix("http://")})
    assert flow["type"] == "progress", flow
    sims.authorize_ksem_tokens()

    def step() -> str | None:
        try:
            kind = str(ha.get_flow(flow["flow_id"])["type"])
        except HttpError as err:  # the flow has finished
            if err.status == 404:
                return "finished"
            raise
        return kind if kind != "progress" else None

    # The flow notices the authorization by itself; if it stops at progress_done, advance it
    # once like the frontend does.
    if wait_for("the authorization", step, 30) == "progress_done":
        ha.flow(flow["flow_id"])
    return wait_for(
        "the KSEM entry",
        lambda: next(
            (
                e
                for e in ha.config_entries(DOMAIN)
                if e["entry_id"] not in before and e["state"] == "loaded"
            ),
            None,
        ),
        30,
    )


def _add_zaptec(ha: HomeAssistant) -> dict[str, Any]:
    flow = ha.flow(None, {"handler": DOMAIN})
    flow = ha.flow(flow["flow_id"], {"next_step_id": "zaptec"})
    result = ha.flow(flow["flow_id"], {"username": "demo@example.com", "password": "zaptec-demo"})
    assert result["type"] == "create_entry", result
    return dict(result["result"])


def _entity(ha: HomeAssistant, unique_suffix: str, domain: str) -> str:
    for entry in ha.entity_registry():
        if (
            entry["platform"] == DOMAIN
            and entry["entity_id"].startswith(f"{domain}.")
            and str(entry.get("unique_id", "")).endswith(unique_suffix)
        ):
            return str(entry["entity_id"])
    raise LookupError(f"no {domain} entity with unique id *{unique_suffix}")


def _reload_seconds(ha: HomeAssistant, entry_id: str, runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        ha.api("POST", f"/api/config/config_entries/entry/{entry_id}/reload")
        times.append(time.perf_counter() - start)
        time.sleep(0.5)
    return times


def _state_is(ha: HomeAssistant, entity_id: str, wanted: str | float) -> bool:
    """Whether the entity's state is `wanted` (a number: compared as a float)."""
    state = str(ha.state(entity_id)["state"])
    return state == wanted if isinstance(wanted, str) else float(state) == wanted


def _ksem_freshness(
    ha: HomeAssistant, sims: Simulators, entity_id: str, runs: int, write_interval: float
) -> list[float]:
    delays = []
    for i in range(runs):
        watts = 1000 + 137 * (i + 1)
        start = time.perf_counter()
        sims.set_ksem_values(**{"active_power_+": watts * 1000, "active_power_-": 0})
        wait_for("the grid power state", partial(_state_is, ha, entity_id, float(watts)), 30, 0.05)
        delays.append(time.perf_counter() - start)
        # A random pause, so the changes do not phase-lock to the write interval.
        time.sleep(random.uniform(0, write_interval))
    return delays


def _switch_round_trips(ha: HomeAssistant, entity_id: str, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        service, expected = ("turn_off", "off") if i % 2 == 0 else ("turn_on", "on")
        start = time.perf_counter()
        ha.call_service("switch", service, entity_id=entity_id)
        wait_for("the switch state", partial(_state_is, ha, entity_id, expected), 30, 0.05)
        times.append(time.perf_counter() - start)
    return times


def _row(name: str, values: list[float], unit: str, scale: float = 1.0) -> str:
    med = statistics.median(values) * scale
    worst = max(values) * scale
    return f"| {name} | {med:.1f} {unit} | {worst:.1f} {unit} | {len(values)} |"


def main() -> None:
    """Run everything and print a Markdown table."""
    with tempfile.TemporaryDirectory(prefix="ksem-zaptec-bench-") as tmp:
        work = Path(tmp)
        sims = start_simulators(work / "simulator.log")
        ha = start_home_assistant(work / "config", work / "ha.log", sims.zaptec_url)
        try:
            time.sleep(5)
            rss0, peak0 = _memory_kib(ha.process.popen.pid)
            ksem_entry = _add_ksem(ha, sims)
            zaptec_entry = _add_zaptec(ha)
            time.sleep(10)
            rss1, peak1 = _memory_kib(ha.process.popen.pid)

            ksem_setup = _reload_seconds(ha, ksem_entry["entry_id"])
            zaptec_setup = _reload_seconds(ha, zaptec_entry["entry_id"])

            grid = _entity(ha, "_grid_power", "sensor")
            fresh_5s = _ksem_freshness(ha, sims, grid, 10, 5)
            opts = ha.api(
                "POST",
                "/api/config/config_entries/options/flow",
                {"handler": ksem_entry["entry_id"]},
            )
            ha.api(
                "POST",
                f"/api/config/config_entries/options/flow/{opts['flow_id']}",
                {"write_interval": 1, "poll_interval": 5},
            )
            time.sleep(3)
            fresh_1s = _ksem_freshness(ha, sims, grid, 10, 1)

            switches = [
                e["entity_id"]
                for e in ha.entity_registry()
                if e["platform"] == DOMAIN
                and e["entity_id"].startswith("switch.")
                and ha.state(e["entity_id"])["state"] in ("on", "off")
            ]
            round_trips = _switch_round_trips(ha, switches[0], 10) if switches else []
        finally:
            ha.stop()
            sims.process.stop()

    print("| Measurement | median | worst | runs |")
    print("| --- | --- | --- | --- |")
    print(_row("KSEM entry setup (reload)", ksem_setup, "ms", 1000))
    print(_row("Zaptec entry setup (reload)", zaptec_setup, "ms", 1000))
    print(_row("KSEM freshness, push, write interval 5 s", fresh_5s, "ms", 1000))
    print(_row("KSEM freshness, push, write interval 1 s", fresh_1s, "ms", 1000))
    if round_trips:
        print(_row(f"Zaptec switch round trip ({switches[0]})", round_trips, "ms", 1000))
    else:
        print("| Zaptec switch round trip | no available switch | | |")
    print()
    print("| Home Assistant memory | RSS | peak RSS |")
    print("| --- | --- | --- |")
    print(f"| without entries | {rss0 / 1024:.1f} MiB | {peak0 / 1024:.1f} MiB |")
    print(
        f"| with the KSEM and the Zaptec entry | {rss1 / 1024:.1f} MiB | {peak1 / 1024:.1f} MiB |"
    )
    print(f"| difference | {(rss1 - rss0) / 1024:+.1f} MiB | {(peak1 - peak0) / 1024:+.1f} MiB |")


if __name__ == "__main__":
    main()
