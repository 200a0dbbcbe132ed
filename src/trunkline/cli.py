"""The ``trunkline`` command: serve, demo, bench, reports, check-config, hash-password."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from aiohttp import web

from trunkline import cli_crm
from trunkline.app import (
    DEFAULT_DATABASE,
    DEMO_DATABASE,
    SERVICE_KEY,
    ConfigSource,
    OptionError,
    ServeOptions,
    build,
    check_options,
    configure_logging,
)
from trunkline.auth.passwords import hash_password
from trunkline.bench.reporting import run as run_reporting_bench
from trunkline.bench.routing import run as run_routing_bench
from trunkline.cli_progress import ProgressBar
from trunkline.config.loader import Config, load_config
from trunkline.domain.errors import ConfigError, TrunklineError
from trunkline.reporting.definitions import ReportingSettings, settings_from_config
from trunkline.reporting.rollup import RebuildResult, rebuild
from trunkline.store.event_store import EventStore
from trunkline.web.access_log import PathOnlyAccessLogger

log = logging.getLogger("trunkline.cli")

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and said no (invalid config, empty password)
EXIT_USAGE = 2  # the command could not run with what it was given (bad option or config)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"trunkline: invalid configuration:\n{exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except TrunklineError as exc:
        print(f"trunkline: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


# -- parser -----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trunkline", description="Omnichannel contact-centre platform."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="run the server", description="Run the contact-centre server."
    )
    _server_options(serve, DEFAULT_DATABASE)
    serve.set_defaults(handler=_serve, demo=False, demo_rate=1.0, demo_seed=None)

    demo = commands.add_parser(
        "demo",
        help="run the server with demo queues, agents and simulated customers",
        description="Run the server with the packaged demo centre and simulated traffic.",
    )
    _server_options(demo, DEMO_DATABASE)
    demo.add_argument(
        "--demo-rate", type=float, default=1.0, metavar="PER_S", help="customers per second"
    )
    demo.add_argument("--demo-seed", type=int, default=None, help="repeatable traffic")
    demo.set_defaults(handler=_serve, demo=True)

    bench = commands.add_parser("bench", help="run a benchmark and print its figures")
    benches = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    routing = benches.add_parser(
        "routing", help="routing decisions: indexed engine against a naive scan"
    )
    routing.add_argument("--agents", type=int, default=10_000)
    routing.add_argument("--waiting", type=int, default=10_000)
    routing.add_argument("--skills", type=int, default=50)
    routing.add_argument("--queues", type=int, default=20)
    routing.add_argument("--seed", type=int, default=1)
    routing.add_argument("--decisions", type=int, default=20_000)
    routing.add_argument("--naive-decisions", type=int, default=300)
    routing.set_defaults(handler=_bench_routing)
    reporting = benches.add_parser(
        "reporting", help="event ingestion, rollups and report queries on a generated month"
    )
    reporting.add_argument("--events", type=int, default=200_000)
    reporting.add_argument(
        "--database", default=None, help="empty temporary SQLite file unless given"
    )
    reporting.add_argument("--seed", type=int, default=1)
    reporting.set_defaults(handler=_bench_reporting)
    screenpop = benches.add_parser(
        "screenpop", help="CRM lookups and interaction-to-offer time with the screen-pop"
    )
    screenpop.add_argument("--contacts", type=int, default=100_000)
    screenpop.add_argument("--agents", type=int, default=1000)
    screenpop.add_argument("--interactions", type=int, default=2000)
    screenpop.add_argument("--lookups", type=int, default=5000)
    screenpop.add_argument("--rate", type=float, default=50.0, help="arrivals per second")
    screenpop.add_argument(
        "--database", default=None, help="empty temporary SQLite file unless given"
    )
    screenpop.add_argument("--seed", type=int, default=1)
    screenpop.set_defaults(handler=_bench_screenpop)
    sip = benches.add_parser(
        "sip",
        help="calls per second into the echo number, driven by sipp against a real server",
    )
    sip.add_argument("--rate", type=float, default=1000.0, help="calls per second to offer")
    sip.add_argument("--duration", type=float, default=30.0, metavar="SECONDS")
    sip.add_argument("--transport", choices=("u1", "t1"), default="u1", help="sipp -t mode")
    sip.add_argument("--sipp", default=None, metavar="PATH", help="the sipp binary to run")
    sip.set_defaults(handler=_bench_sip)

    reports = commands.add_parser("reports", help="historical report maintenance")
    report_commands = reports.add_subparsers(dest="reports", required=True, metavar="ACTION")
    rebuild = report_commands.add_parser(
        "rebuild",
        help="refold the interval rollups from every recorded event",
        description="Clear the interval rollups and rebuild them from the event record. "
        "Stop the server first: its rollup worker writes to the same tables.",
    )
    rebuild.add_argument("--config", type=Path, default=None, metavar="FILE")
    rebuild.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        metavar="URL",
        help=f"sqlite:///PATH or postgresql://USER@HOST/DB (default {DEFAULT_DATABASE})",
    )
    rebuild.add_argument("--page-size", type=int, default=5000, help=argparse.SUPPRESS)
    rebuild.set_defaults(handler=_reports_rebuild)

    cli_crm.add_commands(commands)

    check = commands.add_parser(
        "check-config", help="validate a configuration file", description="Validate FILE."
    )
    check.add_argument("file", type=Path, metavar="FILE")
    check.set_defaults(handler=_check_config)

    hashpw = commands.add_parser(
        "hash-password",
        help="print an argon2 hash of a password for the config",
        description="Read a password (prompted, or one line of stdin) and print its hash.",
    )
    hashpw.set_defaults(handler=_hash_password)

    sipcred = commands.add_parser(
        "sip-credentials",
        help="print an agent's SIP digest secrets (HA1) for the config",
        description="Read a SIP password (prompted, or one line of stdin) and print the "
        "sip_ha1 entry to paste under the agent in the config.",
    )
    sipcred.add_argument("agent", metavar="AGENT_ID")
    sipcred.add_argument(
        "--realm", default="trunkline", help="the voice.realm of the config (default trunkline)"
    )
    sipcred.set_defaults(handler=_sip_credentials)
    return parser


def _server_options(parser: argparse.ArgumentParser, database: str) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--http-port", type=int, default=8080, metavar="PORT")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE")
    parser.add_argument(
        "--database",
        default=database,
        metavar="URL",
        help=f"sqlite:///PATH or postgresql://USER@HOST/DB (default {database})",
    )
    parser.add_argument(
        "--redis", default=None, metavar="URL", help="redis://HOST:PORT/DB (not used yet)"
    )
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )
    parser.add_argument("--log-format", default="text", choices=("text", "json"))
    parser.add_argument(
        "--sip-port",
        type=int,
        default=None,
        metavar="PORT",
        help="SIP over UDP and TCP (default 5060, skipped with a warning if taken; "
        "0 disables SIP; a port given here must be free)",
    )
    parser.add_argument(
        "--sip-host", default=None, metavar="ADDRESS", help="address for SIP (default: --host)"
    )


def _version() -> str:
    try:
        return version("trunkline")
    except PackageNotFoundError:
        return "unknown"


# -- serve / demo -----------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    configure_logging(args.log_level, args.log_format)
    options = ServeOptions(
        host=args.host,
        http_port=args.http_port,
        config_path=args.config,
        database_url=args.database,
        redis_url=args.redis,
        demo=args.demo,
        demo_rate=args.demo_rate,
        demo_seed=args.demo_seed,
        sip_port=args.sip_port,
        sip_host=args.sip_host,
    )
    check_options(options)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_run_server(options))
    return EXIT_OK


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def _run_server(options: ServeOptions) -> None:
    app = await build(options)
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    for sig in stop_signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await runner.setup()
        site = web.TCPSite(runner, options.host, options.http_port)
        try:
            await site.start()
        except OSError as exc:
            where = f"{options.host}:{options.http_port}"
            raise OptionError(f"cannot listen on {where}: {exc.strerror or exc}") from None
        url = _url(runner.addresses, options.host)
        config = app[SERVICE_KEY].config
        if options.demo:
            print(_demo_banner(url, config, packaged=options.config_path is None), flush=True)
        else:
            print(_serve_banner(url, config), flush=True)
        await stop.wait()
        log.info("stopping")
    finally:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
        await runner.cleanup()


def _url(addresses: Sequence[Any], host: str) -> str:
    # The bound port (the one asked for, or the one chosen for port 0).
    port = addresses[0][1] if addresses else 0
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _serve_banner(url: str, config: Config) -> str:
    return f"Trunkline serving {config.centre.name} on {url} (Ctrl+C to stop)"


def _demo_banner(url: str, config: Config, *, packaged: bool) -> str:
    agents = ", ".join(config.agents)
    supervisors = ", ".join(u.id for u in config.users.values() if u.role == "supervisor")
    admins = ", ".join(u.id for u in config.users.values() if u.role == "admin")
    login = (
        f"curl -s -X POST {url}/api/v1/auth/login -H 'Content-Type: application/json' "
        f'-d \'{{"username": "sup", "password": "demo"}}\''
    )
    # Only the packaged demo.yaml promises the password "demo".
    password = 'password "demo"' if packaged else "passwords as in the config"
    token = "python3 -c 'import json, sys; print(json.load(sys.stdin)[\"token\"])'"
    return "\n".join(
        [
            f"Trunkline demo ({config.centre.name}) running on {url}  (Ctrl+C to stop)",
            "Simulated customers arrive now; the agents below are driven by the simulator.",
            f"Logins ({password}):",
            f"  agents:      {agents or '-'}",
            f"  supervisors: {supervisors or '-'}",
            f"  admins:      {admins or '-'}",
            "Try:",
            f"  TOKEN=$({login} | {token})",
            f'  curl -s -H "Authorization: Bearer $TOKEN" {url}/api/v1/queues',
            f'  curl -s -H "Authorization: Bearer $TOKEN" {url}/api/v1/interactions',
            f"  curl -s {url}/metrics | grep ^trunkline_interactions_answered_total",
        ]
    )


# -- the other commands -----------------------------------------------------------------


def _bench_reporting(args: argparse.Namespace) -> int:
    run_reporting_bench(events=args.events, database=args.database, seed=args.seed)
    return EXIT_OK


def _bench_screenpop(args: argparse.Namespace) -> int:
    from trunkline.bench.screenpop import run as run_screenpop_bench

    run_screenpop_bench(
        contacts=args.contacts,
        agents=args.agents,
        interactions=args.interactions,
        lookups=args.lookups,
        rate=args.rate,
        database=args.database,
        seed=args.seed,
        progress=lambda message: print(message, file=sys.stderr),
    )
    return EXIT_OK


def _bench_sip(args: argparse.Namespace) -> int:
    from trunkline.bench.sip import run as run_sip_bench

    if args.rate <= 0 or args.duration <= 0:
        print("trunkline: --rate and --duration must be positive", file=sys.stderr)
        return EXIT_USAGE
    run_sip_bench(
        rate=args.rate, duration_s=args.duration, transport=args.transport, sipp=args.sipp
    )
    return EXIT_OK


def _bench_routing(args: argparse.Namespace) -> int:
    run_routing_bench(
        agents=args.agents,
        waiting=args.waiting,
        skills=args.skills,
        queues=args.queues,
        seed=args.seed,
        decisions=args.decisions,
        naive_decisions=args.naive_decisions,
    )
    return EXIT_OK


def _reports_rebuild(args: argparse.Namespace) -> int:
    config = ConfigSource(args.config).load()
    settings = settings_from_config(config)
    bar = ProgressBar(sys.stderr)
    result = asyncio.run(_rebuild(args.database, settings, args.page_size, bar))
    bar.finish()
    print(
        f"rebuilt the interval rollups from {result.events} events: "
        f"{result.queue_rows} queue rows, {result.agent_rows} agent rows"
    )
    return EXIT_OK


async def _rebuild(
    url: str, settings: ReportingSettings, page_size: int, bar: ProgressBar
) -> RebuildResult:
    store = await EventStore.open(url)
    try:
        return await rebuild(store, settings, page_size=page_size, progress=bar.update)
    finally:
        await store.close()


def _check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_FAILED
    people = [u for u in config.users.values() if u.role != "agent"]
    note = "" if any(u.role == "admin" for u in people) else " (no admin: serve will create one)"
    print(
        f"{args.file}: ok: {len(config.queues)} queues, {len(config.agents)} agents, "
        f"{len(people)} other users, {len(config.rules)} rules{note}"
    )
    return EXIT_OK


def _read_password() -> str | None:
    """A password typed twice at a terminal, or one line of stdin; ``None`` after an error
    was printed."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("trunkline: the passwords differ", file=sys.stderr)
            return None
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("trunkline: empty password", file=sys.stderr)
        return None
    return password


def _hash_password(_args: argparse.Namespace) -> int:
    password = _read_password()
    if password is None:
        return EXIT_FAILED
    print(hash_password(password))
    return EXIT_OK


def _sip_credentials(args: argparse.Namespace) -> int:
    from trunkline.sip.digest import ha1

    password = _read_password()
    if password is None:
        return EXIT_FAILED
    # RFC 7616 §3.4.2: HA1 = H(username:realm:password); the username is the agent id,
    # the user part of the AOR sip:AGENT@REALM.
    print(f"# agent {args.agent}, realm {args.realm}: paste under the agent's entry")
    print("sip_ha1:")
    print(f"  sha256: {ha1(args.agent, args.realm, password, 'SHA-256')}")
    print(f"  md5: {ha1(args.agent, args.realm, password, 'MD5')}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
