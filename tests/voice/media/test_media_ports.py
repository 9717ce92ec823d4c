"""The RTP port pool: even/odd pairs, round-robin, release, exhaustion, and ports that fail to bind."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from callboard.voice.media.ports import PortLease, RtpPortPool, RtpPortsExhaustedError, bind_udp


class FakeBinder:
    """Hands out real unbound sockets (nothing touches the network) and refuses the ports in `busy`."""

    def __init__(self, busy: set[int] | None = None) -> None:
        self.busy = busy or set()
        self.sockets: list[socket.socket] = []

    def __call__(self, host: str, port: int) -> socket.socket:
        if port in self.busy:
            raise OSError(98, "Address already in use")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sockets.append(sock)
        return sock

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def binder() -> Iterator[FakeBinder]:
    fake = FakeBinder()
    yield fake
    fake.close()


def test_pairs_are_even_rtp_and_odd_rtcp(binder: FakeBinder) -> None:
    pool = RtpPortPool(10001, 10010, bind=binder)
    lease = pool.allocate()
    assert (lease.rtp_port, lease.rtcp_port) == (10002, 10003)
    assert pool.size == 4  # 10002, 10004, 10006, 10008 (10010 has no room for its RTCP port)


def test_round_robin_release_and_exhaustion(binder: FakeBinder) -> None:
    pool = RtpPortPool(20000, 20004, bind=binder)
    first, second = pool.allocate(), pool.allocate()
    assert [first.rtp_port, second.rtp_port] == [20000, 20002]
    with pytest.raises(RtpPortsExhaustedError) as caught:
        pool.allocate()
    assert caught.value.error_id == "rtp_ports_exhausted"
    pool.release(first)
    assert pool.allocate().rtp_port == 20000
    pool.release(20002)
    with pytest.raises(ValueError, match="not allocated"):
        pool.release(20002)
    assert pool.counters.exhausted == 1 and pool.in_use == 1


def test_released_port_is_not_reused_at_once(binder: FakeBinder) -> None:
    pool = RtpPortPool(30000, 30006, bind=binder)
    lease = pool.allocate()
    pool.release(lease)
    assert pool.allocate().rtp_port == 30002


def test_ports_that_fail_to_bind_are_skipped(binder: FakeBinder) -> None:
    binder.busy = {40000, 40003}  # the RTP port of the first pair, the RTCP port of the second
    pool = RtpPortPool(40000, 40006, bind=binder)
    assert pool.allocate().rtp_port == 40004
    assert pool.counters.bind_failures == 2
    assert all(s.fileno() == -1 for s in binder.sockets[:1])  # the half-bound pair's RTP socket was closed


def test_real_bind_skips_a_port_held_by_another_socket() -> None:
    holder = bind_udp("127.0.0.1", 0)
    try:
        busy = holder.getsockname()[1]
        if busy % 2:
            busy -= 1  # hold the RTCP port of a pair instead: the pair must still be skipped
        start = busy
        pool = RtpPortPool(start, start + 4, host="127.0.0.1")
        lease: PortLease | None = None
        try:
            lease = pool.allocate()
            assert lease.rtp_port == start + 2 and pool.counters.bind_failures == 1
        except RtpPortsExhaustedError:
            pytest.skip("the neighbouring port is taken on this machine")
        finally:
            if lease is not None:
                lease.close_sockets()
    finally:
        holder.close()


def test_invalid_ranges() -> None:
    with pytest.raises(ValueError):
        RtpPortPool(20000, 20000)
    with pytest.raises(ValueError):
        RtpPortPool(20000, 70000)
