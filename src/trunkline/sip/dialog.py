"""RFC 3261 §12 dialogs: identity, sequence numbers, route set and remote target, building and
checking in-dialog requests, and the re-INVITE glare rules of §14. Pure state; no clock."""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterable
from enum import Enum
from typing import NamedTuple

from trunkline.sip.errors import LocalProtocolError, RemoteProtocolError
from trunkline.sip.headers import Headers, NameAddress
from trunkline.sip.message import Request, Response, make_response
from trunkline.sip.uri import SipUri

_log = logging.getLogger(__name__)

# Methods whose request and 2xx replace the remote target (RFC 3261 §12.2, RFC 3311).
_TARGET_REFRESH = frozenset({"INVITE", "UPDATE"})
_MAX_CSEQ = 2**31 - 1


class DialogError(LocalProtocolError):
    """The TU asked a dialog for something its state does not allow."""

    error_id = "sip_dialog_state"


class DialogState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


_TRANSITIONS: dict[DialogState, frozenset[DialogState]] = {
    DialogState.EARLY: frozenset({DialogState.CONFIRMED, DialogState.TERMINATED}),
    DialogState.CONFIRMED: frozenset({DialogState.TERMINATED}),
    DialogState.TERMINATED: frozenset(),
}


class DialogId(NamedTuple):
    """RFC 3261 §12: Call-ID, local tag, remote tag, as seen from our side."""

    call_id: str
    local_tag: str
    remote_tag: str


def new_tag() -> str:
    """A From/To tag: 48 random bits are plenty for RFC 3261 §19.3's "globally unique"."""
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    """A Call-ID, random and qualified by our host (RFC 3261 §8.1.1.4)."""
    return f"{secrets.token_hex(12)}@{host}"


def uas_dialog_id(request: Request) -> DialogId | None:
    """The dialog a received request belongs to (To tag is ours), ``None`` if out of dialog."""
    local = request.to.tag
    remote = request.from_.tag
    if local is None or remote is None:
        return None
    return DialogId(request.call_id, local, remote)


def uac_dialog_id(response: Response) -> DialogId | None:
    """The dialog a received response belongs to (From tag is ours), ``None`` without tags."""
    local = response.from_.tag
    remote = response.to.tag
    if local is None or remote is None:
        return None
    return DialogId(response.call_id, local, remote)


def _creates_dialog(response: Response) -> bool:
    # RFC 3261 §12.1: 2xx, or 101-199 with a To tag (an early dialog); never a 100.
    return 101 <= response.status <= 299 and response.to.tag is not None


class Dialog:
    """One dialog, from the point of view of either side.

    Build one with :meth:`from_uac` or :meth:`from_uas`. Feed it the in-dialog requests
    received (:meth:`receive_request`), the responses we send to them
    (:meth:`response_sent`) and the responses to the requests it built
    (:meth:`receive_response`). The timers of §13.3.1.4 and §13.2.2.4 (2xx retransmission
    and re-ACK) live in the endpoint, which owns the clock.
    """

    __slots__ = (
        "id",
        "state",
        "is_uac",
        "secure",
        "local_seq",
        "remote_seq",
        "local_party",
        "remote_party",
        "local_contact",
        "remote_target",
        "route_set",
        "_local_invite",
        "_remote_invite",
    )

    def __init__(
        self,
        *,
        id: DialogId,
        state: DialogState,
        is_uac: bool,
        secure: bool,
        local_seq: int,
        remote_seq: int | None,
        local_party: str,
        remote_party: str,
        local_contact: str,
        remote_target: SipUri,
        route_set: tuple[NameAddress, ...],
    ) -> None:
        self.id = id
        self.state = state
        self.is_uac = is_uac
        self.secure = secure
        self.local_seq = local_seq
        self.remote_seq = remote_seq
        # From/To values with tags, kept as received so the peer sees its own bytes back.
        self.local_party = local_party
        self.remote_party = remote_party
        self.local_contact = local_contact
        self.remote_target = remote_target
        self.route_set = route_set
        # CSeq numbers of INVITEs still without a final response, per direction (§14).
        self._local_invite: int | None = None
        self._remote_invite: int | None = None

    # -- creation ----------------------------------------------------------------------------

    @classmethod
    def from_uac(cls, request: Request, response: Response) -> Dialog:
        """The dialog a 101-299 response with a To tag creates for the UAC (§12.1.2)."""
        if not _creates_dialog(response):
            raise DialogError(f"a {response.status} without To tag creates no dialog")
        contacts = response.contacts
        # A provisional may omit Contact; the Request-URI stands in until one comes.
        target = contacts[0].uri if contacts else request.uri
        dialog_id = uac_dialog_id(response)
        if dialog_id is None:
            raise DialogError("the request has no From tag")
        dialog = cls(
            id=dialog_id,
            state=DialogState.EARLY if response.is_provisional else DialogState.CONFIRMED,
            is_uac=True,
            secure=request.uri.is_secure,
            local_seq=request.cseq.number,
            remote_seq=None,
            local_party=request.headers.get("From") or "",
            remote_party=response.headers.get("To") or "",
            local_contact=request.headers.get("Contact") or "",
            remote_target=target,
            # §12.1.2: the UAC's route set is the Record-Route of the response, reversed.
            route_set=tuple(reversed(response.record_route)),
        )
        if response.is_provisional and request.is_invite:
            dialog._local_invite = request.cseq.number
        return dialog

    @classmethod
    def from_uas(
        cls, request: Request, response: Response, *, local_seq: int | None = None
    ) -> Dialog:
        """The dialog our 101-299 response with a To tag creates (§12.1.1).

        ``local_seq`` is where our own CSeq numbers start (random by default; §12.1.1 leaves
        it to us). Raises :class:`RemoteProtocolError` if the request has no Contact.
        """
        if not _creates_dialog(response):
            raise DialogError(f"a {response.status} without To tag creates no dialog")
        contacts = request.contacts
        if not contacts:
            raise RemoteProtocolError(
                "dialog-creating request without Contact", reason="No Contact"
            )
        local_contact = response.headers.get("Contact")
        if local_contact is None:
            # §12.1.1: a response that creates a dialog MUST carry our Contact.
            raise DialogError("a dialog-creating response needs a Contact")
        remote_tag = request.from_.tag
        local_tag = response.to.tag
        if remote_tag is None or local_tag is None:
            raise RemoteProtocolError("request without From tag", reason="Missing From Tag")
        dialog = cls(
            id=DialogId(request.call_id, local_tag, remote_tag),
            state=DialogState.EARLY if response.is_provisional else DialogState.CONFIRMED,
            is_uac=False,
            secure=request.uri.is_secure,
            local_seq=random.randrange(1, 2**16) if local_seq is None else local_seq,
            remote_seq=request.cseq.number,
            local_party=response.headers.get("To") or "",
            remote_party=request.headers.get("From") or "",
            local_contact=local_contact,
            remote_target=contacts[0].uri,
            # §12.1.1: the UAS keeps the Record-Route order.
            route_set=tuple(request.record_route),
        )
        if response.is_provisional and request.is_invite:
            dialog._remote_invite = request.cseq.number
        return dialog

    # -- state -------------------------------------------------------------------------------

    def _set_state(self, new: DialogState) -> None:
        if new is self.state:
            return
        if new not in _TRANSITIONS[self.state]:
            raise DialogError(f"dialog cannot go from {self.state.value} to {new.value}")
        _log.debug("%s -> %s", self.state, new)
        self.state = new

    def terminate(self) -> None:
        self._set_state(DialogState.TERMINATED)

    @property
    def invite_pending(self) -> bool:
        """Whether an INVITE is in progress in either direction (§14.1)."""
        return self._local_invite is not None or self._remote_invite is not None

    @property
    def next_hop(self) -> tuple[str, int]:
        """Host and port to send in-dialog requests to: first Route, else remote target.

        Names are not resolved (RFC 3263 is the transport's job); the default port is 5060,
        or 5061 for sips.
        """
        uri = self.route_set[0].uri if self.route_set else self.remote_target
        default = 5061 if uri.is_secure else 5060
        return uri.host, uri.port if uri.port is not None else default

    # -- requests we send --------------------------------------------------------------------

    def _request(
        self,
        method: str,
        cseq: int,
        *,
        body: bytes,
        content_type: str | None,
        headers: Iterable[tuple[str, str]],
    ) -> Request:
        route_set = self.route_set
        routes = [str(route) for route in route_set]
        uri = self.remote_target
        if route_set and "lr" not in route_set[0].uri.params:
            # RFC 3261 §12.2.1.1: a strict router takes the Request-URI from the first
            # Route and the remote target goes last in the Route set.
            uri = route_set[0].uri.without_params("method", "maddr", "ttl", "transport", "lr")
            routes = routes[1:] + [f"<{self.remote_target}>"]
        out = Headers()
        for route in routes:
            out.add("Route", route)
        out.add("Max-Forwards", "70")
        out.add("From", self.local_party)
        out.add("To", self.remote_party)
        out.add("Call-ID", self.id.call_id)
        out.add("CSeq", f"{cseq} {method}")
        if method in _TARGET_REFRESH or method == "ACK":
            out.add("Contact", self.local_contact)
        if content_type is not None:
            out.add("Content-Type", content_type)
        for name, value in headers:
            out.add(name, value)
        return Request(method=method, uri=uri, headers=out, body=body)

    def create_request(
        self,
        method: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> Request:
        """A new in-dialog request (RFC 3261 §12.2.1.1); the local CSeq goes up by one.

        An INVITE while another INVITE is in progress either way raises
        :class:`DialogError` (§14.1). A BYE ends the dialog at once (§15.1.1).
        """
        if method in ("ACK", "CANCEL"):
            raise DialogError(f"{method} is not built by create_request")
        if self.state is DialogState.TERMINATED:
            raise DialogError(f"cannot send {method} in a terminated dialog")
        if method == "INVITE":
            if self.invite_pending:
                raise DialogError("an INVITE is already in progress in this dialog (§14.1)")
            if self.state is DialogState.EARLY:
                raise DialogError("no re-INVITE in an early dialog")
        if self.local_seq >= _MAX_CSEQ:
            raise DialogError("local CSeq exhausted")
        self.local_seq += 1
        request = self._request(
            method, self.local_seq, body=body, content_type=content_type, headers=headers
        )
        if method == "INVITE":
            self._local_invite = self.local_seq
        elif method == "BYE":
            self.terminate()
        return request

    def create_ack(self, invite: Request, *, body: bytes = b"") -> Request:
        """The ACK for a 2xx to ``invite`` (RFC 3261 §13.2.2.4): built like any in-dialog
        request, but with the INVITE's CSeq number and its credentials."""
        extra = [
            (name, value)
            for name in ("Authorization", "Proxy-Authorization")
            for value in invite.headers.get_all(name)
        ]
        return self._request(
            "ACK",
            invite.cseq.number,
            body=body,
            content_type="application/sdp" if body else None,
            headers=extra,
        )

    def create_bye(self, *, headers: Iterable[tuple[str, str]] = ()) -> Request:
        return self.create_request("BYE", headers=headers)

    def create_reinvite(self, body: bytes, *, content_type: str = "application/sdp") -> Request:
        """A re-INVITE carrying a new offer, e.g. with ``a=sendonly`` to hold (§14.1)."""
        return self.create_request("INVITE", body=body, content_type=content_type)

    def create_info(self, body: bytes, *, content_type: str) -> Request:
        """An INFO (RFC 6086), e.g. ``application/dtmf-relay``."""
        return self.create_request("INFO", body=body, content_type=content_type)

    def glare_retry_delay(self, rng: random.Random | None = None) -> float:
        """How long to wait before retrying a re-INVITE refused with 491 (§14.1)."""
        draw = (rng or random).randrange
        # The owner of the Call-ID (the dialog's UAC) waits 2.1-4 s, the other 0-2 s, in
        # steps of 10 ms, so the two sides do not collide again.
        return draw(210, 401) / 100 if self.is_uac else draw(0, 201) / 100

    def receive_response(self, response: Response) -> None:
        """Update from a response to a request this dialog built (§12.2.1.2, §13.2.2.4)."""
        if self.state is DialogState.TERMINATED:
            return
        cseq = response.cseq
        if cseq.method == "INVITE" and response.is_final and cseq.number == self._local_invite:
            self._local_invite = None
        if response.status in (408, 481):
            # §12.2.1.2: the peer lost the dialog or the request timed out.
            self.terminate()
            return
        if response.is_success and cseq.method in _TARGET_REFRESH:
            contacts = response.contacts
            if contacts:
                self.remote_target = contacts[0].uri
            if self.state is DialogState.EARLY and cseq.method == "INVITE":
                # §13.2.2.4: the 2xx confirms the early dialog and fixes the route set.
                self.route_set = tuple(reversed(response.record_route))
                self._set_state(DialogState.CONFIRMED)
        elif self.state is DialogState.EARLY and cseq.method == "INVITE" and response.is_final:
            # §12.3: a final non-2xx to the INVITE ends its early dialogs.
            self.terminate()

    # -- requests we receive -----------------------------------------------------------------

    def receive_request(self, request: Request) -> Response | None:
        """Check an in-dialog request (§12.2.2); ``None`` to accept it, else the answer.

        Out-of-order CSeq gets 500 (§12.2.2), a re-INVITE crossing ours gets 491 and one
        arriving while the previous remote INVITE is unanswered gets 500 with Retry-After
        (§14.2). ACK and CANCEL are not sequence-checked: the ACK reuses the INVITE's
        number and CANCEL belongs to the transaction layer.
        """
        method = request.method
        if method in ("ACK", "CANCEL"):
            return None
        if self.state is DialogState.TERMINATED:
            return make_response(request, 481)
        number = request.cseq.number
        remote = self.remote_seq
        if remote is not None and number < remote:
            return make_response(request, 500, "Out of Order")
        if method == "INVITE":
            if self._local_invite is not None:
                return make_response(request, 491)
            if self._remote_invite is not None:
                retry = str(random.randrange(0, 11))
                return make_response(request, 500, headers=[("Retry-After", retry)])
        self.remote_seq = number
        if method == "INVITE":
            self._remote_invite = number
        if method in _TARGET_REFRESH:
            contacts = request.contacts
            if contacts:
                # §12.2.2: a target refresh request replaces the remote target.
                self.remote_target = contacts[0].uri
        elif method == "BYE":
            self.terminate()
        return None

    def response_sent(self, response: Response) -> None:
        """Tell the dialog we answered an in-dialog request (clears a remote INVITE)."""
        cseq = response.cseq
        if cseq.method == "INVITE" and response.is_final and cseq.number == self._remote_invite:
            self._remote_invite = None
            if response.is_success and self.state is DialogState.EARLY:
                self._set_state(DialogState.CONFIRMED)
            elif not response.is_success and self.state is DialogState.EARLY:
                self.terminate()
