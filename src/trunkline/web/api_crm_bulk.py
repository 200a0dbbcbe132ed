"""Bulk CRM transfers for admins: streaming CSV import with progress, and CSV export.

Neither holds the file in memory: the import reads the request body in chunks and writes
in batches, reporting progress as NDJSON lines while it goes; the export pages through
the contacts by id.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from trunkline.crm.csv_io import contact_csv_chunks
from trunkline.crm.importer import ImportProgress, import_csv
from trunkline.web import keys
from trunkline.web.openapi import Route

_CHUNK = 64 * 1024
_PROGRESS_EVERY_S = 1.0  # at most one progress line a second, and one at the end


def _line(kind: str, data: dict[str, Any]) -> bytes:
    return (json.dumps({"type": kind, **data}, separators=(",", ":")) + "\n").encode()


async def import_contacts(request: web.Request) -> web.StreamResponse:
    crm = request.app[keys.CRM]
    region = request.app[keys.SERVICE].config.crm.default_region
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    last_sent = 0.0

    async def progress(p: ImportProgress) -> None:
        nonlocal last_sent
        now = time.monotonic()
        if now - last_sent >= _PROGRESS_EVERY_S:
            last_sent = now
            await response.write(_line("progress", p.as_dict()))

    async def body() -> AsyncIterator[bytes]:
        async for chunk in request.content.iter_chunked(_CHUNK):
            yield chunk

    report = await import_csv(
        body(), crm.contacts, region=region, now=crm.clock, on_progress=progress
    )
    await response.write(_line("done", report.as_dict()))
    await response.write_eof()
    return response


async def export_contacts(request: web.Request) -> web.StreamResponse:
    crm = request.app[keys.CRM]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="trunkline-contacts.csv"',
        }
    )
    await response.prepare(request)
    # A BOM so spreadsheets read the file as UTF-8 (names are rarely plain ASCII).
    await response.write("\ufeff".encode())
    async for chunk in contact_csv_chunks(crm.contacts.iter_all()):
        await response.write(chunk.encode())
    await response.write_eof()
    return response


ROUTES: tuple[Route, ...] = (
    Route(
        method="POST",
        path="/api/v1/crm/import",
        handler=import_contacts,
        access="admin",
        summary="Import contacts from a CSV body, streamed; answers NDJSON progress lines",
        tag="crm",
        content_type="application/x-ndjson",
        raw_body="text/csv",
        description=(
            "Columns: id, name, organisation, class, value, language, owner, phone, email, "
            "account, visitor (several values separated by ';'), attributes (JSON) and "
            "attr.<key>. Rows with an id update that contact; rows without one update the "
            "contact owning one of their identities, else create one. Bad rows are reported "
            "with their line number and skipped; good rows are kept. Answers lines "
            '{"type": "progress", ...} and finally {"type": "done", rows, created, updated, '
            "failed, errors, errors_total, fatal}."
        ),
    ),
    Route(
        method="GET",
        path="/api/v1/crm/export",
        handler=export_contacts,
        access="admin",
        summary="Every contact as CSV (the import's format), streamed",
        tag="crm",
        content_type="text/csv",
    ),
)
