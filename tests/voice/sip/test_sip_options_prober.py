"""OPTIONS keepalive probes on virtual time: verdicts, thresholds, round-trip times, abandoned probes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sip_memory_link import START, MemoryTransport, memory_pair

from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.options_prober import (
    OptionsProber,
    ProbeSettings,
    ProbeStatus,
    ProbeTarget,
    Reachability,
)
from callboard.voice.sip.scheduler import VirtualScheduler
from callboard.voice.sip.transport_port import Destination, Transport
from callboard.voice.sip.user_agent import UserAgent

TRUNK = "sip:trunk.example.net:5060"


class NoCalls:
    def on_incoming_call(self, call: IncomingCall) -> None:
        raise AssertionError("no calls here")

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        raise AssertionError("no calls here")


@dataclass
class Changes:
    seen: list[tuple[float, str, str]] = field(default_factory=list)

    def on_reachability_changed(self, target: ProbeTarget, status: ProbeStatus) -> None:
        assert target.status is status
        self.seen.append((round(status.at - START, 3), str(target.uri), status.reachability.value))


@dataclass
class Setup:
    scheduler: VirtualScheduler
    ours: MemoryTransport
    theirs: MemoryTransport
    prober: OptionsProber
    changes: Changes
    received: list[Request]

    def run(self, seconds: float = 0.0) -> None:
        self.scheduler.advance(seconds)

    def options_times(self) -> list[float]:
        return self.ours.sent_times("OPTIONS")


def setup(
    answer: Callable[[Request], int | None] = lambda request: 200, *, latency: float = 0.01, **settings: object
) -> Setup:
    """Our prober on one end; on the other a peer answering each OPTIONS with `answer(request)` (None: silence)."""
    scheduler = VirtualScheduler()
    ours, theirs = memory_pair(scheduler, latency=latency)
    ua = UserAgent(NoCalls(), scheduler=scheduler, clock=scheduler.clock)
    ua.bind(ours, sent_by=ours.address)
    ours.receiver = ua.receive
    received: list[Request] = []

    def peer(message: Request | Response, transport: Transport, source: Destination) -> None:
        if isinstance(message, Request):
            received.append(message)
            code = answer(message)
            if code is not None:
                transport.send(Response.for_request(message, code, to_tag="peer"), source)

    theirs.receiver = peer
    changes = Changes()
    prober = OptionsProber(ua, settings=ProbeSettings(**settings), listener=changes)  # type: ignore[arg-type]
    return Setup(scheduler, ours, theirs, prober, changes, received)


def test_an_answering_peer_is_up_with_its_round_trip_time_and_is_probed_every_interval() -> None:
    s = setup(interval=30)
    target = s.prober.add(TRUNK)
    assert target.reachability is Reachability.UNKNOWN
    s.prober.start()
    s.run(0.02)
    assert s.changes.seen == [(0.02, TRUNK, "Up")]
    assert target.status.rtt == pytest.approx(0.02) and target.status.status_code == 200
    s.run(70)
    assert s.options_times() == [0, 30, 60]
    assert s.changes.seen == [(0.02, TRUNK, "Up")]  # no change, no report
    first, second, _ = s.received
    assert str(first.uri) == TRUNK and first.headers.to is not None and str(first.headers.to.uri) == TRUNK
    assert first.headers.get("Max-Forwards") == "70" and first.headers.get("Accept") == "application/sdp"
    assert first.headers.call_id != second.headers.call_id
    assert s.ours.sent[0][2] == ("trunk.example.net", 5060)


def test_a_silent_peer_is_down_after_three_probes_and_each_is_abandoned_at_the_timeout() -> None:
    silent = False
    s = setup(lambda request: None if silent else 200, interval=30, timeout=5, down_after=3)
    target = s.prober.add(TRUNK)
    s.prober.start()
    s.run(1)
    silent = True
    s.run(100)
    assert s.changes.seen == [(0.02, TRUNK, "Up"), (95.0, TRUNK, "Down")]
    assert (target.status.failures, target.status.status_code, target.status.reason) == (3, None, "no answer")
    assert target.status.rtt == pytest.approx(0.02)  # the last one measured
    # Each probe retransmits (0.5, 1, 2 s) until it is given up at 5 s; nothing is left running after it.
    assert s.options_times()[1:9] == [30, 30.5, 31.5, 33.5, 60, 60.5, 61.5, 63.5]
    assert len(s.prober.ua.layer) == 0


def test_a_peer_comes_back_up_after_up_after_answers() -> None:
    answering = False
    s = setup(lambda request: 200 if answering else None, interval=10, timeout=2, down_after=1, up_after=2)
    target = s.prober.add(TRUNK)
    s.prober.start()
    s.run(5)
    assert target.reachability is Reachability.DOWN
    answering = True
    s.run(10)
    assert target.reachability is Reachability.DOWN and target.status.successes == 1
    s.run(10)
    assert s.changes.seen == [(2.0, TRUNK, "Down"), (20.02, TRUNK, "Up")]


@pytest.mark.parametrize("code", [200, 403, 404, 405, 480, 500, 604])
def test_any_final_answer_is_alive(code: int) -> None:
    s = setup(lambda request: code)
    target = s.prober.add(TRUNK)
    s.prober.start()
    s.run(1)
    assert target.up and target.status.status_code == code


@pytest.mark.parametrize("code", [408, 503])
def test_408_and_503_count_as_failures(code: int) -> None:
    s = setup(lambda request: code, interval=10, down_after=2)
    target = s.prober.add(TRUNK)
    s.prober.start()
    s.run(1)
    assert target.reachability is Reachability.UNKNOWN and target.status.failures == 1
    assert target.status.rtt == pytest.approx(0.02)
    s.run(10)
    assert target.reachability is Reachability.DOWN
    assert (target.status.status_code, target.status.reason) == (
        code,
        f"answered {code} " + ("Request Timeout" if code == 408 else "Service Unavailable"),
    )


def test_down_codes_are_configurable() -> None:
    s = setup(lambda request: 404, down_after=1, down_codes=frozenset({404}))
    target = s.prober.add(TRUNK)
    s.prober.start()
    s.run(1)
    assert target.reachability is Reachability.DOWN


def test_a_provisional_answer_is_not_a_verdict() -> None:
    s = setup(lambda request: 100, timeout=5, down_after=1)
    target = s.prober.add(TRUNK)
    s.prober.start()
    s.run(1)
    assert target.reachability is Reachability.UNKNOWN
    s.run(5)
    assert target.reachability is Reachability.DOWN


def test_a_transport_error_is_a_failure() -> None:
    s = setup(down_after=1)
    s.ours.fail = True
    target = s.prober.add(TRUNK)
    s.prober.start()
    assert target.reachability is Reachability.DOWN and target.status.reason == "transport error"


def test_an_interval_shorter_than_the_timeout_waits_for_the_probe_in_flight() -> None:
    s = setup(lambda request: None, interval=1, timeout=5, down_after=10)
    s.prober.add(TRUNK)
    s.prober.start()
    s.run(12)
    assert [t for t in s.options_times() if t == int(t)] == [0, 5, 10]


def test_each_target_has_its_own_verdict_and_can_be_removed() -> None:
    s = setup(lambda request: 200 if "good" in str(request.uri) else None, interval=10, timeout=2, down_after=1)
    s.prober.start(["sip:good.example.net", "sip:bad.example.net"])
    s.run(3)
    assert sorted(s.changes.seen) == [(0.02, "sip:good.example.net", "Up"), (2.0, "sip:bad.example.net", "Down")]
    assert [str(t.uri) for t in s.prober.up()] == ["sip:good.example.net"]
    s.prober.remove("sip:bad.example.net")
    assert s.prober.target("sip:bad.example.net") is None
    before = len(s.received)
    s.run(20)
    assert {str(r.uri) for r in s.received[before:]} == {"sip:good.example.net"}
    with pytest.raises(ValueError, match="probed already"):
        s.prober.add("sip:good.example.net")


def test_stop_ends_probing_and_a_target_added_while_running_is_probed_at_once() -> None:
    s = setup(interval=10)
    s.prober.start()
    s.run(5)
    s.prober.add(TRUNK)
    s.run(1)
    assert s.options_times() == [5]
    s.prober.stop()
    s.run(100)
    assert s.options_times() == [5]
    assert s.prober.target(TRUNK) is not None and s.prober.target(TRUNK).up  # type: ignore[union-attr]


def test_our_own_user_agent_answers_the_probe() -> None:
    scheduler = VirtualScheduler()
    ours, theirs = memory_pair(scheduler)
    prober_ua = UserAgent(NoCalls(), scheduler=scheduler, clock=scheduler.clock)
    peer_ua = UserAgent(NoCalls(), scheduler=scheduler, clock=scheduler.clock)
    prober_ua.bind(ours, sent_by=ours.address)
    peer_ua.bind(theirs, sent_by=theirs.address)
    ours.receiver, theirs.receiver = prober_ua.receive, peer_ua.receive
    prober = OptionsProber(prober_ua)
    target = prober.add("sip:192.0.2.2")
    prober.start()
    scheduler.advance(1)
    assert target.up and target.status.status_code == 200


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        ProbeSettings(interval=0)
    with pytest.raises(ValueError):
        ProbeSettings(down_after=0)
