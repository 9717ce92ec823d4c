"""What a SIPp caller hears: SIPp sends RTP but cannot record what it receives, so a Linux packet socket on the
loopback keeps every RTP packet sent to the caller's media port, with its arrival time. A packet socket needs
root (as CI runs); `require_tap` says so otherwise."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from array import array
from types import TracebackType

from audio import decode_g711

from conftest import require_peer

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4  # the copy of a loopback packet as it leaves; the copy as it arrives is the one kept
ETHERNET_HEADER = 14
IPV4, UDP = 0x0800, 17
G711 = (0, 8)  # PCMU, PCMA; telephone-event and comfort noise are left out


def require_tap() -> None:
    require_peer("a packet socket on the loopback", os.geteuid() == 0, "root, to hear the caller's side of a call")


class RtpTap:
    """The RTP packets sent to UDP `port` on the loopback, from `start` to `close`: (arrival, payload type,
    payload), in arrival order."""

    def __init__(self, port: int, interface: str = "lo") -> None:
        self.port = port
        self.packets: list[tuple[float, int, bytes]] = []
        self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
        self._socket.bind((interface, 0))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name=f"rtp-tap-{port}", daemon=True)

    def start(self) -> RtpTap:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._socket.close()

    def __enter__(self) -> RtpTap:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                frame, address = self._socket.recvfrom(65535)
            except TimeoutError:
                continue
            if address[2] == PACKET_OUTGOING:
                continue
            packet = self._rtp(frame)
            if packet is not None:
                self.packets.append((time.monotonic(), *packet))

    def _rtp(self, frame: bytes) -> tuple[int, bytes] | None:
        """The payload type and payload of an RTP packet to our port in an Ethernet frame, or None."""
        if len(frame) < ETHERNET_HEADER + 20 or struct.unpack_from("!H", frame, 12)[0] != IPV4:
            return None
        ip = frame[ETHERNET_HEADER:]
        header = (ip[0] & 0x0F) * 4
        if ip[9] != UDP or len(ip) < header + 8 + 12:
            return None
        if struct.unpack_from("!H", ip, header + 2)[0] != self.port:
            return None
        rtp = ip[header + 8 :]
        if rtp[0] >> 6 != 2:
            return None
        start = 12 + 4 * (rtp[0] & 0x0F)
        if rtp[0] & 0x10:  # a header extension: its length in 32-bit words follows its profile
            start += 4 + 4 * struct.unpack_from("!H", rtp, start + 2)[0]
        return rtp[1] & 0x7F, rtp[start:]

    def audio(self, since: float, until: float) -> array[int]:
        """The G.711 audio (PCMU, PCMA) that arrived between `since` and `until` (monotonic), decoded."""
        packets = list(self.packets)
        return decode_g711((kind, payload) for at, kind, payload in packets if since <= at < until and kind in G711)
