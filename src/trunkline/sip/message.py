"""SIP requests and responses (RFC 3261 §7), sans-IO: parsing datagrams and streams,
serialising, and building responses and best-effort 400 answers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from trunkline.sip.errors import LocalProtocolError, RemoteProtocolError
from trunkline.sip.headers import (
    NAME_INFO,
    CSeq,
    Headers,
    NameAddress,
    Via,
    name_info,
    parse_cseq,
    parse_name_address,
    parse_via,
    split_list,
)
from trunkline.sip.uri import SipUri, is_token, parse_uri

_T = TypeVar("_T")

SIP_VERSION = "SIP/2.0"
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024

REASON_PHRASES: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    199: "Early Dialog Terminated",
    200: "OK",
    202: "Accepted",
    204: "No Notification",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    305: "Use Proxy",
    380: "Alternative Service",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    412: "Conditional Request Failed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    421: "Extension Required",
    422: "Session Interval Too Small",
    423: "Interval Too Brief",
    428: "Use Identity Header",
    429: "Provide Referrer Identity",
    433: "Anonymity Disallowed",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    489: "Bad Event",
    491: "Request Pending",
    493: "Undecipherable",
    494: "Security Agreement Required",
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    580: "Precondition Failure",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
    607: "Unwanted",
    608: "Rejected",
}
_CLASS_PHRASES = {
    1: "Informational",
    2: "Success",
    3: "Redirection",
    4: "Client Error",
    5: "Server Error",
    6: "Global Failure",
}

# Control characters other than HTAB are not allowed in the header section once line ends are
# removed (RFC 3261 §25.1: TEXT-UTF8char, LWS, CRLF); this includes a CR not followed by LF.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Every byte allowed in a header section: HTAB, the line ends, printable ASCII and all bytes of
# UTF-8 sequences. Deleting them leaves exactly the forbidden control bytes.
_TEXT_BYTES = b"\t\n\r" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
_WORD = r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+"
_CALL_ID = re.compile(rf"{_WORD}(?:@{_WORD})?")
_LENIENT_CSEQ = re.compile(r"[ \t]*[0-9]+[ \t]+[A-Za-z0-9\-.!%*_+`'~]+[ \t]*")
_TAG_PARAM = re.compile(r";[ \t]*tag[ \t]*=", re.IGNORECASE)
_MANDATORY = (("to", "To"), ("from", "From"), ("call-id", "Call-ID"), ("cseq", "CSeq"))
_MANDATORY_NAMES = ("Via", "From", "To", "Call-ID", "CSeq")


def reason_phrase(status: int) -> str:
    """The usual reason phrase for ``status`` (RFC 3261 §21), or its class name."""
    return REASON_PHRASES.get(status) or _CLASS_PHRASES.get(status // 100, "Unknown")


class _Message:
    """Header conveniences shared by requests and responses.

    The structured values are parsed when asked for (the parsers cache by value, so asking
    twice costs a dictionary lookup). A value that cannot be parsed raises
    :class:`RemoteProtocolError`; a missing mandatory header raises
    :class:`LocalProtocolError`, since :func:`parse_message` already refuses messages
    without them and only a message built by hand can lack one.
    """

    __slots__ = ()
    headers: Headers

    def _one(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise LocalProtocolError(f"message has no {name} header")
        return value

    @property
    def call_id(self) -> str:
        return self._one("Call-ID")

    @property
    def cseq(self) -> CSeq:
        return parse_cseq(self._one("CSeq"))

    @property
    def from_(self) -> NameAddress:
        return parse_name_address(self._one("From"))

    @property
    def to(self) -> NameAddress:
        return parse_name_address(self._one("To"))

    @property
    def via(self) -> list[Via]:
        """Every Via, topmost first."""
        return [parse_via(value) for value in self.headers.get_all("Via")]

    @property
    def top_via(self) -> Via:
        return parse_via(self._one("Via"))

    @property
    def branch(self) -> str | None:
        """The branch of the topmost Via (the transaction key of RFC 3261 §17.2.3)."""
        return self.top_via.branch

    @property
    def max_forwards(self) -> int | None:
        value = self.headers.get("Max-Forwards")
        return None if value is None else _max_forwards(value)

    @property
    def contacts(self) -> list[NameAddress]:
        """Every Contact, the ``*`` of a REGISTER removing all bindings left out."""
        return [parse_name_address(v) for v in self.headers.get_all("Contact") if v != "*"]

    @property
    def is_contact_wildcard(self) -> bool:
        """``Contact: *`` (RFC 3261 §10.2.2)."""
        return self.headers.get_all("Contact") == ["*"]

    @property
    def record_route(self) -> list[NameAddress]:
        return [parse_name_address(value) for value in self.headers.get_all("Record-Route")]

    @property
    def route(self) -> list[NameAddress]:
        return [parse_name_address(value) for value in self.headers.get_all("Route")]

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")


def _same_headers(left: Headers, right: Headers) -> bool:
    # Content-Length is framing derived from the body; serialisation always rewrites it.
    return [pair for pair in left.items() if pair[0] != "Content-Length"] == [
        pair for pair in right.items() if pair[0] != "Content-Length"
    ]


@dataclass(eq=False, slots=True, kw_only=True)
class Request(_Message):
    """A SIP request. Mutable, so that a layer can add a Via or a Route before sending.

    Equality compares method, URI, version, body and headers in order, except
    Content-Length, which ``bytes()`` always recomputes from the body.
    """

    method: str
    uri: SipUri
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return (
            self.method == other.method
            and self.uri == other.uri
            and self.version == other.version
            and self.body == other.body
            and _same_headers(self.headers, other.headers)
        )

    def __bytes__(self) -> bytes:
        if not is_token(self.method):
            raise LocalProtocolError(f"invalid method {self.method!r}")
        if self.version != SIP_VERSION:
            raise LocalProtocolError(f"cannot send version {self.version!r}")
        return _serialize(f"{self.method} {self.uri} {self.version}", self.headers, self.body)

    @property
    def is_invite(self) -> bool:
        return self.method == "INVITE"

    @property
    def is_ack(self) -> bool:
        return self.method == "ACK"

    @property
    def is_cancel(self) -> bool:
        return self.method == "CANCEL"


@dataclass(eq=False, slots=True, kw_only=True)
class Response(_Message):
    """A SIP response. Mutable like :class:`Request`; equality likewise ignores Content-Length."""

    status: int
    reason: str = ""
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Response):
            return NotImplemented
        return (
            self.status == other.status
            and self.reason == other.reason
            and self.version == other.version
            and self.body == other.body
            and _same_headers(self.headers, other.headers)
        )

    def __bytes__(self) -> bytes:
        if isinstance(self.status, bool) or not 100 <= self.status <= 699:
            raise LocalProtocolError(f"status out of range: {self.status!r}")
        if _CONTROL.search(self.reason) or "\n" in self.reason:
            raise LocalProtocolError(f"control character in reason {self.reason!r}")
        if self.version != SIP_VERSION:
            raise LocalProtocolError(f"cannot send version {self.version!r}")
        return _serialize(f"{self.version} {self.status} {self.reason}", self.headers, self.body)

    @property
    def is_provisional(self) -> bool:
        return self.status < 200

    @property
    def is_final(self) -> bool:
        return self.status >= 200

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


def _serialize(start_line: str, headers: Headers, body: bytes) -> bytes:
    lines = [start_line]
    length_written = False
    for name, value in headers.items():
        if name == "Content-Length":
            # Written once, where the first one stood, and always true to the body.
            if not length_written:
                lines.append(f"Content-Length: {len(body)}")
                length_written = True
        else:
            lines.append(f"{name}: {value}")
    if not length_written:
        lines.append(f"Content-Length: {len(body)}")
    lines += ("", "")
    return "\r\n".join(lines).encode() + body


# -- parsing -------------------------------------------------------------------------------


def is_keepalive(data: bytes) -> bool:
    """Whether a datagram is only CR and LF bytes (a keep-alive, not a message)."""
    return bool(data) and not data.strip(b"\r\n")


def parse_message(data: bytes) -> Request | Response:
    """Parse one datagram into a message, or raise :class:`RemoteProtocolError`.

    Nothing else escapes: an unexpected failure inside the parser is reported as a
    RemoteProtocolError with ``details["internal"]`` set, so a transport loop survives it.
    """
    try:
        return _parse_datagram(data)
    except RemoteProtocolError:
        raise
    except (ValueError, LookupError, ArithmeticError, LocalProtocolError) as exc:
        raise RemoteProtocolError(
            f"unparseable message ({exc!r})", reason="Malformed Message", details={"internal": True}
        ) from exc


def _skip_line_ends(data: bytes, start: int = 0) -> int:
    # RFC 3261 §7.5: CRLFs before the start line are ignored.
    size = len(data)
    while start < size and data[start] in (0x0D, 0x0A):
        start += 1
    return start


def _find_blank_line(data: bytes | bytearray, start: int, end: int) -> tuple[int, int] | None:
    """``(end of the header section, start of the body)``, or ``None`` if not in ``[start, end)``.

    The header section ends at an empty line; CRLF and bare LF line ends are both accepted.
    """
    crlf = data.find(b"\n\r\n", start, end)
    # An LF-only empty line, to count, must come before the first CRLF one; looking no further
    # keeps the search linear when a stream buffer holds many messages.
    lf = data.find(b"\n\n", start, crlf + 1 if crlf >= 0 else end)
    if lf >= 0:
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 3
    return None


def _parse_datagram(data: bytes) -> Request | Response:
    start = _skip_line_ends(data)
    if start == len(data):
        raise RemoteProtocolError("empty datagram", reason="Empty Message")
    bounds = _find_blank_line(data, start, len(data))
    if bounds is None:
        start_line, headers, _ = _split_head(data[start : start + MAX_HEADER_BYTES])
        raise RemoteProtocolError(
            "no empty line after the header fields",
            reason="Truncated Message",
            start_line=start_line,
            headers=headers,
        )
    head_end, body_start = bounds
    message, length, start_line = _parse_head(data[start:head_end])
    body = data[body_start:]
    if length is not None:
        if len(body) < length:
            # RFC 3261 §18.3: a datagram shorter than its Content-Length is discarded.
            raise RemoteProtocolError(
                f"body has {len(body)} bytes, Content-Length says {length}",
                reason="Bad Content-Length",
                start_line=start_line,
                headers=message.headers,
            )
        # RFC 3261 §18.3: octets beyond Content-Length in a datagram are ignored.
        body = body[:length]
    # Without Content-Length a datagram's body is the rest of the datagram (RFC 3261 §18.3).
    message.body = body
    return message


def _split_head(head: bytes) -> tuple[str, Headers, tuple[str, str] | None]:
    """Split a header section into start line and header fields, never raising.

    Returns the first problem met as ``(message, reason)``; lines that cannot be read are
    skipped, so the result is the lenient reading that a 400 answer copies from.
    """
    problem: tuple[str, str] | None = None
    try:
        text = head.decode()
    except UnicodeDecodeError:
        text = head.decode(errors="replace")
        problem = ("header section is not UTF-8", "Invalid UTF-8")
    # Bare LF line ends are tolerated; after this every line ends in LF, and a CR left over is
    # one that did not end a line.
    text = text.replace("\r\n", "\n").removesuffix("\r")
    if problem is None and (head.translate(None, _TEXT_BYTES) or "\r" in text):
        problem = ("control character in the header section", "Control Character")
    start_line, _, fields = text.partition("\n")
    if fields.startswith((" ", "\t")) and problem is None:
        problem = ("continuation line before any header", "Bad Header Folding")
    if "\n " in fields or "\n\t" in fields:
        fields = _unfold(fields)
    entries: list[tuple[str, str, str]] = []
    for line in fields.split("\n") if fields else ():
        name, colon, value = line.partition(":")
        # RFC 3261 §25.1 HCOLON = *( SP / HTAB ) ":" SWS
        info = NAME_INFO.get(name) or name_info(name.rstrip(" \t"))
        if info is None or not colon:
            if problem is None:
                problem = (f"malformed header line {line[:80]!r}", "Malformed Header")
            continue
        key, canonical, is_list = info
        value = value.strip(" \t")
        if is_list and "," in value:
            for item in split_list(value):
                entries.append((key, canonical, item))
        else:
            entries.append((key, canonical, value))
    return start_line, Headers._trusted(entries), problem


def _unfold(fields: str) -> str:
    # RFC 3261 §7.3.1: a line starting with whitespace continues the previous field, and the
    # line break with the whitespace around it reads as a single SP. (A loop, not a regex:
    # "[ \t]*\n[ \t]+" backtracks quadratically over a long run of spaces.)
    lines: list[str] = []
    for line in fields.split("\n"):
        if lines and line.startswith((" ", "\t")):
            piece = line.strip(" \t")
            if piece:
                lines[-1] = lines[-1].rstrip(" \t") + " " + piece
        else:
            lines.append(line)
    return "\n".join(lines)


def _parse_head(head: bytes) -> tuple[Request | Response, int | None, str]:
    """Parse and validate a header section: ``(message without body, Content-Length, line)``."""
    start_line, headers, problem = _split_head(head)
    try:
        if problem is not None:
            raise RemoteProtocolError(problem[0], reason=problem[1])
        message = _start(start_line, headers)
        length = _check_headers(message, headers)
    except RemoteProtocolError as exc:
        # Attach the lenient reading so that the caller can still answer a 400.
        exc.start_line = start_line
        exc.headers = headers
        raise
    return message, length, start_line


def _start(start_line: str, headers: Headers) -> Request | Response:
    if start_line[:4].upper() == "SIP/":
        version, _, rest = start_line.partition(" ")
        code, _, reason = rest.partition(" ")
        if (
            version.upper() != SIP_VERSION
            or len(code) != 3
            or not code.isascii()
            or not code.isdigit()
            or not 100 <= int(code) <= 699
        ):
            raise RemoteProtocolError(f"bad status line {start_line[:80]!r}", reason="Bad Status")
        return Response(status=int(code), reason=reason, headers=headers)
    # RFC 3261 §7.1: Method SP Request-URI SP SIP-Version, single spaces, no other whitespace.
    parts = start_line.split(" ")
    if len(parts) != 3 or not is_token(parts[0]):
        raise RemoteProtocolError(
            f"bad request line {start_line[:80]!r}", reason="Bad Request-Line"
        )
    method, uri_text, version = parts
    # RFC 3261 §7.1: the version compares case-insensitively.
    version = version.upper()
    if version != SIP_VERSION:
        if version.startswith("SIP/"):
            raise RemoteProtocolError(
                f"unsupported version {version!r}",
                reason="Version Not Supported",
                sip_status=505,
            )
        raise RemoteProtocolError(
            f"bad request line {start_line[:80]!r}", reason="Bad Request-Line"
        )
    try:
        uri = parse_uri(uri_text)
    except RemoteProtocolError as exc:
        if exc.sip_status != 400:
            raise  # 416 Unsupported URI Scheme keeps its own status and reason
        raise RemoteProtocolError(f"Request-URI: {exc.message}", reason="Bad Request-URI") from exc
    return Request(method=method, uri=uri, headers=headers)


def _check_headers(message: Request | Response, headers: Headers) -> int | None:
    """Enforce the mandatory fields (RFC 3261 §8.1.1); return the Content-Length, if any."""
    grouped = headers.by_name()
    for key, name in _MANDATORY:
        values = grouped.get(key)
        if not values:
            raise RemoteProtocolError(f"no {name} header", reason=f"Missing {name}")
        if len(values) > 1:
            raise RemoteProtocolError(f"{len(values)} {name} headers", reason=f"Multiple {name}")
    vias = grouped.get("via")
    if not vias:
        raise RemoteProtocolError("no Via header", reason="Missing Via")
    for value in vias:
        _checked(parse_via, value, "Via")
    _checked(parse_name_address, grouped["from"][0], "From")
    _checked(parse_name_address, grouped["to"][0], "To")
    cseq = _checked(parse_cseq, grouped["cseq"][0], "CSeq")
    if _CALL_ID.fullmatch(grouped["call-id"][0]) is None:
        raise RemoteProtocolError("bad Call-ID", reason="Bad Call-ID")
    if isinstance(message, Request) and cseq.method != message.method:
        # RFC 3261 §8.1.1.5: the CSeq method MUST match the method of the request.
        raise RemoteProtocolError(
            f"CSeq method {cseq.method!r} is not {message.method!r}",
            reason="CSeq Method Mismatch",
        )
    # RFC 3261 §16.3 lets a request without Max-Forwards through, so its absence is accepted;
    # a present one must be a single number in 0..255 (§20.22).
    max_forwards = grouped.get("max-forwards")
    if max_forwards is not None and (len(max_forwards) > 1 or _max_forwards(max_forwards[0]) < 0):
        raise RemoteProtocolError("bad Max-Forwards", reason="Bad Max-Forwards")
    lengths = grouped.get("content-length")
    if lengths is None:
        return None
    length = _content_length(lengths)
    if length is None:
        raise RemoteProtocolError("bad Content-Length", reason="Bad Content-Length")
    return length


def _checked(parser: Callable[[str], _T], value: str, name: str) -> _T:
    try:
        return parser(value)
    except RemoteProtocolError as exc:
        raise RemoteProtocolError(f"{name}: {exc.message}", reason=f"Bad {name}") from exc


def _max_forwards(value: str) -> int:
    """The Max-Forwards count, or -1 if the value is not an integer in 0..255."""
    if not 0 < len(value) <= 3 or not value.isascii() or not value.isdigit():
        return -1
    count = int(value)
    return count if count <= 255 else -1


def _content_length(values: list[str] | None) -> int | None:
    """The one Content-Length value as an integer, or ``None`` if absent, repeated or bad."""
    if not values or len(values) != 1:
        return None
    value = values[0]
    # Ten digits are more than any datagram or stream limit; refusing longer strings also
    # keeps int() away from huge inputs.
    if not 0 < len(value) <= 10 or not value.isascii() or not value.isdigit():
        return None
    return int(value)


# -- streams (TCP, TLS) ----------------------------------------------------------------------


class StreamParser:
    """Cut a byte stream into messages (RFC 3261 §18.3: Content-Length frames each one).

    ``feed()`` bytes as they arrive, then call ``next_message()`` until it returns ``None``.
    A message that is framed but invalid raises :class:`RemoteProtocolError` and is
    skipped, so the connection can answer 400 and go on. When framing itself is lost (no or
    bad Content-Length, a header section or body over the limits) the parser is
    :attr:`broken`: every later call raises and the connection should be closed.

    CRLFs between messages are skipped (RFC 3261 §7.5); each double CRLF counts as an
    RFC 5626 §3.5.1 keep-alive ping, which :meth:`take_pings` reports so the transport can
    answer with a single CRLF pong.
    """

    def __init__(
        self, *, max_header_bytes: int = MAX_HEADER_BYTES, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self._max_header_bytes = max_header_bytes
        self._max_body_bytes = max_body_bytes
        self._buffer = bytearray()
        self._scan_from = 0
        self._pending: tuple[Request | Response, int, int] | None = None
        self._skip = 0
        self._crlf_run = 0
        self._pings = 0
        self._failure: RemoteProtocolError | None = None

    @property
    def broken(self) -> bool:
        return self._failure is not None

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned as messages."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        if self._failure is None:
            self._buffer += data

    def take_pings(self) -> int:
        """How many CRLFCRLF pings arrived since the last call."""
        pings, self._pings = self._pings, 0
        return pings

    def next_message(self) -> Request | Response | None:
        """The next complete message, ``None`` if more bytes are needed."""
        failure = self._failure
        if failure is not None:
            raise RemoteProtocolError(
                f"stream already failed: {failure.message}",
                reason=failure.reason,
                sip_status=failure.sip_status,
            )
        try:
            return self._next()
        except RemoteProtocolError:
            raise
        except (ValueError, LookupError, ArithmeticError, LocalProtocolError) as exc:
            raise self._fail(
                RemoteProtocolError(
                    f"unparseable message ({exc!r})",
                    reason="Malformed Message",
                    details={"internal": True},
                )
            ) from exc

    def _fail(self, error: RemoteProtocolError) -> RemoteProtocolError:
        self._failure = error
        self._buffer.clear()
        self._pending = None
        return error

    def _next(self) -> Request | Response | None:
        buffer = self._buffer
        if self._skip:
            dropped = min(self._skip, len(buffer))
            del buffer[:dropped]
            self._skip -= dropped
            if self._skip:
                return None
        if self._pending is None:
            self._skip_crlfs()
            if not buffer or buffer == b"\r":
                return None
            # An empty line that ends a header section of the largest allowed size is complete
            # within `limit` bytes, so a longer buffer without one is over the limit.
            limit = self._max_header_bytes + 3
            bounds = _find_blank_line(buffer, self._scan_from, limit)
            if bounds is None:
                if len(buffer) >= limit:
                    raise self._fail(
                        RemoteProtocolError("header section too large", reason="Message Too Large")
                    )
                # The empty line may straddle the next chunk: rescan the last 2 bytes only.
                self._scan_from = max(0, len(buffer) - 2)
                return None
            head_end, body_start = bounds
            self._scan_from = 0
            self._crlf_run = 0
            if head_end > self._max_header_bytes:
                raise self._fail(
                    RemoteProtocolError("header section too large", reason="Message Too Large")
                )
            try:
                message, length, start_line = _parse_head(bytes(buffer[:head_end]))
            except RemoteProtocolError as exc:
                lengths = exc.headers.get_all("Content-Length") if exc.headers is not None else None
                framed = _content_length(lengths)
                if framed is None or framed > self._max_body_bytes:
                    raise self._fail(exc) from None
                # The message is invalid but framed: drop it and keep the stream.
                self._drop(body_start + framed)
                raise
            if length is None:
                # RFC 3261 §18.3: on a stream, Content-Length MUST be present.
                raise self._fail(
                    RemoteProtocolError(
                        "no Content-Length on a stream",
                        reason="Missing Content-Length",
                        start_line=start_line,
                        headers=message.headers,
                    )
                )
            if length > self._max_body_bytes:
                raise self._fail(
                    RemoteProtocolError(
                        f"body of {length} bytes is over the limit",
                        reason="Message Too Large",
                        sip_status=513,
                        start_line=start_line,
                        headers=message.headers,
                    )
                )
            self._pending = (message, body_start, length)
        message, body_start, length = self._pending
        end = body_start + length
        if len(buffer) < end:
            return None
        message.body = bytes(buffer[body_start:end])
        del buffer[:end]
        self._pending = None
        return message

    def _drop(self, count: int) -> None:
        dropped = min(count, len(self._buffer))
        del self._buffer[:dropped]
        self._skip = count - dropped
        self._scan_from = 0

    def _skip_crlfs(self) -> None:
        buffer = self._buffer
        size = len(buffer)
        index = 0
        while index < size:
            byte = buffer[index]
            if byte == 0x0A:
                index += 1
                self._crlf_run = 0
            elif byte == 0x0D and index + 1 < size and buffer[index + 1] == 0x0A:
                index += 2
                self._crlf_run += 1
                if self._crlf_run == 2:
                    self._pings += 1
                    self._crlf_run = 0
            else:
                # A lone CR at the end may be half of a CRLF: wait for the next byte.
                break
        if index:
            del buffer[:index]
            self._scan_from = 0


# -- answers ---------------------------------------------------------------------------------


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
) -> Response:
    """A response to ``request`` built as RFC 3261 §8.2.6.2 says.

    Via (all, in order), From, Call-ID and CSeq are copied; To is copied and gets
    ``;tag=to_tag`` when a tag is given and the request's To has none (an existing tag is
    kept). A 100 also copies Timestamp (§8.2.6.1). ``headers`` are appended after these.
    Values are copied as received, so the client's transaction and dialog matching see exactly
    its own bytes.
    """
    if isinstance(status, bool) or not 100 <= status <= 699:
        raise LocalProtocolError(f"status out of range: {status!r}")
    for name in _MANDATORY_NAMES:
        request._one(name)
    # Copied entries, not re-validated values: they come from a parsed or checked request.
    out = request.headers.subset(_MANDATORY_NAMES)
    if to_tag is not None and request.to.tag is None:
        if not is_token(to_tag):
            raise LocalProtocolError(f"invalid To tag {to_tag!r}")
        # Appending keeps the rest of the value byte for byte; in both the name-addr and the
        # addr-spec form a trailing ";tag=" is a header parameter (RFC 3261 §20.10).
        out.set("To", f"{request._one('To')};tag={to_tag}")
    if status == 100:
        timestamp = request.headers.get("Timestamp")
        if timestamp is not None:
            out.add("Timestamp", timestamp)
    for name, value in headers:
        out.add(name, value)
    return Response(
        status=status,
        reason=reason_phrase(status) if reason is None else reason,
        headers=out,
        body=body,
    )


def bad_request_response(
    data: bytes, error: RemoteProtocolError, *, to_tag: str | None = None
) -> Response | None:
    """A best-effort answer to a malformed request, or ``None`` to drop it silently.

    Reads ``error.start_line``/``error.headers`` when the parser attached them (a
    :class:`StreamParser` error can be passed with ``data=b""``), else reads ``data``
    leniently. Answers only a request (never a response, never an ACK, which has no answer)
    whose topmost Via, From, To, Call-ID and CSeq can be read. The status is
    ``error.sip_status`` (400, or 505/416/513 where the problem has its own code); a 400's
    reason phrase names the problem. The To tag, if needed and not given, is derived from
    the request so that a retransmission gets the same one (RFC 3261 §8.2.7).
    """
    if error.start_line is not None and error.headers is not None:
        start_line, headers = error.start_line, error.headers
    else:
        start = _skip_line_ends(data)
        if start == len(data):
            return None
        bounds = _find_blank_line(data, start, len(data))
        end = bounds[0] if bounds is not None else len(data)
        start_line, headers, _ = _split_head(data[start : min(end, start + MAX_HEADER_BYTES)])
    parts = start_line.split()
    if (
        len(parts) < 3
        or not is_token(parts[0])
        or parts[0] == "ACK"
        or not parts[-1].upper().startswith("SIP/")
    ):
        return None
    vias = headers.get_all("Via")
    from_ = headers.get("From")
    to = headers.get("To")
    call_id = headers.get("Call-ID")
    cseq = headers.get("CSeq")
    if not vias or not from_ or not to or not call_id or not cseq:
        return None
    # Without a readable top Via the answer cannot be routed, and without a CSeq method the
    # client cannot match it to its transaction (RFC 3261 §17.1.3). An out-of-range CSeq
    # number is still answered: the problem is then the number, and the 400 says so.
    if _LENIENT_CSEQ.fullmatch(cseq) is None:
        return None
    try:
        parse_via(vias[0])
    except RemoteProtocolError:
        return None
    if not _has_tag(to):
        tag = to_tag or _stateless_tag(call_id, from_, cseq, vias[0])
        to = f"{to};tag={tag}"
    status = error.sip_status if 300 <= error.sip_status <= 699 else 400
    if status == 400 and error.reason != "Bad Request":
        reason = f"Bad Request ({error.reason})"
    else:
        reason = reason_phrase(status)
    out = Headers()
    try:
        for value in vias:
            out.add("Via", value)
        out.add("From", from_)
        out.add("To", to)
        out.add("Call-ID", call_id)
        out.add("CSeq", cseq)
    except LocalProtocolError:
        # A control character in one of them: copying it would make our answer malformed.
        return None
    return Response(status=status, reason=reason, headers=out)


def _has_tag(to: str) -> bool:
    try:
        return parse_name_address(to).tag is not None
    except RemoteProtocolError:
        return _TAG_PARAM.search(to) is not None


def _stateless_tag(call_id: str, from_: str, cseq: str, via: str) -> str:
    # RFC 3261 §8.2.7: a stateless UAS must give the same tag to every retransmission of the
    # same request, so the tag is a hash of fields that stay the same across them.
    seed = "\n".join((call_id, from_, cseq, via)).encode(errors="replace")
    return hashlib.blake2s(seed, digest_size=8).hexdigest()
