"""Screen-pops: what an agent sees of the customer the moment an offer arrives.

A screen-pop is built once, when the interaction is created, and kept here until the
interaction ends; the offer message carries it, so the desktop never has to fetch
anything. If the customer's record changes while the interaction waits, the CRM service
rebuilds it (:meth:`ScreenPops.contacts_waiting`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trunkline.crm.external import DISABLED, ExternalResult
from trunkline.crm.model import ContactSnapshot, Identity
from trunkline.domain.events import (
    Event,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionRefused,
)

_ENDED = (InteractionCompleted, InteractionAbandoned, InteractionCancelled, InteractionRefused)


def build_screen_pop(
    snapshot: ContactSnapshot | None,
    *,
    recognised_by: Identity | None,
    external: ExternalResult = DISABLED,
    at: float,
    error: str | None = None,
) -> dict[str, Any]:
    """The screen-pop as the desktop receives it (JSON-ready).

    ``external.status`` tells the agent whether the other CRM's part is there ("ok"),
    missing ("timeout", "error", "not_found", "skipped") or not configured ("disabled").
    ``error`` says why the local record is missing when it could not be read.
    """
    contact = snapshot.contact if snapshot is not None else None
    return {
        "contact": contact.as_dict() if contact is not None else None,
        "recognised_by": recognised_by.as_dict() if recognised_by is not None else None,
        "history": [h.as_dict() for h in snapshot.history] if snapshot is not None else [],
        "open_cases": [c.as_dict() for c in snapshot.open_cases] if snapshot is not None else [],
        "external": external.as_dict(),
        "error": error,
        "built_at": at,
    }


@dataclass(slots=True)
class _Entry:
    contact_id: str | None
    pop: Mapping[str, Any]
    external: ExternalResult
    recognised_by: Identity | None


class ScreenPops:
    """Open interactions' screen-pops, by interaction and by contact.

    Fed the event stream (:meth:`observe`) so an ended interaction's pop is dropped.
    """

    def __init__(self) -> None:
        self._by_interaction: dict[str, _Entry] = {}
        self._by_contact: dict[str, set[str]] = {}

    def put(
        self,
        interaction_id: str,
        pop: Mapping[str, Any],
        *,
        contact_id: str | None,
        external: ExternalResult = DISABLED,
        recognised_by: Identity | None = None,
    ) -> None:
        self.drop(interaction_id)
        self._by_interaction[interaction_id] = _Entry(contact_id, pop, external, recognised_by)
        if contact_id is not None:
            self._by_contact.setdefault(contact_id, set()).add(interaction_id)

    def replace(self, interaction_id: str, pop: Mapping[str, Any], *, contact_id: str) -> None:
        """A rebuilt pop (the record changed); keeps the external part fetched at arrival."""
        entry = self._by_interaction.get(interaction_id)
        if entry is None:
            return  # ended meanwhile
        self.put(
            interaction_id,
            pop,
            contact_id=contact_id,
            external=entry.external,
            recognised_by=entry.recognised_by,
        )

    def get(self, interaction_id: str) -> Mapping[str, Any] | None:
        entry = self._by_interaction.get(interaction_id)
        return entry.pop if entry is not None else None

    def origin(self, interaction_id: str) -> tuple[ExternalResult, Identity | None]:
        entry = self._by_interaction.get(interaction_id)
        if entry is None:
            return DISABLED, None
        return entry.external, entry.recognised_by

    def contact_of(self, interaction_id: str) -> str | None:
        entry = self._by_interaction.get(interaction_id)
        return entry.contact_id if entry is not None else None

    def interactions_of(self, contact_id: str) -> list[str]:
        """Open interactions showing ``contact_id``, to rebuild when the record changes."""
        return sorted(self._by_contact.get(contact_id, ()))

    def drop(self, interaction_id: str) -> None:
        entry = self._by_interaction.pop(interaction_id, None)
        if entry is None or entry.contact_id is None:
            return
        ids = self._by_contact.get(entry.contact_id)
        if ids is not None:
            ids.discard(interaction_id)
            if not ids:
                del self._by_contact[entry.contact_id]

    def observe(self, event: Event) -> None:
        """Bus listener: forget the pop of an interaction that ended."""
        if isinstance(event, _ENDED):
            self.drop(event.interaction_id)

    def __len__(self) -> int:
        return len(self._by_interaction)
