"""Via handling at the transport layer: the client's top Via (§18.1.1), the server's received/rport stamp
(§18.2.1, RFC 3581) and where a response goes (§18.2.2)."""

from __future__ import annotations

import ipaddress

from ..fields import Via
from ..headers import Header, Headers
from ..message import Request, Response
from ..syntax import Params, split_list
from ..transport_port import Destination

__all__ = ["default_port", "replace_top_via", "response_destination", "stamp_received", "top_via"]


def default_port(transport: str) -> int:
    """5061 for TLS and WSS, 5060 otherwise (RFC 3261 §19.1.2, RFC 7118)."""
    return 5061 if transport.upper() in ("TLS", "WSS") else 5060


def top_via(message: Request | Response) -> Via | None:
    """The first via-parm, or None when the message has none; raises SipParseError on a malformed one."""
    vias = message.headers.via
    return vias[0] if vias else None


def replace_top_via(message: Request | Response, via: Via | None, *, insert: bool = False) -> None:
    """Puts `via` in place of the first via-parm, or before it with `insert`; other fields keep their spelling."""
    fields: list[Header] = []
    done = False
    for header in message.headers:
        if done or header.name != "Via":
            fields.append(header)
            continue
        done = True
        items = [value for value, _ in split_list(header.value, "Via", header.offset)]
        if via is not None:
            if insert:
                fields.append(Header("Via", str(via)))
            else:
                items[0] = str(via)
        fields.append(Header("Via", ", ".join(items)))
    if not done and via is not None:
        fields.insert(0, Header("Via", str(via)))
    message.headers = Headers(fields)


def _with_param(params: Params, name: str, value: str | None) -> Params:
    kept = tuple((k, v) for k, v in params if k.lower() != name.lower())
    return (*kept, (name, value))


def _same_address(host: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")) == ipaddress.ip_address(address)
    except ValueError:
        return False  # a domain name in sent-by never equals the source address (§18.2.1)


def stamp_received(message: Request | Response, source: Destination) -> Via | None:
    """Adds `received` when the source address differs from sent-by, and fills an empty `rport` (RFC 3581 §4).

    Done on requests received; also on the copied Via of a 400 answering an unparsed request, so that it is
    routed as the request's response would be. Returns the top Via as stamped (None when there is none); raises
    SipParseError on a malformed Via.
    """
    via = top_via(message)
    if via is None:
        return None
    host, port = source[0], source[1]
    params = via.params
    wants_rport = via.has_param("rport") and via.param("rport") is None
    if wants_rport:
        params = _with_param(params, "rport", str(port))
    if wants_rport or not _same_address(via.host, host):
        # RFC 3581 §4: with rport the server adds received even when it equals sent-by.
        params = _with_param(params, "received", host)
    if params == via.params:
        return via
    stamped = Via(via.transport, via.host, via.port, params, via.protocol, via.version)
    replace_top_via(message, stamped)
    return stamped


def response_destination(via: Via, source: Destination) -> Destination:
    """Where a response goes over an unreliable transport (§18.2.2, RFC 3581 §4).

    maddr first; then the `received` address (or the source's, which sent-by then names) with the `rport`
    port, or else the sent-by port.
    """
    if via.maddr is not None:
        return via.maddr, via.port or default_port(via.transport)
    host = via.received or source[0]
    port = via.rport or via.port or default_port(via.transport)
    return host.removeprefix("[").removesuffix("]"), port
