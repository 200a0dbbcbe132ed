"""Contacts under /api/v1/crm: search, create, update, merge, notes and the timeline.

Agents read and edit customer records (they talk to the customers); merging records is
a supervisor's call; bulk import and export (``api_crm_bulk``) are for admins only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from trunkline.crm.contacts import ContactChanges, ContactPage, ContactStore
from trunkline.crm.errors import InvalidIdentityError
from trunkline.crm.identity import normalise
from trunkline.crm.model import Identity, IdentityKind
from trunkline.crm.timeline import contact_timeline
from trunkline.web import keys
from trunkline.web.auth import principal_of
from trunkline.web.crm_schemas import (
    CreateContactBody,
    IdentityBody,
    MergeBody,
    NoteBody,
    PageQuery,
    SearchQuery,
    UpdateContactBody,
)
from trunkline.web.encoding import json_response
from trunkline.web.openapi import Route
from trunkline.web.schemas import parse_body, parse_query

_PHONE_LIKE = re.compile(r"[+\d][\d\s().\-/]{4,}")


def _region(request: web.Request) -> str:
    return request.app[keys.SERVICE].config.crm.default_region


def _identities(request: web.Request, bodies: Iterable[IdentityBody]) -> list[Identity]:
    region = _region(request)
    return [normalise(b.kind, b.value, region=region) for b in bodies]


def _identity_guesses(text: str, region: str) -> list[Identity]:
    """What a search box entry could be besides a name: an e-mail, a phone, an account."""
    guesses: list[Identity] = []
    candidates: list[IdentityKind] = []
    if "@" in text:
        candidates.append(IdentityKind.EMAIL)
    if _PHONE_LIKE.fullmatch(text.strip()):
        candidates.append(IdentityKind.PHONE)
    if any(c.isdigit() for c in text) and " " not in text.strip():
        candidates.append(IdentityKind.ACCOUNT)
    for kind in candidates:
        try:
            guesses.append(normalise(kind, text, region=region))
        except InvalidIdentityError:
            continue
    return guesses


async def search_contacts(request: web.Request) -> web.Response:
    query = parse_query(request, SearchQuery)
    crm = request.app[keys.CRM]
    region = _region(request)
    explicit = [
        normalise(kind, raw, region=region)
        for kind, raw in (
            (IdentityKind.PHONE, query.phone),
            (IdentityKind.EMAIL, query.email),
            (IdentityKind.ACCOUNT, query.account),
            (IdentityKind.VISITOR, query.visitor),
        )
        if raw is not None
    ]
    common: dict[str, Any] = {
        "customer_class": query.customer_class,
        "provisional": query.provisional,
        "limit": query.limit,
        "after": query.after,
    }
    if explicit:
        page = await crm.contacts.search(identity=explicit[0], **common)
    elif query.q is not None and query.q.strip():
        page = await _search_text(crm.contacts, query.q, region, common)
    else:
        page = await crm.contacts.search(**common)
    return json_response(
        {"contacts": [c.as_dict() for c in page.contacts], "next_cursor": page.next_cursor}
    )


async def _search_text(
    contacts: ContactStore, text: str, region: str, common: dict[str, Any]
) -> ContactPage:
    # An identity match is exact and unique: when the text is one, show that contact.
    for guess in _identity_guesses(text, region):
        page = await contacts.search(identity=guess, **common)
        if page.contacts:
            return page
    return await contacts.search(text=text, **common)


async def create_contact(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateContactBody)
    crm = request.app[keys.CRM]
    contact = await crm.create_contact(
        id=body.id,
        name=body.name,
        organisation=body.organisation,
        customer_class=body.customer_class,
        value=None if body.value is None else float(body.value),
        language=body.language,
        owner=body.owner,
        attributes=body.attributes,
        identities=_identities(request, body.identities),
    )
    location = {"Location": f"/api/v1/crm/contacts/{contact.id}"}
    return json_response(contact.as_dict(), status=201, headers=location)


async def get_contact(request: web.Request) -> web.Response:
    contact = await request.app[keys.CRM].contacts.get(request.match_info["id"])
    return json_response(contact.as_dict())


_CLEARABLE = ("value", "language", "owner")
_PLAIN = ("name", "organisation", "customer_class", "provisional", "attributes")


async def update_contact(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateContactBody)
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    for name in _CLEARABLE:
        if name in given:  # an explicit null clears the field
            value = getattr(body, name)
            changes[name] = float(value) if name == "value" and value is not None else value
    for name in _PLAIN:
        if name in given and getattr(body, name) is not None:
            changes[name] = getattr(body, name)
    if body.add_identities:
        changes["add_identities"] = tuple(_identities(request, body.add_identities))
    if body.remove_identities:
        changes["remove_identities"] = tuple(_identities(request, body.remove_identities))
    contact = await request.app[keys.CRM].update_contact(
        request.match_info["id"], ContactChanges(**changes), expected_version=body.version
    )
    return json_response(contact.as_dict())


async def merge_contacts(request: web.Request) -> web.Response:
    body = await parse_body(request, MergeBody)
    contact = await request.app[keys.CRM].merge_contacts(request.match_info["id"], body.from_)
    return json_response(contact.as_dict())


async def timeline(request: web.Request) -> web.Response:
    query = parse_query(request, PageQuery)
    crm = request.app[keys.CRM]
    page = await contact_timeline(
        crm.engine, request.match_info["id"], limit=query.limit, before=query.before
    )
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


async def list_notes(request: web.Request) -> web.Response:
    query = parse_query(request, PageQuery)
    crm = request.app[keys.CRM]
    contact = await crm.contacts.get(request.match_info["id"])
    page = await crm.notes.list([contact.id], limit=query.limit, before=query.before)
    return json_response(
        {"notes": [n.as_dict() for n in page.notes], "next_cursor": page.next_cursor}
    )


async def add_note(request: web.Request) -> web.Response:
    body = await parse_body(request, NoteBody)
    note = await request.app[keys.CRM].add_note(
        request.match_info["id"],
        body.text,
        author=principal_of(request).actor,
        interaction_id=body.interaction_id,
    )
    return json_response(note.as_dict(), status=201)


_BASE = "/api/v1/crm/contacts"

ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path=_BASE,
        handler=search_contacts,
        access="agent",
        summary="Search contacts by name, phone, e-mail, account or visitor id (paged)",
        tag="crm",
        query=SearchQuery,
        description=(
            "q: word prefixes of the name ('smi jo' finds John Smith), or a phone number, "
            "e-mail address or account number, matched exactly after normalisation. "
            "Page with after=next_cursor."
        ),
    ),
    Route(
        method="POST",
        path=_BASE,
        handler=create_contact,
        access="agent",
        summary="Create a contact with its identities",
        tag="crm",
        body=CreateContactBody,
        status=201,
    ),
    Route(
        method="GET",
        path=_BASE + "/{id}",
        handler=get_contact,
        access="agent",
        summary="One contact (a merged one names its survivor in merged_into)",
        tag="crm",
    ),
    Route(
        method="PATCH",
        path=_BASE + "/{id}",
        handler=update_contact,
        access="agent",
        summary="Change a contact; waiting interactions' screen-pops follow",
        tag="crm",
        body=UpdateContactBody,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/merge",
        handler=merge_contacts,
        access="supervisor",
        summary="Merge other contacts (e.g. provisional ones) into this one, keeping history",
        tag="crm",
        body=MergeBody,
    ),
    Route(
        method="GET",
        path=_BASE + "/{id}/timeline",
        handler=timeline,
        access="agent",
        summary="Every interaction, note and case event of the contact, newest first (paged)",
        tag="crm",
        query=PageQuery,
    ),
    Route(
        method="GET",
        path=_BASE + "/{id}/notes",
        handler=list_notes,
        access="agent",
        summary="The contact's notes, newest first (paged)",
        tag="crm",
        query=PageQuery,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/notes",
        handler=add_note,
        access="agent",
        summary="Add a note to the contact",
        tag="crm",
        body=NoteBody,
        status=201,
    ),
)
