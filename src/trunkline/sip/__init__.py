"""The SIP message layer: URIs, header fields, requests and responses, as sans-IO parsers."""

from __future__ import annotations

from trunkline.sip.errors import LocalProtocolError, RemoteProtocolError, SipError
from trunkline.sip.headers import (
    CSeq,
    Headers,
    NameAddress,
    Via,
    parse_cseq,
    parse_name_address,
    parse_via,
)
from trunkline.sip.message import (
    Request,
    Response,
    StreamParser,
    bad_request_response,
    is_keepalive,
    make_response,
    parse_message,
    reason_phrase,
)
from trunkline.sip.uri import Params, SipUri, parse_uri

__all__ = [
    "CSeq",
    "Headers",
    "LocalProtocolError",
    "NameAddress",
    "Params",
    "RemoteProtocolError",
    "Request",
    "Response",
    "SipError",
    "SipUri",
    "StreamParser",
    "Via",
    "bad_request_response",
    "is_keepalive",
    "make_response",
    "parse_cseq",
    "parse_message",
    "parse_name_address",
    "parse_uri",
    "parse_via",
    "reason_phrase",
]
