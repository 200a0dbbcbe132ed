"""Digest authentication of agents' SIP phones: DigestServer results turned into SIP answers.

Sans-IO: the caller passes the request and the time (wall-clock seconds, since the stateless
nonces carry their issue time, RFC 7616 §3.3).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from trunkline.config.loader import SipCredentials
from trunkline.sip.dialog import new_tag
from trunkline.sip.digest import DigestReason, DigestServer
from trunkline.sip.message import Request, Response, make_response

_log = logging.getLogger(__name__)

# Asking again helps with these: the phone answers a fresh challenge with fresh credentials.
_CHALLENGE_AGAIN = frozenset(
    {
        DigestReason.MISSING,
        DigestReason.MALFORMED,
        DigestReason.UNSUPPORTED,
        DigestReason.BAD_REALM,
        DigestReason.BAD_NONCE,
        DigestReason.REPLAYED,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthResult:
    """Either the authenticated agent id, or the response to send instead."""

    agent_id: str | None = None
    response: Response | None = None

    @property
    def ok(self) -> bool:
        return self.agent_id is not None


CredentialLookup = Callable[[], Mapping[str, SipCredentials]]


class SipAuthenticator:
    """Challenges with SHA-256 then MD5 (RFC 8760 §2.4: most preferred first; the order is
    configurable for phones that only read the first challenge), verifies
    against agents' stored HA1s, and answers 401 (stale=true for an old nonce) or 403."""

    def __init__(
        self,
        realm: str,
        credentials: CredentialLookup,
        *,
        secret: bytes | None = None,
        nonce_ttl_s: float = 300,
        algorithms: Sequence[str] = ("SHA-256", "MD5"),
    ) -> None:
        self.realm = realm
        self._credentials = credentials
        self._server = DigestServer(
            realm,
            secret or secrets.token_bytes(32),
            nonce_ttl_s=nonce_ttl_s,
            algorithms=algorithms,
        )

    def _ha1(self, username: str, realm: str, algorithm: str) -> str | None:
        if realm != self.realm:
            return None
        entry = self._credentials().get(username)
        return None if entry is None else entry.ha1.get(algorithm)

    def check(self, request: Request, *, user: str, now: float) -> AuthResult:
        """Authenticate ``request`` as the agent ``user`` (the AOR's user part).

        RFC 3261 §10.3 step 6: the credentials must belong to the AOR being changed, so a
        valid agent registering someone else's AOR gets 403.
        """
        result = self._server.verify(
            request.headers.get("Authorization"),
            method=request.method,
            now=now,
            ha1_lookup=self._ha1,
        )
        if result.ok:
            if result.username != user:
                _log.warning("%s tried to register %s's phone", result.username, user)
                return AuthResult(response=make_response(request, 403, to_tag=new_tag()))
            return AuthResult(agent_id=user)
        if result.stale:
            return AuthResult(response=self.challenge(request, now=now, stale=True))
        if result.reason in _CHALLENGE_AGAIN:
            if result.reason is not DigestReason.MISSING:
                _log.info("digest from %s refused: %s", result.username, result.reason)
            return AuthResult(response=self.challenge(request, now=now))
        # WRONG_PASSWORD or UNKNOWN_USER after a nonce we issued: asking again would only
        # invite password guessing (RFC 3261 §22.4 lets a UAS answer 403 here).
        _log.warning("digest from %r refused: %s", result.username, result.reason)
        return AuthResult(response=make_response(request, 403, to_tag=new_tag()))

    def challenge(self, request: Request, *, now: float, stale: bool = False) -> Response:
        headers = [
            ("WWW-Authenticate", value) for value in self._server.challenge(now, stale=stale)
        ]
        return make_response(request, 401, to_tag=new_tag(), headers=headers)
