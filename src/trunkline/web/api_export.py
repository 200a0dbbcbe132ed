"""Every interaction's journey over a date range, streamed: NDJSON (one interaction with
its events per line) or CSV (one row per event). No size limit: pages are read and written
as they go, so memory stays flat however long the range."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from trunkline.reporting.definitions import local_day_bounds
from trunkline.web import keys
from trunkline.web.openapi import Route
from trunkline.web.schemas import parse_query

__all__ = ["ROUTES"]

PAGE = 500
CSV_COLUMNS = (
    "interaction_id",
    "medium",
    "created_at",
    "event_id",
    "at",
    "type",
    "queue",
    "agent_id",
    "details",
)


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    format: Literal["ndjson", "csv"] = "ndjson"

    @model_validator(mode="after")
    def _range(self) -> ExportQuery:
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        return self


def _csv_rows(journey: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for ev in journey["events"]:
        details = {
            k: v
            for k, v in ev.items()
            if k not in {"id", "type", "at", "queue", "agent_id", "interaction_id"}
        }
        rows.append(
            [
                journey["id"],
                journey["medium"],
                journey["created_at"],
                ev["id"],
                ev["at"],
                ev["type"],
                ev.get("queue", ""),
                ev.get("agent_id") or "",
                json.dumps(details, separators=(",", ":"), sort_keys=True),
            ]
        )
    return rows


def _csv_text(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


async def export_interactions(request: web.Request) -> web.StreamResponse:
    query = parse_query(request, ExportQuery)
    service = request.app[keys.SERVICE]
    tz = service.config.centre.timezone
    start, _ = local_day_bounds(query.from_, tz)
    _, end = local_day_bounds(query.to, tz)
    name = f"trunkline-interactions-{query.from_.isoformat()}-{query.to.isoformat()}"
    csv_out = query.format == "csv"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8" if csv_out else "application/x-ndjson",
            "Content-Disposition": f'attachment; filename="{name}.{query.format}"',
        }
    )
    # The first page is read before answering, so a failing query is still a clean 5xx
    # JSON error rather than a cut-off stream.
    page = await service.store.journeys(start, end, limit=PAGE)
    await response.prepare(request)
    if csv_out:
        await response.write(_csv_text([list(CSV_COLUMNS)]))
    while page:
        if csv_out:
            await response.write(_csv_text([row for j in page for row in _csv_rows(j)]))
        else:
            lines = "".join(json.dumps(j, separators=(",", ":")) + "\n" for j in page)
            await response.write(lines.encode())
        last = page[-1]
        page = await service.store.journeys(
            start, end, after=(last["created_at"], last["id"]), limit=PAGE
        )
    await response.write_eof()
    return response


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/reports/interactions",
        handler=export_interactions,
        access="supervisor",
        summary="Every interaction created in a date range with its full journey, streamed",
        tag="reporting",
        query=ExportQuery,
        description=(
            "from/to are local dates in the centre's time zone (inclusive). ndjson: one "
            "interaction snapshot per line with its events; csv: one row per event."
        ),
    ),
)
