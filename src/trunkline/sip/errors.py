"""Errors of the SIP message layer: remote (malformed input) versus local (our own bug)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from trunkline.domain.errors import TrunklineError

if TYPE_CHECKING:
    from trunkline.sip.headers import Headers


class SipError(TrunklineError):
    """Root of the errors raised by :mod:`trunkline.sip`."""

    error_id = "sip_error"


class RemoteProtocolError(SipError):
    """A message from the network broke the SIP grammar or a rule of RFC 3261.

    The caller survives it: it answers a malformed request (see
    :func:`trunkline.sip.message.bad_request_response`) or drops the datagram.

    ``reason`` is a short phrase for the reason phrase of the answer; ``sip_status`` is the
    status that answer should carry (400 unless the problem has its own code, such as 505 for
    an unknown SIP version). ``start_line`` and ``headers`` are what the parser could read of
    the message before it gave up, read leniently, so that a 400 can copy Via, From, To,
    Call-ID and CSeq; either is ``None`` when even that much was impossible.
    """

    error_id = "sip_malformed"

    def __init__(
        self,
        message: str,
        *,
        reason: str = "Bad Request",
        sip_status: int = 400,
        start_line: str | None = None,
        headers: Headers | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        merged = {"reason": reason, "sip_status": sip_status}
        merged.update(details or {})
        super().__init__(message, details=merged)
        self.reason = reason
        self.sip_status = sip_status
        self.start_line = start_line
        self.headers = headers


class LocalProtocolError(SipError):
    """Our own code tried to build or serialise a message that SIP does not allow."""

    error_id = "sip_local_error"
