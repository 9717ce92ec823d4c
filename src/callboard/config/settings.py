"""Process settings, read from the environment (`CALLBOARD_PORT=9000`) or a `.env` file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


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
