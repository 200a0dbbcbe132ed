"""SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966): parse, validate, build and serialise."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from trunkline.sip.errors import LocalProtocolError, RemoteProtocolError

SCHEMES = frozenset({"sip", "sips", "tel"})

# The character classes below are written out from the ABNF of RFC 3261 §25.1. Each
# alternative starts with a distinct character, so none of these patterns can backtrack
# more than once per character.
_ESCAPED = r"%[0-9A-Fa-f]{2}"
_UNRESERVED = r"A-Za-z0-9\-_.!~*'()"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_USER = re.compile(rf"(?:[{_UNRESERVED}&=+$,;?/]|{_ESCAPED})+")
_PASSWORD = re.compile(rf"(?:[{_UNRESERVED}&=+$,]|{_ESCAPED})*")
_PARAM = re.compile(rf"(?:[{_UNRESERVED}\[\]/:&+$]|{_ESCAPED})+")
_HNAME = re.compile(rf"(?:[{_UNRESERVED}\[\]/?:+$]|{_ESCAPED})+")
_HVALUE = re.compile(rf"(?:[{_UNRESERVED}\[\]/?:+$]|{_ESCAPED})*")
# RFC 3966 §3: global numbers are "+" and digits, local ones hex digits, "*" and "#", and
# both may carry the visual separators "-", ".", "(" and ")".
_TEL_NUMBER = re.compile(r"\+?[0-9A-Fa-f*#\-.()]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_IPV4 = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})")


_token_match = TOKEN.fullmatch


def is_token(text: str) -> bool:
    """Whether ``text`` is an RFC 3261 §25.1 ``token`` (method names, parameter names...)."""
    return _token_match(text) is not None


@lru_cache(maxsize=1024)
def is_valid_host(host: str) -> bool:
    """Whether ``host`` is a hostname, an IPv4 address or a bracketed IPv6 reference.

    Cached: a server talks to few hosts, and the same ones appear in every message.
    """
    if host.startswith("["):
        inner = host[1:-1]
        # RFC 3261 §25.1 IPv6reference has no zone index; a "%" would be an RFC 6874 extension.
        if not host.endswith("]") or not inner or "%" in inner:
            return False
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            return False
        return True
    if _HOSTNAME.fullmatch(host) is None:
        return False
    # A name whose last label is all digits cannot be a hostname (its toplabel must start
    # with a letter), so it has to be a dotted quad.
    if host.rstrip(".").rpartition(".")[2].isdigit():
        match = _IPV4.fullmatch(host)
        return match is not None and all(int(octet) <= 255 for octet in match.groups())
    return True


def parse_port(text: str) -> int | None:
    """The port number in ``text``, or ``None`` when it is not 1 to 5 digits up to 65535."""
    if not 0 < len(text) <= 5 or not text.isascii() or not text.isdigit():
        return None
    port = int(text)
    return port if port <= 65535 else None


class Params(Mapping[str, str | None]):
    """An immutable, ordered ``name -> value`` mapping whose names compare case-insensitively.

    ``None`` is the value of a flag parameter such as ``;lr``. Values are kept exactly as they
    were on the wire (a quoted-string keeps its quotes), because their case rules differ from
    one parameter to the next (RFC 3261 §7.3.1, §19.1.4). Equality ignores order.
    """

    __slots__ = ("_pairs", "_index")

    _pairs: tuple[tuple[str, str | None], ...]
    _index: dict[str, int]

    def __init__(
        self, pairs: Iterable[tuple[str, str | None]] | Mapping[str, str | None] = ()
    ) -> None:
        items = tuple(pairs.items() if isinstance(pairs, Mapping) else pairs)
        index = {name.lower(): position for position, (name, _) in enumerate(items)}
        if len(index) != len(items):
            # A repeated name: the first spelling and position stay, the last value wins.
            out: list[tuple[str, str | None]] = []
            index = {}
            for name, value in items:
                key = name.lower()
                position = index.get(key)
                if position is None:
                    index[key] = len(out)
                    out.append((name, value))
                else:
                    out[position] = (out[position][0], value)
            items = tuple(out)
        self._pairs = items
        self._index = index

    def __getitem__(self, name: str) -> str | None:
        return self._pairs[self._index[name.lower()]][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def _folded(self) -> dict[str, str | None]:
        return {name.lower(): value for name, value in self._pairs}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Params):
            return self._folded() == other._folded()
        if isinstance(other, Mapping):
            return self._folded() == Params(other)._folded()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._folded().items()))

    def __repr__(self) -> str:
        return f"Params({list(self._pairs)!r})"

    def pairs(self) -> tuple[tuple[str, str | None], ...]:
        """The ``(name, value)`` pairs in wire order, names as they were written."""
        return self._pairs

    def updated(self, pairs: Iterable[tuple[str, str | None]]) -> Params:
        """A copy where ``pairs`` replace same-named parameters in place or are appended."""
        return Params((*self._pairs, *pairs))

    def without(self, *names: str) -> Params:
        """A copy without the named parameters (absent names are ignored)."""
        drop = {name.lower() for name in names}
        return Params(pair for pair in self._pairs if pair[0].lower() not in drop)

    def serialize(self) -> str:
        """``;name=value;flag`` in order; empty for no parameters."""
        return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in self._pairs)


EMPTY_PARAMS = Params()


@dataclass(frozen=True, slots=True, kw_only=True)
class SipUri:
    """A ``sip:``, ``sips:`` or ``tel:`` URI.

    Components hold their wire form: percent-escapes are kept, not decoded, so a URI copied
    from one message to another (Contact to Request-URI, Record-Route to Route) is unchanged.
    A ``tel:`` URI keeps its telephone-subscriber number in ``user`` and has no host.
    Construction validates every component and raises :class:`LocalProtocolError`.
    """

    scheme: str = "sip"
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: Params = EMPTY_PARAMS
    headers: tuple[tuple[str, str], ...] = ()
    _text: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise LocalProtocolError(f"invalid {self.scheme}: URI: {problem}")

    def _problem(self) -> str | None:
        if self.scheme not in SCHEMES:
            return f"scheme must be one of {sorted(SCHEMES)}"
        if self.scheme == "tel":
            if self.user is None or _TEL_NUMBER.fullmatch(self.user) is None:
                return f"bad telephone number {self.user!r}"
            if self.host or self.port is not None or self.password is not None or self.headers:
                return "a tel: URI has only a number and parameters"
        else:
            if not is_valid_host(self.host):
                return f"bad host {self.host!r}"
            if self.user is not None and _USER.fullmatch(self.user) is None:
                return f"bad user {self.user!r}"
            if self.password is not None:
                if self.user is None:
                    return "a password needs a user"
                if _PASSWORD.fullmatch(self.password) is None:
                    return "bad password"
            if self.port is not None and (
                isinstance(self.port, bool) or not 0 <= self.port <= 65535
            ):
                return f"bad port {self.port!r}"
            for name, value in self.headers:
                if _HNAME.fullmatch(name) is None or _HVALUE.fullmatch(value) is None:
                    return f"bad header {name}={value}"
        for name, param in self.params.pairs():
            if _PARAM.fullmatch(name) is None or (
                param is not None and _PARAM.fullmatch(param) is None
            ):
                return f"bad parameter {name}={param}"
        return None

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self._render()
            # Frozen, so the rendered text can be kept: messages serialise the same URI often.
            object.__setattr__(self, "_text", text)
        return text

    def _render(self) -> str:
        if self.scheme == "tel":
            return f"tel:{self.user}{self.params.serialize()}"
        parts = [self.scheme, ":"]
        if self.user is not None:
            parts.append(self.user)
            if self.password is not None:
                parts += (":", self.password)
            parts.append("@")
        parts.append(self.host)
        if self.port is not None:
            parts += (":", str(self.port))
        parts.append(self.params.serialize())
        if self.headers:
            parts += ("?", "&".join(f"{n}={v}" for n, v in self.headers))
        return "".join(parts)

    @property
    def host_port(self) -> str:
        """``host`` or ``host:port`` as written in a Via sent-by or a Contact."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def transport(self) -> str | None:
        """The ``transport`` parameter, lower-cased (RFC 3261 §19.1.1), if present."""
        value = self.params.get("transport")
        return value.lower() if value is not None else None

    @property
    def is_secure(self) -> bool:
        return self.scheme == "sips"

    def with_params(self, **params: str | None) -> SipUri:
        """A copy with these parameters set (``None`` makes a flag such as ``lr``)."""
        return replace(self, params=self.params.updated(params.items()))

    def without_params(self, *names: str) -> SipUri:
        return replace(self, params=self.params.without(*names))


@lru_cache(maxsize=4096)
def parse_uri(text: str) -> SipUri:
    """Parse a URI; raise :class:`RemoteProtocolError` if it is malformed.

    A scheme other than sip, sips or tel raises with ``sip_status`` 416 (RFC 3261 §8.2.2.1:
    Unsupported URI Scheme). Results are cached: the same URI recurs in every message of a
    dialog, and :class:`SipUri` is immutable.
    """
    scheme, colon, rest = text.partition(":")
    if not colon or _SCHEME.fullmatch(scheme) is None:
        raise RemoteProtocolError(f"not a URI: {text!r}", reason="Bad URI")
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise RemoteProtocolError(
            f"unsupported URI scheme {scheme!r}", reason="Unsupported URI Scheme", sip_status=416
        )
    try:
        if scheme == "tel":
            number, *raw_params = rest.split(";")
            return SipUri(scheme="tel", user=number, params=_parse_params(raw_params, text))
        user = password = None
        if "@" in rest:
            # "@" is allowed nowhere else in a SIP URI unescaped (RFC 3261 §25.1), so the
            # first one ends the userinfo; a second one will fail the host check.
            userinfo, _, rest = rest.partition("@")
            user, colon, secret = userinfo.partition(":")
            password = secret if colon else None
        rest, question, raw_headers = rest.partition("?")
        hostport, *raw_params = rest.split(";")
        host, port = _split_hostport(hostport, text)
        headers: tuple[tuple[str, str], ...] = ()
        if question:
            headers = _parse_uri_headers(raw_headers, text)
        return SipUri(
            scheme=scheme,
            user=user,
            password=password,
            host=host,
            port=port,
            params=_parse_params(raw_params, text),
            headers=headers,
        )
    except LocalProtocolError as exc:
        raise RemoteProtocolError(f"bad URI {text!r}: {exc.message}", reason="Bad URI") from exc


def _split_hostport(hostport: str, text: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        end = hostport.find("]") + 1
        host, tail = hostport[:end], hostport[end:]
        if end == 0 or (tail and not tail.startswith(":")):
            raise RemoteProtocolError(f"bad IPv6 reference in {text!r}", reason="Bad URI")
        port_text = tail[1:] if tail else None
    else:
        host, colon, port_text = hostport.partition(":")
        if not colon:
            port_text = None
    if port_text is None:
        return host, None
    port = parse_port(port_text)
    if port is None:
        raise RemoteProtocolError(f"bad port in {text!r}", reason="Bad URI")
    return host, port


def _parse_params(raw: list[str], text: str) -> Params:
    pairs: list[tuple[str, str | None]] = []
    for piece in raw:
        name, equals, value = piece.partition("=")
        if not name:
            raise RemoteProtocolError(f"empty parameter in {text!r}", reason="Bad URI")
        pairs.append((name, value if equals else None))
    params = Params(pairs)
    if len(params) != len(pairs):
        # A mapping cannot hold both values, and picking one silently could route a call
        # differently from the element that wrote the URI.
        raise RemoteProtocolError(f"repeated parameter in {text!r}", reason="Bad URI")
    return params


def _parse_uri_headers(raw: str, text: str) -> tuple[tuple[str, str], ...]:
    headers = []
    for piece in raw.split("&"):
        name, equals, value = piece.partition("=")
        if not equals:
            raise RemoteProtocolError(f"bad URI header in {text!r}", reason="Bad URI")
        headers.append((name, value))
    return tuple(headers)
