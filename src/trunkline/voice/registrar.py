"""The location service of RFC 3261 §10.3, sans-IO: contact bindings per address-of-record.

Agents' phones REGISTER here so that later milestones can call them. Time is an argument;
expired bindings are dropped when an AOR is next read or written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from trunkline.sip.errors import RemoteProtocolError
from trunkline.sip.headers import NameAddress
from trunkline.sip.message import Request

_log = logging.getLogger(__name__)

DEFAULT_EXPIRES_S = 3600  # RFC 3261 §10.2.1.1: the registrar's choice; an hour is usual


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding:
    """One contact of an AOR, with what is needed to reach it and to order refreshes."""

    contact: NameAddress  # as sent, without its expires parameter
    expires_at: float
    call_id: str
    cseq: int
    source: tuple[str, int]  # where the REGISTER came from (NAT-friendly reachability)
    transport: str

    @property
    def uri_key(self) -> str:
        # RFC 3261 §10.3 step 7 compares Contact URIs by URI equality; the string form of
        # our parsed URI (parameters kept in order) is close enough for a phone's refreshes.
        return str(self.contact.uri)

    def remaining(self, now: float) -> int:
        return max(0, round(self.expires_at - now))


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterOutcome:
    """How to answer a REGISTER: the status, and for a 200 the AOR's bindings after it."""

    status: int
    reason: str | None = None
    bindings: tuple[Binding, ...] = ()
    min_expires: int | None = None  # for a 423 (RFC 3261 §20.23)
    now: float = 0.0

    def headers(self) -> list[tuple[str, str]]:
        """Contact values with their remaining time (§10.3 step 8), or Min-Expires for 423."""
        if self.min_expires is not None:
            return [("Min-Expires", str(self.min_expires))]
        return [
            ("Contact", str(b.contact.with_params(expires=str(b.remaining(self.now)))))
            for b in self.bindings
        ]


@dataclass(slots=True)
class _Aor:
    bindings: dict[str, Binding] = field(default_factory=dict)


class Registrar:
    """Bindings per AOR with expiry, Contact ``*``, Min-Expires and a cap per AOR."""

    def __init__(
        self,
        *,
        min_expires_s: int = 60,
        max_expires_s: int = 3600,
        default_expires_s: int = DEFAULT_EXPIRES_S,
        max_bindings: int = 5,
    ) -> None:
        if not 0 < min_expires_s <= max_expires_s:
            raise ValueError("need 0 < min_expires_s <= max_expires_s")
        self.min_expires_s = min_expires_s
        self.max_expires_s = max_expires_s
        self.default_expires_s = min(max(default_expires_s, min_expires_s), max_expires_s)
        self.max_bindings = max_bindings
        self._aors: dict[str, _Aor] = {}

    # -- reading -----------------------------------------------------------------------------

    def lookup(self, aor: str, now: float) -> tuple[Binding, ...]:
        """The AOR's live bindings, the most recently refreshed last."""
        entry = self._aors.get(aor)
        if entry is None:
            return ()
        self._prune(aor, entry, now)
        return tuple(entry.bindings.values())

    def __len__(self) -> int:
        """AORs with at least one binding (possibly expired, until next touched)."""
        return len(self._aors)

    # -- REGISTER ----------------------------------------------------------------------------

    def register(
        self, aor: str, request: Request, *, source: tuple[str, int], transport: str, now: float
    ) -> RegisterOutcome:
        """Apply one authenticated REGISTER for ``aor`` (RFC 3261 §10.3 steps 6-8).

        A query (no Contact) changes nothing; ``Contact: *`` with ``Expires: 0`` removes
        every binding; each other contact is added, refreshed or (expires 0) removed.
        Malformed values give a 400 outcome, never an exception.
        """
        entry = self._aors.get(aor)
        if entry is None:
            entry = _Aor()
        else:
            self._prune(aor, entry, now)
        try:
            header_expires = _expires_header(request)
            call_id = request.call_id
            cseq = request.cseq.number
            wildcard = request.is_contact_wildcard
            contacts = [] if wildcard else request.contacts
        except RemoteProtocolError as exc:
            return RegisterOutcome(status=400, reason=f"Bad Request ({exc.message})", now=now)
        if "*" in request.headers.get_all("Contact") and not wildcard:
            # §10.3 step 6: "*" must stand alone.
            return RegisterOutcome(status=400, reason="Bad Request (Contact * not alone)", now=now)

        if wildcard:
            if header_expires != 0:
                # §10.3 step 6: "*" is only valid with Expires: 0.
                return RegisterOutcome(
                    status=400, reason="Bad Request (Contact * needs Expires: 0)", now=now
                )
            for binding in entry.bindings.values():
                if binding.call_id == call_id and cseq <= binding.cseq:
                    return RegisterOutcome(
                        status=500, reason="Out of Order (CSeq not above the binding's)", now=now
                    )
            if entry.bindings:
                _log.info("%s: all %d bindings removed", aor, len(entry.bindings))
            self._aors.pop(aor, None)
            return RegisterOutcome(status=200, now=now)

        # First pass: work out each contact's expiry and refuse the whole request if one
        # is too brief (§10.3 step 7: 423 and no change at all).
        planned: list[tuple[NameAddress, int]] = []
        for contact in contacts:
            try:
                expires = _contact_expires(contact, header_expires, self.default_expires_s)
            except ValueError:
                return RegisterOutcome(status=400, reason="Bad Request (bad expires)", now=now)
            if 0 < expires < self.min_expires_s:
                return RegisterOutcome(status=423, min_expires=self.min_expires_s, now=now)
            bare = replace(contact, params=contact.params.without("expires"))
            planned.append((bare, min(expires, self.max_expires_s)))

        updated = dict(entry.bindings)
        for contact, expires in planned:
            key = str(contact.uri)
            old = updated.get(key)
            if old is not None and old.call_id == call_id and cseq <= old.cseq:
                # §10.3 step 7: a stale or repeated request must not undo a newer one.
                return RegisterOutcome(
                    status=500, reason="Out of Order (CSeq not above the binding's)", now=now
                )
            if expires == 0:
                updated.pop(key, None)
                continue
            updated.pop(key, None)  # re-inserted last: the most recent refresh comes last
            updated[key] = Binding(
                contact=contact,
                expires_at=now + expires,
                call_id=call_id,
                cseq=cseq,
                source=source,
                transport=transport,
            )
        if len(updated) > self.max_bindings:
            # Refused rather than evicting an older phone the agent may still be using.
            return RegisterOutcome(status=403, reason="Too Many Registrations", now=now)
        if updated:
            entry.bindings = updated
            self._aors[aor] = entry
        else:
            self._aors.pop(aor, None)
        if planned:
            _log.info("%s: %d bindings", aor, len(updated))
        return RegisterOutcome(status=200, bindings=tuple(updated.values()), now=now)

    # -- housekeeping ------------------------------------------------------------------------

    def _prune(self, aor: str, entry: _Aor, now: float) -> None:
        live = {k: b for k, b in entry.bindings.items() if b.expires_at > now}
        if len(live) != len(entry.bindings):
            entry.bindings = live
            if not live:
                self._aors.pop(aor, None)

    def expire(self, now: float) -> int:
        """Drop every expired binding; returns how many went (for a periodic sweep)."""
        dropped = 0
        for aor in list(self._aors):
            entry = self._aors[aor]
            before = len(entry.bindings)
            self._prune(aor, entry, now)
            dropped += before - len(entry.bindings)
        return dropped


def _expires_header(request: Request) -> int | None:
    value = request.headers.get("Expires")
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit():
        raise RemoteProtocolError(f"Expires is not a number: {value!r}", reason="Bad Expires")
    # RFC 3261 §20.19: values over 2**32-1 are taken as that; the cap comes later anyway.
    return min(int(text), 2**32 - 1)


def _contact_expires(contact: NameAddress, header: int | None, default: int) -> int:
    # RFC 3261 §10.3 step 7: the contact's own expires parameter, else the Expires header,
    # else the registrar's default.
    param = contact.params.get("expires")
    if param is not None:
        text = param.strip()
        if not text.isdigit():
            raise ValueError(param)
        return min(int(text), 2**32 - 1)
    if header is not None:
        return header
    return default
