"""The CRM's records as plain frozen data: what the store returns and the screen-pop carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class IdentityKind(StrEnum):
    """How a customer can be recognised. Values are stored normalised (see ``identity``)."""

    PHONE = "phone"  # E.164, e.g. +441632960123
    EMAIL = "email"  # lower-cased address
    VISITOR = "visitor"  # a web chat visitor id
    ACCOUNT = "account"  # an account or customer number, upper-cased, no spaces


class CaseStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer or a third party
    CLOSED = "closed"


class CasePriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


DEFAULT_CLASS = "standard"


@dataclass(frozen=True, slots=True)
class Identity:
    kind: IdentityKind
    value: str  # normalised

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "value": self.value}


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    id: str
    name: str = ""
    organisation: str = ""
    customer_class: str = DEFAULT_CLASS
    value: float | None = None  # customer value, e.g. yearly revenue
    language: str | None = None  # preferred language, e.g. "en", "fr"
    owner: str | None = None  # account owner: an agent id
    attributes: Mapping[str, Any] = field(default_factory=dict)
    provisional: bool = False  # created by recognition from an unknown identity
    identities: tuple[Identity, ...] = ()
    merged_into: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    version: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "organisation": self.organisation,
            "class": self.customer_class,
            "value": self.value,
            "language": self.language,
            "owner": self.owner,
            "attributes": dict(self.attributes),
            "provisional": self.provisional,
            "identities": [i.as_dict() for i in self.identities],
            "merged_into": self.merged_into,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    id: int
    contact_id: str
    at: float
    author: str
    text: str
    interaction_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "contact_id": self.contact_id,
            "at": self.at,
            "author": self.author,
            "text": self.text,
            "interaction_id": self.interaction_id,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    id: int
    contact_id: str
    subject: str
    description: str = ""
    status: CaseStatus = CaseStatus.OPEN
    priority: CasePriority = CasePriority.NORMAL
    owner: str | None = None  # an agent id
    created_by: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    closed_at: float | None = None
    interactions: tuple[str, ...] = ()  # linked interaction ids, oldest first

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "contact_id": self.contact_id,
            "subject": self.subject,
            "description": self.description,
            "status": self.status.value,
            "priority": self.priority.value,
            "owner": self.owner,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "closed_at": self.closed_at,
            "interactions": list(self.interactions),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseEntry:
    """One line of a case's own timeline: opened, changed, commented, linked, closed."""

    id: int
    case_id: int
    contact_id: str
    at: float
    kind: str  # opened | updated | status | comment | linked
    by: str
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "contact_id": self.contact_id,
            "at": self.at,
            "kind": self.kind,
            "by": self.by,
            "text": self.text,
            "data": dict(self.data),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PastInteraction:
    """One earlier interaction of a contact, as the screen-pop and timeline show it."""

    id: str
    medium: str
    queue: str
    state: str
    created_at: float
    updated_at: float
    agent_id: str | None
    disposition: str | None
    notes: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "medium": self.medium,
            "queue": self.queue,
            "state": self.state,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "agent_id": self.agent_id,
            "disposition": self.disposition,
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactSnapshot:
    """Everything the screen-pop shows from the local CRM, read in one go."""

    contact: Contact
    history: tuple[PastInteraction, ...] = ()  # newest first
    open_cases: tuple[Case, ...] = ()  # open and pending, most recently updated first
