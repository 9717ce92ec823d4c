"""SIPp, a real SIP peer, sends OPTIONS over UDP and TCP to a tiny UAS built on Callboard's transports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sipp import require_sipp, run_sipp

from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.transport_port import Destination, Transport
from callboard.voice.sip.transports import TcpTransport, UdpTransport, response_destination

SCENARIO = Path(__file__).parent / "scenarios" / "options_uac.xml"
LOOPBACK = "127.0.0.1"
pytestmark = pytest.mark.e2e


class OptionsUas:
    """Answers OPTIONS with 200 OK and anything else with 405: the smallest SIP server there is."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def on_message(self, message: Request | Response, source: Destination, transport: Transport) -> None:
        if not isinstance(message, Request) or message.method == "ACK":
            return
        self.requests.append(message)
        status = 200 if message.method == "OPTIONS" else 405
        response = Response.for_request(message, status, to_tag="callboard")
        response.headers.add("Allow", "OPTIONS")
        destination = source if transport.reliable else response_destination(message.headers.via[0], source)
        transport.send(response, destination)


async def sipp_options(port: int, transport_mode: str, workdir: Path) -> tuple[int, str, dict[str, str]]:
    stats = workdir / f"stats_{transport_mode}.csv"
    code, output = await run_sipp(
        *[f"{LOOPBACK}:{port}", "-sf", str(SCENARIO), "-t", transport_mode, "-i", LOOPBACK, "-p", "0"],
        *["-m", "1", "-timeout", "10s", "-timeout_error", "-recv_timeout", "5s", "-nostdin"],
        *["-trace_stat", "-stf", str(stats), "-trace_err", "-error_file", str(workdir / "errors.log")],
        cwd=workdir,
    )
    rows = list(csv.DictReader(stats.read_text().splitlines(), delimiter=";")) if stats.exists() else []
    return code, output, rows[-1] if rows else {}


@pytest.fixture(autouse=True)
def _sipp() -> None:
    require_sipp()


async def test_sipp_options_over_udp(tmp_path: Path) -> None:
    uas = OptionsUas()
    transport = await UdpTransport.open(uas, LOOPBACK, 0)
    try:
        code, output, stats = await sipp_options(transport.local_address[1], "u1", tmp_path)
    finally:
        await transport.close()
    assert code == 0, output
    assert (stats.get("SuccessfulCall(C)"), stats.get("FailedCall(C)")) == ("1", "0"), stats
    assert [r.method for r in uas.requests] == ["OPTIONS"]
    assert transport.counters.malformed == 0 and transport.counters.sent >= 1


async def test_sipp_options_over_tcp(tmp_path: Path) -> None:
    uas = OptionsUas()
    transport = await TcpTransport.open(uas, LOOPBACK, 0)
    try:
        code, output, stats = await sipp_options(transport.local_address[1], "t1", tmp_path)
    finally:
        await transport.close()
    assert code == 0, output
    assert (stats.get("SuccessfulCall(C)"), stats.get("FailedCall(C)")) == ("1", "0"), stats
    assert [r.method for r in uas.requests] == ["OPTIONS"]
    assert transport.counters.malformed == 0
