"""The SIP application on a real sans-IO endpoint with fake media and an injected clock:
OPTIONS, REGISTER through digest, echo calls (answer, BYE, CANCEL, ACK timeout), refusals."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType

from trunkline.config.loader import SipCredentials, VoiceSettings
from trunkline.sip.digest import DigestClient, ha1
from trunkline.sip.endpoint import SipEndpoint
from trunkline.sip.message import Request, Response, parse_message
from trunkline.sip.sdp import SessionDescription
from trunkline.sip.transaction import Address
from trunkline.voice.auth import SipAuthenticator
from trunkline.voice.calls import VoiceApplication

PHONE: Address = ("192.0.2.10", 5062)
SETTINGS = VoiceSettings(
    sip_credentials=MappingProxyType(
        {
            "ann": SipCredentials(
                agent_id="ann", ha1=MappingProxyType({"MD5": ha1("ann", "trunkline", "pw")})
            )
        }
    )
)
OFFER = (
    "v=0\r\no=caller 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP {formats}\r\n{maps}"
)


def offer(*codecs: tuple[int, str]) -> str:
    formats = " ".join(str(pt) for pt, _ in codecs)
    maps = "".join(f"a=rtpmap:{pt} {name}/8000\r\n" for pt, name in codecs)
    return OFFER.format(formats=formats, maps=maps)


@dataclass
class FakeMedia:
    local_port: int
    payload_type: int
    remote: Address | None
    echo: bool
    packets_received: int = 0
    rtcp_received: int = 0
    packets_sent: int = 0
    closed: bool = False

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeMediaFactory:
    opened: list[FakeMedia] = field(default_factory=list)
    next_port: int = 20000

    def open(self, *, payload_type: int, remote: Address | None, echo: bool) -> FakeMedia:
        media = FakeMedia(self.next_port, payload_type, remote, echo)
        self.next_port += 2
        self.opened.append(media)
        return media


class Harness:
    """The endpoint and application, pumped like the transport pumps them."""

    def __init__(self, settings: VoiceSettings = SETTINGS, *, answer_delay_s: float = 0.0):
        self.now = 100.0
        self.endpoint = SipEndpoint(host="127.0.0.1", port=5060)
        self.media = FakeMediaFactory()
        self.app = VoiceApplication(
            self.endpoint,
            settings,
            self.media,
            authenticator=SipAuthenticator(
                "trunkline",
                lambda: settings.sip_credentials,
                secret=b"x" * 32,
                algorithms=("MD5",),
            ),
            wall_clock=lambda: 1_000_000.0 + self.now,
            answer_delay_s=answer_delay_s,
        )

    def pump(self) -> list[Response | Request]:
        while (event := self.endpoint.next_event()) is not None:
            self.app.handle(event, self.now)
        return [parse_message(data) for data, _, _ in self.endpoint.datagrams_to_send()]

    def send(self, text: str) -> list[Response | Request]:
        data = text.replace("\n", "\r\n").encode()
        self.endpoint.receive(data, PHONE, transport="udp", now=self.now)
        return self.pump()

    def advance(self, seconds: float) -> list[Response | Request]:
        """Let time pass, firing every timer that falls due on the way."""
        end = self.now + seconds
        out: list[Response | Request] = []
        while True:
            deadlines = [
                d for d in (self.endpoint.get_timer(), self.app.get_timer()) if d is not None
            ]
            due = min(deadlines) if deadlines else None
            if due is None or due > end:
                break
            self.now = max(self.now, due)
            self.endpoint.handle_timer(self.now)
            self.app.handle_timer(self.now)
            out += self.pump()
        self.now = end
        return out


def request(
    method: str,
    uri: str = "sip:echo@127.0.0.1",
    *,
    branch: str = "z9hG4bK-1",
    cseq: int = 1,
    to_tag: str = "",
    body: str = "",
    extra: str = "",
    call_id: str = "call-1",
) -> str:
    to = f"<{uri}>" + (f";tag={to_tag}" if to_tag else "")
    content_type = "Content-Type: application/sdp\n" if body else ""
    body = body.replace("\r\n", "\n")
    return (
        f"{method} {uri} SIP/2.0\n"
        f"Via: SIP/2.0/UDP 192.0.2.10:5062;branch={branch}\n"
        "From: <sip:caller@192.0.2.10>;tag=caller-tag\n"
        f"To: {to}\n"
        f"Call-ID: {call_id}\n"
        f"CSeq: {cseq} {method if method != 'CANCEL' else 'CANCEL'}\n"
        "Contact: <sip:caller@192.0.2.10:5062>\n"
        "Max-Forwards: 70\n"
        f"{extra}{content_type}"
        f"Content-Length: {len(body.replace(chr(10), chr(13) + chr(10)))}\n\n{body}"
    )


def statuses(messages: list[Response | Request]) -> list[int]:
    return [m.status for m in messages if isinstance(m, Response)]


def only_response(messages: list[Response | Request]) -> Response:
    responses = [m for m in messages if isinstance(m, Response)]
    assert len(responses) == 1, messages
    return responses[0]


def test_options_is_answered_200_with_allow_accept_and_supported() -> None:
    h = Harness()
    response = only_response(h.send(request("OPTIONS", "sip:127.0.0.1")))
    assert response.status == 200
    assert {"INVITE", "REGISTER", "BYE"} <= set(response.headers.get_all("Allow"))
    assert response.headers.get("Accept", "").startswith("application/sdp")
    assert "Supported" in response.headers


def test_a_call_to_an_unknown_number_gets_404_and_opens_no_media() -> None:
    h = Harness()
    response = only_response(
        h.send(request("INVITE", "sip:nobody@127.0.0.1", body=offer((0, "PCMU"))))
    )
    assert response.status == 404
    assert h.media.opened == []


def test_an_echo_call_is_answered_with_sdp_on_the_media_port_and_ended_by_bye() -> None:
    h = Harness()
    answer = only_response(h.send(request("INVITE", body=offer((8, "PCMA"), (0, "PCMU")))))
    assert answer.status == 200
    sdp = SessionDescription.parse(answer.body)
    (media,) = h.media.opened
    assert sdp.media[0].port == media.local_port
    assert sdp.media[0].formats[0] == "8"  # the caller's first choice
    assert (media.payload_type, media.remote, media.echo) == (8, ("192.0.2.10", 40000), True)
    assert answer.headers.get("Contact") == "<sip:trunkline@127.0.0.1:5060>"
    to_tag = answer.to.tag
    assert to_tag is not None
    assert h.send(request("ACK", branch="z9hG4bK-ack", to_tag=to_tag)) == []
    assert h.app.active_calls == 1
    bye = only_response(h.send(request("BYE", branch="z9hG4bK-bye", cseq=2, to_tag=to_tag)))
    assert bye.status == 200
    assert media.closed and h.app.active_calls == 0
    # The 200 is not retransmitted after the ACK, and nothing else is sent later.
    assert h.advance(64) == []


def test_a_bye_for_an_unknown_dialog_gets_481() -> None:
    h = Harness()
    response = only_response(h.send(request("BYE", to_tag="nope", cseq=2)))
    assert response.status == 481


def test_an_offer_without_g711_gets_488_and_no_port_is_taken() -> None:
    h = Harness()
    response = only_response(h.send(request("INVITE", body=offer((18, "G729")))))
    assert response.status == 488
    assert h.media.opened == []


def test_unreadable_sdp_gets_400() -> None:
    h = Harness()
    response = only_response(h.send(request("INVITE", body="this is not sdp\r\n")))
    assert response.status == 400
    assert h.media.opened == []


def test_an_invite_without_sdp_is_answered_with_our_offer() -> None:
    h = Harness()
    answer = only_response(h.send(request("INVITE")))
    assert answer.status == 200
    sdp = SessionDescription.parse(answer.body)
    assert sdp.media[0].formats[:2] == ("0", "8")
    assert h.media.opened[0].remote is None  # learnt from the first RTP packet


def test_cancel_while_ringing_gets_200_then_487_and_frees_the_media() -> None:
    h = Harness(answer_delay_s=2.0)
    ringing = only_response(h.send(request("INVITE", body=offer((0, "PCMU")))))
    assert ringing.status == 180
    (media,) = h.media.opened
    out = h.send(request("CANCEL"))
    assert statuses(out) == [200, 487]
    assert media.closed and h.app.active_calls == 0
    # The delayed answer never comes.
    assert 200 not in statuses(h.advance(3.0))


def test_a_ringing_call_is_answered_when_the_delay_is_over() -> None:
    h = Harness(answer_delay_s=2.0)
    assert statuses(h.send(request("INVITE", body=offer((0, "PCMU"))))) == [180]
    assert statuses(h.advance(1.9)) == []
    assert statuses(h.advance(0.2)) == [200]


def test_a_200_never_acked_is_followed_by_a_bye_to_the_callers_contact() -> None:
    h = Harness()
    assert statuses(h.send(request("INVITE", body=offer((0, "PCMU"))))) == [200]
    out = h.advance(33.0)  # 64·T1 = 32 s (RFC 3261 §13.3.1.4)
    byes = [m for m in out if isinstance(m, Request)]
    # One BYE (retransmitted while unanswered, RFC 3261 §17.1.2.2).
    assert {(m.method, m.cseq.number) for m in byes} == {("BYE", byes[0].cseq.number)}
    assert str(byes[0].uri) == "sip:caller@192.0.2.10:5062"
    assert h.media.opened[0].closed and h.app.active_calls == 0


def test_register_is_challenged_then_accepted_and_the_binding_kept() -> None:
    h = Harness()
    uri = "sip:trunkline"
    register = (
        "REGISTER sip:trunkline SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5062;branch={branch}\n"
        "From: <sip:ann@trunkline>;tag=ph\n"
        "To: <sip:ann@trunkline>\n"
        "Call-ID: reg-1\n"
        "CSeq: {cseq} REGISTER\n"
        "Contact: <sip:ann@192.0.2.10:5062>\n"
        "Expires: 600\n"
        "{auth}Content-Length: 0\n\n"
    )
    challenge = only_response(h.send(register.format(branch="z9hG4bK-r1", cseq=1, auth="")))
    assert challenge.status == 401
    value = DigestClient().authorization(
        challenge.headers.get_all("WWW-Authenticate"),
        method="REGISTER",
        uri=uri,
        username="ann",
        password="pw",
    )
    ok = only_response(
        h.send(register.format(branch="z9hG4bK-r2", cseq=2, auth=f"Authorization: {value}\n"))
    )
    assert ok.status == 200
    assert ok.headers.get_all("Contact") == ["<sip:ann@192.0.2.10:5062>;expires=600"]
    (binding,) = h.app.registrar.lookup("sip:ann@trunkline", h.now)
    assert binding.source == PHONE


def test_register_for_a_domain_we_do_not_serve_gets_404() -> None:
    h = Harness(replace(SETTINGS, realm="example.org"))
    response = only_response(
        h.send(
            request("REGISTER", "sip:elsewhere.net").replace(
                "To: <sip:elsewhere.net>", "To: <sip:ann@elsewhere.net>"
            )
        )
    )
    assert response.status == 404


def test_an_unsupported_method_gets_405_with_allow() -> None:
    h = Harness()
    response = only_response(h.send(request("SUBSCRIBE", "sip:echo@127.0.0.1")))
    assert response.status == 405
    assert "REGISTER" in response.headers.get_all("Allow")


def test_a_required_extension_we_lack_gets_420_naming_it() -> None:
    h = Harness()
    response = only_response(
        h.send(request("INVITE", body=offer((0, "PCMU")), extra="Require: 100rel, timer\n"))
    )
    assert response.status == 420
    assert response.headers.get_all("Unsupported") == ["100rel", "timer"]
    assert h.media.opened == []


def test_a_body_that_is_not_sdp_gets_415() -> None:
    h = Harness()
    text = request("INVITE", body=offer((0, "PCMU"))).replace(
        "Content-Type: application/sdp", "Content-Type: text/plain"
    )
    response = only_response(h.send(text))
    assert response.status == 415
    assert response.headers.get("Accept") == "application/sdp"


def test_a_failure_inside_the_application_is_answered_500_and_frees_the_media() -> None:
    h = Harness()

    def broken(call: object, now: float) -> None:
        raise RuntimeError("bug")

    h.app._answer = broken  # type: ignore[method-assign]
    response = only_response(h.send(request("INVITE", body=offer((0, "PCMU")))))
    assert response.status == 500
    assert h.media.opened[0].closed and h.app.active_calls == 0
