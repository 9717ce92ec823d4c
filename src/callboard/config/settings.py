"""Process settings, read from the environment (`CALLBOARD_PORT=9000`) or a `.env` file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["critical", "error", "warning", "info", "debug"]

# RFC 7064 / 7065 URIs as browsers and aiortc read them: no IPv6 literals, `?transport=` on TURN only
ICE_URL = re.compile(
    r"(?P<scheme>stun|turns?):(?P<host>[A-Za-z0-9.-]+)(:(?P<port>[0-9]{1,5}))?(\?transport=(?P<transport>udp|tcp))?"
)
ICE_KEYS = ("urls", "username", "credential")


class Settings(BaseSettings):
    """How one Callboard process runs; the center itself (queues, agents...) lives in the store."""

    model_config = SettingsConfigDict(env_prefix="CALLBOARD_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./callboard.db", description="SQLAlchemy async URL of the store."
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port the HTTP server listens on.")
    log_level: LogLevel = Field(default="info", description="Lowest level of log messages written.")
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, description="How long a login session lasts.")
    secure_cookies: bool = Field(default=False, description="Send session cookies only over HTTPS.")
    login_rate_limit: int = Field(
        default=10, ge=1, description="Login attempts allowed per minute for one username and IP address."
    )
    demo: bool = Field(default=False, description="Run as the demo center (demo data, demo passwords).")
    process_nice: int | None = Field(
        default=None,
        ge=-20,
        le=19,
        description="Scheduling priority (nice value) `serve` gives its process at start; below 0 needs root or "
        "CAP_SYS_NICE. -10 keeps a voice node's media on time on a busy host (none: leave it as started).",
    )

    sip_enabled: bool = Field(default=True, description="Run the voice plane (SIP and RTP) in `serve`.")
    sip_host: str = Field(default="127.0.0.1", description="Address SIP listens on (0.0.0.0 for every interface).")
    sip_port: int = Field(default=5060, ge=0, le=65535, description="UDP and TCP port of SIP (0: any free port).")
    sip_transports: str = Field(default="udp,tcp", description="SIP transports to open: udp, tcp, tls.")
    sip_tls_port: int = Field(default=5061, ge=0, le=65535, description="Port of SIP over TLS.")
    sip_tls_cert: str | None = Field(default=None, description="PEM certificate chain for SIP over TLS.")
    sip_tls_key: str | None = Field(default=None, description="PEM private key for SIP over TLS.")
    sip_public_address: str | None = Field(
        default=None, description="Address written in Via, Contact and SDP (default: sip_host, or this host's)."
    )
    sip_realm: str = Field(default="callboard", description="Digest realm agent phones authenticate in.")
    sip_auth_algorithms: str = Field(
        default="MD5",
        description="Digest algorithms challenged, in order: MD5, SHA-256. Many phones (baresip, SIPp, most desk "
        "phones) give up when a challenge names SHA-256, so MD5 alone is the default.",
    )
    sip_domains: str = Field(
        default="", description="Comma-separated SIP domains the registrar serves (empty: any domain)."
    )
    sip_t1_ms: int = Field(default=500, ge=10, description="RFC 3261 T1: round-trip estimate.")
    sip_t2_ms: int = Field(default=4000, ge=10, description="RFC 3261 T2: longest non-INVITE retransmit interval.")
    sip_t4_ms: int = Field(default=5000, ge=10, description="RFC 3261 T4: how long a message may stay in the network.")
    sip_max_calls: int = Field(
        default=1000, ge=1, description="Calls in progress past which new INVITEs get 503 with Retry-After."
    )
    sip_trunk: str | None = Field(
        default=None, description="SIP URI of the trunk (the provider's proxy), e.g. sip:sip.example.net:5060."
    )
    sip_trunk_username: str | None = Field(default=None, description="Account at the trunk (digest user name).")
    sip_trunk_password: str | None = Field(default=None, description="Password of the trunk account.")
    sip_trunk_register: bool = Field(
        default=True, description="Register the trunk account (when it has a user name), so the provider routes in."
    )
    sip_trunk_register_seconds: int = Field(default=3600, ge=60, description="Expiry asked for the registration.")
    sip_trunk_keepalive_seconds: float = Field(
        default=30.0, ge=0, description="Interval of the OPTIONS probes of the trunk (0: no probes)."
    )
    sip_trunk_caller_id: str | None = Field(
        default=None, description="Number presented on calls out through the trunk (P-Asserted-Identity too)."
    )
    rtp_port_min: int = Field(default=20000, ge=1024, le=65534, description="Lowest RTP port (even).")
    rtp_port_max: int = Field(default=30000, ge=1025, le=65535, description="Highest RTP port.")
    rtp_timeout_seconds: float = Field(default=30.0, ge=0, description="No RTP for this long ends a call (0: never).")
    recordings_dir: str = Field(default="recordings", description="Folder call recordings are written to.")
    tts_cache_dir: str = Field(
        default="", description="Folder text-to-speech is rendered into (empty: `tts-cache` beside recordings)."
    )
    voice_answer_delay_seconds: float = Field(
        default=0.0, ge=0, le=30, description="Seconds an inbound call rings (180) before the menu answers it."
    )
    voice_attributes: str = Field(
        default='{"language": "en"}',
        description="JSON object of task attributes every inbound call starts with (before the menu's).",
    )
    ice_servers: str = Field(
        default="[]",
        description="JSON list of the STUN and TURN servers of the agents' WebRTC lines, as browsers take them "
        '(RTCIceServer): [{"urls": "stun:stun.example.net:3478"}, {"urls": ["turn:turn.example.net:3478", '
        '"turns:turn.example.net:5349"], "username": "callboard", "credential": "secret"}]. The page and the server '
        "use the same list.",
    )

    @property
    def tts_cache(self) -> Path:
        """Where rendered text-to-speech is cached; the API and the voice node share it."""
        return Path(self.tts_cache_dir) if self.tts_cache_dir else Path(self.recordings_dir).parent / "tts-cache"

    @property
    def transport_names(self) -> list[str]:
        return self.sip_transports.split(",")  # normalised by the validator

    @property
    def auth_algorithm_names(self) -> list[str]:
        return self.sip_auth_algorithms.split(",")

    @property
    def voice_attribute_values(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.voice_attributes)
        return value

    @field_validator("sip_transports")
    @classmethod
    def _known_transports(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - {"udp", "tcp", "tls"})
        if unknown or not names:
            raise ValueError(f"takes udp, tcp and tls separated by commas; got {value!r}")
        return ",".join(names)

    @field_validator("sip_auth_algorithms")
    @classmethod
    def _known_algorithms(cls, value: str) -> str:
        names = [name.strip().upper() for name in value.split(",") if name.strip()]
        if not names or set(names) - {"MD5", "SHA-256"}:
            raise ValueError(f"takes MD5 and SHA-256 separated by commas; got {value!r}")
        return ",".join(names)

    @field_validator("voice_attributes")
    @classmethod
    def _json_object(cls, value: str) -> str:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ValueError('must be a JSON object, e.g. {"language": "en"}')
        return value

    @property
    def ice_server_list(self) -> list[dict[str, Any]]:
        """The ICE servers, each as `{"urls": [...]}` with `username` and `credential` when given."""
        return parse_ice_servers(self.ice_servers)

    @field_validator("ice_servers")
    @classmethod
    def _ice_servers(cls, value: str) -> str:
        parse_ice_servers(value)
        return value

    @field_validator("sip_trunk")
    @classmethod
    def _sip_uri(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("sip:", "sips:")):
            raise ValueError(f"must be a SIP URI such as sip:sip.example.net:5060; got {value!r}")
        return value

    @model_validator(mode="after")
    def _rtp_range(self) -> Settings:
        if self.rtp_port_max - self.rtp_port_min < 2:
            raise ValueError(f"rtp_port_min ({self.rtp_port_min}) must be below rtp_port_max ({self.rtp_port_max})")
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


def parse_ice_servers(value: str) -> list[dict[str, Any]]:
    """The servers of a JSON list of RTCIceServer objects (`urls`, a URL or a list of them, and for TURN a
    `username` and a `credential`), each with its `urls` as a list; `ValueError` says which entry is wrong and
    why. An empty value is no server."""
    if not value.strip():
        return []
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON: {exc}") from None
    if not isinstance(parsed, list):
        raise ValueError('must be a JSON list of servers, e.g. [{"urls": "stun:stun.example.net:3478"}]')
    return [_ice_server(index, entry) for index, entry in enumerate(parsed)]


def _ice_server(index: int, entry: object) -> dict[str, Any]:
    where = f"server {index + 1}"
    if not isinstance(entry, dict):
        raise ValueError(f'{where} must be an object such as {{"urls": "stun:stun.example.net:3478"}}')
    unknown = sorted(set(entry) - set(ICE_KEYS))
    if unknown:
        raise ValueError(f"{where} has unknown keys {', '.join(unknown)} (allowed: {', '.join(ICE_KEYS)})")
    urls = entry.get("urls")
    urls = [urls] if isinstance(urls, str) else urls
    if not isinstance(urls, list) or not urls or not all(isinstance(url, str) for url in urls):
        raise ValueError(f"{where} needs `urls`: a stun:, turn: or turns: URL, or a list of them")
    for url in urls:
        _ice_url(where, url)
    server: dict[str, Any] = {"urls": urls}
    for key in ("username", "credential"):
        if key in entry:
            if not isinstance(entry[key], str) or not entry[key]:
                raise ValueError(f"{where}: `{key}` must be a text")
            server[key] = entry[key]
    if any(url.startswith("turn") for url in urls) and not ("username" in server and "credential" in server):
        raise ValueError(f"{where}: a TURN server needs a `username` and a `credential`")
    return server


def _ice_url(where: str, url: str) -> None:
    match = ICE_URL.fullmatch(url)
    if match is None:
        raise ValueError(
            f"{where}: {url!r} is not a STUN or TURN URL such as stun:stun.example.net:3478, "
            "turn:turn.example.net:3478?transport=udp or turns:turn.example.net:5349"
        )
    port = match["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValueError(f"{where}: {url!r} has no valid port (1 to 65535)")
    if match["transport"] is not None and match["scheme"] == "stun":
        raise ValueError(f"{where}: {url!r}: a STUN URL takes no ?transport=")
    if match["scheme"] == "turns" and match["transport"] == "udp":
        raise ValueError(f"{where}: {url!r}: turns: runs over TLS, on TCP")
