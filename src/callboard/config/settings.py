"""Process settings, read from the environment (`CALLBOARD_PORT=9000`) or a `.env` file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
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

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
