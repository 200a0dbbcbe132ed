"""SIP, SIPS and tel URIs: parsing, validation, serialisation and the Params mapping."""

from __future__ import annotations

import pytest

from trunkline.sip import LocalProtocolError, Params, RemoteProtocolError, SipUri, parse_uri


def test_full_sip_uri_is_split_into_its_components() -> None:
    uri = parse_uri("sips:alice:secret@pbx.example.com:5061;transport=tls;lr?subject=hi&x=%20")

    assert uri.scheme == "sips"
    assert uri.user == "alice"
    assert uri.password == "secret"
    assert uri.host == "pbx.example.com"
    assert uri.port == 5061
    assert dict(uri.params) == {"transport": "tls", "lr": None}
    assert uri.headers == (("subject", "hi"), ("x", "%20"))
    assert uri.is_secure
    assert uri.transport == "tls"
    assert uri.host_port == "pbx.example.com:5061"


def test_minimal_uri_has_only_a_host() -> None:
    uri = parse_uri("sip:example.com")

    assert (uri.user, uri.password, uri.port, len(uri.params), uri.headers) == (
        None,
        None,
        None,
        0,
        (),
    )
    assert str(uri) == "sip:example.com"


def test_scheme_is_case_insensitive_and_written_lower_case() -> None:
    uri = parse_uri("SIP:Bob@Example.COM")

    assert uri.scheme == "sip"
    # RFC 3261 §19.1.4: userinfo is case-sensitive, so it is kept as written; so is the host.
    assert str(uri) == "sip:Bob@Example.COM"


def test_parameter_names_compare_case_insensitively_but_keep_their_spelling() -> None:
    uri = parse_uri("sip:a@example.com;Transport=TCP;LR")

    assert uri.params["transport"] == "TCP"
    assert "lr" in uri.params
    assert uri.transport == "tcp"
    assert str(uri) == "sip:a@example.com;Transport=TCP;LR"


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("sip:[2001:db8::10]:5070", "[2001:db8::10]", 5070),
        ("sip:[2001:db8::10:5070]", "[2001:db8::10:5070]", None),
        ("sip:[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]", None),
        ("sip:u@192.0.2.1:5060", "192.0.2.1", 5060),
        ("sip:u@host-1.example.com.", "host-1.example.com.", None),
        ("sip:u@localhost:0", "localhost", 0),
    ],
)
def test_hosts_of_every_kind(text: str, host: str, port: int | None) -> None:
    uri = parse_uri(text)

    assert (uri.host, uri.port) == (host, port)
    assert str(uri) == text


def test_tel_uri_keeps_the_number_in_user_and_has_no_host() -> None:
    uri = parse_uri("tel:0800-123-456;phone-context=example.com")

    assert (uri.scheme, uri.user, uri.host) == ("tel", "0800-123-456", "")
    assert uri.params["phone-context"] == "example.com"
    assert str(uri) == "tel:0800-123-456;phone-context=example.com"


def test_escapes_are_kept_as_written() -> None:
    text = "sip:%61gent%20one:pa%24s@pbx.example.com;x=%41b?Subject=call%20me"
    uri = parse_uri(text)

    assert uri.user == "%61gent%20one"
    assert uri.password == "pa%24s"
    assert uri.params["x"] == "%41b"
    assert str(uri) == text


def test_user_part_may_hold_every_character_the_grammar_allows() -> None:
    # user-unreserved (RFC 3261 §25.1) includes ";", "?" and "/", so none of them may be
    # mistaken for the start of parameters or headers before the "@".
    text = "sip:odd.user~(yes!)&more+$/what?,/;;*:&pw+is=1,strange!*p$s~d.(ok)@example.com"
    uri = parse_uri(text)

    assert uri.user == "odd.user~(yes!)&more+$/what?,/;;*"
    assert uri.password == "&pw+is=1,strange!*p$s~d.(ok)"
    assert uri.host == "example.com"
    assert str(uri) == text


def test_user_with_semicolon_and_password_with_digits() -> None:
    uri = parse_uri("sip:+1-212-555-1212:1234@gateway.example.com;user=phone")

    assert uri.user == "+1-212-555-1212"
    assert uri.password == "1234"
    assert uri.params["user"] == "phone"


@pytest.mark.parametrize(
    "text",
    [
        "sip:",
        "sip:@example.com",
        "sip:user@",
        "sip:example.com:99999",
        "sip:example.com:",
        "sip:example.com:5o60",
        "sip:[2001:db8::1",
        "sip:[2001:db8::1]x",
        "sip:[zz::1]",
        "sip:[fe80::1%eth0]",
        "sip:2001:db8::1",
        "sip:example.com;;lr",
        "sip:example.com;=x",
        "sip:example.com;a=",
        "sip:example.com;transport=udp;TRANSPORT=tcp",
        "sip:user@host@other.example.com",
        "sip:us er@example.com",
        "sip:user@exa mple.com",
        "sip:example.com?",
        "sip:example.com?novalue",
        "sip:300.1.1.1",
        "sip:1.2.3",
        "sip:-bad.example.com",
        "sip:bad-.example.com",
        "sip:a..b",
        "sip:us%zzer@example.com",
        "sip:user:pa;ss@example.com",
        "<sip:example.com>",
        "sip:example.com>",
        "tel:",
        "tel:+1 555",
        "tel:+1;;x",
        "nocolon",
        ":nothing",
        "1sip:example.com",
        "",
    ],
)
def test_malformed_uris_raise_remote_protocol_error(text: str) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        parse_uri(text)

    assert caught.value.sip_status == 400
    assert caught.value.error_id == "sip_malformed"


@pytest.mark.parametrize("text", ["http://example.com/", "mailto:a@example.com", "urn:x:y"])
def test_other_schemes_are_unsupported_with_status_416(text: str) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        parse_uri(text)

    assert caught.value.sip_status == 416
    assert caught.value.reason == "Unsupported URI Scheme"


def test_building_a_uri_validates_it() -> None:
    uri = SipUri(user="agent-7", host="pbx.example.com", port=5080)
    assert str(uri) == "sip:agent-7@pbx.example.com:5080"

    for bad in (
        {"host": "bad host"},
        {"host": ""},
        {"host": "example.com", "port": 70000},
        {"host": "example.com", "user": "two words"},
        {"host": "example.com", "password": "x"},
        {"host": "example.com", "scheme": "http"},
        {"host": "example.com", "params": Params([("a b", None)])},
        {"scheme": "tel", "user": "+15550100", "host": "example.com"},
    ):
        with pytest.raises(LocalProtocolError):
            SipUri(**bad)  # type: ignore[arg-type]


def test_with_params_sets_replaces_and_removes() -> None:
    uri = parse_uri("sip:edge.example.net;transport=udp")

    routed = uri.with_params(lr=None, transport="tcp")
    assert str(routed) == "sip:edge.example.net;transport=tcp;lr"
    assert str(routed.without_params("TRANSPORT")) == "sip:edge.example.net;lr"
    assert str(uri) == "sip:edge.example.net;transport=udp"  # unchanged: immutable


def test_parsed_uris_compare_by_value_and_hash_alike() -> None:
    one = parse_uri("sip:a@example.com;lr;transport=tcp")
    other = parse_uri("sip:a@example.com;transport=tcp;LR")

    assert one == other
    assert hash(one) == hash(other)
    assert one != parse_uri("sip:a@example.com;lr;transport=udp")


def test_params_mapping_behaviour() -> None:
    params = Params([("Tag", "abc"), ("lr", None)])

    assert params["tag"] == "abc"
    assert params.get("LR", "missing") is None
    assert params.get("maddr") is None
    assert "TAG" in params and 3 not in params
    assert list(params) == ["Tag", "lr"]
    assert params == {"tag": "abc", "lr": None}
    assert params == Params([("lr", None), ("TAG", "abc")])
    assert params != Params([("tag", "ABC"), ("lr", None)])
    assert params.updated([("tag", "x"), ("q", "1")]).pairs() == (
        ("Tag", "x"),
        ("lr", None),
        ("q", "1"),
    )
    assert params.without("TAG").pairs() == (("lr", None),)
    assert params.serialize() == ";Tag=abc;lr"
