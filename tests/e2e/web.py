"""Helpers of the browser tests: a Callboard server in a subprocess with a small center, Chromium from Debian
driven by Playwright, and the screenshots the tests leave in test-artifacts/screenshots/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from conftest import require_peer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}

CENTER = """
version: 1
workspaces:
  - name: acme
    default_activity: Offline
    timeout_activity: Missed
    service_level_threshold: 20
    wrapup_seconds: 0
    activities:
      - {name: Offline, available: false}
      - {name: Available, available: true}
      - {name: Break, available: false}
      - {name: Lunch, available: false}
      - {name: Training, available: false}
      - {name: Missed, available: false}
    channels: [{name: voice, capacity: 1}, {name: chat, capacity: 3}]
    queues:
      - {name: Sales, target_workers: 'skills HAS "sales"'}
      - {name: Support, target_workers: 'skills HAS "support"'}
    workflows:
      - name: inbound
        task_reservation_timeout: 600
        configuration:
          task_routing:
            filters:
              - {filter_friendly_name: support, expression: 'department == "support"', targets: [{queue: Support}]}
            default_filter: {queue: Sales}
    workers:
      - {name: alice, attributes: {skills: [sales], languages: [en, es]}}
      - {name: bob, attributes: {skills: [support], languages: [en]}}
      - {name: carmen, attributes: {skills: [sales, support], languages: [es]}}
users:
  - {username: admin, role: admin, password: admin-pw}
  - {username: sofia, role: supervisor, password: super-pw, workspace: acme}
  - {username: alice, role: agent, password: alice-pw, workspace: acme, worker: alice}
"""
PASSWORDS = {"admin": "admin-pw", "sofia": "super-pw", "alice": "alice-pw"}


def require_browser() -> None:
    require_peer("chromium", CHROMIUM.exists(), "apt-get install chromium")
    try:
        import playwright  # noqa: F401
    except ImportError:
        require_peer("playwright", False, "pip install playwright (scripts/setup installs the dev dependencies)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `callboard serve` and an admin API client for arranging what the browser should see."""

    url: str
    admin: httpx.Client

    def api(self, path: str) -> str:
        return f"{self.url}/api/v1/workspaces/acme{path}"

    def sid(self, kind: str, name: str) -> str:
        items = self.admin.get(self.api(f"/{kind}?page_size=1000")).json()["items"]
        return next(i["sid"] for i in items if i["friendly_name"] == name)

    def create_task(self, **attributes: object) -> str:
        body = {"workflow_sid": self.sid("workflows", "inbound"), "task_channel": "voice", "attributes": attributes}
        answer = self.admin.post(self.api("/tasks"), json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["sid"])

    def set_activity(self, worker: str, activity: str) -> None:
        answer = self.admin.patch(
            self.api(f"/workers/{self.sid('workers', worker)}"), json={"activity_sid": self.sid("activities", activity)}
        )
        assert answer.status_code == 200, answer.text


@contextmanager
def callboard_server(tmp: Path, center: str = CENTER, seed: Callable[[str], None] | None = None) -> Iterator[Server]:
    """`callboard apply` the center into a fresh SQLite store, then `callboard serve` it without SIP. `seed`, given
    the database URL, may add what no API writes (call records) before the server starts."""
    database = f"sqlite+aiosqlite:///{tmp / 'web.db'}"
    (tmp / "center.yaml").write_text(center)
    env = {**os.environ, "CALLBOARD_SIP_ENABLED": "false", "CALLBOARD_RECORDINGS_DIR": str(tmp / "recordings")}
    cli = [sys.executable, "-m", "callboard"]
    subprocess.run([*cli, "apply", str(tmp / "center.yaml"), "-d", database], check=True, env=env, cwd=tmp,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    if seed is not None:
        seed(database)
    port = free_port()
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "-d", database], env=env, cwd=tmp,
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=10) as admin:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if admin.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("callboard serve did not start:\n" + (tmp / "server.log").read_text())
                time.sleep(0.1)
            login = admin.post(f"{url}/api/v1/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]})
            assert login.status_code == 200, login.text
            admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            yield Server(url, admin)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def shoot(page: object, name: str) -> Path:
    """Save the page as test-artifacts/screenshots/NAME.png (scripts/screenshots copies them to docs/images)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    return path


# Measures, in a page, the level of each frequency (dBFS, the loudest bin within a few hertz) in what an <audio>
# element plays from its MediaStream, and the loudest bin of the telephone band (300 to 3400 Hz): a second analyser
# of the test's own, finer than the page's data-peak-hz, which only names the loudest tone of a mix.
_TONES_JS = """async ([testid, frequencies, ms]) => {
  const audio = document.querySelector(`[data-testid=${testid}]`);
  if (!audio || !audio.srcObject) return null;
  const context = new AudioContext();
  await context.resume();
  const analyser = context.createAnalyser();
  analyser.fftSize = 8192;
  const source = context.createMediaStreamSource(audio.srcObject);
  source.connect(analyser);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const spectrum = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(spectrum);
  const binHz = context.sampleRate / analyser.fftSize;
  source.disconnect();
  await context.close();
  const loudest = (from, to) => {
    const near = [...spectrum.slice(Math.max(0, from), to)].filter(Number.isFinite);
    return near.length ? Math.max(...near) : -200;
  };
  const out = { max: loudest(Math.round(300 / binHz), Math.round(3400 / binHz)) };
  for (const f of frequencies) {
    const i = Math.round(f / binHz);
    out[String(f)] = loudest(i - 3, i + 4);
  }
  return out;
}"""


@dataclass
class Tones:
    """What a page plays: each frequency's level and the loudest of the telephone band, in dBFS."""

    levels: dict[int, float]
    loudest: float

    def heard(self, frequency: int, within: float = 35.0, floor: float = -75.0) -> bool:
        """The tone is one of the voices in the mix: loud, and not far below the loudest."""
        level = self.levels[frequency]
        return level > floor and level > self.loudest - within

    def absent(self, frequency: int, below: float = 45.0) -> bool:
        return self.levels[frequency] < self.loudest - below

    def __str__(self) -> str:
        return ", ".join(f"{f} Hz {db:.0f} dBFS" for f, db in self.levels.items()) + f" (loudest {self.loudest:.0f})"


def tone_levels(page: object, testid: str, frequencies: list[int], ms: int = 800) -> Tones:
    """The levels of `frequencies` in what the page's <audio data-testid=TESTID> plays (-200 when nothing yet)."""
    levels = page.evaluate(_TONES_JS, [testid, frequencies, ms])  # type: ignore[attr-defined]
    if not levels:
        return Tones({f: -200.0 for f in frequencies}, -200.0)
    return Tones({f: float(levels[str(f)]) for f in frequencies}, float(levels["max"]))


def end_sipp(process: subprocess.Popen[str] | None) -> None:
    """Stops a SIPp run a test leaves going (a failure midway) and prints what SIPp said, which pytest shows
    with the failure; its pipe is closed, so no unclosed file warns in a later test."""
    if process is None:
        return
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdout is not None and not process.stdout.closed:
        print(f"sipp exited with {process.returncode}:\n{process.stdout.read()}")
        process.stdout.close()


@contextmanager
def headless_chromium(*args: str) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright, with extra command-line `args`; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(args))
        try:
            yield browser
        finally:
            browser.close()
