"""Hypothesis on the SIP parsers: no crash on any input, round trips, chunking invariance."""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.sip import (
    CSeq,
    NameAddress,
    Params,
    RemoteProtocolError,
    Request,
    Response,
    SipUri,
    StreamParser,
    Via,
    bad_request_response,
    parse_message,
    parse_name_address,
    parse_uri,
    parse_via,
)
from trunkline.sip.headers import quote

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VALID = [
    path.read_bytes() for path in sorted((Path(__file__).parents[1] / "data/sip/valid").iterdir())
]

# -- building blocks (RFC 3261 §25.1 character classes) -------------------------------------

TOKEN_CHARS = string.ascii_letters + string.digits + "-.!%*_+`'~"
UNRESERVED = string.ascii_letters + string.digits + "-_.!~*'()"
# Cheap strategies on purpose: character-by-character lists of one_of() made these tests slow.
ESCAPES = ["", "%41", "%20", "%e9", "%2C", "%3b"]


def escaped_text(chars: str, *, min_size: int = 1) -> st.SearchStrategy[str]:
    return st.tuples(
        st.text(chars, min_size=min_size, max_size=8),
        st.sampled_from(ESCAPES),
        st.text(chars, max_size=3),
    ).map("".join)


tokens = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=10)
labels = st.sampled_from(["pbx", "sip-1", "a", "x9", "edge--proxy", "0a", "EXAMPLE"]) | st.text(
    string.ascii_lowercase + string.digits, min_size=1, max_size=6
)
hostnames = st.tuples(
    st.lists(labels, max_size=2),
    st.text(string.ascii_letters, min_size=1, max_size=5),
    st.sampled_from(["", "."]),
).map(lambda parts: ".".join([*parts[0], parts[1]]) + parts[2])
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda quad: ".".join(map(str, quad)))
ipv6 = st.ip_addresses(v=6).map(lambda address: f"[{address}]")
hosts = st.one_of(hostnames, ipv4, ipv6)
ports = st.none() | st.integers(0, 65535)
uri_params = st.lists(
    st.tuples(
        escaped_text(UNRESERVED + "[]/:&+$"),
        st.none() | escaped_text(UNRESERVED + "[]/:&+$"),
    ),
    max_size=3,
    unique_by=lambda pair: pair[0].lower(),
).map(Params)
uri_headers = st.lists(
    st.tuples(
        escaped_text(UNRESERVED + "[]/?:+$"), escaped_text(UNRESERVED + "[]/?:+$", min_size=0)
    ),
    max_size=2,
).map(tuple)


@st.composite
def sip_uris(draw: st.DrawFn) -> SipUri:
    user = draw(st.none() | escaped_text(UNRESERVED + "&=+$,;?/"))
    password = (
        None if user is None else draw(st.none() | escaped_text(UNRESERVED + "&=+$,", min_size=0))
    )
    return SipUri(
        scheme=draw(st.sampled_from(["sip", "sips"])),
        user=user,
        password=password,
        host=draw(hosts),
        port=draw(ports),
        params=draw(uri_params),
        headers=draw(uri_headers),
    )


tel_uris = st.builds(
    SipUri,
    scheme=st.just("tel"),
    user=st.tuples(st.sampled_from(["", "+"]), st.text("0123456789ABCDEF*#-.()", min_size=1)).map(
        "".join
    ),
    params=uri_params,
)
any_uris = st.one_of(sip_uris(), tel_uris)
safe_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
header_param_values = st.one_of(
    tokens, ipv4, ipv6, safe_text.map(quote), st.text("0123456789abcdef:", min_size=1)
)
header_params = st.lists(
    st.tuples(tokens, st.none() | header_param_values),
    max_size=3,
    unique_by=lambda pair: pair[0].lower(),
).map(Params)
vias = st.builds(
    Via,
    transport=st.sampled_from(["UDP", "TCP", "TLS", "SCTP", "WS", "WSS"]) | tokens.map(str.upper),
    host=hosts,
    port=ports,
    params=header_params,
)
name_addresses = st.builds(
    NameAddress, display_name=st.none() | safe_text, uri=any_uris, params=header_params
)
# Inside whole messages, From and To take their URIs from a fixed set: URIs are generated
# freely elsewhere, and drawing five per message made this file slow.
SOME_URIS = [
    parse_uri(text)
    for text in (
        "sip:agent-7@pbx.example.com",
        "sips:a%20b:pw@[2001:db8::1]:5061;transport=tls",
        "sip:+15550100;ext=1@gw.example.net;user=phone",
        "tel:+44-20-7946-0000;phone-context=+44",
        "sip:192.0.2.1:5080;lr?Subject=hi",
    )
]
message_addresses = st.builds(
    NameAddress,
    display_name=st.none() | safe_text,
    uri=st.sampled_from(SOME_URIS),
    params=header_params,
)
word = st.text(alphabet=TOKEN_CHARS + '()<>:\\"/[]?{}', min_size=1, max_size=16)
call_ids = st.one_of(word, st.tuples(word, word).map("@".join))
extra_headers = st.lists(
    st.tuples(
        st.sampled_from(["Subject", "User-Agent", "Organization", "x-lower", "X-Upper"])
        | tokens.map(lambda name: "X-" + name),
        safe_text.map(lambda value: value.strip(" \t")),
    ),
    max_size=3,
)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = draw(st.sampled_from(["INVITE", "ACK", "BYE", "OPTIONS", "REGISTER"]) | tokens)
    lines = [("Via", str(via)) for via in draw(st.lists(vias, min_size=1, max_size=2))]
    lines += [
        ("From", str(draw(message_addresses))),
        ("To", str(draw(message_addresses))),
        ("Call-ID", draw(call_ids)),
        ("CSeq", str(CSeq(draw(st.integers(0, 2**31 - 1)), method))),
    ]
    if draw(st.booleans()):
        lines.append(("Max-Forwards", str(draw(st.integers(0, 255)))))
    lines += draw(extra_headers)
    request = Request(method=method, uri=draw(any_uris), body=draw(st.binary(max_size=64)))
    for name, value in draw(st.permutations(lines)):
        request.headers.add(name, value)
    return request


@st.composite
def responses(draw: st.DrawFn) -> Response:
    method = draw(st.sampled_from(["INVITE", "BYE"]) | tokens)
    lines = [("Via", str(via)) for via in draw(st.lists(vias, min_size=1, max_size=2))]
    lines += [
        ("From", str(draw(message_addresses))),
        ("To", str(draw(message_addresses))),
        ("Call-ID", draw(call_ids)),
        ("CSeq", str(CSeq(draw(st.integers(0, 2**31 - 1)), method))),
    ]
    lines += draw(extra_headers)
    response = Response(
        status=draw(st.integers(100, 699)),
        reason=draw(safe_text),
        body=draw(st.binary(max_size=64)),
    )
    for name, value in draw(st.permutations(lines)):
        response.headers.add(name, value)
    return response


messages = st.one_of(requests(), responses())

# -- (1) nothing but RemoteProtocolError, whatever arrives ----------------------------------


def check_any_datagram(data: bytes) -> None:
    """The contract of the datagram path, for any bytes at all."""
    try:
        message = parse_message(data)
    except RemoteProtocolError as error:
        assert "internal" not in error.details, error
        answer = bad_request_response(data, error)
        if answer is not None:
            assert 400 <= answer.status <= 699
            bytes(answer)  # our answer can always be serialised
        return
    # Whatever is accepted serialises and reads back the same.
    wire = bytes(message)
    assert parse_message(wire) == message
    assert bytes(parse_message(wire)) == wire


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    check_any_datagram(data)


SIP_BYTES = [b"\r\n", b"\n", b"\r", b" ", b"\t", b",", b";", b":", b"<", b">", b'"', b"\\", b"@"]
SIP_BYTES += [b"%", b"=", b"/", b"[", b"]", b"?", b"\x00", b"\xff", b"\r\n ", b"\r\n\r\n", b"0"]
mutations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**5), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10**5), st.just(0)),
    st.tuples(
        st.just("insert"),
        st.integers(0, 10**5),
        st.sampled_from(SIP_BYTES) | st.binary(min_size=1, max_size=6),
    ),
    st.tuples(st.just("delete"), st.integers(0, 10**5), st.integers(1, 12)),
)


def mutate(data: bytes, changes: list[tuple[str, int, int | bytes]]) -> bytes:
    buffer = bytearray(data)
    for kind, where, what in changes:
        at = where % (len(buffer) + 1)
        if kind == "flip" and at < len(buffer):
            assert isinstance(what, int)
            buffer[at] = what
        elif kind == "cut":
            del buffer[at:]
        elif kind == "insert":
            assert isinstance(what, bytes)
            buffer[at:at] = what
        elif kind == "delete":
            assert isinstance(what, int)
            del buffer[at : at + what]
    return bytes(buffer)


@FUZZ
@given(st.sampled_from(VALID), st.lists(mutations, min_size=1, max_size=4))
def test_mutated_valid_messages(data: bytes, changes: list[tuple[str, int, int | bytes]]) -> None:
    check_any_datagram(mutate(data, changes))


@FUZZ
@given(st.sampled_from(VALID), st.lists(mutations, min_size=1, max_size=3))
def test_mutated_header_values_only_raise_remote_errors(
    data: bytes, changes: list[tuple[str, int, int | bytes]]
) -> None:
    # The structured parsers, called directly on damaged values of every header.
    for line in mutate(data, changes).decode(errors="replace").splitlines()[1:]:
        _, _, value = line.partition(":")
        for parser in (parse_uri, parse_via, parse_name_address):
            try:
                parser(value.strip())
            except RemoteProtocolError:
                pass


# -- (2) generated messages round-trip ------------------------------------------------------


@FUZZ
@given(messages)
def test_generated_messages_round_trip(message: Request | Response) -> None:
    wire = bytes(message)
    parsed = parse_message(wire)

    assert parsed == message
    assert bytes(parsed) == wire
    # The structured values read back as built.
    assert [str(via) for via in parsed.via] == message.headers.get_all("Via")
    assert str(parsed.from_) == message.headers.get("From")
    assert str(parsed.cseq) == message.headers.get("CSeq")


@FUZZ
@given(any_uris)
def test_uri_round_trip(uri: SipUri) -> None:
    assert parse_uri(str(uri)) == uri


@FUZZ
@given(vias)
def test_via_round_trip(via: Via) -> None:
    assert parse_via(str(via)) == via


@FUZZ
@given(name_addresses)
def test_name_address_round_trip(address: NameAddress) -> None:
    assert parse_name_address(str(address)) == address


# -- (3) a TCP stream gives the same result however it is cut -------------------------------


def run_stream(chunks: list[bytes]) -> tuple[list[object], int]:
    """Feed ``chunks``; collect messages and error reasons until the stream breaks."""
    parser = StreamParser(max_header_bytes=8192, max_body_bytes=2048)
    outcomes: list[object] = []
    for chunk in chunks:
        parser.feed(chunk)
        while True:
            try:
                message = parser.next_message()
            except RemoteProtocolError as error:
                assert "internal" not in error.details, error
                outcomes.append(error.reason)
                if parser.broken:
                    return outcomes, parser.take_pings()
                continue
            if message is None:
                break
            outcomes.append(message)
    return outcomes, parser.take_pings()


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({point % (len(data) + 1) for point in points})
    return [data[start:end] for start, end in zip([0, *edges], [*edges, len(data)], strict=True)]


# Golden messages written back out (so every one has a Content-Length, which streams need).
FRAMED = [bytes(parse_message(data)) for data in VALID]


@FUZZ
@given(
    st.lists(st.one_of(st.sampled_from(FRAMED), st.just(b"\r\n\r\n")), max_size=6),
    st.lists(st.integers(0, 10**5), max_size=12),
)
def test_stream_chunking_does_not_matter(items: list[bytes], points: list[int]) -> None:
    stream = b"".join(items)
    expected = [parse_message(item) for item in items if item != b"\r\n\r\n"]

    outcomes, pings = run_stream(cut(stream, points))

    assert outcomes == expected
    assert pings == items.count(b"\r\n\r\n")


@FUZZ
@given(
    st.lists(st.sampled_from(VALID), min_size=1, max_size=3),
    st.lists(mutations, max_size=3),
    st.lists(st.integers(0, 10**5), max_size=12),
)
def test_damaged_streams_fail_the_same_way_however_cut(
    parts: list[bytes], changes: list[tuple[str, int, int | bytes]], points: list[int]
) -> None:
    stream = mutate(b"".join(parts), changes)

    whole = run_stream([stream])
    assert run_stream(cut(stream, points)) == whole
    assert run_stream([stream[index : index + 1] for index in range(len(stream))]) == whole
