"""HTTP Digest authentication for SIP (RFC 3261 §22, RFC 7616 hashes as adopted by RFC 8760):
header parsing, a stateless-nonce server verifier and a client for challenging carriers."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from trunkline.domain.errors import TrunklineError

__all__ = [
    "ALGORITHMS",
    "DigestChallenge",
    "DigestClient",
    "DigestCredentials",
    "DigestError",
    "DigestReason",
    "DigestResult",
    "DigestServer",
    "compute_response",
    "format_params",
    "ha1",
    "parse_params",
]


class DigestError(TrunklineError):
    """A WWW-Authenticate / Authorization value that cannot be parsed or used."""

    error_id = "digest_malformed"
    status = 400


# Canonical spellings; RFC 7616 §3.3 names are compared case-insensitively here because
# deployed SIP stacks send "md5" and "MD5" alike.
ALGORITHMS: tuple[str, ...] = ("SHA-256", "SHA-256-sess", "MD5", "MD5-sess")
_CANONICAL = {name.lower(): name for name in ALGORITHMS}
_HASHLIB_NAMES = {"MD5": "md5", "SHA-256": "sha256"}
# The client answers the strongest challenge it supports, whatever order the server used.
_CLIENT_PREFERENCE = ("SHA-256", "SHA-256-sess", "MD5", "MD5-sess")

# RFC 3261 §25.1 token characters.
_TOKEN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")
_WS = " \t"


# --- parameter lists ---------------------------------------------------------------------------


def _is_text_char(char: str) -> bool:
    # RFC 3261 §25.1 qdtext: no CTLs apart from HTAB (UTF-8 above 0x7f is allowed).
    return char == "\t" or (char >= " " and char != "\x7f")


def parse_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``Scheme name=value, name="quoted", ...`` into the scheme and its parameters.

    Parameter names are lower-cased (RFC 7616 §3.3: they are case-insensitive); quoted values
    are unescaped. Unquoted values are taken leniently (anything up to a comma or blank), as
    some carriers send unquoted base64 nonces. Raises :class:`DigestError` when malformed.
    """
    text = value.strip(_WS)
    end = 0
    while end < len(text) and text[end] in _TOKEN:
        end += 1
    scheme = text[:end]
    if not scheme or (end < len(text) and text[end] not in _WS):
        raise DigestError("authentication header does not start with a scheme token")
    params: dict[str, str] = {}
    pos = end
    while True:
        pos = _skip(text, pos, _WS + ",")
        if pos >= len(text):
            break
        name_end = pos
        while name_end < len(text) and text[name_end] in _TOKEN:
            name_end += 1
        name = text[pos:name_end].lower()
        if not name:
            raise DigestError(f"expected a parameter name at offset {pos}")
        pos = _skip(text, name_end, _WS)
        if pos >= len(text) or text[pos] != "=":
            raise DigestError(f"parameter {name!r} has no '='")
        pos = _skip(text, pos + 1, _WS)
        if pos < len(text) and text[pos] == '"':
            param, pos = _quoted(text, pos)
        else:
            start = pos
            while pos < len(text) and text[pos] not in _WS + ',"' and _is_text_char(text[pos]):
                pos += 1
            param = text[start:pos]
            if not param:
                raise DigestError(f"parameter {name!r} has an empty value")
        if name in params:
            raise DigestError(f"parameter {name!r} given twice")
        params[name] = param
        pos = _skip(text, pos, _WS)
        if pos < len(text) and text[pos] != ",":
            raise DigestError(f"expected ',' after parameter {name!r}")
    if not params:
        raise DigestError(f"{scheme} header has no parameters")
    return scheme, params


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """Read the quoted-string starting at ``text[pos] == '"'`` (RFC 3261 §25.1)."""
    out: list[str] = []
    pos += 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return "".join(out), pos + 1
        if char == "\\":
            pos += 1
            # quoted-pair excludes CR and LF (RFC 3261 §25.1).
            if pos >= len(text) or text[pos] in "\r\n":
                break
            char = text[pos]
        elif not _is_text_char(char):
            raise DigestError("control character inside a quoted string")
        out.append(char)
        pos += 1
    raise DigestError("unterminated quoted string")


def _quote(value: str) -> str:
    if not all(_is_text_char(char) for char in value):
        raise DigestError("value cannot be carried in a quoted string (control character)")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_params(
    scheme: str, quoted: Iterable[tuple[str, str]], bare: Iterable[tuple[str, str]] = ()
) -> str:
    """``Scheme a="x", b=y``: ``quoted`` values are quoted, ``bare`` ones must be tokens."""
    parts = [f"{name}={_quote(value)}" for name, value in quoted]
    for name, value in bare:
        if not value or not set(value) <= _TOKEN:
            raise DigestError(f"{name} must be a token, got {value!r}")
        parts.append(f"{name}={value}")
    return f"{scheme} " + ", ".join(parts)


def _canonical_algorithm(name: str) -> str:
    canonical = _CANONICAL.get(name.lower())
    if canonical is None:
        raise DigestError(f"unsupported digest algorithm {name!r}", details={"algorithm": name})
    return canonical


def _base(algorithm: str) -> tuple[str, bool]:
    canonical = _canonical_algorithm(algorithm)
    if canonical.endswith("-sess"):
        return canonical[: -len("-sess")], True
    return canonical, False


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestChallenge:
    """One ``WWW-Authenticate`` / ``Proxy-Authenticate`` Digest challenge."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    domain: str | None = None

    @classmethod
    def parse(cls, value: str) -> DigestChallenge:
        scheme, params = parse_params(value)
        if scheme.lower() != "digest":
            raise DigestError(f"not a Digest challenge: {scheme}")
        try:
            realm, nonce = params["realm"], params["nonce"]
        except KeyError as exc:
            raise DigestError(f"Digest challenge lacks {exc.args[0]}") from exc
        qop = tuple(q.strip() for q in params.get("qop", "").split(",") if q.strip())
        return cls(
            realm=realm,
            nonce=nonce,
            # RFC 7616 §3.3: no algorithm parameter means MD5. Unknown names are kept so a
            # client can skip this challenge and pick another.
            algorithm=params.get("algorithm", "MD5"),
            qop=qop,
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
            domain=params.get("domain"),
        )

    def __str__(self) -> str:
        quoted = [("realm", self.realm)]
        if self.domain is not None:
            quoted.append(("domain", self.domain))
        quoted.append(("nonce", self.nonce))
        if self.opaque is not None:
            quoted.append(("opaque", self.opaque))
        if self.qop:
            # RFC 7616 §3.3: qop is a quoted list in the challenge.
            quoted.append(("qop", ",".join(self.qop)))
        bare = [("algorithm", self.algorithm)]
        if self.stale:
            bare.append(("stale", "TRUE"))
        return format_params("Digest", quoted, bare)


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestCredentials:
    """One ``Authorization`` / ``Proxy-Authorization`` Digest value."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    userhash: bool = False

    @classmethod
    def parse(cls, value: str) -> DigestCredentials:
        scheme, params = parse_params(value)
        if scheme.lower() != "digest":
            raise DigestError(f"not Digest credentials: {scheme}")
        try:
            return cls(
                username=params["username"],
                realm=params["realm"],
                nonce=params["nonce"],
                uri=params["uri"],
                response=params["response"],
                algorithm=params.get("algorithm", "MD5"),
                qop=params.get("qop"),
                nc=params.get("nc"),
                cnonce=params.get("cnonce"),
                opaque=params.get("opaque"),
                userhash=params.get("userhash", "").lower() == "true",
            )
        except KeyError as exc:
            raise DigestError(f"Digest credentials lack {exc.args[0]}") from exc

    def __str__(self) -> str:
        quoted = [
            ("username", self.username),
            ("realm", self.realm),
            ("nonce", self.nonce),
            ("uri", self.uri),
            ("response", self.response),
        ]
        bare = [("algorithm", self.algorithm)]
        if self.cnonce is not None:
            quoted.append(("cnonce", self.cnonce))
        if self.opaque is not None:
            quoted.append(("opaque", self.opaque))
        if self.qop is not None:
            # RFC 3261 §25.1 message-qop and RFC 7616 §3.4: a bare token in credentials.
            bare.append(("qop", self.qop))
        if self.nc is not None:
            bare.append(("nc", self.nc))
        return format_params("Digest", quoted, bare)


# --- hashing -----------------------------------------------------------------------------------


def _h(algorithm: str, text: str) -> str:
    # RFC 7616 §4: strings are hashed as UTF-8, which is also SIP's character set.
    return hashlib.new(_HASHLIB_NAMES[algorithm], text.encode("utf-8")).hexdigest()


def ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """H(username:realm:password), the value to store instead of a plaintext SIP password.

    For ``-sess`` algorithms this is the hash of the base algorithm; the session part is mixed
    in per request (RFC 7616 §3.4.2).
    """
    base, _ = _base(algorithm)
    return _h(base, f"{username}:{realm}:{password}")


def compute_response(
    *,
    algorithm: str,
    ha1_hex: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The ``response`` value (RFC 7616 §3.4.1, RFC 3261 §22.4 for the qop-less form)."""
    base, sess = _base(algorithm)
    key = ha1_hex.lower()
    if sess:
        if cnonce is None:
            raise DigestError(f"{algorithm} needs a cnonce")
        # RFC 7616 §3.4.2: A1 = H(user:realm:password):nonce:cnonce for -sess.
        key = _h(base, f"{key}:{nonce}:{cnonce}")
    # A2 = method:uri for qop=auth and for the RFC 2069 form (RFC 7616 §3.4.3).
    ha2 = _h(base, f"{method}:{uri}")
    if qop is None:
        return _h(base, f"{key}:{nonce}:{ha2}")
    if nc is None or cnonce is None:
        raise DigestError("qop requires nc and cnonce")
    return _h(base, f"{key}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


# --- server ------------------------------------------------------------------------------------


class DigestReason(StrEnum):
    OK = "ok"
    MISSING = "missing"
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"  # algorithm, qop or scheme we do not accept
    BAD_REALM = "bad_realm"
    BAD_NONCE = "bad_nonce"  # not issued by us (tampered, other realm, other secret)
    STALE = "stale"  # ours and answered correctly, but too old: re-challenge with stale=TRUE
    UNKNOWN_USER = "unknown_user"
    WRONG_PASSWORD = "wrong_password"
    REPLAYED = "replayed"  # nonce count did not increase


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestResult:
    reason: DigestReason
    username: str | None = None
    algorithm: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is DigestReason.OK

    @property
    def stale(self) -> bool:
        return self.reason is DigestReason.STALE


_NONCE_LABEL = b"trunkline digest nonce\x00"
_NONCE_BODY_BYTES = 16  # 8 bytes of milliseconds, 8 random bytes
_NONCE_MAC_HEX = 32  # HMAC-SHA-256 cut to 128 bits (RFC 2104 §5 allows half the output)
_NONCE_HEX = 2 * _NONCE_BODY_BYTES + _NONCE_MAC_HEX
_FUTURE_SKEW_MS = 30_000  # nodes sharing a secret may disagree on the clock by this much
_HEX = frozenset("0123456789abcdef")


class DigestServer:
    """Challenges and verifies Digest credentials without per-challenge state.

    A nonce is ``hex(ms timestamp, 8 random bytes) + HMAC-SHA-256(secret, that + realm)``, so
    any node holding ``secret`` can check it (the time-stamp-plus-keyed-hash shape that
    RFC 7616 §3.3 suggests for nonces).
    ``now`` is seconds on whatever clock the caller uses, the same for challenge and verify
    (wall-clock time when several nodes share the secret).

    Replay memory: the highest nonce count accepted per nonce, for at most
    ``replay_capacity`` nonces. When full, the least recently used nonce is dropped, and from
    then on any nonce issued at or before it that is not still remembered is answered as
    stale: the bound makes some clients re-authenticate sooner but never lets a replay in.
    The memory is per instance; it does not survive a restart or cover other nodes.
    """

    def __init__(
        self,
        realm: str,
        secret: bytes,
        *,
        nonce_ttl_s: float = 300,
        algorithms: Sequence[str] = ("SHA-256", "MD5"),
        opaque: str | None = None,
        replay_capacity: int = 10_000,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the nonce secret must be at least 16 bytes")
        if replay_capacity < 1:
            raise ValueError("replay_capacity must be positive")
        self.realm = realm
        self.algorithms = tuple(_canonical_algorithm(a) for a in algorithms)
        if not self.algorithms:
            raise ValueError("at least one algorithm is needed")
        self.opaque = opaque
        self._secret = secret
        self._ttl_ms = int(nonce_ttl_s * 1000)
        self._random_bytes = random_bytes
        self._capacity = replay_capacity
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._forgotten_up_to_ms = -1

    # -- challenge --

    def challenge(
        self, now: float, *, stale: bool = False, algorithms: Sequence[str] | None = None
    ) -> list[str]:
        """WWW-Authenticate values, one per algorithm, most preferred first (RFC 8760).

        ``stale=True`` after a :attr:`DigestReason.STALE` result tells the client to retry
        with the new nonce without asking its user again (RFC 7616 §3.3).
        """
        chosen = self.algorithms if algorithms is None else tuple(algorithms)
        nonce = self._new_nonce(now)
        values: list[str] = []
        for algorithm in chosen:
            canonical = _canonical_algorithm(algorithm)
            if canonical not in self.algorithms:
                raise ValueError(f"{canonical} is not accepted by this server")
            challenge = DigestChallenge(
                realm=self.realm,
                nonce=nonce,
                algorithm=canonical,
                qop=("auth",),
                opaque=self.opaque,
                stale=stale,
            )
            values.append(str(challenge))
        return values

    def _new_nonce(self, now: float) -> str:
        millis = int(now * 1000)
        if millis < 0:
            raise ValueError("now must not be negative")
        body = millis.to_bytes(8, "big") + self._random_bytes(8)
        return body.hex() + self._mac(body)

    def _mac(self, body: bytes) -> str:
        message = _NONCE_LABEL + body + self.realm.encode("utf-8")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:_NONCE_MAC_HEX]

    def _nonce_time(self, nonce: str) -> int | None:
        """Issue time in ms of a nonce we signed, or None if we did not sign it."""
        if len(nonce) != _NONCE_HEX or not set(nonce) <= _HEX:
            return None
        body = bytes.fromhex(nonce[: 2 * _NONCE_BODY_BYTES])
        if not hmac.compare_digest(self._mac(body), nonce[2 * _NONCE_BODY_BYTES :]):
            return None
        return int.from_bytes(body[:8], "big")

    # -- verify --

    def verify(
        self,
        authorization_value: str | None,
        *,
        method: str,
        now: float,
        ha1_lookup: Callable[[str, str, str], str | None],
    ) -> DigestResult:
        """Check one Authorization value for a request with ``method``.

        ``ha1_lookup(username, realm, algorithm)`` returns the stored HA1 hex for the base
        algorithm ("MD5" or "SHA-256", also for the -sess variants) or None.
        Only qop=auth is accepted: without it there is no nonce count to stop replays, and
        auth-int (a hash of the body) is not implemented.
        """
        if authorization_value is None or not authorization_value.strip(_WS):
            return DigestResult(reason=DigestReason.MISSING)
        stripped = authorization_value.strip(_WS)
        scheme = stripped[: next((i for i, c in enumerate(stripped) if c in _WS), None)]
        if scheme.lower() != "digest":
            return DigestResult(reason=DigestReason.UNSUPPORTED)
        try:
            credentials = DigestCredentials.parse(authorization_value)
        except DigestError:
            return DigestResult(reason=DigestReason.MALFORMED)
        user = credentials.username
        try:
            algorithm = _canonical_algorithm(credentials.algorithm)
        except DigestError:
            return DigestResult(reason=DigestReason.UNSUPPORTED, username=user)
        if algorithm not in self.algorithms or credentials.userhash:
            return DigestResult(reason=DigestReason.UNSUPPORTED, username=user)
        if credentials.qop is None or credentials.qop.lower() != "auth":
            return DigestResult(reason=DigestReason.UNSUPPORTED, username=user)
        nc = _nonce_count(credentials.nc)
        if nc is None or not credentials.cnonce or not credentials.uri:
            return DigestResult(reason=DigestReason.MALFORMED, username=user)
        if credentials.realm != self.realm:
            return DigestResult(reason=DigestReason.BAD_REALM, username=user)
        issued_ms = self._nonce_time(credentials.nonce)
        now_ms = int(now * 1000)
        if issued_ms is None or issued_ms > now_ms + _FUTURE_SKEW_MS:
            return DigestResult(reason=DigestReason.BAD_NONCE, username=user)
        if self.opaque is not None and credentials.opaque != self.opaque:
            return DigestResult(reason=DigestReason.BAD_NONCE, username=user)

        base, _ = _base(algorithm)
        stored = ha1_lookup(user, self.realm, base)
        # Hash and compare even for unknown users so timing does not reveal which exist.
        key = stored if stored is not None else "0" * len(_h(base, ""))
        expected = compute_response(
            algorithm=algorithm,
            ha1_hex=key,
            nonce=credentials.nonce,
            method=method,
            uri=credentials.uri,
            qop=credentials.qop,
            nc=credentials.nc,
            cnonce=credentials.cnonce,
        )
        matches = hmac.compare_digest(
            expected.encode("ascii"), credentials.response.lower().encode("utf-8")
        )
        if stored is None:
            return DigestResult(reason=DigestReason.UNKNOWN_USER, username=user)
        if not matches:
            return DigestResult(reason=DigestReason.WRONG_PASSWORD, username=user)
        # RFC 7616 §3.3: stale only when the response was right for the old nonce, so the
        # client may retry without asking its user for the password again.
        if now_ms - issued_ms > self._ttl_ms:
            return DigestResult(reason=DigestReason.STALE, username=user, algorithm=algorithm)
        replay = self._remember(credentials.nonce, issued_ms, nc)
        if replay is not None:
            return DigestResult(reason=replay, username=user, algorithm=algorithm)
        return DigestResult(reason=DigestReason.OK, username=user, algorithm=algorithm)

    def _remember(self, nonce: str, issued_ms: int, nc: int) -> DigestReason | None:
        # RFC 7616 §3.4 (nc): a count seen twice for one nonce means a replayed request.
        last = self._seen.get(nonce)
        if last is None and issued_ms <= self._forgotten_up_to_ms:
            # We may have forgotten this nonce's count; a fresh nonce settles it.
            return DigestReason.STALE
        if last is not None and nc <= last:
            return DigestReason.REPLAYED
        self._seen[nonce] = nc
        self._seen.move_to_end(nonce)
        while len(self._seen) > self._capacity:
            dropped, _ = self._seen.popitem(last=False)
            dropped_ms = int(dropped[:16], 16)
            self._forgotten_up_to_ms = max(self._forgotten_up_to_ms, dropped_ms)
        return None


def _nonce_count(value: str | None) -> int | None:
    # RFC 7616 §3.4: nc is exactly 8 hex digits; 0 is never a valid first count.
    if value is None or len(value) != 8 or not set(value.lower()) <= _HEX:
        return None
    count = int(value, 16)
    return count if count > 0 else None


# --- client ------------------------------------------------------------------------------------


def _default_cnonce() -> str:
    return secrets.token_hex(16)


class DigestClient:
    """Answers Digest challenges from carriers; remembers nonce counts per nonce."""

    _MAX_NONCES = 64

    def __init__(self, *, cnonce_factory: Callable[[], str] = _default_cnonce) -> None:
        self._cnonce_factory = cnonce_factory
        self._counts: OrderedDict[str, int] = OrderedDict()

    @staticmethod
    def select(challenges: str | Sequence[str]) -> DigestChallenge:
        """The challenge to answer: SHA-256 when offered, else MD5 (RFC 8760).

        Challenges that are not Digest, fail to parse, use an unknown algorithm or allow
        only auth-int are skipped; :class:`DigestError` if none is left.
        """
        values = [challenges] if isinstance(challenges, str) else list(challenges)
        usable: list[DigestChallenge] = []
        problems: list[str] = []
        for value in values:
            try:
                challenge = DigestChallenge.parse(value)
                algorithm = _canonical_algorithm(challenge.algorithm)
            except DigestError as exc:
                problems.append(exc.message)
                continue
            if challenge.qop and "auth" not in challenge.qop:
                problems.append("only auth-int offered, which is not supported")
                continue
            if algorithm.endswith("-sess") and not challenge.qop:
                problems.append(f"{algorithm} without qop is not defined")
                continue
            usable.append(dataclasses.replace(challenge, algorithm=algorithm))
        if not usable:
            raise DigestError("no usable Digest challenge", details={"problems": problems})
        return min(usable, key=lambda c: _CLIENT_PREFERENCE.index(c.algorithm))

    def authorization(
        self,
        challenge_value: str | Sequence[str],
        *,
        method: str,
        uri: str,
        username: str,
        password: str,
        cnonce_factory: Callable[[], str] | None = None,
        nc: int | None = None,
    ) -> str:
        """The Authorization (or Proxy-Authorization) value answering ``challenge_value``.

        Pass every WWW-Authenticate value of the response to let the client pick. ``nc``
        defaults to one more than the last count used with the same nonce.
        """
        challenge = self.select(challenge_value)
        qop = "auth" if challenge.qop else None
        cnonce: str | None = None
        nc_text: str | None = None
        if qop is not None:
            cnonce = (cnonce_factory or self._cnonce_factory)()
            count = nc if nc is not None else self._counts.get(challenge.nonce, 0) + 1
            if not 0 < count < 2**32:
                raise ValueError("nc must fit in 8 hex digits and be positive")
            self._counts[challenge.nonce] = count
            self._counts.move_to_end(challenge.nonce)
            while len(self._counts) > self._MAX_NONCES:
                self._counts.popitem(last=False)
            nc_text = f"{count:08x}"
        response = compute_response(
            algorithm=challenge.algorithm,
            ha1_hex=ha1(username, challenge.realm, password, challenge.algorithm),
            nonce=challenge.nonce,
            method=method,
            uri=uri,
            qop=qop,
            nc=nc_text,
            cnonce=cnonce,
        )
        credentials = DigestCredentials(
            username=username,
            realm=challenge.realm,
            nonce=challenge.nonce,
            uri=uri,
            response=response,
            algorithm=challenge.algorithm,
            qop=qop,
            nc=nc_text,
            cnonce=cnonce,
            opaque=challenge.opaque,
        )
        return str(credentials)
