"""Composition root: wire the event record, the routing service, the web app and the demo.

:func:`build` returns the aiohttp application for ``trunkline serve`` and ``trunkline demo``.
Resources open in order (event record, routing recovery, live statistics, config signals,
demo traffic) and close in reverse through the app's ``cleanup_ctx``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from aiohttp import web

from trunkline.auth.passwords import hash_password
from trunkline.config.loader import (
    DEFAULT_CONFIG,
    DEMO_CONFIG,
    Config,
    UserSpec,
    load_config,
    load_packaged_config,
)
from trunkline.crm.external import ExternalCrm
from trunkline.crm.service import CrmService
from trunkline.demo import customers as demo_customers
from trunkline.demo.simulator import Simulator, SimulatorSettings
from trunkline.domain.errors import TrunklineError
from trunkline.reporting.definitions import settings_from_config
from trunkline.reporting.rollup import RollupWorker
from trunkline.reporting.service import ReportingService
from trunkline.service.routing import RoutingService
from trunkline.store.event_store import EventStore
from trunkline.store.url import to_async_url
from trunkline.voice.service import VoiceService
from trunkline.web.app import create_app, run_crm, run_reporting, set_users
from trunkline.web.keys import AGENT_CONNECTIONS, INTAKE

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "sqlite:///./trunkline.db"
DEFAULT_SIP_PORT = 5060
DEMO_DATABASE = "sqlite:///./trunkline-demo.db"
_REDIS_SCHEMES = ("redis", "rediss", "unix")

LogFormat = Literal["text", "json"]


class OptionError(TrunklineError):
    """A command-line option that cannot be used (bad URL, port in use)."""

    error_id = "invalid_option"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeOptions:
    """What ``trunkline serve`` / ``trunkline demo`` run with."""

    host: str = "127.0.0.1"
    http_port: int = 8080
    config_path: Path | None = None  # None: the packaged default (demo.yaml for the demo)
    database_url: str = DEFAULT_DATABASE
    redis_url: str | None = None
    demo: bool = False
    demo_rate: float = 1.0  # simulated customer arrivals per second
    demo_seed: int | None = None
    # SIP over UDP and TCP. 0 (the default here, for embedding and tests) disables it; None
    # is the command line's default: 5060, with a warning rather than a failure if taken.
    sip_port: int | None = 0
    sip_host: str | None = None  # None: the same as ``host``


SERVICE_KEY = web.AppKey("trunkline.app.service", RoutingService)
STORE_KEY = web.AppKey("trunkline.app.store", EventStore)
SIMULATOR_KEY = web.AppKey("trunkline.app.simulator", Simulator)
VOICE_KEY = web.AppKey("trunkline.app.voice", VoiceService)


# -- options --------------------------------------------------------------------------------


def check_options(options: ServeOptions) -> None:
    """Fail fast, before anything is opened, on URLs that cannot work."""
    to_async_url(options.database_url)  # StoreError names what is wrong with it
    if options.redis_url is not None:
        check_redis_url(options.redis_url)
    if not 0 <= options.http_port <= 65535:
        raise OptionError(f"HTTP port {options.http_port} is out of range 0-65535")
    if options.demo_rate <= 0:
        raise OptionError("the demo arrival rate must be positive")
    if options.sip_port is not None and not 0 <= options.sip_port <= 65535:
        raise OptionError(f"SIP port {options.sip_port} is out of range 0-65535 (0 disables SIP)")


def check_redis_url(url: str) -> str:
    """Validate a ``redis://`` URL; returns it with any password masked, for logs."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # parses it: "host:abc" fails here
    except ValueError as exc:
        raise OptionError(f"malformed Redis URL: {exc}") from None
    if parts.scheme not in _REDIS_SCHEMES:
        raise OptionError(
            f"unsupported Redis URL scheme {parts.scheme!r}: use redis://HOST:PORT/DB "
            "(or rediss:// for TLS)"
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise OptionError("the Redis URL names no host: use redis://HOST:PORT/DB")
    netloc = parts.hostname or ""
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}:***@{netloc}"
    if port is not None:
        netloc = f"{netloc}:{port}"
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """Where the running configuration comes from, so a reload reads the same place."""

    path: Path | None
    packaged: str = DEFAULT_CONFIG

    @classmethod
    def for_options(cls, options: ServeOptions) -> ConfigSource:
        return cls(options.config_path, DEMO_CONFIG if options.demo else DEFAULT_CONFIG)

    def load(self) -> Config:
        if self.path is not None:
            return load_config(self.path)
        return load_packaged_config(self.packaged)


# -- users ----------------------------------------------------------------------------------


class AdminBootstrap:
    """Makes sure someone can administer a fresh install.

    When the configuration names no admin, one ``admin`` user with a random password is
    added, announced once, and kept (same password) across reloads until the file has one.
    """

    def __init__(self) -> None:
        self._admin: UserSpec | None = None

    def users(self, config: Config) -> Mapping[str, UserSpec]:
        if any(user.role == "admin" for user in config.users.values()):
            return config.users
        if self._admin is None or self._admin.id in config.users:
            self._admin = self._create(config.users)
        return {**config.users, self._admin.id: self._admin}

    @staticmethod
    def _create(taken: Mapping[str, UserSpec]) -> UserSpec:
        user_id = "admin"
        n = 1
        while user_id in taken:
            n += 1
            user_id = f"admin{n}"
        password = secrets.token_urlsafe(12)
        log.warning(
            "no admin in the config: created user %r with password %s; put an argon2 hash "
            "in the config (trunkline hash-password)",
            user_id,
            password,
        )
        return UserSpec(
            id=user_id, name="Administrator", role="admin", password_hash=hash_password(password)
        )


class Reloader:
    """Re-reads the configuration (SIGHUP or the admin API) and applies it in place.

    An invalid file is logged and raised; the running configuration stays.
    """

    def __init__(
        self,
        source: ConfigSource,
        service: RoutingService,
        admin: AdminBootstrap,
        reporting: ReportingService | None = None,
        crm: CrmService | None = None,
    ) -> None:
        self._source = source
        self._service = service
        self._admin = admin
        self._reporting = reporting
        self._crm = crm
        self._lock = asyncio.Lock()  # two reloads at once must not interleave
        self.app: web.Application | None = None

    async def reload(self) -> Config:
        async with self._lock:
            where = self._source.path or self._source.packaged
            try:
                config = self._source.load()
                await self._service.reload(config)
            except TrunklineError as exc:
                log.error("configuration %s not reloaded; keeping the running one:\n%s", where, exc)
                raise
            if self._reporting is not None:
                self._reporting.reload(config)
            if self._crm is not None:
                self._crm.reconfigure(config.crm)
            if self.app is not None:
                set_users(self.app, self._admin.users(config))
            log.info(
                "configuration reloaded from %s: %d queues, %d agents, %d users",
                where,
                len(config.queues),
                len(config.agents),
                len(config.users),
            )
            return config

    async def reload_logged(self) -> None:
        """For the signal handler: errors are already logged, the server carries on."""
        with contextlib.suppress(TrunklineError):
            await self.reload()


# -- the application ------------------------------------------------------------------------


async def build(options: ServeOptions) -> web.Application:
    """Open the event record, build the routing service and the web app around it.

    ``create_app`` needs the service, which needs an open store, so the store is opened
    here; recovery and everything after it start in ``cleanup_ctx``. The reporting service
    is built here too, so the web app can hold it, but starts in ``cleanup_ctx`` after
    recovery. Raises :class:`ConfigError`, :class:`~trunkline.store.errors.StoreError` or
    :class:`OptionError` before the server starts.
    """
    check_options(options)
    source = ConfigSource.for_options(options)
    config = source.load()
    if options.redis_url is not None:
        # Accepted so deployment scripts can pass it already; nothing uses it yet.
        log.warning(
            "Redis at %s is not used yet: scale-out over Redis is not active, this node keeps "
            "queue and agent state in memory",
            check_redis_url(options.redis_url),
        )
    # Before anything opens: a missing secret for the external CRM is a start-up error.
    external = ExternalCrm(config.crm.external) if config.crm.external is not None else None
    store = await EventStore.open(options.database_url)
    try:
        service = RoutingService(config=config, store=store)
        reporting = ReportingService(service)
        crm = CrmService(
            store.engine,
            config.crm,
            clock=service.clock,
            agent_available=service.can_hold_for,
            external=external,
        )
        admin = AdminBootstrap()
        reloader = Reloader(source, service, admin, reporting, crm)
        app = create_app(
            service,
            users=admin.users(config),
            reload_config=reloader.reload,
            reporting=reporting,
            crm=crm,
        )
    except BaseException:
        await store.close()
        raise
    reloader.app = app
    app[STORE_KEY] = store
    app[SERVICE_KEY] = service
    # First in, last out: the record closes after everything else, even after a failed start.
    app.cleanup_ctx.insert(0, _event_record(store))
    app.cleanup_ctx.append(run_crm(crm))
    app.cleanup_ctx.append(_routing(service, crm))
    # After recovery, so the rebuild of today's figures includes what recovery recorded.
    app.cleanup_ctx.append(run_reporting(reporting))
    # After routing starts, so what recovery records is rolled up like any other event.
    app.cleanup_ctx.append(_rollups(service))
    app.cleanup_ctx.append(_reload_signal(reloader))
    if options.sip_port != 0:
        app.cleanup_ctx.append(_voice(options, service))
    if options.demo:
        settings = SimulatorSettings(rate=options.demo_rate, seed=options.demo_seed)
        desktops = app[AGENT_CONNECTIONS]
        simulator = Simulator(
            service,
            settings,
            submit=app[INTAKE].submit,
            # Someone who opens a demo agent's desktop takes that agent over.
            human_at=lambda agent_id: desktops.count(agent_id) > 0,
        )
        app.cleanup_ctx.append(_demo_traffic(simulator, crm))
    return app


CleanupCtx = Callable[[web.Application], AsyncIterator[None]]


def _event_record(store: EventStore) -> CleanupCtx:
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await store.close()
            log.info("event record closed")

    return ctx


def _routing(service: RoutingService, crm: CrmService) -> CleanupCtx:
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        recovered = await service.start()
        log.info("routing started: %d open interactions recovered", recovered)
        if recovered:
            # Recovered interactions' offers must still carry their customer's record.
            open_ones = [(v.id, v.customer_id) for v in service.interactions()]
            restored = await crm.restore(open_ones)
            log.info("screen-pops rebuilt for %d recovered interactions", restored)
        try:
            yield
        finally:
            await service.stop()

    return ctx


def _rollups(service: RoutingService) -> CleanupCtx:
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        worker = RollupWorker(service.store, settings_from_config(service.config))
        service.bus.add_listener(worker.wake)
        task = asyncio.create_task(worker.run(), name="interval-rollups")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return ctx


def _reload_signal(reloader: Reloader) -> CleanupCtx:
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[None]] = set()

        def on_sighup() -> None:
            log.info("SIGHUP: reloading the configuration")
            task = loop.create_task(reloader.reload_logged())
            pending.add(task)
            task.add_done_callback(pending.discard)

        installed = False
        if sys.platform != "win32":
            try:
                loop.add_signal_handler(signal.SIGHUP, on_sighup)
                installed = True
            except (NotImplementedError, RuntimeError):  # not the main thread (tests)
                pass
        try:
            yield
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGHUP)
            await asyncio.gather(*pending, return_exceptions=True)

    return ctx


def _voice(options: ServeOptions, service: RoutingService) -> CleanupCtx:
    host = options.sip_host if options.sip_host is not None else options.host
    explicit = options.sip_port is not None
    port = options.sip_port if options.sip_port is not None else DEFAULT_SIP_PORT
    voice = VoiceService(
        service.config.voice,
        host=host,
        port=port,
        # Read at each REGISTER, so agents added by a reload can register at once.
        credentials=lambda: service.config.voice.sip_credentials,
    )

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        try:
            await voice.start()
        except OSError as exc:
            problem = f"cannot listen for SIP on {host}:{port} (UDP and TCP): {exc.strerror or exc}"
            if explicit:
                raise OptionError(
                    f"{problem}; choose another with --sip-port, or 0 to disable SIP"
                ) from None
            # The default port may well be taken by a PBX on the same machine; the rest of
            # the centre still works, so say so loudly and go on without voice.
            log.warning("%s; SIP is disabled (pass --sip-port PORT, or 0 to silence this)", problem)
            yield
            return
        app[VOICE_KEY] = voice
        try:
            yield
        finally:
            await voice.stop()

    return ctx


def _demo_traffic(simulator: Simulator, crm: CrmService) -> CleanupCtx:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        added = await demo_customers.seed(crm)
        if added:
            log.info("demo CRM loaded with %d customers", added)
        app[SIMULATOR_KEY] = simulator
        task = asyncio.create_task(simulator.run(), name="demo-traffic")
        try:
            yield
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:  # the demo failing must not stop the shutdown after it
                log.exception("demo traffic failed")

    return ctx


# -- logging --------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str = "info", fmt: LogFormat = "text") -> None:
    """Log to stderr in the chosen format; replaces any handlers already installed."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
