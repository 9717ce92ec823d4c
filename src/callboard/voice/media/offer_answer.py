"""The SDP offer/answer model (RFC 3264) for one audio stream over RTP/AVP with G.711, G.722 and RFC 4733 events."""

from __future__ import annotations

from dataclasses import dataclass

from callboard.voice.media.sdp import (
    Connection,
    Direction,
    MediaDescription,
    Origin,
    RtpMap,
    SessionDescription,
)

AUDIO_PROFILES = ("RTP/AVP",)  # plain RTP; the WebRTC agent leg negotiates through aiortc instead
TELEPHONE_EVENT = "telephone-event"
DTMF_EVENTS = frozenset(range(17))  # 0-15 DTMF digits and 16 flash (RFC 4733 §3.2)


@dataclass(frozen=True, slots=True)
class Codec:
    """A local capability; `payload_type` is used in offers (answers keep the offerer's numbers)."""

    name: str
    payload_type: int
    clock_rate: int = 8000
    channels: int = 1
    fmtp: str | None = None

    def matches(self, rtpmap: RtpMap) -> bool:
        return (
            rtpmap.encoding_name.lower() == self.name.lower()
            and rtpmap.clock_rate == self.clock_rate
            and (rtpmap.channels or 1) == self.channels
        )


PCMU = Codec("PCMU", 0)
PCMA = Codec("PCMA", 8)
G722 = Codec("G722", 9)  # RFC 3551 §4.5.2: an RTP clock of 8000 although it samples at 16 kHz
TELEPHONE_EVENT_8000 = Codec(TELEPHONE_EVENT, 101, fmtp="0-16")
# G.711 first: trunks and most phones speak it, so the common call is forwarded without transcoding. An answer
# takes the offerer's first codec we support (RFC 3264 §6.1), so a phone offering G.722 first gets G.722.
DEFAULT_CODECS = (PCMU, PCMA, G722, TELEPHONE_EVENT_8000)


@dataclass(frozen=True, slots=True)
class NegotiatedAudio:
    """What the media layer needs once offer/answer is done: the codec, DTMF type, peer address, direction."""

    codec: Codec
    payload_type: int
    telephone_event: int | None
    remote_address: str
    remote_port: int
    remote_rtcp_port: int
    direction: Direction
    ptime: int


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer to send back, and the negotiated stream (None when the audio was rejected)."""

    sdp: SessionDescription
    audio: NegotiatedAudio | None


def create_offer(
    *,
    address: str,
    port: int,
    session_id: str,
    session_version: int = 0,
    codecs: tuple[Codec, ...] = DEFAULT_CODECS,
    direction: Direction = Direction.SENDRECV,
    ptime: int = 20,
    username: str = "callboard",
) -> SessionDescription:
    """An offer with one audio stream; to hold, re-offer with `sendonly` (or `inactive`) and a higher version."""
    media = _audio_media(port, [(c.payload_type, c) for c in codecs], direction, ptime)
    return _session(address, session_id, session_version, username, [media])


def create_answer(
    offer: SessionDescription,
    *,
    address: str,
    port: int,
    session_id: str,
    session_version: int = 0,
    codecs: tuple[Codec, ...] = DEFAULT_CODECS,
    direction: Direction = Direction.SENDRECV,
    ptime: int = 20,
    username: str = "callboard",
) -> Answer:
    """Answer every m-line of `offer` in order (RFC 3264 §6): accept the first usable audio stream with the
    first codec of the offerer's list that we support, reject everything else with port 0."""
    answered: list[MediaDescription] = []
    negotiated: NegotiatedAudio | None = None
    for offered in offer.media:
        choice = None if negotiated is not None else _choose(offered, codecs)
        if choice is None:
            answered.append(_rejected(offered))
            continue
        (payload_type, codec), event_choice = choice
        chosen = [(payload_type, codec)] + ([event_choice] if event_choice else [])
        offered_direction = offer.media_direction(offered)
        remote = offer.media_connection(offered)
        peer_receives = offered_direction.receives and not (remote is not None and remote.is_hold_address)
        # RFC 3264 §6.1: we send only if the offerer receives, and receive only if it sends.
        answer_direction = Direction.of(
            sends=direction.sends and peer_receives, receives=direction.receives and offered_direction.sends
        )
        answered.append(_audio_media(port, chosen, answer_direction, ptime))
        negotiated = NegotiatedAudio(
            codec=codec,
            payload_type=payload_type,
            telephone_event=event_choice[0] if event_choice else None,
            remote_address=remote.address.split("/")[0] if remote is not None else "",
            remote_port=offered.port,
            remote_rtcp_port=offered.rtcp.port if offered.rtcp is not None else offered.port + 1,
            direction=answer_direction,
            ptime=offered.ptime or ptime,
        )
    return Answer(_session(address, session_id, session_version, username, answered), negotiated)


def accept_answer(offer: SessionDescription, answer: SessionDescription) -> NegotiatedAudio | None:
    """Read the negotiated audio stream out of the answer to our `offer` (None when it was rejected)."""
    for offered, answered in zip(offer.media, answer.media, strict=False):
        if answered.port == 0 or offered.media != "audio":
            continue
        ours = {pt: offered.rtpmap(pt) for pt in offered.payload_types}
        audio = [pt for pt in answered.payload_types if pt in ours and _codec_name(answered, pt) != TELEPHONE_EVENT]
        if not audio:
            continue
        rtpmap = answered.rtpmap(audio[0]) or ours[audio[0]]
        assert rtpmap is not None
        events = [pt for pt in answered.payload_types if _codec_name(answered, pt) == TELEPHONE_EVENT]
        remote = answer.media_connection(answered)
        return NegotiatedAudio(
            codec=Codec(rtpmap.encoding_name, audio[0], rtpmap.clock_rate, rtpmap.channels or 1),
            payload_type=audio[0],
            telephone_event=events[0] if events else None,
            remote_address=remote.address.split("/")[0] if remote is not None else "",
            remote_port=answered.port,
            remote_rtcp_port=answered.rtcp.port if answered.rtcp is not None else answered.port + 1,
            direction=Direction.of(
                sends=answer.media_direction(answered).receives, receives=answer.media_direction(answered).sends
            ),
            ptime=answered.ptime or offered.ptime or 20,
        )
    return None


def parse_event_list(text: str) -> set[int]:
    """The telephone-event fmtp ("0-15,66,70") as a set of event codes (RFC 4733 §2.4.1); bad parts ignored."""
    events: set[int] = set()
    for part in text.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            events.update(range(int(low), int(high or low) + 1))
    return {e for e in events if e <= 255}


def format_event_list(events: set[int]) -> str:
    ranges: list[str] = []
    for event in sorted(events):
        if ranges and ranges[-1].rpartition("-")[2] == str(event - 1):
            ranges[-1] = f"{ranges[-1].partition('-')[0]}-{event}"
        else:
            ranges.append(str(event))
    return ",".join(ranges)


def _codec_name(media: MediaDescription, payload_type: int) -> str | None:
    rtpmap = media.rtpmap(payload_type)
    return rtpmap.encoding_name.lower() if rtpmap is not None else None


def _choose(
    offered: MediaDescription, codecs: tuple[Codec, ...]
) -> tuple[tuple[int, Codec], tuple[int, Codec] | None] | None:
    if offered.media != "audio" or offered.protocol not in AUDIO_PROFILES or offered.port == 0:
        return None
    audio_codecs = [c for c in codecs if c.name.lower() != TELEPHONE_EVENT]
    event_codecs = [c for c in codecs if c.name.lower() == TELEPHONE_EVENT]
    for payload_type in offered.payload_types:
        rtpmap = offered.rtpmap(payload_type)
        codec = next((c for c in audio_codecs if rtpmap is not None and c.matches(rtpmap)), None)
        if codec is None:
            continue
        return (payload_type, codec), _choose_events(offered, codec, event_codecs)
    return None


def _choose_events(offered: MediaDescription, codec: Codec, ours: list[Codec]) -> tuple[int, Codec] | None:
    for payload_type in offered.payload_types:
        rtpmap = offered.rtpmap(payload_type)
        for local in ours:
            if rtpmap is not None and local.matches(rtpmap) and local.clock_rate == codec.clock_rate:
                offered_events = parse_event_list(offered.fmtps.get(str(payload_type), "0-15"))
                common = offered_events & parse_event_list(local.fmtp or "0-15")
                if common:
                    return payload_type, Codec(
                        local.name, payload_type, local.clock_rate, fmtp=format_event_list(common)
                    )
    return None


def _audio_media(port: int, payloads: list[tuple[int, Codec]], direction: Direction, ptime: int) -> MediaDescription:
    media = MediaDescription("audio", port, "RTP/AVP", [str(pt) for pt, _ in payloads], ptime=ptime)
    for payload_type, codec in payloads:
        channels = codec.channels if codec.channels != 1 else None
        media.rtpmaps[payload_type] = RtpMap(payload_type, codec.name, codec.clock_rate, channels)
        if codec.fmtp:
            media.fmtps[str(payload_type)] = codec.fmtp
    media.direction = direction
    return media


def _rejected(offered: MediaDescription) -> MediaDescription:
    """RFC 3264 §6: a rejected stream keeps media, protocol and formats, with port zero."""
    return MediaDescription(offered.media, 0, offered.protocol, list(offered.formats) or ["0"])


def _session(
    address: str, session_id: str, version: int, username: str, media: list[MediaDescription]
) -> SessionDescription:
    addr_type = "IP6" if ":" in address else "IP4"
    return SessionDescription(
        origin=Origin(username, session_id, version, "IN", addr_type, address),
        session_name="callboard",
        connection=Connection(address, "IN", addr_type),
        media=media,
    )
