"""The one error raised on malformed SIP input."""

from __future__ import annotations

from callboard.core.errors import ValidationError


class SipParseError(ValidationError):
    """Malformed SIP text: names the field (a header name, `Request-Line`, `Content-Length`...) and the byte offset.

    For a header, the offset is where its value starts in the message plus the position in the unfolded value,
    so it is exact for single-line values and close for folded ones.
    """

    error_id = "sip_parse_error"

    def __init__(self, field: str, reason: str, offset: int = 0, status_code: int = 400) -> None:
        where = f"{field}: " if field else ""
        super().__init__(f"{where}{reason} at offset {offset}", field=field, offset=offset)
        self.field = field
        self.reason = reason
        self.offset = offset
        # The status of the response a server sends back when it can (RFC 3261 §8.2): 400, 505 or 513.
        self.status_code = status_code

    def relocated(self, base: int, field: str | None = None) -> SipParseError:
        """The same error seen from an enclosing text that starts `base` bytes earlier, optionally renamed."""
        name = field if field is not None else self.field
        return SipParseError(name, self.reason, self.offset + base, self.status_code)
