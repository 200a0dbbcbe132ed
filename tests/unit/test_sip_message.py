"""SIP messages: golden fixtures, the RFC 3261 §7 grammar, headers, answers and TCP framing."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.sip import (
    CSeq,
    Headers,
    LocalProtocolError,
    NameAddress,
    RemoteProtocolError,
    Request,
    Response,
    StreamParser,
    Via,
    bad_request_response,
    is_keepalive,
    make_response,
    parse_cseq,
    parse_message,
    parse_name_address,
    parse_uri,
    parse_via,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "sip"
VALID = sorted((DATA / "valid").glob("*.sip"))
MALFORMED = sorted((DATA / "malformed").glob("*.sip"))

# What each malformed fixture must produce: the status of the answer (None: drop silently)
# and the reason the parser gives. A new fixture without an entry fails the test below.
EXPECTED: dict[str, tuple[int | None, str]] = {
    "ack_missing_call_id.sip": (None, "Missing Call-ID"),  # an ACK is never answered
    "bad_version.sip": (505, "Version Not Supported"),
    "call_id_with_space.sip": (400, "Bad Call-ID"),
    "content_length_negative.sip": (400, "Bad Content-Length"),
    "content_length_too_big.sip": (400, "Bad Content-Length"),
    "content_length_twice.sip": (400, "Bad Content-Length"),
    "crlf_only.sip": (None, "Empty Message"),
    "cseq_method_mismatch.sip": (400, "CSeq Method Mismatch"),
    "cseq_not_numeric.sip": (None, "Bad CSeq"),
    "cseq_too_large.sip": (400, "Bad CSeq"),
    "duplicate_uri_param.sip": (400, "Bad Request-URI"),
    "empty.sip": (None, "Empty Message"),
    "fold_before_first_header.sip": (400, "Bad Header Folding"),
    "garbage.sip": (None, "Truncated Message"),
    "header_without_colon.sip": (400, "Malformed Header"),
    "http_request.sip": (None, "Bad Request-Line"),
    "invalid_utf8.sip": (400, "Invalid UTF-8"),
    "ipv6_without_brackets.sip": (400, "Bad Request-URI"),
    "lone_cr_in_subject.sip": (400, "Control Character"),
    "max_forwards_words.sip": (400, "Bad Max-Forwards"),
    "missing_call_id.sip": (None, "Missing Call-ID"),
    "missing_cseq.sip": (None, "Missing CSeq"),
    "missing_from.sip": (None, "Missing From"),
    "missing_via.sip": (None, "Missing Via"),
    "multiple_to.sip": (400, "Multiple To"),
    "nul_in_subject.sip": (400, "Control Character"),
    "request_line_spaces.sip": (400, "Bad Request-Line"),
    "request_uri_in_brackets.sip": (400, "Bad Request-URI"),
    "response_bad_status.sip": (None, "Bad Status"),
    "response_missing_call_id.sip": (None, "Missing Call-ID"),
    "response_status_letters.sip": (None, "Bad Status"),
    "truncated_after_cseq.sip": (400, "Truncated Message"),
    "truncated_in_from.sip": (None, "Truncated Message"),
    "unknown_scheme.sip": (416, "Unsupported URI Scheme"),
    "unquoted_comma_display_name.sip": (400, "Bad From"),
    "unterminated_quote.sip": (400, "Bad To"),
    "via_garbage.sip": (None, "Bad Via"),
}
# The answer copies these fields byte for byte (the client matches on its own bytes), so when
# one of them is the problem the answer carries it too.
COPIED_AS_RECEIVED = {"Bad From", "Bad To", "Bad Call-ID", "Bad CSeq"}


def golden(name: str) -> bytes:
    return (DATA / "valid" / name).read_bytes()


def parse_golden(name: str) -> Request | Response:
    return parse_message(golden(name))


def parse_request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def parse_response(data: bytes) -> Response:
    message = parse_message(data)
    assert isinstance(message, Response)
    return message


def remote_error(data: bytes) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as caught:
        parse_message(data)
    assert "internal" not in caught.value.details
    return caught.value


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


OPTIONS = crlf(
    "OPTIONS sip:pbx.example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-opt\n"
    "Max-Forwards: 70\n"
    "From: <sip:probe@example.org>;tag=p1\n"
    "To: <sip:pbx.example.com>\n"
    "Call-ID: options-1@192.0.2.10\n"
    "CSeq: 1 OPTIONS\n"
    "Content-Length: 0\n"
    "\n"
)


def with_header(data: bytes, line: str) -> bytes:
    """``data`` with one more header line just before Content-Length."""
    return data.replace(b"Content-Length", line.encode() + b"\r\nContent-Length", 1)


def replaced(data: bytes, old: str, new: str) -> bytes:
    assert old.encode() in data
    return data.replace(old.encode(), new.encode(), 1)


# -- golden fixtures ----------------------------------------------------------------------


def test_fixture_directories_are_populated() -> None:
    assert len(VALID) >= 20
    assert len(MALFORMED) >= 30


@pytest.mark.parametrize("path", VALID, ids=lambda path: path.name)
def test_valid_fixture_parses_and_round_trips(path: Path) -> None:
    message = parse_message(path.read_bytes())
    wire = bytes(message)
    again = parse_message(wire)

    assert again == message
    assert bytes(again) == wire
    # Every structured value of a valid message can be read.
    assert message.via and message.cseq and message.from_ and message.to and message.call_id
    addresses = [*message.contacts, *message.route, *message.record_route]
    assert all(isinstance(address, NameAddress) for address in addresses)
    assert f"Content-Length: {len(message.body)}\r\n".encode() in wire


@pytest.mark.parametrize("path", MALFORMED, ids=lambda path: path.name)
def test_malformed_fixture_is_refused_and_answered_as_expected(path: Path) -> None:
    data = path.read_bytes()
    status, reason = EXPECTED[path.name]

    error = remote_error(data)
    answer = bad_request_response(data, error)

    assert error.reason == reason
    if status is None:
        assert answer is None
        return
    assert answer is not None
    assert answer.status == status
    if status == 400:
        assert answer.reason == f"Bad Request ({reason})"
    assert error.headers is not None
    for name in ("Via", "From", "Call-ID", "CSeq"):
        assert answer.headers.get_all(name) == error.headers.get_all(name)
    assert answer.headers.get("To", "").startswith(error.headers.get("To", "?"))
    assert ";tag=" in answer.headers.get("To", "")
    if reason not in COPIED_AS_RECEIVED:
        # Our own answer must be a well-formed message, even when the request was not.
        assert parse_message(bytes(answer)) == answer


def test_every_malformed_fixture_has_an_expectation() -> None:
    assert {path.name for path in MALFORMED} == set(EXPECTED)


def test_tortuous_invite_reads_like_a_plain_one() -> None:
    message = parse_golden("invite_tortuous.sip")
    assert isinstance(message, Request)

    assert message.to.display_name == 'Support "Tier 2" \\ Desk'
    assert message.to.tag == "t-99"
    # An addr-spec without <>: the ;tag belongs to the header, not to the URI (§20.10).
    assert message.from_.tag == "from-1"
    assert len(message.from_.uri.params) == 0
    assert message.max_forwards == 69
    assert message.call_id == "odd-spacing.1234@client.example.org"
    assert message.cseq == CSeq(8, "INVITE")
    first, second = message.via
    assert (first.transport, first.host, first.port) == ("UDP", "client.example.org", 5070)
    assert (first.branch, first.received) == ("z9hG4bK-tort-1", "192.0.2.44")
    assert (second.transport, second.sent_by) == ("TCP", "proxy.example.net")
    assert message.headers.get("x-custom-note") == "first part second part,   with a comma"
    [contact] = message.contacts
    assert contact.display_name == "Desk, Front"
    assert contact.params["expires"] == "60"
    assert contact.uri.transport == "tcp"
    assert message.headers.get_all("Supported") == ["timer"]
    assert message.content_type == "application/sdp"
    assert message.body.startswith(b"v=0\r\n")


def test_compact_forms_are_expanded_and_written_in_full() -> None:
    message = parse_golden("notify_compact.sip")
    wire = bytes(message)

    assert message.headers.get("Event") == "message-summary"
    assert message.headers.get_all("Allow-Events") == ["message-summary", "dialog"]
    for line in (b"\r\nVia: ", b"\r\nFrom: ", b"\r\nTo: ", b"\r\nCall-ID: ", b"\r\nEvent: "):
        assert line in wire
    assert b"\r\nv: " not in wire and b"\r\ni: " not in wire


@pytest.mark.parametrize(
    ("compact", "full"),
    [
        ("a", "Accept-Contact"),
        ("j", "Reject-Contact"),
        ("d", "Request-Disposition"),
        ("y", "Identity"),
    ]
    + [("r", "Refer-To"), ("b", "Referred-By"), ("x", "Session-Expires"), ("s", "Subject")],
)
def test_every_compact_form(compact: str, full: str) -> None:
    message = parse_message(with_header(OPTIONS, f"{compact.upper()}: <sip:x.example.com>"))

    assert message.headers.items()[-2] == (full, "<sip:x.example.com>")
    assert message.headers.get(compact) == message.headers.get(full.lower())


def test_lf_only_message_equals_its_crlf_twin() -> None:
    data = golden("lf_only.sip")
    assert b"\r" not in data

    assert parse_message(data) == parse_message(data.replace(b"\n", b"\r\n"))


def test_register_with_star_contact() -> None:
    message = parse_golden("register_wildcard.sip")

    assert message.is_contact_wildcard
    assert message.contacts == []
    assert message.headers.get("Expires") == "0"


def test_several_contacts_in_one_line_and_quoted_parameters() -> None:
    message = parse_golden("register_multi_contact.sip")
    left, right, mobile = message.contacts

    assert left.display_name == "Desk, Left"
    assert left.params["q"] == "0.9"
    assert right.params["+sip.instance"] == '"<urn:uuid:00000000-0000-1000-8000-00a0c91e6bf6>"'
    assert mobile.uri == parse_uri("sip:agent-12@mobile.example.com")
    assert mobile.params["expires"] == "120"
    assert not message.is_contact_wildcard


def test_ipv6_everywhere() -> None:
    message = parse_golden("options_ipv6.sip")
    assert isinstance(message, Request)

    assert (message.uri.host, message.uri.port) == ("[2001:db8::10]", 5070)
    assert message.top_via.host == "[2001:db8::9:1]"
    assert message.top_via.received == "[2001:db8::9:255]"
    assert message.top_via.rport == 5061
    assert message.from_.uri.host == "[2001:db8::9:1]"


def test_response_fields() -> None:
    message = parse_golden("response_200_ok.sip")
    assert isinstance(message, Response)

    assert (message.status, message.reason) == (200, "OK")
    assert message.is_final and message.is_success and not message.is_provisional
    assert [str(route.uri) for route in message.record_route] == [
        "sip:proxy.example.net;lr",
        "sip:edge.example.net;lr;transport=tcp",
    ]
    assert message.to.tag == "pbx-42"
    assert message.branch == "z9hG4bK-p1"


def test_reason_phrase_is_free_utf8_text() -> None:
    message = parse_golden("response_unusual_reason.sip")
    assert isinstance(message, Response)

    assert message.reason == "Occupé — rappelez plus tard; merci!"
    # Warning is a list, but the comma inside the quoted text does not split it.
    assert message.headers.get_all("Warning") == ['399 pbx.example.com "Agent busy, queued"']
    assert message.headers.get_all("Retry-After") == ["120 (in a meeting);duration=600"]


def test_headers_whose_values_contain_commas_are_not_split() -> None:
    message = parse_golden("auth_headers.sip")

    [authorization] = message.headers.get_all("authorization")
    assert authorization.startswith('Digest username="agent-5", realm=')
    assert message.headers.get_all("Date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]


def test_datagram_without_content_length_takes_the_rest_as_body() -> None:
    message = parse_golden("no_content_length.sip")

    assert message.body == "Hello, is anyone there? Ça va?".encode()
    assert "Content-Length" not in message.headers
    assert b"Content-Length: 31\r\n" in bytes(message)


def test_datagram_bytes_beyond_content_length_are_dropped() -> None:
    assert parse_golden("extra_bytes_after_body.sip").body == b"hello"


def test_extension_method_lower_case_version_and_unknown_headers() -> None:
    message = parse_golden("extension_method.sip")
    assert isinstance(message, Request)

    assert message.method == "!ext.Method_2+`'~%*"
    assert message.version == "SIP/2.0"
    assert message.max_forwards is None
    assert message.top_via.params["x-param"] == '"quoted;value, here"'
    assert message.headers.get_all("Require") == ["foo", "bar"]
    assert message.headers.get_all("X-UNKNOWN-HEADER") == [
        'value with "quotes, commas" and <angles>'
    ]
    assert ("X-Unknown-Header", 'value with "quotes, commas" and <angles>') in (
        message.headers.items()
    )


def test_escaped_request_uri_and_tel_to() -> None:
    message = parse_golden("escaped_uri.sip")
    assert isinstance(message, Request)

    assert message.uri.user == "%61gent%20one"
    assert message.uri.password == "pa%24s&w0rd,"
    assert message.uri.headers == (("Subject", "call%20me"), ("Priority", "urgent"))
    assert message.from_.uri.user == "caller;ext=12"
    assert message.to.uri.scheme == "tel"
    assert message.to.uri.params["phone-context"] == "+44"


def test_tel_request_uri_and_list_of_identities() -> None:
    message = parse_golden("tel_uri.sip")
    assert isinstance(message, Request)

    assert (message.uri.scheme, message.uri.user) == ("tel", "+441632960003")
    assert len(message.headers.get_all("P-Asserted-Identity")) == 2


def test_many_vias_keep_their_order() -> None:
    message = parse_golden("long_values.sip")

    assert [via.host for via in message.via] == [f"hop{n}.example.net" for n in range(30)]
    assert len(message.headers.get("X-Long") or "") == 3000


def test_route_set_from_several_lines_in_order() -> None:
    message = parse_golden("bye_with_routes.sip")

    assert [route.uri.host for route in message.route] == [
        "edge.example.net",
        "proxy.example.net",
        "core.example.net",
    ]
    assert all("lr" in route.uri.params for route in message.route)
    assert message.headers.get_all("Reason") == ['Q.850;cause=16;text="Normal, clearing"']


def test_empty_values_are_kept() -> None:
    message = parse_golden("empty_values.sip")

    assert message.headers.get("Subject") == ""
    assert message.headers.get_all("Supported") == [""]
    assert message.headers.get("Organization") == ""


# -- the grammar, case by case --------------------------------------------------------------


def test_leading_crlfs_are_ignored() -> None:
    assert parse_message(b"\r\n\r\n" + OPTIONS) == parse_message(OPTIONS)


def test_keepalive_datagrams() -> None:
    assert is_keepalive(b"\r\n\r\n") and is_keepalive(b"\r\n")
    assert not is_keepalive(b"") and not is_keepalive(OPTIONS)
    assert remote_error(b"\r\n\r\n").reason == "Empty Message"


def test_folded_header_reads_as_one_line() -> None:
    folded = with_header(OPTIONS, "Subject: I am\r\n   \r\n\t   calling about\r\n my order ")
    assert parse_message(folded).headers.get("Subject") == "I am calling about my order"


def test_whitespace_before_the_colon_and_tabs_after_it() -> None:
    message = parse_message(replaced(OPTIONS, "Max-Forwards: 70", "Max-Forwards \t:\t 12"))
    assert message.max_forwards == 12


def test_header_names_are_case_insensitive() -> None:
    message = parse_message(replaced(OPTIONS, "Call-ID:", "cAlL-iD:"))

    assert message.headers.get("CALL-ID") == message.headers.get("i") == "options-1@192.0.2.10"
    assert ("Call-ID", "options-1@192.0.2.10") in message.headers.items()


def test_list_headers_are_split_and_others_are_not() -> None:
    message = parse_message(
        with_header(
            with_header(OPTIONS, "Allow: INVITE,ACK ,  BYE,,"),
            "X-Note: a, b, c",
        )
    )

    assert message.headers.get_all("Allow") == ["INVITE", "ACK", "BYE"]
    assert message.headers.get_all("X-Note") == ["a, b, c"]


def test_two_vias_in_one_line_equal_two_lines() -> None:
    one_line = replaced(
        OPTIONS,
        "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-opt",
        "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-opt, SIP/2.0/TCP h.example.com;branch=b2",
    )
    two_lines = replaced(
        OPTIONS,
        "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-opt",
        "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-opt\r\n"
        "Via: SIP/2.0/TCP h.example.com;branch=b2",
    )

    assert parse_message(one_line) == parse_message(two_lines)
    assert [via.branch for via in parse_message(one_line).via] == ["z9hG4bK-opt", "b2"]


def test_version_is_case_insensitive() -> None:
    assert parse_request(replaced(OPTIONS, "SIP/2.0\r\nVia", "sip/2.0\r\nVia")).version == "SIP/2.0"


@pytest.mark.parametrize(
    ("status_line", "reason"),
    [
        ("SIP/2.0 180 Ringing", "Ringing"),
        ("SIP/2.0 699 Custom", "Custom"),
        ("SIP/2.0 100 ", ""),
        ("SIP/2.0 100", ""),
        ("sip/2.0 200 ok", "ok"),
    ],
)
def test_status_lines(status_line: str, reason: str) -> None:
    data = golden("response_100_trying.sip").replace(b"SIP/2.0 100 Trying", status_line.encode())

    assert parse_response(data).reason == reason


@pytest.mark.parametrize(
    "status_line",
    ["SIP/2.0 099 Low", "SIP/2.0 700 High", "SIP/2.0 2OO OK", "SIP/2.0  200 OK", "SIP/3.0 200 OK"],
)
def test_bad_status_lines(status_line: str) -> None:
    data = golden("response_100_trying.sip").replace(b"SIP/2.0 100 Trying", status_line.encode())

    assert remote_error(data).reason == "Bad Status"


def test_content_length_governs_the_body() -> None:
    data = replaced(OPTIONS, "Content-Length: 0", "Content-Length: 4") + b"abcdefgh"
    assert parse_message(data).body == b"abcd"

    short = replaced(OPTIONS, "Content-Length: 0", "Content-Length: 9") + b"abcd"
    assert remote_error(short).reason == "Bad Content-Length"

    zero_padded = replaced(OPTIONS, "Content-Length: 0", "Content-Length: 0004") + b"abcdefgh"
    assert parse_message(zero_padded).body == b"abcd"


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("CSeq", "CSeq: 2147483648 OPTIONS", "Bad CSeq"),
        ("CSeq", "CSeq: 1", "Bad CSeq"),
        ("CSeq", "CSeq: 1 OPTIONS extra", "Bad CSeq"),
        ("Max-Forwards", "Max-Forwards: 256", "Bad Max-Forwards"),
        ("Max-Forwards", "Max-Forwards: -1", "Bad Max-Forwards"),
        ("From", "From: <sip:probe@example.org", "Bad From"),
        ("From", "From: <sip:probe@example.org>;tag=a;tag=b", "Bad From"),
        ("To", "To: sip:pbx.example.com junk", "Bad To"),
        ("Call-ID", "Call-ID: ", "Bad Call-ID"),
        ("Via", "Via: SIP/2.0/UDP", "Bad Via"),
        ("Via", "Via: SIP/3.0/UDP 192.0.2.10", "Bad Via"),
        ("Via", "Via: SIP/2.0/UDP 192.0.2.10:70000", "Bad Via"),
        ("Via", "Via: SIP/2.0/UDP 192.0.2.10;branch=a, nonsense", "Bad Via"),
    ],
)
def test_bad_mandatory_header_values(header: str, value: str, reason: str) -> None:
    data = OPTIONS
    for line in OPTIONS.decode().split("\r\n"):
        if line.startswith(header + ":"):
            data = replaced(data, line, value)
            break
    else:
        raise AssertionError(header)

    assert remote_error(data).reason == reason


def test_a_second_call_id_is_refused() -> None:
    assert remote_error(with_header(OPTIONS, "i: other@x")).reason == "Multiple Call-ID"


def test_response_needs_a_via_too() -> None:
    data = golden("response_100_trying.sip")
    via = data.split(b"\r\n")[1] + b"\r\n"

    assert remote_error(data.replace(via, b"")).reason == "Missing Via"


def test_never_anything_but_remote_protocol_error_for_odd_bytes() -> None:
    for data in (b"\x00", b"INVITE", b"\r\n\r\nSIP/2.0", b"\xff\xfe\r\n\r\n", b" \r\n\r\n"):
        remote_error(data)


# -- headers --------------------------------------------------------------------------------


def test_headers_multimap_operations() -> None:
    headers = Headers([("v", "SIP/2.0/UDP a.example.com"), ("X-Thing", "1")])
    headers.add("Via", "SIP/2.0/UDP b.example.com")
    headers.add("x-thing", "2")

    assert headers.get_all("VIA") == ["SIP/2.0/UDP a.example.com", "SIP/2.0/UDP b.example.com"]
    assert headers.get("x-THING") == "1"
    assert headers.get("missing") is None and headers.get("missing", "d") == "d"
    assert "via" in headers and "v" in headers and "Route" not in headers
    assert headers.count("X-Thing") == 2
    assert len(headers) == 4

    headers.set("X-Thing", "3")
    assert headers.items() == [
        ("Via", "SIP/2.0/UDP a.example.com"),
        ("X-Thing", "3"),
        ("Via", "SIP/2.0/UDP b.example.com"),
    ]
    headers.set("Subject", "  new  ")
    assert headers.items()[-1] == ("Subject", "new")

    copy = headers.copy()
    assert copy == headers
    assert copy.remove("via") == 2
    assert copy.remove("via") == 0
    assert copy != headers
    assert list(copy) == [("X-Thing", "3"), ("Subject", "new")]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Subject", "hi\r\nVia: SIP/2.0/UDP evil.example.com"),
        ("Subject", "line\nbreak"),
        ("Subject", "nul\x00"),
        ("Bad Name", "x"),
        ("Bad:Name", "x"),
        ("", "x"),
    ],
)
def test_headers_refuse_injection_and_bad_names(name: str, value: str) -> None:
    with pytest.raises(LocalProtocolError):
        Headers().add(name, value)


# -- structured values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "transport", "host", "port", "params"),
    [
        ("SIP/2.0/UDP pc33.example.com", "UDP", "pc33.example.com", None, {}),
        (
            "SIP/2.0/tcp 192.0.2.1:5060;branch=z9hG4bKx",
            "TCP",
            "192.0.2.1",
            5060,
            {"branch": "z9hG4bKx"},
        ),
        (
            "SIP / 2.0 / TLS  h.example.com : 5061 ; rport ; branch = b",
            "TLS",
            "h.example.com",
            5061,
            {"rport": None, "branch": "b"},
        ),
        (
            "SIP/2.0/WSS [2001:db8::1]:443;received=2001:db8::2",
            "WSS",
            "[2001:db8::1]",
            443,
            {"received": "2001:db8::2"},
        ),
        ('SIP/2.0/UDP h.example.com;x="a;b, c"', "UDP", "h.example.com", None, {"x": '"a;b, c"'}),
    ],
)
def test_parse_via(
    text: str, transport: str, host: str, port: int | None, params: dict[str, str | None]
) -> None:
    via = parse_via(text)

    assert (via.transport, via.host, via.port, via.params) == (transport, host, port, params)
    assert parse_via(via.serialize()) == via


def test_via_rport_and_received() -> None:
    via = parse_via("SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK1")
    assert via.has_rport and via.rport is None and via.received is None

    answered = via.with_params(received="192.0.2.7", rport="40211")
    assert answered.rport == 40211 and answered.received == "192.0.2.7"
    assert str(answered) == (
        "SIP/2.0/UDP 10.0.0.1:5060;rport=40211;branch=z9hG4bK1;received=192.0.2.7"
    )
    assert answered.sent_by == "10.0.0.1:5060"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SIP/2.0",
        "SIP/2.0/UDP",
        "SIP/2.0/UDP ",
        "HTTP/1.1/TCP host.example.com",
        "SIP/2.0/UDP host.example.com:",
        "SIP/2.0/UDP host.example.com;;branch=x",
        "SIP/2.0/UDP host.example.com;branch=a;BRANCH=b",
        "SIP/2.0/UDP host.example.com;branch=<x>",
        'SIP/2.0/UDP host.example.com;x="unterminated',
        "SIP/2.0/UDP [2001:db8::1",
        "SIP/2.0/UDP bad_host",
    ],
)
def test_bad_via(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_via(text)


@pytest.mark.parametrize(
    ("text", "display", "uri", "params"),
    [
        ("<sip:a@example.com>", None, "sip:a@example.com", {}),
        ('"" <sip:a@example.com>', "", "sip:a@example.com", {}),
        (
            '"A \\"B\\" \\\\ C"<sip:a@example.com>;tag=1',
            'A "B" \\ C',
            "sip:a@example.com",
            {"tag": "1"},
        ),
        ("Joe  Bob <sip:a@example.com;lr>", "Joe  Bob", "sip:a@example.com;lr", {}),
        ("Jörg <sip:j@example.com>", "Jörg", "sip:j@example.com", {}),
        ("sip:a@example.com;tag=7;x", None, "sip:a@example.com", {"tag": "7", "x": None}),
        (
            'sip:a@example.com;+sip.instance="<urn:x>"',
            None,
            "sip:a@example.com",
            {"+sip.instance": '"<urn:x>"'},
        ),
        ("  <tel:+15550100> ; tag = z ", None, "tel:+15550100", {"tag": "z"}),
    ],
)
def test_parse_name_address(
    text: str, display: str | None, uri: str, params: dict[str, str | None]
) -> None:
    address = parse_name_address(text)

    assert address.display_name == display
    assert str(address.uri) == uri
    assert address.params == params
    assert parse_name_address(address.serialize()) == address


@pytest.mark.parametrize(
    "text",
    [
        "",
        "*",
        "<sip:a@example.com",
        "<sip:a@example.com> junk",
        '"unterminated <sip:a@example.com>',
        '"name" sip:a@example.com',
        "Smith, Jane <sip:a@example.com>",
        "<http://example.com>",
        "< sip:a@example.com>",
        "<sip:a@example.com>;=x",
    ],
)
def test_bad_name_address(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_name_address(text)


def test_name_address_tags_and_building() -> None:
    address = NameAddress(display_name='Sales "EMEA"', uri=parse_uri("sip:sales@example.com"))

    tagged = address.with_tag("abc")
    assert tagged.tag == "abc" and address.tag is None
    assert str(tagged) == '"Sales \\"EMEA\\"" <sip:sales@example.com>;tag=abc'
    with pytest.raises(LocalProtocolError):
        NameAddress(display_name="a\r\nb", uri=parse_uri("sip:x.example.com"))
    with pytest.raises(LocalProtocolError):
        address.with_params(tag="<bad>")


def test_cseq() -> None:
    assert parse_cseq(" 2147483647  REGISTER ") == CSeq(2147483647, "REGISTER")
    assert str(CSeq(0, "ACK")) == "0 ACK"
    for bad in ("2147483648 INVITE", "1 INVITE BYE", "INVITE", "١ INVITE", "1_0 INVITE", ""):
        with pytest.raises(RemoteProtocolError):
            parse_cseq(bad)
    with pytest.raises(LocalProtocolError):
        CSeq(-1, "INVITE")
    with pytest.raises(LocalProtocolError):
        CSeq(1, "IN VITE")


# -- building and serialising ---------------------------------------------------------------


def test_serialisation_always_writes_the_true_content_length() -> None:
    message = parse_message(replaced(OPTIONS, "Content-Length: 0", "l: 0"))
    message.body = b"hello"

    wire = bytes(message)
    assert wire.count(b"Content-Length") == 1
    assert wire.endswith(b"\r\nContent-Length: 5\r\n\r\nhello")
    assert parse_message(wire).body == b"hello"


def test_building_a_request_from_scratch() -> None:
    request = Request(method="OPTIONS", uri=parse_uri("sip:carrier.example.net"))
    via = Via(transport="UDP", host="192.0.2.5", port=5060).with_params(branch="z9hG4bK1")
    request.headers.add("Via", str(via))
    request.headers.add(
        "From", str(NameAddress(uri=parse_uri("sip:pbx.example.com")).with_tag("f"))
    )
    request.headers.add("To", "<sip:carrier.example.net>")
    request.headers.add("Call-ID", "build-1@pbx.example.com")
    request.headers.add("CSeq", str(CSeq(1, "OPTIONS")))
    request.headers.add("Max-Forwards", "70")

    wire = bytes(request)
    assert wire.startswith(
        b"OPTIONS sip:carrier.example.net SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.5:5060;branch=z9hG4bK1\r\n"
    )
    assert parse_message(wire) == request
    assert request.branch == "z9hG4bK1" and not request.is_invite and not request.is_ack
    assert Request(method="CANCEL", uri=request.uri).is_cancel
    with pytest.raises(LocalProtocolError):
        Request(method="OPTIONS", uri=request.uri).call_id  # noqa: B018


@pytest.mark.parametrize(
    "message",
    [
        Request(method="BAD METHOD", uri=parse_uri("sip:x.example.com")),
        Request(method="OPTIONS", uri=parse_uri("sip:x.example.com"), version="SIP/3.0"),
        Response(status=99),
        Response(status=700),
        Response(status=200, reason="OK\r\nVia: evil"),
    ],
)
def test_serialising_an_invalid_message_is_a_local_error(message: Request | Response) -> None:
    with pytest.raises(LocalProtocolError):
        bytes(message)


# -- answers ------------------------------------------------------------------------------


def test_make_response_copies_what_rfc_3261_8_2_6_2_lists() -> None:
    request = parse_request(golden("bye_with_routes.sip"))
    request.headers.add("Via", "SIP/2.0/UDP second.example.com;branch=z9hG4bK2")

    response = make_response(request, 200, headers=[("Server", "Trunkline")])

    assert (response.status, response.reason) == (200, "OK")
    assert response.headers.get_all("Via") == request.headers.get_all("Via")
    for name in ("From", "To", "Call-ID", "CSeq"):
        assert response.headers.get(name) == request.headers.get(name)
    assert response.to.tag == "pbx-42"  # an existing tag is kept, even if another is offered
    assert response.headers.items()[-1] == ("Server", "Trunkline")
    assert "Route" not in response.headers
    assert parse_message(bytes(response)) == response


def test_make_response_adds_the_to_tag_only_when_missing() -> None:
    request = parse_request(golden("invite_tortuous.sip").replace(b" ;  tag  =  t-99", b""))

    ringing = make_response(request, 180, to_tag="as8f")
    assert ringing.to.tag == "as8f"
    assert ringing.headers.get("To", "").endswith(";tag=as8f")
    assert make_response(request, 180).to.tag is None
    assert make_response(parse_request(golden("invite_tortuous.sip")), 180, to_tag="x").to.tag == (
        "t-99"
    )
    with pytest.raises(LocalProtocolError):
        make_response(request, 180, to_tag="bad tag")


def test_make_response_reasons_and_timestamp() -> None:
    request = parse_request(with_header(OPTIONS, "Timestamp: 54"))

    trying = make_response(request, 100)
    assert trying.reason == "Trying"
    assert trying.headers.get("Timestamp") == "54"
    assert "Timestamp" not in make_response(request, 200).headers
    assert make_response(request, 486, "Agents all busy").reason == "Agents all busy"
    assert make_response(request, 499).reason == "Client Error"
    for status in (99, 700):
        with pytest.raises(LocalProtocolError):
            make_response(request, status)


def test_bad_request_to_tag_is_stable_across_retransmissions() -> None:
    data = golden("invite_basic.sip").replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE")
    error = remote_error(data)

    first = bad_request_response(data, error)
    again = bad_request_response(data, remote_error(data))
    chosen = bad_request_response(data, error, to_tag="mine")

    assert first is not None and again is not None and chosen is not None
    assert first.to.tag == again.to.tag
    assert chosen.to.tag == "mine"
    other = data.replace(b"branch=z9hG4bK-basic-1", b"branch=z9hG4bK-basic-2")
    answer = bad_request_response(other, remote_error(other))
    assert answer is not None and answer.to.tag != first.to.tag


def test_bad_request_keeps_an_existing_to_tag() -> None:
    data = with_header(
        replaced(OPTIONS, "To: <sip:pbx.example.com>", "To: <sip:pbx.example.com>;tag=dlg"),
        "CSeq: 2 OPTIONS",
    )
    answer = bad_request_response(data, remote_error(data))

    assert answer is not None
    assert answer.headers.get("To") == "<sip:pbx.example.com>;tag=dlg"
    assert answer.reason == "Bad Request (Multiple CSeq)"


def test_bad_request_reads_the_datagram_when_the_error_carries_nothing() -> None:
    data = replaced(OPTIONS, "CSeq: 1 OPTIONS", "CSeq: 1 INVITE")
    bare = RemoteProtocolError("from elsewhere", reason="Odd")

    answer = bad_request_response(data, bare)

    assert answer is not None and answer.reason == "Bad Request (Odd)"
    assert bad_request_response(b"\r\n", bare) is None
    assert bad_request_response(golden("response_200_ok.sip"), bare) is None


# -- TCP framing ----------------------------------------------------------------------------


def drain(parser: StreamParser) -> list[Request | Response]:
    messages = []
    while (message := parser.next_message()) is not None:
        messages.append(message)
    return messages


def test_stream_splits_messages_and_waits_for_bodies() -> None:
    invite = golden("invite_basic.sip")
    ok = golden("response_200_ok.sip")
    parser = StreamParser()

    parser.feed(invite[:-10])
    assert drain(parser) == []
    parser.feed(invite[-10:] + ok[:100])
    assert drain(parser) == [parse_message(invite)]
    parser.feed(ok[100:])
    assert drain(parser) == [parse_message(ok)]
    assert parser.buffered == 0


def test_stream_byte_by_byte_with_pings_between_messages() -> None:
    stream = b"\r\n\r\n" + OPTIONS + b"\r\n\r\n\r\n\r\n" + OPTIONS + b"\r\n"
    parser = StreamParser()
    messages = []
    for index in range(len(stream)):
        parser.feed(stream[index : index + 1])
        messages += drain(parser)

    assert messages == [parse_message(OPTIONS)] * 2
    assert parser.take_pings() == 3
    assert parser.take_pings() == 0


def test_stream_requires_content_length() -> None:
    parser = StreamParser()
    parser.feed(golden("no_content_length.sip"))

    with pytest.raises(RemoteProtocolError) as caught:
        parser.next_message()
    assert caught.value.reason == "Missing Content-Length"
    assert parser.broken
    answer = bad_request_response(b"", caught.value)
    assert answer is not None and answer.status == 400

    parser.feed(OPTIONS)
    with pytest.raises(RemoteProtocolError):
        parser.next_message()


def test_stream_skips_a_framed_but_invalid_message() -> None:
    bad = replaced(OPTIONS, "CSeq: 1 OPTIONS", "CSeq: 1 INVITE")
    bad = replaced(bad, "Content-Length: 0", "Content-Length: 7") + b"payload"
    parser = StreamParser()
    parser.feed(bad[:-3])

    with pytest.raises(RemoteProtocolError) as caught:
        parser.next_message()
    assert caught.value.reason == "CSeq Method Mismatch"
    assert not parser.broken
    parser.feed(bad[-3:] + OPTIONS)
    assert drain(parser) == [parse_message(OPTIONS)]


def test_stream_limits() -> None:
    parser = StreamParser(max_header_bytes=1024)
    parser.feed(b"OPTIONS sip:x.example.com SIP/2.0\r\nX-Pad: " + b"a" * 2000)
    with pytest.raises(RemoteProtocolError) as caught:
        parser.next_message()
    assert caught.value.reason == "Message Too Large" and parser.broken

    parser = StreamParser(max_body_bytes=10)
    parser.feed(replaced(OPTIONS, "Content-Length: 0", "Content-Length: 11"))
    with pytest.raises(RemoteProtocolError) as caught:
        parser.next_message()
    assert caught.value.sip_status == 513 and parser.broken
    answer = bad_request_response(b"", caught.value)
    assert answer is not None and answer.status == 513
