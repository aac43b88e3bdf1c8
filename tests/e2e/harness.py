"""Processes and HTTP helpers of the end-to-end tests (no pytest, no browser in here).

Everything talks to 127.0.0.1 only: the simulators (`python -m simulator`) and a real Home
Assistant process (`python -m homeassistant`) started the way `scripts/develop` starts them.
The REST/websocket helpers are for set-up and for checks the page cannot show; what a user
does goes through the browser in the tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"  # git-ignored; CI uploads artifacts/
HOST = "127.0.0.1"
# Bounded waits: Home Assistant 2026.10 starts in ~5 s here; a cold CI machine gets more.
HA_START_TIMEOUT = 90.0
SIM_START_TIMEOUT = 20.0

USERNAME = "e2e"
PASSWORD = "e2e-password-1"  # the throw-away admin of a temporary instance


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class HttpError(Exception):
    """A request answered with an error status."""

    def __init__(self, status: int, body: str) -> None:
        """Keep status and body for the assertion message."""
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


def http(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 10.0,
) -> Any:
    """One HTTP request; returns the decoded JSON body (or the text, or None)."""
    headers: dict[str, str] = {}
    data: bytes | None = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            text = response.read().decode()
    except urllib.error.HTTPError as err:
        raise HttpError(err.code, err.read().decode(errors="replace")) from err
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def wait_for[T](
    what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.2
) -> T:
    """Call `probe` until it returns something truthy (or raise TimeoutError)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = probe()
        except (OSError, HttpError) as err:  # not up yet
            last_error = err
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s (last error: {last_error})")
        time.sleep(interval)


@dataclass
class Process:
    """A child process with its output in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def check_alive(self) -> None:
        """Fail with the log's tail when the process died."""
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (Home Assistant shuts down cleanly), then SIGKILL."""
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)


def _start(name: str, args: list[str], log: Path, env: dict[str, str]) -> Process:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        popen = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Process(name, popen, log)


def _child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # The integration is loaded from this checkout (like scripts/develop).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(extra)
    return env


# ---- simulators ----------------------------------------------------------------------------


@dataclass
class Simulators:
    """`python -m simulator`: the KSEM and the Zaptec cloud on two loopback ports."""

    process: Process
    ksem_url: str
    zaptec_url: str

    def ksem_state(self) -> dict[str, Any]:
        """The simulated meter's values, tokens and flags."""
        result: dict[str, Any] = http("GET", f"{self.ksem_url}/_sim/state")
        return result

    def set_ksem_values(self, **values: int) -> None:
        """Change smart-meter values (JSON names, milli-units)."""
        http("POST", f"{self.ksem_url}/_sim/values", json_body=values)

    def set_ksem_energy_flow(self, **values: int) -> None:
        """Change energy-flow flex values (`pvPowerTotal`, ... in mW; battery + = charging)."""
        http("POST", f"{self.ksem_url}/_sim/energy_flow", json_body=values)

    def authorize_ksem_tokens(self) -> None:
        """Authorize every pending token (set-up only; test 1 does it in the meter's web UI)."""
        http("POST", f"{self.ksem_url}/_sim/tokens/authorize", json_body={})

    def zaptec_state(self) -> dict[str, Any]:
        """Installations and chargers of the simulated Zaptec account."""
        result: dict[str, Any] = http("GET", f"{self.zaptec_url}/_sim/state")
        return result

    def zaptec_charger(self, name: str) -> dict[str, Any]:
        """A simulated charger by its name ("Garage" is the seeded Pro, "Driveway" the Go)."""
        return next(c for c in self.zaptec_state()["chargers"] if c["name"] == name)

    def set_zaptec_charger(self, charger_id: str, **values: Any) -> None:
        """Change a charger's live values (operating_mode, power_w, auth_disabled, ...)."""
        http("POST", f"{self.zaptec_url}/_sim/chargers/{charger_id}", json_body=values)

    def zaptec_requests(self) -> list[dict[str, Any]]:
        """What the simulated cloud received (method, path, query, body, time)."""
        result: list[dict[str, Any]] = http("GET", f"{self.zaptec_url}/_sim/requests")
        return result


def start_simulators(log: Path) -> Simulators:
    """Start the simulators on free ports and wait until both answer."""
    ksem_port, zaptec_port = free_port(), free_port()
    process = _start(
        "simulator",
        [
            sys.executable,
            "-m",
            "simulator",
            "--ksem-port",
            str(ksem_port),
            "--zaptec-port",
            str(zaptec_port),
        ],
        log,
        _child_env(),
    )
    sims = Simulators(process, f"http://{HOST}:{ksem_port}", f"http://{HOST}:{zaptec_port}")
    try:

        def up() -> bool:
            process.check_alive()
            sims.ksem_state()
            sims.zaptec_state()
            return True

        wait_for("the simulators", up, SIM_START_TIMEOUT)
    except BaseException:
        process.stop()
        raise
    return sims


# ---- Home Assistant ------------------------------------------------------------------------


@dataclass
class HomeAssistant:
    """A running, onboarded Home Assistant and the admin's tokens."""

    process: Process
    url: str
    config_dir: Path
    client_id: str
    access_token: str = ""
    refresh_token: str = ""
    token_expires_in: int = 1800
    _ws_id: int = field(default=0, repr=False)

    # -- REST --------------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """An authenticated REST call (`path` starts with /api/...)."""
        self.process.check_alive()
        return http(method, f"{self.url}{path}", json_body=body, token=self.access_token)

    def state(self, entity_id: str) -> dict[str, Any]:
        """The state object of an entity."""
        result: dict[str, Any] = self.api("GET", f"/api/states/{entity_id}")
        return result

    def call_service(self, domain: str, service: str, **data: Any) -> None:
        """Call a service (for set-up and to trigger updates, not for what a user does)."""
        self.api("POST", f"/api/services/{domain}/{service}", data)

    def config_entries(self, domain: str) -> list[dict[str, Any]]:
        """Config entries of a domain."""
        entries: list[dict[str, Any]] = self.api(
            "GET", f"/api/config/config_entries/entry?domain={domain}"
        )
        return entries

    def remove_config_entry(self, entry_id: str) -> None:
        """Delete a config entry (test isolation)."""
        self.api("DELETE", f"/api/config/config_entries/entry/{entry_id}")

    def flow(self, flow_id: str | None, user_input: dict[str, Any] | None = None) -> Any:
        """Start (`flow_id` None: `user_input` is the init body) or advance a config flow."""
        if flow_id is None:
            return self.api("POST", "/api/config/config_entries/flow", user_input)
        return self.api("POST", f"/api/config/config_entries/flow/{flow_id}", user_input or {})

    def get_flow(self, flow_id: str) -> Any:
        """The current step of a config flow."""
        return self.api("GET", f"/api/config/config_entries/flow/{flow_id}")

    # -- websocket ---------------------------------------------------------------------------

    def ws(self, *commands: dict[str, Any]) -> list[Any]:
        """Send websocket commands on one fresh connection; returns their results in order.

        In a thread of its own: Playwright's sync API keeps its event loop marked as running
        in the test's thread, where asyncio.run() refuses to start another one.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="e2e-ws") as pool:
            return pool.submit(asyncio.run, self._ws(list(commands))).result(timeout=60)

    async def _ws(self, commands: list[dict[str, Any]]) -> list[Any]:
        results: list[Any] = []
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
            session.ws_connect(
                f"{self.url}/api/websocket", timeout=aiohttp.ClientWSTimeout(10)
            ) as sock,
        ):
            await sock.receive_json(timeout=10)  # auth_required
            await sock.send_json({"type": "auth", "access_token": self.access_token})
            reply = await sock.receive_json(timeout=10)
            if reply.get("type") != "auth_ok":
                raise RuntimeError(f"websocket auth failed: {reply}")
            for command in commands:
                self._ws_id += 1
                await sock.send_json({"id": self._ws_id, **command})
                while True:
                    reply = await sock.receive_json(timeout=20)
                    if reply.get("id") == self._ws_id and reply.get("type") == "result":
                        break
                if not reply.get("success"):
                    raise RuntimeError(f"websocket {command['type']} failed: {reply.get('error')}")
                results.append(reply.get("result"))
        return results

    def entity_registry(self) -> list[dict[str, Any]]:
        """All entity registry entries."""
        entries: list[dict[str, Any]] = self.ws({"type": "config/entity_registry/list"})[0]
        return entries

    def device_registry(self) -> list[dict[str, Any]]:
        """All device registry entries."""
        devices: list[dict[str, Any]] = self.ws({"type": "config/device_registry/list"})[0]
        return devices

    def stop(self) -> None:
        """Shut Home Assistant down."""
        self.process.stop(timeout=30)


def prepare_config_dir(config_dir: Path, port: int, zaptec_url: str) -> None:
    """A fresh configuration directory the way `scripts/develop` prepares one."""
    config_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "configuration.yaml", config_dir / "configuration.yaml")
    # A free loopback port instead of 8123 (confirmed later by confirm_http_config()).
    with (config_dir / "configuration.yaml").open("a") as config:
        config.write(f"\nhttp:\n  server_host: {HOST}\n  server_port: {port}\n")
    (config_dir / "ksem_zaptec.yaml").write_text(f'zaptec_api_url: "{zaptec_url}"\n')
    (config_dir / "automations.yaml").write_text("[]\n")
    (config_dir / "scripts.yaml").write_text("{}\n")
    (config_dir / "scenes.yaml").write_text("[]\n")


def start_home_assistant(config_dir: Path, log: Path, zaptec_url: str) -> HomeAssistant:
    """Start Home Assistant on a free port and complete onboarding through its API."""
    port = free_port()
    prepare_config_dir(config_dir, port, zaptec_url)
    url = f"http://{HOST}:{port}"
    env = _child_env()
    process = _start(
        "Home Assistant",
        [sys.executable, "-m", "homeassistant", "--config", str(config_dir), "--skip-pip"],
        log,
        env,
    )
    # The frontend's client id is the origin with a trailing slash (IndieAuth).
    hass = HomeAssistant(process, url, config_dir, client_id=f"{url}/")
    try:

        def onboarding_up() -> Any:
            process.check_alive()
            return http("GET", f"{url}/api/onboarding", timeout=5)

        wait_for("Home Assistant's onboarding API", onboarding_up, HA_START_TIMEOUT, 0.5)
        onboard(hass)
    except BaseException:
        process.stop()
        raise
    return hass


def onboard(hass: HomeAssistant) -> None:
    """The onboarding steps the frontend's wizard performs, through the same API."""
    code = http(
        "POST",
        f"{hass.url}/api/onboarding/users",
        json_body={
            "client_id": hass.client_id,
            "name": "E2E Admin",
            "username": USERNAME,
            "password": PASSWORD,
            "language": "en",
        },
    )["auth_code"]
    tokens = http(
        "POST",
        f"{hass.url}/auth/token",
        form={"grant_type": "authorization_code", "code": code, "client_id": hass.client_id},
    )
    hass.access_token = tokens["access_token"]
    hass.refresh_token = tokens["refresh_token"]
    hass.token_expires_in = int(tokens["expires_in"])
    hass.api("POST", "/api/onboarding/core_config", {})
    hass.api("POST", "/api/onboarding/analytics", {})
    hass.api(
        "POST",
        "/api/onboarding/integration",
        {"client_id": hass.client_id, "redirect_uri": f"{hass.url}/?auth_callback=1"},
    )
    steps = http("GET", f"{hass.url}/api/onboarding")
    if not all(step["done"] for step in steps):
        raise RuntimeError(f"onboarding incomplete: {steps}")
    confirm_http_config(hass)


def confirm_http_config(hass: HomeAssistant) -> None:
    """Confirm the HTTP settings that HA 2026.10 took over from configuration.yaml.

    Since 2026.10 the `http:` YAML is migrated into storage as a *pending* configuration: the
    frontend asks to confirm it, and unless it is confirmed HA reverts to the stable one (port
    8123) and restarts after five minutes. The frontend's own "Confirm" calls this command.
    """
    try:
        hass.ws({"type": "http/config/promote"})
    except RuntimeError as err:  # nothing pending (older HA has no such command either)
        if "not_allowed" not in str(err) and "unknown_command" not in str(err):
            raise
