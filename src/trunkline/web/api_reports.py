"""Historical reports over REST: queue and agent figures from the interval rollups,
as JSON or CSV. Supervisors read everything; an agent reads only their own agent report.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from trunkline.domain.media import Medium
from trunkline.reporting.definitions import settings_from_config
from trunkline.reporting.reports import (
    Group,
    agent_report,
    agent_report_csv,
    queue_report,
    queue_report_csv,
)
from trunkline.web import keys
from trunkline.web.auth import principal_of
from trunkline.web.encoding import json_response
from trunkline.web.errors import ForbiddenError
from trunkline.web.openapi import Route
from trunkline.web.schemas import Ref, parse_query

__all__ = ["ROUTES"]

# The longest range per grouping: a report stays a bounded read of the rollups.
MAX_DAYS: dict[str, int] = {"interval": 31, "day": 366, "week": 731, "month": 3660}


class _ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # Query values arrive as text: dates and the enums convert (lax), bounded.
    from_: date = Field(alias="from")
    to: date
    group: Group = "day"
    format: Literal["json", "csv"] = "json"

    @model_validator(mode="after")
    def _range(self) -> _ReportQuery:
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        days = (self.to - self.from_).days + 1
        if days > MAX_DAYS[self.group]:
            raise ValueError(f"at most {MAX_DAYS[self.group]} days grouped by {self.group}")
        return self


class QueueReportQuery(_ReportQuery):
    queue: Ref | None = None
    medium: Medium | None = None


class AgentReportQuery(_ReportQuery):
    agent: Ref | None = None


def _csv(text: str, name: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _name(kind: str, query: _ReportQuery) -> str:
    return f"trunkline-{kind}-{query.group}-{query.from_.isoformat()}-{query.to.isoformat()}.csv"


async def get_queue_report(request: web.Request) -> web.Response:
    query = parse_query(request, QueueReportQuery)
    service = request.app[keys.SERVICE]
    report = await queue_report(
        service.store,
        settings_from_config(service.config),
        first=query.from_,
        last=query.to,
        group=query.group,
        queue=query.queue,
        medium=query.medium,
    )
    if query.format == "csv":
        return _csv(queue_report_csv(report), _name("queues", query))
    return json_response(report)


async def get_agent_report(request: web.Request) -> web.Response:
    query = parse_query(request, AgentReportQuery)
    principal = principal_of(request)
    agent = query.agent
    if not principal.is_supervisor:
        # Checked before any read: an agent learns nothing about other agents.
        if principal.agent_id is None:
            raise ForbiddenError("this login is not an agent")
        if agent is not None and agent != principal.agent_id:
            raise ForbiddenError("agents may only read their own report", details={"agent": agent})
        agent = principal.agent_id
    service = request.app[keys.SERVICE]
    report = await agent_report(
        service.store,
        settings_from_config(service.config),
        first=query.from_,
        last=query.to,
        group=query.group,
        agent=agent,
    )
    if query.format == "csv":
        return _csv(agent_report_csv(report), _name("agents", query))
    return json_response(report)


_PARAMS = (
    "from, to: local dates YYYY-MM-DD (inclusive) in the centre's time zone; group: "
    "interval|day|week|month (weeks run Monday to Sunday; weeks and months are cut to the "
    "range); format: json|csv. An invalid parameter is 400 invalid_request."
)

ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/reports/queues",
        handler=get_queue_report,
        access="supervisor",
        summary="Historical queue figures per interval, day, week or month",
        tag="reporting",
        query=QueueReportQuery,
        description=(
            _PARAMS + " Filters: queue, medium. JSON: {from, to, group, timezone, groups "
            "[{start, end, rows [{queue, medium, figures of docs/metrics.md}], total}]}; "
            "every group is listed, times are local ISO 8601 with their offset. CSV: a "
            "header line, then one line per group × queue × medium."
        ),
    ),
    Route(
        method="GET",
        path="/api/v1/reports/agents",
        handler=get_agent_report,
        access="agent",
        summary="Historical agent figures (an agent reads only their own)",
        tag="reporting",
        query=AgentReportQuery,
        description=(
            _PARAMS + " Filter: agent (an agent may name only themselves; 403 otherwise). "
            "Rows: staffed time, time per state and not-ready reason, occupancy, "
            "utilisation, handled, completed, average handle and wrap-up time."
        ),
    ),
)
