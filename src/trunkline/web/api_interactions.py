"""Interactions under /api/v1: create, list, look up, and the agent's actions on them.

An agent gets 404 for any interaction not offered to or held by them, as if it did not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from trunkline.crm.model import Case, CasePriority
from trunkline.crm.service import CrmService, NewCase
from trunkline.domain.errors import InvalidRequestError, UnknownInteractionError
from trunkline.domain.interaction import InteractionRequest, InteractionState
from trunkline.router.views import InteractionView
from trunkline.service.routing import RoutingService
from trunkline.web import keys
from trunkline.web.auth import Principal, acting_agent, principal_of
from trunkline.web.encoding import json_response
from trunkline.web.openapi import Route
from trunkline.web.schemas import (
    AcceptBody,
    CancelBody,
    CompleteBody,
    CreateInteractionBody,
    InteractionListQuery,
    MoveBody,
    NewCaseBody,
    RejectBody,
    TransferBody,
    WrapUpBody,
    parse_body,
    parse_query,
)

WAITING_STATES = frozenset({InteractionState.QUEUED, InteractionState.OFFERED})
_HELD = frozenset({InteractionState.OFFERED, InteractionState.ASSIGNED, InteractionState.WRAP_UP})


def holds(agent_id: str | None, view: InteractionView) -> bool:
    """Whether the interaction is offered to or held by ``agent_id``."""
    return agent_id is not None and view.agent_id == agent_id and view.state in _HELD


def _unknown(interaction_id: str) -> UnknownInteractionError:
    return UnknownInteractionError(
        f"no interaction {interaction_id!r}", details={"interaction_id": interaction_id}
    )


def check_agent_holds(service: RoutingService, agent_id: str | None, interaction_id: str) -> None:
    """404 unless the interaction is offered to or held by ``agent_id``.

    Checked before the engine's own refusal, which names the agent holding it.
    """
    try:
        view = service.interaction(interaction_id)
    except LookupError:
        raise _unknown(interaction_id) from None
    if not holds(agent_id, view):
        raise _unknown(interaction_id)


def _check_holds(service: RoutingService, principal: Principal, interaction_id: str) -> None:
    if not principal.is_supervisor:
        check_agent_holds(service, principal.agent_id, interaction_id)


async def _visible_record(
    service: RoutingService, principal: Principal, interaction_id: str
) -> dict[str, Any]:
    live: InteractionView | None = None
    if not principal.is_supervisor:
        try:
            live = service.interaction(interaction_id)
        except LookupError:
            live = None
        # Open: theirs while offered to or held by them. Closed: theirs if they had it.
        if live is not None and not holds(principal.agent_id, live):
            raise _unknown(interaction_id)
    record = await service.interaction_record(interaction_id)
    if record is None:
        raise _unknown(interaction_id)
    if not principal.is_supervisor and live is None:
        if principal.agent_id is None or record.get("agent_id") != principal.agent_id:
            raise _unknown(interaction_id)
    return record


async def _refusal(service: RoutingService, req: InteractionRequest) -> dict[str, Any]:
    """What the caller learns about an arrival the queue refused (closed, say)."""
    events = await service.store.interaction_events(req.id)
    refused: dict[str, Any] = next(
        (e for e in reversed(events) if e["type"] == "interaction_refused"), {}
    )
    return {
        "id": req.id,
        "medium": req.medium,
        "queue": refused.get("queue", req.queue),
        "state": InteractionState.REFUSED,
        "reason": refused.get("reason", ""),
    }


async def create_interaction(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateInteractionBody)
    service = request.app[keys.SERVICE]
    req = InteractionRequest(
        id=body.id or _new_id(),
        medium=body.medium,
        queue=body.queue,
        priority=body.priority,
        skills=dict(body.skills),
        data=dict(body.data),
        customer_id=body.customer_id,
        preferred_agent=body.preferred_agent,
    )
    view = await request.app[keys.INTAKE].submit(req, fresh_id=body.id is None)
    data = view.as_dict() if view is not None else await _refusal(service, req)
    location = {"Location": f"/api/v1/interactions/{req.id}"}
    return json_response(data, status=201, headers=location)


def _new_id() -> str:
    return uuid.uuid4().hex


async def list_interactions(request: web.Request) -> web.Response:
    query = parse_query(request, InteractionListQuery)
    principal = principal_of(request)
    views = request.app[keys.SERVICE].interactions(state=query.state, queue=query.queue)
    if not principal.is_supervisor:
        views = [v for v in views if holds(principal.agent_id, v)]
    page = views[query.offset : query.offset + query.limit]
    return json_response(
        {
            "interactions": [v.as_dict() for v in page],
            "total": len(views),
            "limit": query.limit,
            "offset": query.offset,
        }
    )


async def get_interaction(request: web.Request) -> web.Response:
    interaction_id = request.match_info["id"]
    service = request.app[keys.SERVICE]
    return json_response(await _visible_record(service, principal_of(request), interaction_id))


async def interaction_events(request: web.Request) -> web.Response:
    interaction_id = request.match_info["id"]
    service = request.app[keys.SERVICE]
    events = await service.store.interaction_events(interaction_id)
    if not events and await service.interaction_record(interaction_id) is None:
        raise _unknown(interaction_id)
    return json_response({"interaction_id": interaction_id, "events": events})


async def cancel_interaction(request: web.Request) -> web.Response:
    body = await parse_body(request, CancelBody)
    interaction_id = request.match_info["id"]
    service = request.app[keys.SERVICE]
    reason = body.reason
    if reason is None:
        waiting = service.interaction(interaction_id).state in WAITING_STATES
        reason = "abandoned" if waiting else "cancelled"
    await service.cancel(interaction_id, reason=reason)
    return json_response(await service.interaction_record(interaction_id))


async def accept_interaction(request: web.Request) -> web.Response:
    body = await parse_body(request, AcceptBody)
    agent_id = acting_agent(principal_of(request), body.agent_id)
    view = await request.app[keys.SERVICE].accept(request.match_info["id"], agent_id)
    return json_response(view.as_dict())


async def reject_interaction(request: web.Request) -> web.Response:
    body = await parse_body(request, RejectBody)
    agent_id = acting_agent(principal_of(request), body.agent_id)
    service = request.app[keys.SERVICE]
    interaction_id = request.match_info["id"]
    await service.reject(interaction_id, agent_id, body.reason)
    # The interaction is no longer the agent's: answer with the agent's new state.
    return json_response(
        {"interaction_id": interaction_id, "agent": service.agent(agent_id).as_dict()}
    )


async def complete_interaction(request: web.Request) -> web.Response:
    body = await parse_body(request, CompleteBody)
    principal = principal_of(request)
    agent_id = acting_agent(principal, body.agent_id)
    service = request.app[keys.SERVICE]
    interaction_id = request.match_info["id"]
    _check_holds(service, principal, interaction_id)
    await service.end_handling(interaction_id, agent_id)
    return json_response(await service.interaction_record(interaction_id))


async def wrap_up_interaction(request: web.Request) -> web.Response:
    body = await parse_body(request, WrapUpBody)
    principal = principal_of(request)
    agent_id = acting_agent(principal, body.agent_id)
    interaction_id = request.match_info["id"]
    _check_holds(request.app[keys.SERVICE], principal, interaction_id)
    case = await wrap_up_with_case(
        request.app,
        interaction_id,
        agent_id,
        disposition=body.disposition,
        notes=body.notes,
        case_id=body.case_id,
        new_case=body.new_case,
    )
    record = await request.app[keys.SERVICE].interaction_record(interaction_id)
    return json_response({**(record or {}), "case": case.as_dict() if case else None})


async def wrap_up_with_case(
    app: web.Application,
    interaction_id: str,
    agent_id: str,
    *,
    disposition: str | None,
    notes: str,
    case_id: int | None = None,
    new_case: NewCaseBody | None = None,
) -> Case | None:
    """Wrap up, then link the interaction to a case of its customer or open one.

    The case is checked first, so a bad case id refuses the wrap-up rather than leaving
    it half done.
    """
    service = app[keys.SERVICE]
    crm = app[keys.CRM]
    check_agent_holds(service, agent_id, interaction_id)
    customer_id = service.interaction(interaction_id).customer_id
    if case_id is not None:
        await _check_case_of(crm, case_id, customer_id)
    if new_case is not None and customer_id is None:
        raise InvalidRequestError(
            "this interaction has no customer to open a case for",
            details={"interaction_id": interaction_id},
        )
    await service.wrap_up(interaction_id, agent_id, disposition=disposition, notes=notes)
    return await crm.link_wrap_up(
        interaction_id,
        contact_id=customer_id,
        by=agent_id,
        case_id=case_id,
        new_case=(
            NewCase(
                subject=new_case.subject,
                description=new_case.description,
                priority=CasePriority(new_case.priority),
            )
            if new_case is not None
            else None
        ),
    )


async def _check_case_of(crm: CrmService, case_id: int, customer_id: str | None) -> None:
    case = await crm.cases.get(case_id)
    if customer_id is None or case.contact_id == customer_id:
        return
    # The interaction may be recorded under a contact since merged into the case's one.
    contact = await crm.contacts.get(customer_id)
    if contact.merged_into != case.contact_id:
        raise InvalidRequestError(
            f"case {case_id} belongs to another customer",
            details={"case_id": case_id, "contact_id": case.contact_id},
        )


async def screen_pop(request: web.Request) -> web.Response:
    """The screen-pop of an open interaction (the desktop normally has it from the offer)."""
    interaction_id = request.match_info["id"]
    principal = principal_of(request)
    _check_holds(request.app[keys.SERVICE], principal, interaction_id)
    try:
        request.app[keys.SERVICE].interaction(interaction_id)
    except LookupError:
        raise _unknown(interaction_id) from None
    pop = request.app[keys.CRM].pops.get(interaction_id)
    return json_response({"interaction_id": interaction_id, "screen_pop": pop})


async def transfer_interaction(request: web.Request) -> web.Response:
    body = await parse_body(request, TransferBody)
    principal = principal_of(request)
    agent_id = acting_agent(principal, body.agent_id)
    service = request.app[keys.SERVICE]
    interaction_id = request.match_info["id"]
    _check_holds(service, principal, interaction_id)
    await service.transfer(interaction_id, agent_id, to_queue=body.queue, to_agent=body.agent)
    return json_response(
        {"interaction_id": interaction_id, "agent": service.agent(agent_id).as_dict()}
    )


async def move_interaction(request: web.Request) -> web.Response:
    body = await parse_body(request, MoveBody)
    service = request.app[keys.SERVICE]
    interaction_id = request.match_info["id"]
    await service.move(
        interaction_id, to_queue=body.queue, to_agent=body.agent, by=principal_of(request).user_id
    )
    return json_response(service.interaction(interaction_id).as_dict())


_BASE = "/api/v1/interactions"
_ACTING = (
    "Acts for the calling agent; a supervisor names the agent in agent_id. "
    "An agent gets 404 for an interaction that is not theirs."
)

ROUTES: tuple[Route, ...] = (
    Route(
        method="POST",
        path=_BASE,
        handler=create_interaction,
        access="supervisor",
        summary="Route a new interaction (201; state 'refused' when a closed queue rejects it)",
        tag="interactions",
        body=CreateInteractionBody,
        status=201,
    ),
    Route(
        method="GET",
        path=_BASE,
        handler=list_interactions,
        access="agent",
        summary="Open interactions in routing order (an agent sees only theirs)",
        tag="interactions",
        query=InteractionListQuery,
    ),
    Route(
        method="GET",
        path=_BASE + "/{id}",
        handler=get_interaction,
        access="agent",
        summary="One interaction: the live view, or the recorded snapshot once closed",
        tag="interactions",
    ),
    Route(
        method="GET",
        path=_BASE + "/{id}/events",
        handler=interaction_events,
        access="supervisor",
        summary="The recorded events of one interaction, oldest first",
        tag="interactions",
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/cancel",
        handler=cancel_interaction,
        access="supervisor",
        summary="End an interaction that is not finished (customer left, or cancelled)",
        tag="interactions",
        body=CancelBody,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/accept",
        handler=accept_interaction,
        access="agent",
        summary="Accept an offer",
        tag="interactions",
        body=AcceptBody,
        description=_ACTING,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/reject",
        handler=reject_interaction,
        access="agent",
        summary="Decline an offer; the interaction goes back to its place in the queue",
        tag="interactions",
        body=RejectBody,
        description=_ACTING,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/complete",
        handler=complete_interaction,
        access="agent",
        summary="End handling; wrap-up follows as the queue's policy says",
        tag="interactions",
        body=CompleteBody,
        description=_ACTING,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/wrap-up",
        handler=wrap_up_interaction,
        access="agent",
        summary="Close the interaction with a disposition and notes; link or open a case",
        tag="interactions",
        body=WrapUpBody,
        description=_ACTING,
    ),
    Route(
        method="GET",
        path=_BASE + "/{id}/screen-pop",
        handler=screen_pop,
        access="agent",
        summary="The customer's screen-pop of an open interaction (as its offer carried it)",
        tag="interactions",
        description=_ACTING,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/transfer",
        handler=transfer_interaction,
        access="agent",
        summary="Hand a held interaction to another queue or a named agent",
        tag="interactions",
        body=TransferBody,
        description=_ACTING,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/move",
        handler=move_interaction,
        access="supervisor",
        summary="Move a waiting interaction to another queue or a named agent (409 once assigned)",
        tag="interactions",
        body=MoveBody,
    ),
)
