"""The command line as a user runs it: check, apply (dry run, idempotent), export round trip."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from conftest import require_peer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo-center.yaml"


def callboard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callboard", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


BROKEN = """\
version: 1
workspaces:
  - name: acme
    default_activity: Offline
    timeout_activity: Offline
    activities:
      - {name: Offline, available: false}
    queues:
      - name: sales
        target_workers: 'skills HAS'
        strategy: fastest
    workers:
      - {name: ann, activity: Lunch}
"""


def test_check_reports_every_error_with_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "center.yaml").write_text(BROKEN)
    result = callboard("check", "center.yaml", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("center.yaml:10:36: ")  # where the expression runs out
    assert "expected a value" in lines[0]
    assert lines[1].startswith("center.yaml:11:19: ") and "fastest" in lines[1]
    assert lines[2].startswith("center.yaml:13:31: ") and "Lunch" in lines[2]
    assert len(lines) == 3


def test_check_accepts_the_demo_center(tmp_path: Path) -> None:
    result = callboard("check", str(EXAMPLE), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_apply_is_idempotent_and_export_applies_cleanly(tmp_path: Path) -> None:
    db = ["--database", f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"]
    dry = callboard("apply", str(EXAMPLE), "--dry-run", *db, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "+ workspace demo" in dry.stdout and "+ worker demo/alice" in dry.stdout
    first = callboard("apply", str(EXAMPLE), *db, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("\n+ ") + 1 >= 40  # every object of the demo is created
    again = callboard("apply", str(EXAMPLE), *db, cwd=tmp_path)
    assert "No changes" in again.stdout
    exported = callboard("export", "-o", "out.yaml", *db, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    text = (tmp_path / "out.yaml").read_text()
    assert "password_hash: $argon2" in text and "queue: WQ" not in text
    assert "No changes" in callboard("apply", "out.yaml", *db, cwd=tmp_path).stdout
    # a changed file shows exactly what changes
    changed = (tmp_path / "out.yaml").read_text().replace("wrapup_seconds: 45", "wrapup_seconds: 50")
    (tmp_path / "changed.yaml").write_text(changed)
    plan = callboard("apply", "changed.yaml", "--dry-run", *db, cwd=tmp_path)
    assert plan.stdout.splitlines()[0] == "~ queue demo/billing: wrapup_seconds 45 -> 50"


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_environment(tmp_path: Path, **env: str) -> dict[str, str]:
    return {
        **os.environ,
        "CALLBOARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'callboard.db'}",
        "CALLBOARD_PORT": str(free_tcp_port()),
        **env,
    }


def serve(tmp_path: Path, *, prefix: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess[str]:
    """`callboard serve` until it exits (it is expected to refuse to start); `prefix` runs it under another
    command."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "callboard", "serve"],
        cwd=tmp_path, env=serve_environment(tmp_path, **env), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_serve_refuses_bad_voice_settings_with_the_variable_and_why(tmp_path: Path) -> None:
    result = serve(tmp_path, CALLBOARD_SIP_TRANSPORTS="udp,carrier-pigeon", CALLBOARD_VOICE_ATTRIBUTES="[1")
    assert result.returncode == 2, result.stderr
    assert "error: CALLBOARD_SIP_TRANSPORTS: Value error, takes udp, tcp and tls" in result.stderr
    assert "error: CALLBOARD_VOICE_ATTRIBUTES: Value error, is not JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_says_so_when_the_sip_port_is_taken(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = serve(tmp_path, CALLBOARD_SIP_PORT=str(port), CALLBOARD_SIP_TRANSPORTS="udp")
    assert result.returncode == 1, result.stderr
    assert "error: " in result.stderr and "CALLBOARD_SIP_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_runs_at_the_priority_it_is_given(tmp_path: Path) -> None:
    # Lowering one's own priority needs no privilege.
    environment = serve_environment(tmp_path, CALLBOARD_SIP_ENABLED="false", CALLBOARD_PROCESS_NICE="7")
    before = os.getpriority(os.PRIO_PROCESS, 0)
    with subprocess.Popen(
        [sys.executable, "-m", "callboard", "serve"], cwd=tmp_path, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as server:  # fmt: skip
        try:
            assert server.stdout is not None
            lines = []
            for line in server.stdout:  # logged once the priority is set, before the store opens
                lines.append(line)
                if "process priority" in line or len(lines) > 50:
                    break
            assert any("process priority: nice 7" in line for line in lines), lines
            assert os.getpriority(os.PRIO_PROCESS, server.pid) == 7
            assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the setting is the server's own
        finally:
            server.terminate()
            server.communicate(timeout=30)


def test_serve_refuses_a_priority_it_may_not_take(tmp_path: Path) -> None:
    out_of_range = serve(tmp_path, CALLBOARD_PROCESS_NICE="-21")
    assert out_of_range.returncode == 2, out_of_range.stderr
    assert "error: CALLBOARD_PROCESS_NICE: Input should be greater than or equal to -20" in out_of_range.stderr
    # Raising the priority needs CAP_SYS_NICE: as root, run the server without it.
    without = ("setpriv", "--bounding-set=-sys_nice", "--inh-caps=-sys_nice") if os.geteuid() == 0 else ()
    require_peer("setpriv", not without or shutil.which("setpriv") is not None, "util-linux drops CAP_SYS_NICE")
    result = serve(tmp_path, prefix=without, CALLBOARD_PROCESS_NICE="-5")
    assert result.returncode == 1, result.stderr
    said = " ".join(result.stderr.split())  # the console wraps long lines
    assert "error: CALLBOARD_PROCESS_NICE=-5: cannot set this process's priority (Permission denied)" in said
    assert "needs root or CAP_SYS_NICE" in said and "Traceback" not in said
