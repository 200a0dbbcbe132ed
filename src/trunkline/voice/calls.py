"""The SIP application (the transaction user of RFC 3261 §8.2): OPTIONS, REGISTER, and calls
to the echo numbers. Fed with endpoint events and the time; it answers through the endpoint
and opens media through an injected factory, so it runs without sockets in tests.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from trunkline.config.loader import VoiceSettings
from trunkline.sip.dialog import Dialog, DialogId, new_tag, uas_dialog_id
from trunkline.sip.endpoint import (
    AckReceived,
    AckTimedOut,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    SipEndpoint,
    SipEvent,
    TransactionTimedOut,
)
from trunkline.sip.errors import SipError
from trunkline.sip.message import Request, Response, make_response
from trunkline.sip.sdp import (
    NoCommonCodecError,
    SdpError,
    SessionDescription,
    build_offer,
    negotiate_answer,
)
from trunkline.sip.transaction import RELIABLE_TRANSPORTS, Address, ServerTransactionKey
from trunkline.voice.auth import SipAuthenticator
from trunkline.voice.errors import VoiceError
from trunkline.voice.registrar import Registrar

_log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO"
ACCEPT = "application/sdp, application/dtmf-relay"
SUPPORTED = ""  # no extensions yet (RFC 3261 §20.37 allows an empty list)
_PCMU = 0


class Media(Protocol):
    """What a call needs from its RTP session."""

    local_port: int
    packets_received: int
    rtcp_received: int

    @property
    def packets_sent(self) -> int: ...

    def close(self) -> None: ...


class MediaFactory(Protocol):
    def open(self, *, payload_type: int, remote: Address | None, echo: bool) -> Media: ...


class CallState(Enum):
    RINGING = "ringing"  # answered provisionally, the 200 is due at ``answer_at``
    ANSWERED = "answered"  # 200 sent, waiting for the ACK
    CONFIRMED = "confirmed"  # ACK received
    ENDED = "ended"


# Allowed moves; anything else is a bug in this module.
_TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.RINGING: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.CONFIRMED, CallState.ENDED}),
    CallState.CONFIRMED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


@dataclass(slots=True, kw_only=True)
class Call:
    """One echo call, from the INVITE to the end of its dialog."""

    invite: Request
    key: ServerTransactionKey
    source: Address
    transport: str
    media: Media
    answer_sdp: bytes
    to_tag: str
    state: CallState = CallState.RINGING
    dialog: Dialog | None = None
    answer_at: float = 0.0
    session_version: int = 1

    def move(self, new: CallState) -> None:
        if new is self.state:
            return
        if new not in _TRANSITIONS[self.state]:
            raise VoiceError(f"call cannot go from {self.state.value} to {new.value}")
        _log.debug("%s -> %s", self.state, new)
        self.state = new


@dataclass(slots=True)
class VoiceStats:
    """Counters for logs, tests and (later) /metrics."""

    calls_answered: int = 0
    calls_ended: int = 0
    calls_cancelled: int = 0
    calls_refused: int = 0
    registrations: int = 0


class VoiceApplication:
    """Answers what the endpoint passes up. One instance per endpoint."""

    def __init__(
        self,
        endpoint: SipEndpoint,
        settings: VoiceSettings,
        media: MediaFactory,
        *,
        authenticator: SipAuthenticator,
        registrar: Registrar | None = None,
        wall_clock: Callable[[], float],
        answer_delay_s: float = 0.0,
        local_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.endpoint = endpoint
        self.settings = settings
        self.media = media
        self.auth = authenticator
        self.registrar = registrar or Registrar(
            min_expires_s=settings.min_expires_s,
            max_expires_s=settings.max_expires_s,
            max_bindings=settings.max_bindings,
        )
        self.stats = VoiceStats()
        self._wall_clock = wall_clock
        self._answer_delay_s = answer_delay_s
        # Hosts an AOR may name besides the realm: our own addresses.
        self._local_hosts = local_hosts | {settings.public_address, settings.realm}
        self._pending: dict[ServerTransactionKey, Call] = {}
        self._dialogs: dict[DialogId, Call] = {}
        self._timers: list[tuple[float, int, ServerTransactionKey]] = []
        self._timer_count = itertools.count()

    @property
    def active_calls(self) -> int:
        return len(self._pending) + len(self._dialogs)

    # -- timers (delayed answers) ------------------------------------------------------------

    def get_timer(self) -> float | None:
        timers = self._timers
        while timers and timers[0][2] not in self._pending:
            heapq.heappop(timers)  # that call has ended already
        return timers[0][0] if timers else None

    def handle_timer(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, key = heapq.heappop(timers)
            call = self._pending.get(key)
            if call is not None and call.state is CallState.RINGING:
                self._answer(call, now)

    # -- events ------------------------------------------------------------------------------

    def handle(self, event: SipEvent, now: float) -> None:
        if isinstance(event, RequestReceived):
            try:
                self._request(event, now)
            except Exception:
                # A bug here must not leave the caller retransmitting into silence.
                _log.exception("%s %s failed", event.request.method, event.request.call_id)
                self._respond_500(event, now)
        elif isinstance(event, AckReceived):
            self._ack(event.request)
        elif isinstance(event, CancelReceived):
            self._cancel(event, now)
        elif isinstance(event, AckTimedOut):
            self._ack_timed_out(event, now)
        elif isinstance(event, ResponseReceived | TransactionTimedOut):
            pass  # our BYEs' answers: the call is over either way

    def _respond(self, event: RequestReceived, response: Response, now: float) -> None:
        self.endpoint.send_response(event.key, response, now=now)

    def _respond_500(self, event: RequestReceived, now: float) -> None:
        call = self._pending.pop(event.key, None)
        if call is not None:
            call.media.close()
        try:
            response = make_response(event.request, 500, to_tag=new_tag())
            self.endpoint.send_response(event.key, response, now=now)
        except SipError:
            pass  # already answered finally, or the transaction is gone

    def _request(self, event: RequestReceived, now: float) -> None:
        request = event.request
        max_forwards = request.max_forwards
        if max_forwards is not None and max_forwards <= 0 and request.method != "OPTIONS":
            # RFC 3261 §16.3 step 3 (we are the target, but a loop is a loop).
            self._respond(event, make_response(request, 483, to_tag=new_tag()), now)
            return
        required = [
            option.strip()
            for value in request.headers.get_all("Require")
            for option in value.split(",")
            if option.strip()
        ]
        if required:
            # RFC 3261 §8.2.2.3: we support no extensions, so every required one is unknown.
            response = make_response(
                request, 420, to_tag=new_tag(), headers=[("Unsupported", ", ".join(required))]
            )
            self._respond(event, response, now)
            return
        if request.to.tag is not None:
            self._in_dialog(event, now)
            return
        method = request.method
        if method == "OPTIONS":
            self._respond(event, self._options_response(request), now)
        elif method == "REGISTER":
            self._register(event, now)
        elif method == "INVITE":
            self._invite(event, now)
        elif method in ("BYE", "INFO"):
            # RFC 3261 §15.1.2: a BYE outside any dialog we know.
            self._respond(event, make_response(request, 481, to_tag=new_tag()), now)
        else:
            self._respond(
                event,
                make_response(request, 405, to_tag=new_tag(), headers=[("Allow", ALLOW)]),
                now,
            )

    def _options_response(self, request: Request) -> Response:
        # RFC 3261 §11.2: what we would accept, so operators' probes double as capability
        # queries.
        return make_response(
            request,
            200,
            to_tag=new_tag(),
            headers=[("Allow", ALLOW), ("Accept", ACCEPT), ("Supported", SUPPORTED)],
        )

    # -- REGISTER ----------------------------------------------------------------------------

    def _register(self, event: RequestReceived, now: float) -> None:
        request = event.request
        to_uri = request.to.uri
        user = to_uri.user
        if to_uri.scheme not in ("sip", "sips") or not user or to_uri.host not in self._local_hosts:
            self._respond(event, make_response(request, 404, to_tag=new_tag()), now)
            return
        checked = self.auth.check(request, user=user, now=self._wall_clock())
        if checked.response is not None:
            self._respond(event, checked.response, now)
            return
        aor = f"sip:{user}@{self.settings.realm}"
        outcome = self.registrar.register(
            aor, request, source=event.source, transport=event.transport, now=now
        )
        if outcome.status == 200:
            self.stats.registrations += 1
        response = make_response(
            request, outcome.status, outcome.reason, to_tag=new_tag(), headers=outcome.headers()
        )
        self._respond(event, response, now)

    # -- INVITE ------------------------------------------------------------------------------

    def _contact(self, transport: str) -> str:
        host = self.settings.public_address
        if ":" in host:
            host = f"[{host}]"
        suffix = f";transport={transport}" if transport != "udp" else ""
        return f"<sip:trunkline@{host}:{self.endpoint.port}{suffix}>"

    def _invite(self, event: RequestReceived, now: float) -> None:
        request = event.request
        number = request.uri.user
        if number is None or number not in self.settings.echo_numbers:
            self.stats.calls_refused += 1
            self._respond(event, make_response(request, 404, to_tag=new_tag()), now)
            return
        if not request.contacts:
            self._respond(
                event,
                make_response(request, 400, "Bad Request (No Contact)", to_tag=new_tag()),
                now,
            )
            return
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if request.body.strip() and content_type != "application/sdp":
            # RFC 3261 §8.2.3: a body we cannot read gets 415 with what we accept.
            response = make_response(
                request, 415, to_tag=new_tag(), headers=[("Accept", "application/sdp")]
            )
            self._respond(event, response, now)
            return
        session_id = random.randrange(1, 2**31)
        try:
            media, sdp = self._media_for(request.body, session_id)
        except SdpError as exc:
            _log.info("INVITE %s: unreadable SDP: %s", request.call_id, exc.message)
            self.stats.calls_refused += 1
            self._respond(event, make_response(request, 400, "Bad SDP", to_tag=new_tag()), now)
            return
        except NoCommonCodecError:
            self.stats.calls_refused += 1
            response = make_response(
                request, 488, to_tag=new_tag(), headers=[("Accept", "application/sdp")]
            )
            self._respond(event, response, now)
            return
        except VoiceError as exc:
            _log.warning("INVITE %s refused: %s", request.call_id, exc.message)
            self.stats.calls_refused += 1
            response = make_response(request, 503, to_tag=new_tag(), headers=[("Retry-After", "5")])
            self._respond(event, response, now)
            return
        call = Call(
            invite=request,
            key=event.key,
            source=event.source,
            transport=event.transport,
            media=media,
            answer_sdp=sdp,
            to_tag=new_tag(),
        )
        self._pending[event.key] = call
        if self._answer_delay_s > 0:
            ringing = make_response(
                request,
                180,
                to_tag=call.to_tag,
                headers=[("Contact", self._contact(call.transport))],
            )
            self._respond(event, ringing, now)
            call.answer_at = now + self._answer_delay_s
            heapq.heappush(self._timers, (call.answer_at, next(self._timer_count), event.key))
        else:
            self._answer(call, now)

    def _media_for(self, body: bytes, session_id: int) -> tuple[Media, bytes]:
        """Open the RTP session and write our SDP: an answer to the offer, or our own offer
        when the INVITE had none (RFC 3264 §5, the answer then comes in the ACK)."""
        address = self.settings.public_address
        if body.strip():
            offer = SessionDescription.parse(body)
            # Negotiated before a port is taken, so a refused offer costs no socket; the
            # port then goes into the accepted m-line (the only one with a non-zero port).
            answer = negotiate_answer(
                offer, local_address=address, local_port=9, session_id=session_id, session_version=1
            )
            negotiated = answer.media
            remote = (negotiated.remote_address, negotiated.remote_port)
            media = self.media.open(payload_type=negotiated.payload_type, remote=remote, echo=True)
            lines = list(answer.sdp.media)
            index = negotiated.media_index
            lines[index] = dataclasses.replace(lines[index], port=media.local_port)
            sdp = dataclasses.replace(answer.sdp, media=tuple(lines))
            return media, sdp.serialize().encode()
        media = self.media.open(payload_type=_PCMU, remote=None, echo=True)
        sdp = build_offer(address, media.local_port, session_id=session_id, session_version=1)
        return media, sdp.serialize().encode()

    def _answer(self, call: Call, now: float) -> None:
        request = call.invite
        response = make_response(
            request,
            200,
            to_tag=call.to_tag,
            headers=[
                ("Contact", self._contact(call.transport)),
                ("Allow", ALLOW),
                ("Supported", SUPPORTED),
                ("Content-Type", "application/sdp"),
            ],
            body=call.answer_sdp,
        )
        try:
            dialog = Dialog.from_uas(request, response)
        except SipError as exc:
            _log.info("INVITE %s cannot start a dialog: %s", request.call_id, exc)
            self._pending.pop(call.key, None)
            call.media.close()
            self.endpoint.send_response(
                call.key, make_response(request, 400, to_tag=call.to_tag), now=now
            )
            return
        dialog.response_sent(response)
        call.dialog = dialog
        call.move(CallState.ANSWERED)
        self._pending.pop(call.key, None)
        self._dialogs[dialog.id] = call
        self.endpoint.send_response(call.key, response, now=now)
        self.stats.calls_answered += 1

    def _cancel(self, event: CancelReceived, now: float) -> None:
        call = self._pending.pop(event.invite_key, None)
        if call is None:
            return
        call.move(CallState.ENDED)
        call.media.close()
        self.stats.calls_cancelled += 1
        # RFC 3261 §9.2: the cancelled INVITE itself is answered 487.
        response = make_response(call.invite, 487, to_tag=call.to_tag)
        self.endpoint.send_response(event.invite_key, response, now=now)

    # -- in dialog ---------------------------------------------------------------------------

    def _ack(self, request: Request) -> None:
        dialog_id = uas_dialog_id(request)
        call = self._dialogs.get(dialog_id) if dialog_id is not None else None
        if call is not None and call.state is CallState.ANSWERED:
            call.move(CallState.CONFIRMED)

    def _in_dialog(self, event: RequestReceived, now: float) -> None:
        request = event.request
        dialog_id = uas_dialog_id(request)
        call = self._dialogs.get(dialog_id) if dialog_id is not None else None
        if call is None or call.dialog is None:
            # RFC 3261 §12.2.2: no such dialog.
            self._respond(event, make_response(request, 481), now)
            return
        dialog = call.dialog
        refusal = dialog.receive_request(request)
        if refusal is not None:
            self._respond(event, refusal, now)
            return
        method = request.method
        if method == "BYE":
            self._respond(event, make_response(request, 200), now)
            self._end(call)
        elif method == "INVITE":
            self._reinvite(event, call, now)
        elif method in ("INFO", "OPTIONS", "UPDATE"):
            # INFO dtmf-relay is accepted (and ignored by the echo); OPTIONS is a keep-alive.
            response = make_response(request, 200)
            dialog.response_sent(response)
            self._respond(event, response, now)
        else:
            self._respond(event, make_response(request, 405, headers=[("Allow", ALLOW)]), now)

    def _reinvite(self, event: RequestReceived, call: Call, now: float) -> None:
        """A session refresh or hold: answer on the same port (RFC 3264 §8)."""
        request = event.request
        assert call.dialog is not None
        call.session_version += 1
        body = call.answer_sdp
        if request.body.strip():
            try:
                offer = SessionDescription.parse(request.body)
                answer = negotiate_answer(
                    offer,
                    local_address=self.settings.public_address,
                    local_port=call.media.local_port,
                    session_id=random.randrange(1, 2**31),
                    session_version=call.session_version,
                )
            except (SdpError, NoCommonCodecError):
                response = make_response(request, 488)
                call.dialog.response_sent(response)
                self._respond(event, response, now)
                return
            body = answer.sdp.serialize().encode()
        response = make_response(
            request,
            200,
            headers=[
                ("Contact", self._contact(call.transport)),
                ("Content-Type", "application/sdp"),
            ],
            body=body,
        )
        call.dialog.response_sent(response)
        self._respond(event, response, now)

    def _ack_timed_out(self, event: AckTimedOut, now: float) -> None:
        call = next(
            (
                c
                for c in self._dialogs.values()
                if c.invite.call_id == event.call_id and c.invite.cseq.number == event.cseq
            ),
            None,
        )
        if call is None or call.dialog is None:
            return
        if call.state is CallState.CONFIRMED:
            return  # the ACK of a re-INVITE went missing; the call itself stands
        _log.info("call %s: no ACK for our 200, hanging up", event.call_id)
        # RFC 3261 §13.3.1.4: a UAS that never gets the ACK ends the dialog with BYE.
        bye = call.dialog.create_bye()
        self.endpoint.send_request(bye, self._next_hop(call), transport=call.transport, now=now)
        self._end(call)

    def _next_hop(self, call: Call) -> Address:
        assert call.dialog is not None
        if call.transport in RELIABLE_TRANSPORTS:
            # Back on the caller's connection: we do not open connections of our own yet.
            return call.source
        return call.dialog.next_hop

    def _end(self, call: Call) -> None:
        if call.state is CallState.ENDED:
            return
        call.move(CallState.ENDED)
        media = call.media
        media.close()
        if call.dialog is not None:
            self._dialogs.pop(call.dialog.id, None)
        self.stats.calls_ended += 1
        _log.debug(
            "call %s ended: RTP %d received, %d sent, %d RTCP ignored",
            call.invite.call_id,
            media.packets_received,
            media.packets_sent,
            media.rtcp_received,
        )

    def close(self) -> None:
        """Free every call's media (at shutdown; the calls are not hung up)."""
        for call in [*self._pending.values(), *self._dialogs.values()]:
            call.media.close()
        self._pending.clear()
        self._dialogs.clear()
