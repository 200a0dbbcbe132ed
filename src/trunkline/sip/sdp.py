"""Session descriptions (RFC 8866) as plain values, and the RFC 3264 offer/answer rules that
Trunkline applies to G.711 audio with RFC 4733 telephone-events."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from trunkline.domain.errors import TrunklineError

__all__ = [
    "Answer",
    "Attribute",
    "Bandwidth",
    "Connection",
    "Direction",
    "MediaDescription",
    "NegotiatedMedia",
    "NoCommonCodecError",
    "Origin",
    "RtcpAddress",
    "RtpMap",
    "SdpError",
    "SessionDescription",
    "Timing",
    "build_offer",
    "codec_of",
    "negotiate_answer",
    "read_answer",
    "with_direction",
]

CRLF = "\r\n"


class SdpError(TrunklineError):
    """A body that is not a valid session description, or an answer that breaks RFC 3264.

    The SIP layer answers it with ``sip_status`` (400 Bad Request).
    """

    error_id = "sdp_malformed"
    status = 400
    sip_status: ClassVar[int] = 400


class NoCommonCodecError(TrunklineError):
    """A well-formed description with no audio stream Trunkline can take part in."""

    error_id = "sdp_not_acceptable"
    status = 400
    # RFC 3261 §21.4.26: 488 Not Acceptable Here, ideally with a Warning header.
    sip_status: ClassVar[int] = 488


class Direction(StrEnum):
    """RFC 3264 §5.1 / RFC 8866 §6.7 media direction, always from the describer's view."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def of(cls, *, sends: bool, receives: bool) -> Direction:
        if sends:
            return cls.SENDRECV if receives else cls.SENDONLY
        return cls.RECVONLY if receives else cls.INACTIVE

    def mirrored(self) -> Direction:
        """The direction the other side sees: what one sends, the other receives."""
        return Direction.of(sends=self.receives, receives=self.sends)


_DIRECTIONS = frozenset(d.value for d in Direction)

# RFC 3551 §6 table 4: static audio payload types that may appear without a=rtpmap.
# G722 is 8000 on purpose: RFC 3551 §4.5.2 keeps the historical (wrong) clock rate.
_STATIC_AUDIO: dict[int, tuple[str, int]] = {
    0: ("PCMU", 8000),
    3: ("GSM", 8000),
    4: ("G723", 8000),
    8: ("PCMA", 8000),
    9: ("G722", 8000),
    13: ("CN", 8000),
    18: ("G729", 8000),
}
# The codecs Trunkline's media path can encode, with their static payload types.
_G711: dict[str, int] = {"PCMU": 0, "PCMA": 8}
_TELEPHONE_EVENT = "telephone-event"
_TELEPHONE_EVENTS_WE_RECEIVE = "0-16"  # RFC 4733 §3.2: DTMF 0-9 * # A-D and flash

# RFC 8866 §5 order; the letters allowed besides the fields held in named attributes.
_SESSION_EXTRA_SLOTS = ("i", "u", "e", "p")  # between s= and c=
_SESSION_TAIL_SLOTS = ("z", "k")  # between the t=/r= block and a=
_MEDIA_EXTRA_SLOTS = ("i",)  # between m= and c=
_MEDIA_TAIL_SLOTS = ("k",)  # between b= and a=


@dataclass(frozen=True, slots=True)
class Origin:
    """``o=`` (RFC 8866 §5.2); the version goes up with every new offer (RFC 3264 §8)."""

    username: str
    session_id: int
    session_version: int
    nettype: str = "IN"
    addrtype: str = "IP4"
    address: str = "0.0.0.0"

    def serialize(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(frozen=True, slots=True)
class Connection:
    """``c=`` (RFC 8866 §5.7); ``address`` keeps any multicast ``/ttl/count`` suffix."""

    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"

    @property
    def host(self) -> str:
        return self.address.split("/", 1)[0]

    @property
    def is_null(self) -> bool:
        # RFC 3264 §8.4: RFC 2543 put a call on hold with c=0.0.0.0; peers still send it.
        return self.host == "0.0.0.0"

    def serialize(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class Bandwidth:
    """``b=<type>:<kbps>`` (RFC 8866 §5.8)."""

    type: str
    value: int

    def serialize(self) -> str:
        return f"{self.type}:{self.value}"


@dataclass(frozen=True, slots=True)
class Timing:
    """``t=`` with its ``r=`` lines kept verbatim (RFC 8866 §5.9, §5.10)."""

    start: int = 0
    stop: int = 0
    repeats: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Attribute:
    """``a=name`` (property) or ``a=name:value``; the value is kept exactly as received."""

    name: str
    value: str | None = None

    def serialize(self) -> str:
        return self.name if self.value is None else f"{self.name}:{self.value}"


@dataclass(frozen=True, slots=True)
class RtpMap:
    """``a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`` (RFC 8866 §6.6)."""

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None

    def serialize(self) -> str:
        tail = "" if self.channels is None else f"/{self.channels}"
        return f"{self.payload_type} {self.encoding}/{self.clock_rate}{tail}"


@dataclass(frozen=True, slots=True)
class RtcpAddress:
    """``a=rtcp:<port> [IN IP4 <address>]`` (RFC 3605 §2.1)."""

    port: int
    address: str | None = None


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """One ``m=`` section with its ``c=``, ``b=`` and ``a=`` lines in their original order."""

    media: str
    port: int
    protocol: str
    formats: tuple[str, ...]
    port_count: int | None = None
    connection: Connection | None = None
    bandwidths: tuple[Bandwidth, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    # i= and k= lines as (letter, value), written back in their RFC 8866 slots.
    extra_lines: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str | bytes) -> MediaDescription:
        """Parse one media section that starts with its ``m=`` line."""
        lines = _split_lines(text)
        if not lines or lines[0][1] != "m":
            raise SdpError("a media section must start with m=")
        return _parse_media(lines)

    def serialize(self) -> str:
        return "".join(f"{kind}={value}{CRLF}" for kind, value in self._lines())

    def __str__(self) -> str:
        return self.serialize()

    def __bytes__(self) -> bytes:
        return self.serialize().encode("utf-8")

    def _lines(self) -> Iterator[tuple[str, str]]:
        port = str(self.port) if self.port_count is None else f"{self.port}/{self.port_count}"
        yield "m", " ".join((self.media, port, self.protocol, *self.formats))
        yield from _slotted(self.extra_lines, _MEDIA_EXTRA_SLOTS)
        if self.connection is not None:
            yield "c", self.connection.serialize()
        for bandwidth in self.bandwidths:
            yield "b", bandwidth.serialize()
        yield from _slotted(self.extra_lines, _MEDIA_TAIL_SLOTS)
        for attribute in self.attributes:
            yield "a", attribute.serialize()

    def values(self, name: str) -> list[str | None]:
        """Values of every attribute called ``name``, in order."""
        return [a.value for a in self.attributes if a.name == name]

    @property
    def rtpmaps(self) -> dict[int, RtpMap]:
        out: dict[int, RtpMap] = {}
        for value in self.values("rtpmap"):
            rtpmap = _parse_rtpmap(value)
            out.setdefault(rtpmap.payload_type, rtpmap)
        return out

    @property
    def fmtps(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for value in self.values("fmtp"):
            fmt, params = _parse_fmtp(value)
            out.setdefault(fmt, params)
        return out

    @property
    def ptime(self) -> float | None:
        return _last_number(self.values("ptime"), "ptime")

    @property
    def maxptime(self) -> float | None:
        return _last_number(self.values("maxptime"), "maxptime")

    @property
    def direction(self) -> Direction | None:
        """The media-level direction attribute, if any (the last one wins)."""
        return _direction_of(self.attributes)

    @property
    def rtcp(self) -> RtcpAddress | None:
        found = self.values("rtcp")
        return _parse_rtcp(found[-1]) if found else None


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A whole SDP body; :meth:`parse` is lenient on line ends, strict on v=, o=, s=, t=."""

    origin: Origin
    session_name: str = "-"
    connection: Connection | None = None
    bandwidths: tuple[Bandwidth, ...] = ()
    timing: tuple[Timing, ...] = (Timing(),)
    attributes: tuple[Attribute, ...] = ()
    media: tuple[MediaDescription, ...] = ()
    # i=, u=, e=, p=, z=, k= lines as (letter, value), written back in their RFC 8866 slots.
    extra_lines: tuple[tuple[str, str], ...] = ()
    version: int = 0

    @classmethod
    def parse(cls, text: str | bytes) -> SessionDescription:
        return _parse_session(_split_lines(text))

    def serialize(self) -> str:
        return "".join(f"{kind}={value}{CRLF}" for kind, value in self._lines())

    def __str__(self) -> str:
        return self.serialize()

    def __bytes__(self) -> bytes:
        return self.serialize().encode("utf-8")

    def _lines(self) -> Iterator[tuple[str, str]]:
        yield "v", str(self.version)
        yield "o", self.origin.serialize()
        # RFC 8866 §5.3: s= must not be empty; a single space is one recommended filler, and
        # the parser strips it back to "" so an empty name survives a round trip.
        yield "s", self.session_name or " "
        yield from _slotted(self.extra_lines, _SESSION_EXTRA_SLOTS)
        if self.connection is not None:
            yield "c", self.connection.serialize()
        for bandwidth in self.bandwidths:
            yield "b", bandwidth.serialize()
        for timing in self.timing:
            yield "t", f"{timing.start} {timing.stop}"
            for repeat in timing.repeats:
                yield "r", repeat
        yield from _slotted(self.extra_lines, _SESSION_TAIL_SLOTS)
        for attribute in self.attributes:
            yield "a", attribute.serialize()
        for media in self.media:
            yield from media._lines()

    @property
    def direction(self) -> Direction | None:
        """The session-level direction attribute, if any."""
        return _direction_of(self.attributes)

    def media_direction(self, media: MediaDescription) -> Direction:
        """RFC 8866 §6.7: media level overrides session level; sendrecv is the default."""
        return media.direction or self.direction or Direction.SENDRECV

    def media_connection(self, media: MediaDescription) -> Connection | None:
        """RFC 8866 §5.7: a media-level c= overrides the session-level one."""
        return media.connection or self.connection


@dataclass(frozen=True, slots=True, kw_only=True)
class NegotiatedMedia:
    """What the RTP path needs once offer and answer agree; ``direction`` is Trunkline's."""

    media_index: int
    remote_address: str
    remote_port: int
    remote_rtcp_address: str
    remote_rtcp_port: int
    codec: str
    payload_type: int
    clock_rate: int
    telephone_event_pt: int | None
    direction: Direction
    remote_hold: bool
    remote_ptime: float | None


@dataclass(frozen=True, slots=True)
class Answer:
    sdp: SessionDescription
    media: NegotiatedMedia


# --- parsing ---------------------------------------------------------------------------------


def _split_lines(text: str | bytes) -> list[tuple[int, str, str]]:
    """(line number, type letter, value) for every non-blank line."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            # RFC 8866 §5: the default character set is UTF-8 (a=charset is not supported).
            raise SdpError("SDP body is not valid UTF-8") from exc
    out: list[tuple[int, str, str]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        # Lenient: LF-only ends, trailing blanks and blank lines are accepted (RFC 8866 §5
        # asks for CRLF but also that parsers accept a bare LF).
        line = raw.rstrip(" \t\r")
        if not line:
            continue
        if "\r" in line or "\0" in line:
            raise SdpError("CR or NUL inside an SDP line", details={"line": number})
        if len(line) < 2 or line[1] != "=" or not ("a" <= line[0] <= "z"):
            raise SdpError("SDP line is not <letter>=<value>", details={"line": number})
        out.append((number, line[0], line[2:]))
    return out


def _fail(message: str, number: int) -> SdpError:
    return SdpError(message, details={"line": number})


def _uint(text: str, what: str, number: int, *, limit: int | None = None) -> int:
    # str.isdigit() also accepts non-ASCII digits that int() would quietly convert.
    if not (text.isascii() and text.isdigit()):
        raise _fail(f"{what} is not a non-negative integer: {text!r}", number)
    value = int(text)
    if limit is not None and value > limit:
        raise _fail(f"{what} is out of range: {value}", number)
    return value


def _parse_session(lines: list[tuple[int, str, str]]) -> SessionDescription:
    if not lines or lines[0][1] != "v":
        raise SdpError("SDP must start with v= (RFC 8866 §5)")
    number, _, value = lines[0]
    version = _uint(value, "v=", number)
    if version != 0:
        raise _fail(f"unsupported SDP version {version}", number)
    first_media = next((i for i, line in enumerate(lines) if line[1] == "m"), len(lines))

    origin: Origin | None = None
    session_name: str | None = None
    connection: Connection | None = None
    bandwidths: list[Bandwidth] = []
    timing: list[Timing] = []
    attributes: list[Attribute] = []
    extra: list[tuple[str, str]] = []
    for number, kind, value in lines[1:first_media]:
        if kind == "o":
            if origin is not None:
                raise _fail("more than one o= line", number)
            origin = _parse_origin(value, number)
        elif kind == "s":
            if session_name is not None:
                raise _fail("more than one s= line", number)
            session_name = value
        elif kind == "c":
            if connection is not None:
                raise _fail("more than one session-level c= line", number)
            connection = _parse_connection(value, number)
        elif kind == "b":
            bandwidths.append(_parse_bandwidth(value, number))
        elif kind == "t":
            timing.append(_parse_timing(value, number))
        elif kind == "r":
            if not timing:
                raise _fail("r= before any t=", number)
            last = timing[-1]
            timing[-1] = dataclasses.replace(last, repeats=(*last.repeats, value))
        elif kind == "a":
            attributes.append(_parse_attribute(value, number))
        elif kind in _SESSION_EXTRA_SLOTS or kind in _SESSION_TAIL_SLOTS:
            extra.append((kind, value))
        else:
            # RFC 8866 §5: a description with a type letter we do not know is ignored or
            # rejected as a whole; we reject it.
            raise _fail(f"unexpected {kind}= line at session level", number)
    if origin is None:
        raise SdpError("SDP has no o= line (RFC 8866 §5.2)")
    if session_name is None:
        raise SdpError("SDP has no s= line (RFC 8866 §5.3)")
    if not timing:
        raise SdpError("SDP has no t= line (RFC 8866 §5.9)")

    media: list[MediaDescription] = []
    start = first_media
    while start < len(lines):
        end = next((i for i in range(start + 1, len(lines)) if lines[i][1] == "m"), len(lines))
        media.append(_parse_media(lines[start:end]))
        start = end
    return SessionDescription(
        version=version,
        origin=origin,
        session_name=session_name,
        connection=connection,
        bandwidths=tuple(bandwidths),
        timing=tuple(timing),
        attributes=tuple(attributes),
        media=tuple(media),
        extra_lines=tuple(extra),
    )


def _parse_media(lines: list[tuple[int, str, str]]) -> MediaDescription:
    number, _, value = lines[0]
    parts = value.split()
    if len(parts) < 4:
        raise _fail("m= needs media, port, protocol and at least one format", number)
    media, port_text, protocol, *formats = parts
    port_text, slash, count_text = port_text.partition("/")
    port = _uint(port_text, "m= port", number, limit=65535)
    port_count = _uint(count_text, "m= port count", number) if slash else None
    if protocol.upper().startswith("RTP/"):
        # RFC 3550 §5.1: an RTP payload type is a 7-bit number.
        for fmt in formats:
            _uint(fmt, "RTP payload type", number, limit=127)

    connection: Connection | None = None
    bandwidths: list[Bandwidth] = []
    attributes: list[Attribute] = []
    extra: list[tuple[str, str]] = []
    for number, kind, value in lines[1:]:
        if kind == "c":
            if connection is not None:
                # RFC 8866 allows several for layered multicast; unicast telephony never does.
                raise _fail("more than one c= line in a media section", number)
            connection = _parse_connection(value, number)
        elif kind == "b":
            bandwidths.append(_parse_bandwidth(value, number))
        elif kind == "a":
            attributes.append(_parse_attribute(value, number))
        elif kind in _MEDIA_EXTRA_SLOTS or kind in _MEDIA_TAIL_SLOTS:
            extra.append((kind, value))
        else:
            raise _fail(f"unexpected {kind}= line in a media section", number)
    return MediaDescription(
        media=media,
        port=port,
        port_count=port_count,
        protocol=protocol,
        formats=tuple(formats),
        connection=connection,
        bandwidths=tuple(bandwidths),
        attributes=tuple(attributes),
        extra_lines=tuple(extra),
    )


def _parse_origin(value: str, number: int) -> Origin:
    parts = value.split()
    if len(parts) != 6:
        raise _fail("o= needs six fields (RFC 8866 §5.2)", number)
    username, session_id, session_version, nettype, addrtype, address = parts
    return Origin(
        username=username,
        session_id=_uint(session_id, "o= session id", number),
        session_version=_uint(session_version, "o= session version", number),
        nettype=nettype,
        addrtype=addrtype,
        address=address,
    )


def _parse_connection(value: str, number: int) -> Connection:
    parts = value.split()
    if len(parts) != 3:
        raise _fail("c= needs nettype, addrtype and address (RFC 8866 §5.7)", number)
    nettype, addrtype, address = parts
    return Connection(nettype=nettype, addrtype=addrtype, address=address)


def _parse_bandwidth(value: str, number: int) -> Bandwidth:
    kind, colon, amount = value.partition(":")
    if not colon or not kind or " " in kind:
        raise _fail("b= must be <type>:<bandwidth>", number)
    return Bandwidth(type=kind, value=_uint(amount, "b= bandwidth", number))


def _parse_timing(value: str, number: int) -> Timing:
    parts = value.split()
    if len(parts) != 2:
        raise _fail("t= needs start and stop times", number)
    return Timing(
        start=_uint(parts[0], "t= start", number), stop=_uint(parts[1], "t= stop", number)
    )


def _parse_attribute(value: str, number: int) -> Attribute:
    name, colon, rest = value.partition(":")
    if not name or " " in name:
        raise _fail(f"bad attribute name in a={value}", number)
    attribute = Attribute(name=name, value=rest if colon else None)
    # Check the attributes we interpret now, so the accessors never fail later.
    try:
        if name == "rtpmap":
            _parse_rtpmap(attribute.value)
        elif name == "fmtp":
            _parse_fmtp(attribute.value)
        elif name == "rtcp":
            _parse_rtcp(attribute.value)
        elif name in ("ptime", "maxptime"):
            _last_number([attribute.value], name)
        elif name in _DIRECTIONS and attribute.value is not None:
            raise SdpError(f"a={name} takes no value")
    except SdpError as exc:
        raise _fail(exc.message, number) from exc
    return attribute


def _parse_rtpmap(value: str | None) -> RtpMap:
    pt_text, _, rest = (value or "").partition(" ")
    parts = rest.strip().split("/")
    if not pt_text or len(parts) not in (2, 3) or not parts[0]:
        raise SdpError(f"malformed a=rtpmap:{value}")
    payload_type = _uint(pt_text, "rtpmap payload type", 0, limit=127)
    clock_rate = _uint(parts[1], "rtpmap clock rate", 0)
    channels = _uint(parts[2], "rtpmap channels", 0) if len(parts) == 3 else None
    return RtpMap(payload_type, parts[0], clock_rate, channels)


def _parse_fmtp(value: str | None) -> tuple[str, str]:
    fmt, _, params = (value or "").partition(" ")
    if not fmt:
        raise SdpError(f"malformed a=fmtp:{value}")
    return fmt, params.strip()


def _parse_rtcp(value: str | None) -> RtcpAddress:
    parts = (value or "").split()
    if len(parts) not in (1, 4):
        raise SdpError(f"malformed a=rtcp:{value} (RFC 3605 §2.1)")
    port = _uint(parts[0], "rtcp port", 0, limit=65535)
    return RtcpAddress(port=port, address=parts[3] if len(parts) == 4 else None)


def _last_number(values: Sequence[str | None], name: str) -> float | None:
    if not values:
        return None
    text = values[-1] or ""
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    # RFC 8866 §6.4: a positive number of milliseconds, possibly with a fraction.
    if not (text.isascii() and number > 0 and number < float("inf")):
        raise SdpError(f"malformed a={name}:{text}")
    return number


def _direction_of(attributes: Iterable[Attribute]) -> Direction | None:
    found: Direction | None = None
    for attribute in attributes:
        if attribute.name in _DIRECTIONS:
            found = Direction(attribute.name)
    return found


def _slotted(extra: Iterable[tuple[str, str]], slots: Sequence[str]) -> Iterator[tuple[str, str]]:
    for slot in slots:
        yield from ((kind, value) for kind, value in extra if kind == slot)


# --- offer / answer --------------------------------------------------------------------------


def codec_of(media: MediaDescription, payload_type: int) -> RtpMap | None:
    """The codec behind a payload type: its rtpmap, else RFC 3551's static table."""
    rtpmap = media.rtpmaps.get(payload_type)
    if rtpmap is not None:
        return rtpmap
    static = _STATIC_AUDIO.get(payload_type)
    return RtpMap(payload_type, static[0], static[1]) if static else None


def _is_voice(rtpmap: RtpMap | None, wanted: Iterable[str]) -> bool:
    # RFC 4855 §3: encoding names compare case-insensitively.
    return (
        rtpmap is not None
        and rtpmap.encoding.upper() in wanted
        and rtpmap.clock_rate == 8000
        and rtpmap.channels in (None, 1)
    )


def _is_telephone_event(rtpmap: RtpMap | None, clock_rate: int) -> bool:
    return (
        rtpmap is not None
        and rtpmap.encoding.lower() == _TELEPHONE_EVENT
        and rtpmap.clock_rate == clock_rate
    )


def _payload_types(media: MediaDescription) -> list[int]:
    return [int(fmt) for fmt in media.formats]


def _is_rtp_audio(media: MediaDescription) -> bool:
    # Only plain RTP/AVP: no SRTP (RTP/SAVP) or feedback profiles in this media path.
    return media.media == "audio" and media.protocol.upper() == "RTP/AVP"


def _normalise_codecs(codecs: Iterable[str]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.upper() for name in codecs))
    unknown = [name for name in names if name not in _G711]
    if unknown or not names:
        raise ValueError(f"codecs must be a non-empty choice of {sorted(_G711)}, got {codecs!r}")
    return names


def _addrtype(address: str) -> str:
    return "IP6" if ":" in address else "IP4"


def _audio_section(
    port: int,
    rtpmap: RtpMap,
    telephone_event_pt: int | None,
    direction: Direction,
    ptime: int | None,
    extra_codecs: Sequence[RtpMap] = (),
) -> MediaDescription:
    codecs = [rtpmap, *extra_codecs]
    formats = [str(c.payload_type) for c in codecs]
    # rtpmap even for static types: RFC 8866 §6.6 allows it and some gateways expect it.
    attributes = [Attribute("rtpmap", c.serialize()) for c in codecs]
    if telephone_event_pt is not None:
        formats.append(str(telephone_event_pt))
        event = RtpMap(telephone_event_pt, _TELEPHONE_EVENT, rtpmap.clock_rate)
        attributes.append(Attribute("rtpmap", event.serialize()))
        attributes.append(Attribute("fmtp", f"{telephone_event_pt} {_TELEPHONE_EVENTS_WE_RECEIVE}"))
    if ptime is not None:
        attributes.append(Attribute("ptime", str(ptime)))
    attributes.append(Attribute(direction.value))
    return MediaDescription(
        media="audio",
        port=port,
        protocol="RTP/AVP",
        formats=tuple(formats),
        attributes=tuple(attributes),
    )


def _description(
    local_address: str,
    *,
    username: str,
    session_id: int,
    session_version: int,
    session_name: str,
    media: Sequence[MediaDescription],
) -> SessionDescription:
    addrtype = _addrtype(local_address)
    return SessionDescription(
        origin=Origin(username, session_id, session_version, "IN", addrtype, local_address),
        session_name=session_name,
        connection=Connection(address=local_address, addrtype=addrtype),
        timing=(Timing(0, 0),),
        media=tuple(media),
    )


def _rtcp_target(media: MediaDescription, rtp_host: str) -> tuple[str, int]:
    # RFC 3605 §2.1 when a=rtcp is present, else RFC 3550 §11: the next port up.
    rtcp = media.rtcp
    if rtcp is None:
        return rtp_host, media.port + 1
    return rtcp.address or rtp_host, rtcp.port


def _remote_target(sdp: SessionDescription, media: MediaDescription, index: int) -> Connection:
    connection = sdp.media_connection(media)
    if connection is None:
        raise SdpError(
            "audio stream has no c= line at media or session level (RFC 8866 §5.7)",
            details={"media_index": index},
        )
    return connection


def negotiate_answer(
    offer: SessionDescription,
    *,
    local_address: str,
    local_port: int,
    supported: Sequence[str] = ("PCMU", "PCMA"),
    session_id: int,
    session_version: int,
    direction: Direction | str = Direction.SENDRECV,
    telephone_events: bool = True,
    ptime: int | None = 20,
    username: str = "-",
    session_name: str = "Trunkline",
) -> Answer:
    """Answer an offer per RFC 3264 §6 with one G.711 audio stream.

    Every offered m-line gets an answer line in the same place; the first audio stream with a
    codec from ``supported`` is accepted with the offerer's most preferred such codec, the
    rest are refused with port 0. ``direction`` is what Trunkline itself wants (sendonly when
    it holds the caller); the answer is that intersected with the mirror of the offer.
    """
    wanted = _normalise_codecs(supported)
    ours = Direction(direction)
    answer_media: list[MediaDescription] = []
    negotiated: NegotiatedMedia | None = None
    for index, media in enumerate(offer.media):
        if negotiated is None and media.port != 0 and _is_rtp_audio(media):
            accepted = _accept(offer, media, index, wanted, ours, telephone_events)
            if accepted is not None:
                rtpmap, negotiated = accepted
                answer_media.append(
                    _audio_section(
                        local_port,
                        rtpmap,
                        negotiated.telephone_event_pt,
                        negotiated.direction,
                        ptime,
                    )
                )
                continue
        # RFC 3264 §6: port 0 refuses a stream; its formats are ignored but one must be
        # present, so the offer's are copied.
        answer_media.append(
            MediaDescription(
                media=media.media, port=0, protocol=media.protocol, formats=media.formats
            )
        )
    if negotiated is None:
        raise NoCommonCodecError(
            "no audio stream in the offer uses a codec Trunkline supports",
            details={"supported": list(wanted), "offered": _offered_summary(offer)},
        )
    sdp = _description(
        local_address,
        username=username,
        session_id=session_id,
        session_version=session_version,
        session_name=session_name,
        media=answer_media,
    )
    return Answer(sdp=sdp, media=negotiated)


def _accept(
    offer: SessionDescription,
    media: MediaDescription,
    index: int,
    wanted: tuple[str, ...],
    ours: Direction,
    telephone_events: bool,
) -> tuple[RtpMap, NegotiatedMedia] | None:
    # RFC 3264 §5.1: the offer lists formats in order of preference; follow it.
    codec = next(
        (
            rtpmap
            for pt in _payload_types(media)
            if _is_voice(rtpmap := codec_of(media, pt), wanted) and rtpmap is not None
        ),
        None,
    )
    if codec is None:
        return None
    codec = dataclasses.replace(codec, encoding=codec.encoding.upper(), channels=None)
    event_pt: int | None = None
    if telephone_events:
        # RFC 3264 §6.1: keep the offerer's payload type number for the same codec.
        event_pt = next(
            (
                pt
                for pt in _payload_types(media)
                if _is_telephone_event(media.rtpmaps.get(pt), codec.clock_rate)
            ),
            None,
        )
    connection = _remote_target(offer, media, index)
    offered = offer.media_direction(media)
    remote_hold = offered in (Direction.SENDONLY, Direction.INACTIVE) or connection.is_null
    mirror = offered.mirrored()
    direction = Direction.of(
        # Nothing can be sent to 0.0.0.0, whatever the attribute says (RFC 3264 §8.4).
        sends=mirror.sends and ours.sends and not connection.is_null,
        receives=mirror.receives and ours.receives,
    )
    rtcp_host, rtcp_port = _rtcp_target(media, connection.host)
    return codec, NegotiatedMedia(
        media_index=index,
        remote_address=connection.host,
        remote_port=media.port,
        remote_rtcp_address=rtcp_host,
        remote_rtcp_port=rtcp_port,
        codec=codec.encoding,
        payload_type=codec.payload_type,
        clock_rate=codec.clock_rate,
        telephone_event_pt=event_pt,
        direction=direction,
        remote_hold=remote_hold,
        remote_ptime=media.ptime,
    )


def _offered_summary(sdp: SessionDescription) -> list[str]:
    out: list[str] = []
    for media in sdp.media:
        if media.protocol.upper().startswith("RTP/"):
            names = []
            for pt in _payload_types(media):
                rtpmap = codec_of(media, pt)
                names.append(rtpmap.encoding if rtpmap else str(pt))
            out.append(f"{media.media} {media.port} {' '.join(names)}")
        else:
            out.append(f"{media.media} {media.port} {media.protocol}")
    return out


def build_offer(
    local_address: str,
    local_port: int,
    *,
    codecs: Sequence[str] = ("PCMU", "PCMA"),
    telephone_event_pt: int | None = 101,
    direction: Direction | str = Direction.SENDRECV,
    session_id: int,
    session_version: int,
    ptime: int | None = 20,
    username: str = "-",
    session_name: str = "Trunkline",
) -> SessionDescription:
    """An offer with one audio stream for calls Trunkline places (agents' phones, callbacks)."""
    names = _normalise_codecs(codecs)
    if telephone_event_pt is not None and not 96 <= telephone_event_pt <= 127:
        # RFC 3551 §3: dynamic payload types are 96-127; telephone-event has no static one.
        raise ValueError(f"telephone_event_pt must be 96-127, got {telephone_event_pt}")
    rtpmaps = [RtpMap(_G711[name], name, 8000) for name in names]
    media = _audio_section(
        local_port, rtpmaps[0], telephone_event_pt, Direction(direction), ptime, rtpmaps[1:]
    )
    return _description(
        local_address,
        username=username,
        session_id=session_id,
        session_version=session_version,
        session_name=session_name,
        media=[media],
    )


def read_answer(offer: SessionDescription, answer: SessionDescription) -> NegotiatedMedia:
    """Check an answer against the offer Trunkline sent (RFC 3264 §6, §7) and read it.

    Raises :class:`SdpError` when the answer breaks the rules (other m-line count or media
    types, a codec we did not offer) and :class:`NoCommonCodecError` when every audio stream
    was refused with port 0.
    """
    if len(answer.media) != len(offer.media):
        raise SdpError(
            "answer does not have one m-line per offered m-line (RFC 3264 §6)",
            details={"offered": len(offer.media), "answered": len(answer.media)},
        )
    for index, (ours, theirs) in enumerate(zip(offer.media, answer.media, strict=True)):
        if ours.media != theirs.media:
            raise SdpError(
                "answer changed a media type (RFC 3264 §6)",
                details={"media_index": index, "offered": ours.media, "answered": theirs.media},
            )
    for index, (ours, theirs) in enumerate(zip(offer.media, answer.media, strict=True)):
        # RFC 3264 §6: port 0 in the answer refuses the stream.
        if ours.port == 0 or theirs.port == 0 or not _is_rtp_audio(ours):
            continue
        if theirs.protocol.upper() != ours.protocol.upper():
            raise SdpError(
                "answer changed the transport protocol (RFC 3264 §6)",
                details={"media_index": index, "answered": theirs.protocol},
            )
        return _read_stream(offer, ours, answer, theirs, index)
    raise NoCommonCodecError("the answer refused every audio stream we offered")


def _read_stream(
    offer: SessionDescription,
    ours: MediaDescription,
    answer: SessionDescription,
    theirs: MediaDescription,
    index: int,
) -> NegotiatedMedia:
    offered_codecs = {
        rtpmap.encoding.upper()
        for pt in _payload_types(ours)
        if _is_voice(rtpmap := codec_of(ours, pt), _G711) and rtpmap is not None
    }
    offered_events = any(
        _is_telephone_event(ours.rtpmaps.get(pt), 8000) for pt in _payload_types(ours)
    )

    def resolve(pt: int) -> RtpMap | None:
        # RFC 3264 §6.1 only asks (SHOULD) that the answer reuse our number for a codec, so
        # we send with the answerer's number; a dynamic number without an rtpmap can only
        # mean our own mapping.
        if pt >= 96:
            return theirs.rtpmaps.get(pt) or codec_of(ours, pt)
        return codec_of(theirs, pt)

    codec: RtpMap | None = None
    event_pt: int | None = None
    for pt in _payload_types(theirs):
        rtpmap = resolve(pt)
        if codec is None and _is_voice(rtpmap, offered_codecs) and rtpmap is not None:
            codec = rtpmap
        elif event_pt is None and offered_events and _is_telephone_event(rtpmap, 8000):
            event_pt = pt
    if codec is None:
        # RFC 3264 §6.1, §7: the answer may only pick among the formats we offered.
        raise SdpError(
            "answer accepted the audio stream without any codec we offered",
            details={"media_index": index, "answered": list(theirs.formats)},
        )
    connection = _remote_target(answer, theirs, index)
    answered = answer.media_direction(theirs)
    offered = offer.media_direction(ours)
    # Be lenient with an answer that does not mirror our direction (RFC 3264 §6.1 says it
    # must): never send or receive more than either side allows.
    mirror = answered.mirrored()
    direction = Direction.of(
        sends=offered.sends and mirror.sends and not connection.is_null,
        receives=offered.receives and mirror.receives,
    )
    rtcp_host, rtcp_port = _rtcp_target(theirs, connection.host)
    return NegotiatedMedia(
        media_index=index,
        remote_address=connection.host,
        remote_port=theirs.port,
        remote_rtcp_address=rtcp_host,
        remote_rtcp_port=rtcp_port,
        codec=codec.encoding.upper(),
        payload_type=codec.payload_type,
        clock_rate=codec.clock_rate,
        telephone_event_pt=event_pt,
        direction=direction,
        # Hold is signalled in offers (RFC 3264 §8.4); in an answer it can only mean a peer
        # that declines to receive although we offered both ways, or the RFC 2543 null address.
        remote_hold=connection.is_null or (offered is Direction.SENDRECV and not answered.receives),
        remote_ptime=theirs.ptime,
    )


def with_direction(sdp: SessionDescription, direction: Direction | str) -> SessionDescription:
    """The same description with every active stream set to ``direction``, for a re-INVITE.

    Hold is ``sendonly`` (RFC 3264 §8.4), resume ``sendrecv``. The origin's session version
    goes up by one because the result is a new offer (RFC 3264 §8).
    """
    wanted = Direction(direction)
    media: list[MediaDescription] = []
    for section in sdp.media:
        if section.port == 0:
            media.append(section)
            continue
        attributes: list[Attribute] = []
        placed = False
        for attribute in section.attributes:
            if attribute.name not in _DIRECTIONS:
                attributes.append(attribute)
            elif not placed:
                attributes.append(Attribute(wanted.value))
                placed = True
        if not placed:
            attributes.append(Attribute(wanted.value))
        media.append(dataclasses.replace(section, attributes=tuple(attributes)))
    origin = dataclasses.replace(sdp.origin, session_version=sdp.origin.session_version + 1)
    # Session-level direction would be overridden anyway; drop it so the body is unambiguous.
    session_attributes = tuple(a for a in sdp.attributes if a.name not in _DIRECTIONS)
    return dataclasses.replace(
        sdp, origin=origin, attributes=session_attributes, media=tuple(media)
    )
