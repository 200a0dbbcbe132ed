"""Cases under /api/v1/crm/cases: complaints and requests tracked across interactions."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from trunkline.crm.cases import CaseChanges
from trunkline.crm.errors import UnknownCaseError
from trunkline.crm.model import CasePriority, CaseStatus
from trunkline.web import keys
from trunkline.web.auth import principal_of
from trunkline.web.crm_schemas import (
    CaseListQuery,
    CommentBody,
    CreateCaseBody,
    LinkBody,
    PageQuery,
    UpdateCaseBody,
)
from trunkline.web.encoding import json_response
from trunkline.web.openapi import Route
from trunkline.web.schemas import parse_body, parse_query


def _case_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise UnknownCaseError(f"no case {raw!r}", details={"case_id": raw})
    return int(raw)


def _by(request: web.Request) -> str:
    return principal_of(request).actor


async def list_cases(request: web.Request) -> web.Response:
    query = parse_query(request, CaseListQuery)
    statuses = [CaseStatus(s) for s in query.status.split(",")] if query.status else None
    page = await request.app[keys.CRM].cases.list(
        contact_ids=[query.contact_id] if query.contact_id else None,
        status=statuses,
        owner=query.owner,
        limit=query.limit,
        after=query.after,
    )
    return json_response(
        {"cases": [c.as_dict() for c in page.cases], "next_cursor": page.next_cursor}
    )


async def create_case(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateCaseBody)
    case = await request.app[keys.CRM].create_case(
        contact_id=body.contact_id,
        subject=body.subject,
        description=body.description,
        priority=CasePriority(body.priority),
        owner=body.owner,
        by=_by(request),
        interaction_id=body.interaction_id,
    )
    location = {"Location": f"/api/v1/crm/cases/{case.id}"}
    return json_response(case.as_dict(), status=201, headers=location)


async def get_case(request: web.Request) -> web.Response:
    case = await request.app[keys.CRM].cases.get(_case_id(request))
    return json_response(case.as_dict())


async def update_case(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateCaseBody)
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "owner" or value is not None:  # owner: null unassigns the case
            changes[name] = value
    if "status" in changes:
        changes["status"] = CaseStatus(changes["status"])
    if "priority" in changes:
        changes["priority"] = CasePriority(changes["priority"])
    case = await request.app[keys.CRM].update_case(
        _case_id(request), CaseChanges(**changes), by=_by(request)
    )
    return json_response(case.as_dict())


async def delete_case(request: web.Request) -> web.Response:
    await request.app[keys.CRM].delete_case(_case_id(request))
    return web.Response(status=204)


async def comment_case(request: web.Request) -> web.Response:
    body = await parse_body(request, CommentBody)
    entry = await request.app[keys.CRM].comment_case(_case_id(request), body.text, by=_by(request))
    return json_response(entry.as_dict(), status=201)


async def link_case(request: web.Request) -> web.Response:
    body = await parse_body(request, LinkBody)
    case = await request.app[keys.CRM].link_case(
        _case_id(request), body.interaction_id, by=_by(request)
    )
    return json_response(case.as_dict())


async def case_entries(request: web.Request) -> web.Response:
    query = parse_query(request, PageQuery)
    page = await request.app[keys.CRM].cases.entries(
        _case_id(request), limit=query.limit, before=query.before
    )
    return json_response(
        {"entries": [e.as_dict() for e in page.entries], "next_cursor": page.next_cursor}
    )


_BASE = "/api/v1/crm/cases"

ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path=_BASE,
        handler=list_cases,
        access="agent",
        summary="Cases, most recently updated first, by contact, status or owner (paged)",
        tag="crm",
        query=CaseListQuery,
    ),
    Route(
        method="POST",
        path=_BASE,
        handler=create_case,
        access="agent",
        summary="Open a case for a contact (optionally linked to an interaction)",
        tag="crm",
        body=CreateCaseBody,
        status=201,
    ),
    Route(
        method="GET",
        path=_BASE + "/{id}",
        handler=get_case,
        access="agent",
        summary="One case with its linked interactions",
        tag="crm",
    ),
    Route(
        method="PATCH",
        path=_BASE + "/{id}",
        handler=update_case,
        access="agent",
        summary="Change a case's status, priority, owner, subject or description",
        tag="crm",
        body=UpdateCaseBody,
    ),
    Route(
        method="DELETE",
        path=_BASE + "/{id}",
        handler=delete_case,
        access="admin",
        summary="Delete a case and its timeline (close it instead, unless it was a mistake)",
        tag="crm",
        status=204,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/comments",
        handler=comment_case,
        access="agent",
        summary="Comment on a case",
        tag="crm",
        body=CommentBody,
        status=201,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/links",
        handler=link_case,
        access="agent",
        summary="Link an interaction to the case",
        tag="crm",
        body=LinkBody,
    ),
    Route(
        method="GET",
        path=_BASE + "/{id}/entries",
        handler=case_entries,
        access="agent",
        summary="The case's own timeline, newest first (paged)",
        tag="crm",
        query=PageQuery,
    ),
)
