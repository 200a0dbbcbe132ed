"""The external CRM connector: a customer's record fetched from another CRM over HTTP.

When an interaction arrives, the screen-pop merges what the local CRM knows with what an
external CRM answers for the customer's identities, and offers the agent a link that opens
the customer's page there. The external CRM is someone else's server: it may be slow, down,
or answer nonsense, and none of that may hold up routing. So ``fetch`` is bounded by the
configured timeout, never raises for remote problems, and reports what went wrong as a
status the screen-pop can show ("the external part is missing: ...").

Templates (``url``, ``screen_pop_url``) are parsed once with ``string.Formatter``; every
value is percent-encoded whole (``quote(safe="")``) so the ``+`` of an E.164 number, an
``@`` or a ``/`` arrive as data, never as URL syntax. Answers are cached (LRU with a TTL)
and concurrent lookups of the same customer share one request.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import logging
import os
import re
import string
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from trunkline.config.crm_settings import ExternalCrmSettings
from trunkline.domain.errors import ConfigError

log = logging.getLogger(__name__)

ExternalStatus = Literal["ok", "not_found", "timeout", "error", "skipped", "disabled"]

MAX_BODY_BYTES = 1024 * 1024  # a customer record is a few KiB; more is a misconfigured URL
_CHUNK_BYTES = 64 * 1024

IDENTITY_PLACEHOLDERS = ("phone", "email", "account", "visitor")
# {identity} and {kind}: the first identity available, in the order of settings.identities.
URL_PLACEHOLDERS = frozenset((*IDENTITY_PLACEHOLDERS, "contact_id", "identity", "kind"))
_EXTERNAL_PREFIX = "external."

_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Characters a URL template's literal text may keep as written: everything printable in
# ASCII but space and the quote/bracket characters a browser or proxy would re-encode.
# Existing %XX escapes survive because "%" is kept.
_LITERAL_SAFE = "!#$%&'()*+,-./:;=?@[]_~"
# Schemes that run code when an agent's browser opens them: never a screen-pop link.
_SCRIPT_SCHEMES = frozenset(("javascript", "data", "vbscript"))
# Secrets shorter than this are not redacted from messages: "1" or "ab" would mangle text.
_MIN_REDACT_LEN = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalResult:
    """What the external CRM contributed to a screen-pop, or why it contributed nothing."""

    status: ExternalStatus
    record: Mapping[str, Any]  # screen-pop field -> JSON value; empty unless status is "ok"
    url: str | None  # the rendered screen_pop_url, when it can be rendered
    message: str = ""  # why the external part is missing, for the agent and the log
    cached: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "record": copy.deepcopy(dict(self.record)),
            "url": self.url,
            "message": self.message,
            "cached": self.cached,
        }


DISABLED = ExternalResult(status="disabled", record=MappingProxyType({}), url=None)
"""The result to show when no external CRM is configured."""


# -- templates ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Template:
    """A URL template split once into literal text and placeholders.

    ``parts`` alternates (literal, None) and ("", field); rendering percent-encodes each
    value and never interprets the template again, so a value cannot inject syntax.
    """

    parts: tuple[tuple[str, str | None], ...]

    @property
    def fields(self) -> Iterator[str]:
        return (f for _, f in self.parts if f is not None)

    def render(self, lookup: Callable[[str], str | None]) -> str | _Missing:
        out: list[str] = []
        for literal, name in self.parts:
            out.append(literal)
            if name is None:
                continue
            value = lookup(name)
            if value is None:
                return _Missing(name)
            out.append(quote(value, safe=""))
        return "".join(out)


@dataclass(frozen=True, slots=True)
class _Missing:
    """A template could not be rendered because ``name`` has no value."""

    name: str


def _parse_template(
    text: str, where: str, *, allow_external: bool, fields: Mapping[str, str]
) -> tuple[_Template | None, list[dict[str, Any]]]:
    """Parse ``text``; return the template or the problems found (as ConfigError entries)."""
    problems: list[dict[str, Any]] = []

    def problem(message: str) -> None:
        problems.append({"file": None, "line": None, "field": where, "message": message})

    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:  # unbalanced braces
        problem(f"invalid template: {exc}")
        return None, problems
    parts: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in pieces:
        if literal:
            parts.append((quote(literal, safe=_LITERAL_SAFE), None))
        if name is None:
            continue
        if spec or conversion:
            problem(f"placeholder {{{name}}} must not have a format spec or conversion")
        if name.startswith(_EXTERNAL_PREFIX):
            path = name[len(_EXTERNAL_PREFIX) :]
            if not allow_external:
                problem(f"placeholder {{{name}}} is only allowed in screen_pop_url")
            elif not path or "" in path.split("."):
                problem(f"placeholder {{{name}}} names no external field")
            elif fields and path.split(".", 1)[0] not in fields:
                problem(
                    f"placeholder {{{name}}}: {path.split('.', 1)[0]!r} is not one of the "
                    f"mapped fields ({', '.join(sorted(fields))})"
                )
        elif name not in URL_PLACEHOLDERS:
            allowed = ", ".join(f"{{{p}}}" for p in sorted(URL_PLACEHOLDERS))
            extra = ", {external.<field>}" if allow_external else ""
            problem(f"unknown placeholder {{{name}}} (known: {allowed}{extra})")
        parts.append(("", name))
    return _Template(tuple(parts)), problems


def _skeleton(text: str) -> str:
    """``text`` with every placeholder replaced by "x", to check the URL's shape."""
    try:
        pieces = string.Formatter().parse(text)
        return "".join(lit + ("x" if name is not None else "") for lit, name, _, _ in pieces)
    except ValueError:
        return text


# -- JSON paths --------------------------------------------------------------------------

_ABSENT = object()


def _walk(value: Any, path: str) -> Any:
    """The value at dotted ``path`` (``customer.name``, ``accounts.0.number``), or _ABSENT."""
    for segment in path.split("."):
        if isinstance(value, Mapping):
            if segment not in value:
                return _ABSENT
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit():
            index = int(segment)
            if index >= len(value):
                return _ABSENT
            value = value[index]
        else:
            return _ABSENT
    return value


def _url_value(value: Any) -> str | None:
    """A JSON scalar as URL text; objects, lists and null cannot go into a link."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float):
        return str(value)
    return None


# -- the connector -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one request to the external CRM produced, before per-caller rendering."""

    status: ExternalStatus
    record: Mapping[str, Any]
    message: str = ""


_EMPTY: Mapping[str, Any] = MappingProxyType({})
_CacheKey = tuple[str, str, bytes]


class ExternalCrm:
    """Fetches customer records from the configured external CRM.

    Construction validates the settings (templates, ``${NAME}`` header references) and
    raises ``ConfigError`` listing every problem; ``start`` opens the pooled HTTP session.
    """

    def __init__(
        self,
        settings: ExternalCrmSettings,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._clock = clock
        env = os.environ if environ is None else environ
        problems: list[dict[str, Any]] = []

        def problem(where: str, message: str) -> None:
            problems.append({"file": None, "line": None, "field": where, "message": message})

        # Headers: secrets come from the environment. Messages name the header and the
        # variable, never a value.
        headers: dict[str, str] = {"Accept": "application/json"}
        secrets: list[str] = []
        for name, raw in settings.headers.items():
            where = f"crm.external.headers.{name}"
            missing = [v for v in _ENV_RE.findall(raw) if v not in env]
            for var in missing:
                problem(where, f"header {name!r} needs environment variable {var}, not set")
            if missing:
                continue
            secrets.extend(env[v] for v in _ENV_RE.findall(raw))
            value = _ENV_RE.sub(lambda m: env[m.group(1)], raw)
            if any(c in value for c in "\r\n\0"):
                problem(where, f"header {name!r} contains a line break or NUL")
                continue
            headers[name] = value
        self._headers: Mapping[str, str] = MappingProxyType(headers)
        # Longest first, so a secret that contains another is redacted whole.
        self._secrets = tuple(
            sorted({s for s in secrets if len(s) >= _MIN_REDACT_LEN}, key=len, reverse=True)
        )

        url, url_problems = _parse_template(
            settings.url, "crm.external.url", allow_external=False, fields=settings.fields
        )
        problems.extend(url_problems)
        parsed = urlsplit(_skeleton(settings.url))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            problem("crm.external.url", "must be an http:// or https:// URL with a host")

        pop: _Template | None = None
        if settings.screen_pop_url is not None:
            pop, pop_problems = _parse_template(
                settings.screen_pop_url,
                "crm.external.screen_pop_url",
                allow_external=True,
                fields=settings.fields,
            )
            problems.extend(pop_problems)
            scheme = urlsplit(_skeleton(settings.screen_pop_url)).scheme.lower()
            if not scheme or scheme in _SCRIPT_SCHEMES:
                problem("crm.external.screen_pop_url", "must be an absolute link (https://...)")

        if not settings.timeout_s > 0:
            problem("crm.external.timeout_s", "must be greater than 0")
        if settings.cache_ttl_s < 0:
            problem("crm.external.cache_ttl_s", "must not be negative")
        if settings.cache_size < 0:
            problem("crm.external.cache_size", "must not be negative")
        for field_name, path in settings.fields.items():
            if not path or "" in path.split("."):
                problem(f"crm.external.fields.{field_name}", f"invalid path {path!r}")

        if problems:
            raise ConfigError(
                "\n".join(f"{p['field']}: {p['message']}" for p in problems),
                details={"errors": problems},
            )
        assert url is not None  # no problems means the template parsed
        self._url = url
        self._pop = pop
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._cache: OrderedDict[_CacheKey, tuple[float, _Outcome]] = OrderedDict()
        # key -> (the running request, its deadline on the loop's clock)
        self._inflight: dict[_CacheKey, tuple[asyncio.Task[_Outcome], float]] = {}
        # Host and port only: the full URL carries identities (personal data) and the
        # userinfo part could carry a password.
        target = urlsplit(_skeleton(settings.url))
        self._target = f"{target.hostname}:{target.port or ''}".rstrip(":")

    @property
    def settings(self) -> ExternalCrmSettings:
        return self._settings

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the HTTP session: pooled keep-alive connections to the external CRM."""
        if self._session is not None:
            return
        self._closed = False
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
            headers=dict(self._headers),
            # fetch bounds each call with asyncio.timeout; the session's own total timeout
            # is only a backstop for a request that somehow escaped it.
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s * 2),
            # Never read proxy settings or .netrc credentials from the environment: the
            # endpoint is what the configuration says, with the headers it says.
            trust_env=False,
        )

    async def close(self) -> None:
        self._closed = True
        inflight = [task for task, _ in self._inflight.values()]
        for task in inflight:
            task.cancel()
        if inflight:
            await asyncio.gather(*inflight, return_exceptions=True)
        self._inflight.clear()
        self._cache.clear()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    # -- rendering -----------------------------------------------------------------------

    def _lookup(
        self,
        identities: Mapping[str, str],
        contact_id: str | None,
        record: Mapping[str, Any] | None,
    ) -> Callable[[str], str | None]:
        def lookup(name: str) -> str | None:
            if name in IDENTITY_PLACEHOLDERS:
                return identities.get(name) or None
            if name == "contact_id":
                return contact_id or None
            if name in ("identity", "kind"):
                first = self._first_identity(identities)
                if first is None:
                    return None
                return first[1] if name == "identity" else first[0]
            if name.startswith(_EXTERNAL_PREFIX) and record is not None:
                found = _walk(record, name[len(_EXTERNAL_PREFIX) :])
                return None if found is _ABSENT else _url_value(found)
            return None

        return lookup

    def _first_identity(self, identities: Mapping[str, str]) -> tuple[str, str] | None:
        for kind in self._settings.identities:
            value = identities.get(kind)
            if value:
                return kind, value
        return None

    def screen_pop_url(
        self,
        identities: Mapping[str, str],
        *,
        contact_id: str | None,
        record: Mapping[str, Any] | None,
    ) -> str | None:
        """The link that opens the customer's page in the external CRM, or None.

        None when no ``screen_pop_url`` is configured or a value it needs is missing
        (e.g. ``{external.id}`` when the fetch failed).
        """
        if self._pop is None:
            return None
        rendered = self._pop.render(self._lookup(identities, contact_id, record))
        return None if isinstance(rendered, _Missing) else rendered

    # -- fetching ------------------------------------------------------------------------

    async def fetch(
        self, identities: Mapping[str, str], *, contact_id: str | None = None
    ) -> ExternalResult:
        """The customer's record from the external CRM, within ``settings.timeout_s``.

        Never raises for remote problems: a slow, failing or confused endpoint gives a
        "timeout" or "error" result whose message says why the external part is missing.
        """
        rendered = self._url.render(self._lookup(identities, contact_id, None))
        if isinstance(rendered, _Missing):
            return self._result(
                _Outcome(
                    "skipped",
                    _EMPTY,
                    f"the external CRM is looked up by {{{rendered.name}}}, "
                    "which this interaction does not have",
                ),
                identities,
                contact_id,
            )
        body = b""
        if self._settings.method == "POST":
            sent = {k: identities[k] for k in self._settings.identities if identities.get(k)}
            if not sent and contact_id is None:
                return self._result(
                    _Outcome("skipped", _EMPTY, "no identity to look up in the external CRM"),
                    identities,
                    contact_id,
                )
            body = json.dumps(
                {"identities": sent, "contact_id": contact_id}, separators=(",", ":")
            ).encode()
        key: _CacheKey = (self._settings.method, rendered, body)

        hit = self._cache_get(key)
        if hit is not None:
            return self._result(hit, identities, contact_id, cached=True)
        if self._closed:
            return self._result(
                _Outcome("error", _EMPTY, "the external CRM connector is closed"),
                identities,
                contact_id,
            )

        now = asyncio.get_running_loop().time()
        deadline = now + self._settings.timeout_s
        shared = self._inflight.get(key)
        if shared is not None and now < shared[1]:
            # Single flight: callers for a key whose request is running wait for it instead
            # of sending their own. That request's deadline is earlier than this caller's,
            # so joining it never makes the caller wait longer than its own timeout.
            task = shared[0]
        else:
            # No request running, or one already at its deadline (its timeout simply hasn't
            # been processed yet): joining it would hand this caller a timeout it never
            # waited for, so it gets a request of its own.
            task = asyncio.create_task(self._request(key, deadline))
            self._inflight[key] = (task, deadline)
            task.add_done_callback(functools.partial(self._forget, key))
        try:
            async with asyncio.timeout_at(deadline):
                # shield: a caller that gives up (timeout, cancellation) must not cancel the
                # request the other waiters share.
                outcome = await asyncio.shield(task)
        except TimeoutError:
            outcome = self._timeout_outcome()
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # our caller is being cancelled: let it
            # The shared request was cancelled under us (close()): report, don't raise.
            outcome = _Outcome("error", _EMPTY, "the external CRM connector is closed")
        return self._result(outcome, identities, contact_id)

    def _forget(self, key: _CacheKey, task: asyncio.Task[_Outcome]) -> None:
        shared = self._inflight.get(key)
        if shared is not None and shared[0] is task:
            del self._inflight[key]

    def _timeout_outcome(self) -> _Outcome:
        return _Outcome(
            "timeout",
            _EMPTY,
            f"the external CRM did not answer within {self._settings.timeout_s:g} s",
        )

    def _result(
        self,
        outcome: _Outcome,
        identities: Mapping[str, str],
        contact_id: str | None,
        *,
        cached: bool = False,
    ) -> ExternalResult:
        # Each caller gets its own copy: cached records are shared, and a screen-pop that
        # edits what it was given must not edit the cache.
        record = MappingProxyType(copy.deepcopy(dict(outcome.record)))
        return ExternalResult(
            status=outcome.status,
            record=record,
            url=self.screen_pop_url(identities, contact_id=contact_id, record=record),
            message=outcome.message,
            cached=cached,
        )

    async def _request(self, key: _CacheKey, deadline: float) -> _Outcome:
        """One request to the external CRM; caches what is worth caching; never raises."""
        method, url, body = key
        try:
            async with asyncio.timeout_at(deadline):
                outcome = await self._exchange(method, url, body)
        except TimeoutError:
            outcome = self._timeout_outcome()
        except aiohttp.ClientError as exc:
            # The exception's text can hold the URL (identities); its class says enough.
            outcome = _Outcome(
                "error", _EMPTY, f"cannot reach the external CRM ({type(exc).__name__})"
            )
        except Exception as exc:  # a bug here must not reach routing
            log.exception("external CRM %s: unexpected failure", self._target)
            outcome = _Outcome(
                "error", _EMPTY, f"external CRM lookup failed ({type(exc).__name__})"
            )
        outcome = _Outcome(outcome.status, outcome.record, self._redact(outcome.message))
        if outcome.status in ("ok", "not_found"):
            self._cache_put(key, outcome)
        else:
            log.warning("external CRM %s %s: %s", method, self._target, outcome.message)
        return outcome

    async def _exchange(self, method: str, url: str, body: bytes) -> _Outcome:
        if self._session is None:
            await self.start()
        assert self._session is not None
        extra: dict[str, str] = {}
        if body:
            extra["Content-Type"] = "application/json"
        async with self._session.request(
            method,
            URL(url, encoded=True),  # already percent-encoded: a "+" must stay "%2B"
            data=body or None,
            headers=extra,
            # A redirect would carry our API-key headers to a host nobody configured.
            allow_redirects=False,
        ) as resp:
            if resp.status == 404:
                return _Outcome("not_found", _EMPTY, "the external CRM has no such customer")
            if not 200 <= resp.status < 300:
                return _Outcome("error", _EMPTY, f"the external CRM answered HTTP {resp.status}")
            if resp.content_length is not None and resp.content_length > MAX_BODY_BYTES:
                return self._too_large()
            data = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK_BYTES):
                data += chunk
                if len(data) > MAX_BODY_BYTES:
                    return self._too_large()
        try:
            document = json.loads(bytes(data))
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            return _Outcome("error", _EMPTY, "the external CRM answered invalid JSON")
        return self._map(document)

    def _too_large(self) -> _Outcome:
        return _Outcome(
            "error", _EMPTY, f"the external CRM's answer is larger than {MAX_BODY_BYTES} bytes"
        )

    def _map(self, document: Any) -> _Outcome:
        """The screen-pop fields of ``document``: the mapped paths, or the whole object."""
        if isinstance(document, list):
            # Search endpoints answer with a list of matches: the first is the customer.
            if not document:
                return _Outcome("not_found", _EMPTY, "the external CRM has no such customer")
            document = next((item for item in document if isinstance(item, dict)), None)
            if document is None:
                return _Outcome("error", _EMPTY, "the external CRM answered a list of non-objects")
        if not isinstance(document, dict):
            return _Outcome("error", _EMPTY, "the external CRM answered JSON that is not an object")
        if not self._settings.fields:
            return _Outcome("ok", MappingProxyType(document))
        record: dict[str, Any] = {}
        for field_name, path in self._settings.fields.items():
            value = _walk(document, path)
            if value is not _ABSENT:
                record[field_name] = value
        return _Outcome("ok", MappingProxyType(record))

    def _redact(self, message: str) -> str:
        # Belt and braces: no message is built from header values, but should an answer
        # ever echo one into a message, it is masked before it reaches the agent or log.
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return message

    # -- cache ---------------------------------------------------------------------------

    def _cache_get(self, key: _CacheKey) -> _Outcome | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        expires_at, outcome = entry
        if self._clock() >= expires_at:
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return outcome

    def _cache_put(self, key: _CacheKey, outcome: _Outcome) -> None:
        ttl, size = self._settings.cache_ttl_s, self._settings.cache_size
        if ttl <= 0 or size <= 0:
            return
        self._cache[key] = (self._clock() + ttl, outcome)
        self._cache.move_to_end(key)
        while len(self._cache) > size:
            self._cache.popitem(last=False)
