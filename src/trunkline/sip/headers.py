"""SIP header fields: an ordered multimap, and parsers for Via, name-addr and CSeq values."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

from trunkline.sip.errors import LocalProtocolError, RemoteProtocolError
from trunkline.sip.uri import (
    EMPTY_PARAMS,
    TOKEN,
    Params,
    SipUri,
    is_token,
    is_valid_host,
    parse_port,
    parse_uri,
)

# RFC 3261 §7.3.3 and §20, RFC 3265 §7.2, RFC 3515 §2.1, RFC 3892 §3, RFC 4028 §4, and below.
COMPACT_FORMS: dict[str, str] = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
    "o": "event",
    "u": "allow-events",
    "r": "refer-to",
    "b": "referred-by",
    "x": "session-expires",
    # RFC 3841 (caller preferences) and RFC 8224 (Identity).
    "a": "accept-contact",
    "j": "reject-contact",
    "d": "request-disposition",
    "y": "identity",
}

_CANONICAL_NAMES = (
    "Accept Accept-Contact Accept-Encoding Accept-Language Alert-Info Allow Allow-Events "
    "Authentication-Info Authorization Call-ID Call-Info Contact Content-Disposition "
    "Content-Encoding Content-Language Content-Length Content-Type CSeq Date Diversion "
    "Error-Info Event Expires From History-Info Identity In-Reply-To Max-Forwards "
    "MIME-Version Min-Expires Min-SE Organization P-Asserted-Identity P-Preferred-Identity "
    "Path Priority Privacy Proxy-Authenticate Proxy-Authorization Proxy-Require RAck Reason "
    "Record-Route Refer-To Referred-By Reject-Contact Replaces Reply-To Request-Disposition "
    "Require Retry-After Route RSeq Server Service-Route Session-Expires Subject "
    "Subscription-State Supported Timestamp To Unsupported User-Agent Via Warning "
    "WWW-Authenticate"
).split()
CANONICAL_NAMES: dict[str, str] = {name.lower(): name for name in _CANONICAL_NAMES}

# Header fields whose grammar is a comma-separated list (RFC 3261 §7.3.1: such a field may be
# split over several lines, or several lines joined with commas, without changing meaning).
# Fields with commas inside one value are left out on purpose: the authentication fields
# (§20.7, §20.27, §20.28, §20.44: digest parameters are comma-separated), Date (§20.17),
# Retry-After (§20.33, comments), and every header we do not know.
LIST_HEADERS = frozenset(
    {
        "accept",
        "accept-contact",
        "accept-encoding",
        "accept-language",
        "alert-info",
        "allow",
        "allow-events",
        "call-info",
        "contact",
        "content-encoding",
        "content-language",
        "diversion",
        "error-info",
        "history-info",
        "in-reply-to",
        "p-asserted-identity",
        "p-preferred-identity",
        "path",
        "proxy-require",
        "reason",
        "record-route",
        "reject-contact",
        "require",
        "route",
        "service-route",
        "supported",
        "unsupported",
        "via",
        "warning",
    }
)

# Any control character but HTAB: a CR or LF inside a value would inject header lines.
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 3261 §25.1 gen-value = token / host / quoted-string. In a quoted-string any character but
# '"', '\\' and controls (LWS aside) stands for itself, and a backslash escapes the next one.
_param_value_match = re.compile(
    r"[A-Za-z0-9\-.!%*_+`'~\[\]:]+"
    r'|"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*"'
).fullmatch
_DISPLAY_WORD = r"[A-Za-z0-9\-.!%*_+`'~\u0080-\U0010ffff]+"
# RFC 3261 §25.1 display-name = *(token LWS); non-ASCII words are tolerated as well because
# real user agents send unquoted accented names.
_DISPLAY_TOKENS = re.compile(rf"{_DISPLAY_WORD}(?:[ \t]+{_DISPLAY_WORD})*")
# RFC 3261 §20.42 and §25.1: sent-protocol (SLASH = SWS "/" SWS), LWS, sent-by (COLON = SWS ":"
# SWS), then ";params", which are split and checked apart. The host alternatives are only a
# first cut; is_valid_host() has the last word.
_VIA = re.compile(
    r"[ \t]*(?i:SIP)[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+"
    r"(\[[0-9A-Fa-f:.]*\]|[A-Za-z0-9\-.]+)(?:[ \t]*:[ \t]*([0-9]+))?[ \t]*(;.*)?",
    re.DOTALL,
)
_CSEQ = re.compile(r"[ \t]*([0-9]{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*")


def _name_table() -> dict[str, tuple[str, str, bool]]:
    table: dict[str, tuple[str, str, bool]] = {}
    for key, canonical in CANONICAL_NAMES.items():
        for spelling in (canonical, key, canonical.upper()):
            table[spelling] = (key, canonical, key in LIST_HEADERS)
    for compact, key in COMPACT_FORMS.items():
        for spelling in (compact, compact.upper()):
            table[spelling] = (key, CANONICAL_NAMES[key], key in LIST_HEADERS)
    return table


# Exact spellings -> (key, canonical name, is list-valued), prefilled with the usual ones so
# that reading a header line costs one dictionary lookup. Read-only; unknown names are never
# added, so that a peer cannot grow it.
NAME_INFO = _name_table()


def name_info(name: str) -> tuple[str, str, bool] | None:
    """``(key, canonical name, is list-valued)`` for a header name; ``None`` if not a token.

    ``key`` is the lower-case full name that lookups compare; an unknown name keeps its own
    spelling as canonical name.
    """
    info = NAME_INFO.get(name)
    if info is not None:
        return info
    lower = name.lower()
    key = COMPACT_FORMS.get(lower, lower)
    canonical = CANONICAL_NAMES.get(key)
    if canonical is None:
        if not is_token(name):
            return None
        canonical = name
    return key, canonical, key in LIST_HEADERS


_TRANSPORTS = frozenset({"UDP", "TCP", "TLS", "SCTP", "WS", "WSS"})
_token_match = TOKEN.fullmatch


def header_key(name: str) -> str:
    """The lower-case full name used to compare header names (compact forms expanded)."""
    lower = name.lower()
    return COMPACT_FORMS.get(lower, lower)


def canonical_name(name: str) -> str:
    """``call-id`` -> ``Call-ID``, ``v`` -> ``Via``; unknown names come back unchanged."""
    lower = name.lower()
    lower = COMPACT_FORMS.get(lower, lower)
    return CANONICAL_NAMES.get(lower, name)


def split_outside_quotes(value: str, separator: str) -> list[str]:
    """Split ``value`` at ``separator`` except inside quoted-strings and ``<...>``.

    RFC 3261 §7.3.1 lets a comma or semicolon appear inside a quoted display name or a
    bracketed URI; those must not split. An unterminated quote swallows the rest, and the
    structured parser reports it.
    """
    if '"' not in value and "<" not in value:
        return value.split(separator)
    parts: list[str] = []
    start = 0
    in_quote = in_angle = escaped = False
    for index, char in enumerate(value):
        if in_quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_quote = False
        elif char == '"':
            in_quote = True
        elif char == "<":
            in_angle = True
        elif char == ">":
            in_angle = False
        elif char == separator and not in_angle:
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return parts


def split_list(value: str) -> list[str]:
    """The elements of a comma-separated header value, stripped, empty elements dropped.

    A value with no element at all stays as one empty value, so the field is not lost.
    """
    if "," not in value:
        return [value]
    if '"' in value or "<" in value:
        items = [part.strip(" \t") for part in split_outside_quotes(value, ",")]
    else:
        items = [part.strip(" \t") for part in value.split(",")]
    if "" in items:
        items = [item for item in items if item] or [""]
    return items


class Headers:
    """Ordered multimap of header fields with case-insensitive names.

    Each entry is one *value*: a list-valued field received as ``Via: a, b`` is held as two
    values and written back as two lines, which RFC 3261 §7.3.1 makes equivalent. Names are
    stored in canonical form (``Call-ID``, ``CSeq``) when known, compact forms expanded;
    lookups accept any case and the compact forms. Values are raw strings; the structured
    parsers below read them on demand.
    """

    __slots__ = ("_entries",)

    _entries: list[tuple[str, str, str]]  # (key, name, value)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._entries = []
        for name, value in items:
            self.add(name, value)

    @classmethod
    def _trusted(cls, entries: list[tuple[str, str, str]]) -> Headers:
        # The parser has already validated and canonicalised these entries.
        headers = cls.__new__(cls)
        headers._entries = entries
        return headers

    @staticmethod
    def _checked(name: str, value: str) -> tuple[str, str, str]:
        info = name_info(name)
        if info is None:
            raise LocalProtocolError(f"invalid header name {name!r}")
        key, canonical, _ = info
        if _BAD_VALUE.search(value) is not None:
            raise LocalProtocolError(f"control character in {canonical} value {value!r}")
        return key, canonical, value.strip(" \t")

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        key = header_key(name)
        for entry_key, _, value in self._entries:
            if entry_key == key:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in order (empty if absent)."""
        key = header_key(name)
        return [value for entry_key, _, value in self._entries if entry_key == key]

    def count(self, name: str) -> int:
        key = header_key(name)
        return sum(1 for entry_key, _, _ in self._entries if entry_key == key)

    def add(self, name: str, value: str) -> None:
        """Append one value (not split at commas); raise :class:`LocalProtocolError` if invalid."""
        self._entries.append(self._checked(name, value))

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` by ``value``, where the first one was (else append)."""
        entry = self._checked(name, value)
        key = entry[0]
        out: list[tuple[str, str, str]] = []
        placed = False
        for existing in self._entries:
            if existing[0] != key:
                out.append(existing)
            elif not placed:
                out.append(entry)
                placed = True
        if not placed:
            out.append(entry)
        self._entries = out

    def remove(self, name: str) -> int:
        """Remove every value of ``name``; return how many there were."""
        key = header_key(name)
        before = len(self._entries)
        self._entries = [entry for entry in self._entries if entry[0] != key]
        return before - len(self._entries)

    def subset(self, names: Iterable[str]) -> Headers:
        """A new Headers with the values of ``names``, grouped in that order (values in order)."""
        entries: list[tuple[str, str, str]] = []
        for name in names:
            key = header_key(name)
            entries += [entry for entry in self._entries if entry[0] == key]
        return Headers._trusted(entries)

    def by_name(self) -> dict[str, list[str]]:
        """Values grouped by lower-case full name, in one pass (for validating a message)."""
        grouped: dict[str, list[str]] = {}
        for key, _, value in self._entries:
            values = grouped.get(key)
            if values is None:
                grouped[key] = [value]
            else:
                values.append(value)
        return grouped

    def items(self) -> list[tuple[str, str]]:
        """``(name, value)`` for every value, in order."""
        return [(name, value) for _, name, value in self._entries]

    def copy(self) -> Headers:
        return Headers._trusted(list(self._entries))

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items())

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = header_key(name)
        return any(entry[0] == key for entry in self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return [(k, v) for k, _, v in self._entries] == [(k, v) for k, _, v in other._entries]

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"


# -- quoted strings and header parameters ---------------------------------------------------


def _quoted_end(text: str, start: int) -> int:
    """Index just past the quoted-string opening at ``text[start]``, or -1 if unterminated."""
    index = start + 1
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            return index + 1
        index += 1
    return -1


def _unquote(inner: str) -> str:
    """Undo RFC 3261 §25.1 quoted-pair escapes inside a quoted-string."""
    if "\\" not in inner:
        return inner
    out: list[str] = []
    chars = iter(inner)
    for char in chars:
        out.append(next(chars, "") if char == "\\" else char)
    return "".join(out)


def quote(text: str) -> str:
    """``text`` as a quoted-string, escaping ``"`` and ``\\`` (RFC 3261 §25.1 quoted-pair)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _params_problem(params: Params) -> str | None:
    for name, value in params.pairs():
        if _token_match(name) is None:
            return f"bad parameter name {name!r}"
        if value is not None and _param_value_match(value) is None:
            return f"bad value for parameter {name!r}: {value!r}"
    return None


def _header_params(pieces: list[str], what: str) -> Params:
    """Parse ``name [= value]`` pieces; RFC 3261 §25.1 SEMI and EQUAL allow whitespace."""
    pairs: list[tuple[str, str | None]] = []
    for piece in pieces:
        name, equals, value = piece.partition("=")
        name = name.strip(" \t")
        if not name:
            raise RemoteProtocolError(f"empty parameter in {what}", reason=f"Bad {what}")
        pairs.append((name, value.strip(" \t") if equals else None))
    params = Params(pairs)
    if len(params) != len(pairs):
        raise RemoteProtocolError(f"repeated parameter in {what}", reason=f"Bad {what}")
    return params


# -- Via ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Via:
    """One Via value (RFC 3261 §20.42): ``SIP/2.0/UDP host:port;branch=...``."""

    transport: str
    host: str
    port: int | None = None
    params: Params = EMPTY_PARAMS

    def __post_init__(self) -> None:
        problem = None
        if self.transport not in _TRANSPORTS and not is_token(self.transport):
            problem = f"bad transport {self.transport!r}"
        elif not is_valid_host(self.host):
            problem = f"bad host {self.host!r}"
        elif self.port is not None and (isinstance(self.port, bool) or not 0 <= self.port <= 65535):
            problem = f"bad port {self.port!r}"
        else:
            problem = _params_problem(self.params)
        if problem is not None:
            raise LocalProtocolError(f"invalid Via: {problem}")

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def has_rport(self) -> bool:
        """Whether ``rport`` is present, as a flag (RFC 3581 §3 request) or with a value."""
        return "rport" in self.params

    @property
    def rport(self) -> int | None:
        """The port filled in by the server (RFC 3581 §4), ``None`` if absent or a bare flag."""
        value = self.params.get("rport")
        return parse_port(value) if value is not None else None

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")

    def with_params(self, **params: str | None) -> Via:
        """A copy with these parameters set, e.g. ``received=`` and ``rport=`` (RFC 3581 §4)."""
        return replace(self, params=self.params.updated(params.items()))

    def serialize(self) -> str:
        return f"SIP/2.0/{self.transport} {self.sent_by}{self.params.serialize()}"

    __str__ = serialize


@lru_cache(maxsize=4096)
def parse_via(text: str) -> Via:
    """Parse one Via value (not a comma-separated list); raise :class:`RemoteProtocolError`.

    Cached by value: the same header recurs across a dialog, and the result is immutable.
    """
    match = _VIA.fullmatch(text)
    if match is None:
        raise RemoteProtocolError(f"bad Via {text!r}", reason="Bad Via")
    transport, host, port_text, params = match.groups()
    port = None
    if port_text is not None:
        port = parse_port(port_text)
        if port is None:
            raise RemoteProtocolError(f"bad sent-by port in Via {text!r}", reason="Bad Via")
    pieces = split_outside_quotes(params, ";")[1:] if params else []
    try:
        return Via(
            transport=transport.upper(),
            host=host,
            port=port,
            params=_header_params(pieces, "Via"),
        )
    except LocalProtocolError as exc:
        raise RemoteProtocolError(f"bad Via {text!r}: {exc.message}", reason="Bad Via") from exc


# -- name-addr / addr-spec (From, To, Contact, Route, Record-Route, ...) ---------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NameAddress:
    """A From, To, Contact, Route or Record-Route value: display name, URI, header parameters."""

    display_name: str | None = None
    uri: SipUri
    params: Params = EMPTY_PARAMS

    def __post_init__(self) -> None:
        problem = _params_problem(self.params)
        if self.display_name is not None and _BAD_VALUE.search(self.display_name):
            problem = "control character in display name"
        if problem is not None:
            raise LocalProtocolError(f"invalid name-addr: {problem}")

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def with_tag(self, tag: str) -> NameAddress:
        return self.with_params(tag=tag)

    def with_params(self, **params: str | None) -> NameAddress:
        return replace(self, params=self.params.updated(params.items()))

    def serialize(self) -> str:
        """Always the ``<...>`` form, so URI parameters never read as header parameters."""
        display = "" if self.display_name is None else quote(self.display_name) + " "
        return f"{display}<{self.uri}>{self.params.serialize()}"

    __str__ = serialize


@lru_cache(maxsize=4096)
def parse_name_address(text: str) -> NameAddress:
    """Parse a name-addr or addr-spec value; raise :class:`RemoteProtocolError` if malformed.

    Cached by value: the same header recurs across a dialog, and the result is immutable.
    """
    value = text.strip(" \t")
    display: str | None = None
    if value.startswith('"'):
        end = _quoted_end(value, 0)
        if end < 0:
            raise RemoteProtocolError(f"unterminated quote in {text!r}", reason="Bad Address")
        display = _unquote(value[1 : end - 1])
        rest = value[end:].lstrip(" \t")
        if not rest.startswith("<"):
            raise RemoteProtocolError(f"no <URI> after display name {text!r}", reason="Bad Address")
    else:
        less = value.find("<")
        first_quote = value.find('"')
        # A "<" inside a quoted parameter value of an addr-spec does not open a name-addr.
        if less < 0 or 0 <= first_quote < less:
            return _parse_addr_spec(value, text)
        words = value[:less].strip(" \t")
        if words:
            if _DISPLAY_TOKENS.fullmatch(words) is None:
                raise RemoteProtocolError(f"bad display name in {text!r}", reason="Bad Address")
            display = words
        rest = value[less:]
    greater = rest.find(">")
    if greater < 0:
        raise RemoteProtocolError(f"unterminated <URI> in {text!r}", reason="Bad Address")
    uri = parse_uri(rest[1:greater])
    junk, *pieces = split_outside_quotes(rest[greater + 1 :], ";")
    if junk.strip(" \t"):
        raise RemoteProtocolError(f"text after <URI> in {text!r}", reason="Bad Address")
    return _name_address(display, uri, pieces, text)


def _parse_addr_spec(value: str, text: str) -> NameAddress:
    # RFC 3261 §20.10: without <>, every ";param" belongs to the header field, not the URI.
    uri_text, *pieces = split_outside_quotes(value, ";")
    return _name_address(None, parse_uri(uri_text.strip(" \t")), pieces, text)


def _name_address(display: str | None, uri: SipUri, pieces: list[str], text: str) -> NameAddress:
    try:
        return NameAddress(display_name=display, uri=uri, params=_header_params(pieces, "Address"))
    except LocalProtocolError as exc:
        raise RemoteProtocolError(f"bad {text!r}: {exc.message}", reason="Bad Address") from exc


# -- CSeq ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CSeq:
    """RFC 3261 §20.16: sequence number and method."""

    number: int
    method: str

    def __post_init__(self) -> None:
        # RFC 3261 §8.1.1.5: the number MUST be less than 2**31.
        if isinstance(self.number, bool) or not 0 <= self.number < 2**31:
            raise LocalProtocolError(f"CSeq number out of range: {self.number!r}")
        if not is_token(self.method):
            raise LocalProtocolError(f"invalid CSeq method {self.method!r}")

    def serialize(self) -> str:
        return f"{self.number} {self.method}"

    __str__ = serialize


@lru_cache(maxsize=1024)
def parse_cseq(text: str) -> CSeq:
    """Parse a CSeq value; raise :class:`RemoteProtocolError` if malformed.

    Cached by value: the same header recurs across a dialog, and the result is immutable.
    """
    match = _CSEQ.fullmatch(text)
    if match is None or int(match[1]) >= 2**31:
        raise RemoteProtocolError(f"bad CSeq {text!r}", reason="Bad CSeq")
    return CSeq(int(match[1]), match[2])


def serialize_via(via: Via) -> str:
    return via.serialize()


def serialize_name_address(address: NameAddress) -> str:
    return address.serialize()


def serialize_cseq(cseq: CSeq) -> str:
    return cseq.serialize()
