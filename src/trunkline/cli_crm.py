"""``trunkline crm import|export``: bulk CRM transfers straight against the database.

The import streams the file in chunks (a million rows never sit in memory) and draws a
progress bar by bytes read; bad rows are listed with their line numbers at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from trunkline.app import DEFAULT_DATABASE, ConfigSource
from trunkline.cli_progress import ProgressBar
from trunkline.crm.contacts import ContactStore
from trunkline.crm.csv_io import contact_csv_chunks
from trunkline.crm.importer import ImportProgress, ImportReport, import_csv
from trunkline.store.event_store import EventStore

_CHUNK = 256 * 1024
_ERRORS_SHOWN = 50


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    crm = commands.add_parser("crm", help="CRM bulk import and export")
    actions = crm.add_subparsers(dest="crm", required=True, metavar="ACTION")
    importer = actions.add_parser(
        "import",
        help="import contacts from a CSV file",
        description="Create or update contacts from FILE (the columns of the export). Rows "
        "with errors are reported by line number and skipped; the others are kept.",
    )
    importer.add_argument("file", type=Path, metavar="FILE")
    exporter = actions.add_parser("export", help="write every contact as CSV")
    exporter.add_argument("file", type=Path, metavar="FILE", nargs="?", help="default: stdout")
    for parser in (importer, exporter):
        parser.add_argument("--config", type=Path, default=None, metavar="FILE")
        parser.add_argument(
            "--database",
            default=DEFAULT_DATABASE,
            metavar="URL",
            help=f"sqlite:///PATH or postgresql://USER@HOST/DB (default {DEFAULT_DATABASE})",
        )
    importer.set_defaults(handler=_import)
    exporter.set_defaults(handler=_export)


def _import(args: argparse.Namespace) -> int:
    region = ConfigSource(args.config).load().crm.default_region
    size = args.file.stat().st_size
    bar = ProgressBar(sys.stderr, label="bytes")
    report = asyncio.run(_run_import(args.database, args.file, region, size, bar))
    bar.finish()
    _print_report(report, sys.stdout)
    return 0 if report.fatal is None and report.failed == 0 else 1


async def _run_import(
    url: str, path: Path, region: str, size: int, bar: ProgressBar
) -> ImportReport:
    async def chunks() -> AsyncIterator[bytes]:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                yield chunk

    async def progress(p: ImportProgress) -> None:
        bar.update(p.bytes_read, size)

    store = await EventStore.open(url)
    try:
        return await import_csv(
            chunks(), ContactStore(store.engine), region=region, now=time.time, on_progress=progress
        )
    finally:
        await store.close()


def _print_report(report: ImportReport, out: TextIO) -> None:
    print(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.failed} failed",
        file=out,
    )
    if report.fatal:
        print(f"stopped: {report.fatal}", file=out)
    for error in report.errors[:_ERRORS_SHOWN]:
        where = f" ({error.field})" if error.field else ""
        print(f"  line {error.line}{where}: {error.message}", file=out)
    if report.errors_total > _ERRORS_SHOWN:
        print(f"  ... and {report.errors_total - _ERRORS_SHOWN} more", file=out)


def _export(args: argparse.Namespace) -> int:
    asyncio.run(_run_export(args.database, args.file))
    return 0


async def _run_export(url: str, path: Path | None) -> None:
    store = await EventStore.open(url)
    out = path.open("w", encoding="utf-8", newline="") if path is not None else sys.stdout
    try:
        async for chunk in contact_csv_chunks(ContactStore(store.engine).iter_all()):
            out.write(chunk)
    finally:
        if path is not None:
            out.close()
        await store.close()
