"""Logins, bearer tokens, the middleware that authenticates every request, role checks.

Secure by default: only routes whose table entry says "public" go without a token.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from aiohttp import web
from aiohttp.typedefs import Handler

from trunkline.auth.passwords import hash_password, verify_password
from trunkline.config.loader import UserSpec
from trunkline.domain.errors import InvalidRequestError
from trunkline.web import keys
from trunkline.web.errors import ForbiddenError, InvalidCredentialsError, UnauthenticatedError

ROLE_RANK: Mapping[str, int] = {"agent": 0, "supervisor": 1, "admin": 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling: the user behind a valid token, as the current user list says."""

    user_id: str
    name: str
    role: str
    agent_id: str | None
    token: str
    expires_at: float

    def has_role(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]

    @property
    def actor(self) -> str:
        """Who a record names as having done something: the agent id, else the user id."""
        return self.agent_id or self.user_id

    @property
    def is_supervisor(self) -> bool:
        return self.has_role("supervisor")

    def as_dict(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "role": self.role,
            "agent_id": self.agent_id,
            "expires_at": self.expires_at,
        }


class TokenStore:
    """Opaque tokens kept in memory with an expiry; a restart logs everyone out."""

    def __init__(self, *, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (user id, expires at)

    def issue(self, user_id: str) -> tuple[str, float]:
        now = self._clock()
        self._purge(now)
        token = secrets.token_urlsafe(32)
        expires_at = now + self.ttl_s
        self._tokens[token] = (user_id, expires_at)
        return token, expires_at

    def lookup(self, token: str) -> tuple[str, float] | None:
        entry = self._tokens.get(token)
        if entry is None:
            return None
        if self._clock() >= entry[1]:
            del self._tokens[token]
            return None
        return entry

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)

    def _purge(self, now: float) -> None:
        # Run on each login: expired tokens of people who never logged out go away.
        for token in [t for t, (_, exp) in self._tokens.items() if now >= exp]:
            del self._tokens[token]

    def __len__(self) -> int:
        return len(self._tokens)


@functools.cache
def _dummy_hash() -> str:
    # A real hash of a secret nobody knows, with the current parameters: an unknown user
    # costs one argon2 verification like a known one, so timing does not tell them apart.
    return hash_password(secrets.token_urlsafe(32))


def _check_password(user: UserSpec | None, password: str) -> bool:
    stored = user.password_hash if user is not None else None
    matches = verify_password(stored or _dummy_hash(), password)
    return matches and stored is not None


class Authenticator:
    """Checks passwords, issues tokens and resolves them against the current users."""

    def __init__(
        self,
        users: Mapping[str, UserSpec],
        *,
        ttl_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tokens = TokenStore(ttl_s=ttl_s, clock=clock)
        self._users: Mapping[str, UserSpec] = MappingProxyType(dict(users))

    @property
    def users(self) -> Mapping[str, UserSpec]:
        return self._users

    def set_users(self, users: Mapping[str, UserSpec]) -> None:
        """Swap the user list; tokens of removed users stop working at once."""
        self._users = MappingProxyType(dict(users))

    async def login(self, username: str, password: str) -> Principal:
        user = self._users.get(username)
        # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
        if not await asyncio.to_thread(_check_password, user, password) or user is None:
            raise InvalidCredentialsError("unknown user or wrong password")
        token, expires_at = self.tokens.issue(user.id)
        return self._principal(user, token, expires_at)

    def authenticate(self, token: str) -> Principal | None:
        entry = self.tokens.lookup(token)
        if entry is None:
            return None
        user = self._users.get(entry[0])
        if user is None:
            self.tokens.revoke(token)
            return None
        return self._principal(user, token, entry[1])

    def logout(self, token: str) -> None:
        self.tokens.revoke(token)

    @staticmethod
    def _principal(user: UserSpec, token: str, expires_at: float) -> Principal:
        return Principal(
            user_id=user.id,
            name=user.name or user.id,
            role=user.role,
            agent_id=user.agent_id,
            token=token,
            expires_at=expires_at,
        )


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    match = request.match_info
    if match.http_exception is not None:
        return await handler(request)  # unknown route or method: 404/405, not 401
    spec = request.app[keys.ROUTE_SPECS].get(match.route)
    access = spec.access if spec is not None else "agent"
    if access == "public":
        return await handler(request)
    token = _bearer(request)
    if token is None and spec is not None and spec.websocket:
        token = request.query.get("token") or None
    principal = request.app[keys.AUTH].authenticate(token) if token else None
    if principal is None:
        raise UnauthenticatedError("a valid bearer token is needed; log in first")
    if not principal.has_role(access):
        raise ForbiddenError(
            f"this needs the {access} role", details={"role": principal.role, "needs": access}
        )
    request[keys.PRINCIPAL] = principal
    return await handler(request)


def principal_of(request: web.Request) -> Principal:
    return request[keys.PRINCIPAL]


def check_agent_scope(principal: Principal, agent_id: str) -> None:
    """Agents act on themselves only; supervisors on anyone."""
    if not principal.is_supervisor and principal.agent_id != agent_id:
        raise ForbiddenError("agents may only act on themselves", details={"agent_id": agent_id})


def acting_agent(principal: Principal, requested: str | None) -> str:
    """The agent a command acts for: the caller, or the agent a supervisor names."""
    if principal.is_supervisor:
        if requested is not None:
            return requested
        if principal.agent_id is not None:
            return principal.agent_id
        raise InvalidRequestError("name the agent to act for in agent_id")
    if principal.agent_id is None:
        raise ForbiddenError("this login is not an agent")
    if requested is not None and requested != principal.agent_id:
        raise ForbiddenError("agents may only act for themselves", details={"agent_id": requested})
    return principal.agent_id


def set_users(app: web.Application, users: Mapping[str, UserSpec]) -> None:
    """Swap the logins (after a config reload); removed users' tokens stop working."""
    app[keys.AUTH].set_users(users)
