"""CrmService: recognition of arrivals, their screen-pops, and every CRM change that must
refresh a screen-pop still waiting.

Every write to a contact, its notes or its cases goes through here (not straight to the
stores) so that an interaction waiting in a queue always carries the current record.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from trunkline.config.crm_settings import CrmSettings
from trunkline.crm.cases import CaseChanges, CaseStore
from trunkline.crm.contacts import ContactChanges, ContactStore
from trunkline.crm.errors import IdentityTakenError
from trunkline.crm.external import DISABLED, ExternalCrm, ExternalResult
from trunkline.crm.lookup import lookup, lookup_engine
from trunkline.crm.model import (
    Case,
    CaseEntry,
    CasePriority,
    Contact,
    ContactSnapshot,
    Identity,
    Note,
)
from trunkline.crm.notes import NoteStore
from trunkline.crm.recognition import identities_of, name_of
from trunkline.crm.screenpop import ScreenPops, build_screen_pop
from trunkline.domain.errors import InvalidRequestError
from trunkline.domain.interaction import InteractionRequest
from trunkline.domain.media import Medium
from trunkline.store.errors import StoreError

log = logging.getLogger(__name__)

Clock = Callable[[], float]
# Whether the router would give an agent a head start on a medium right now.
AgentAvailable = Callable[[str, Medium], bool]


@dataclass(frozen=True, slots=True)
class Recognition:
    """An arrival after recognition: the request to route and the screen-pop to show."""

    request: InteractionRequest
    pop: dict[str, Any]
    contact_id: str | None
    recognised_by: Identity | None
    external: ExternalResult


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCase:
    """A case opened at wrap-up."""

    subject: str
    description: str = ""
    priority: CasePriority = CasePriority.NORMAL


class CrmService:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: CrmSettings,
        *,
        clock: Clock = time.time,
        agent_available: AgentAvailable = lambda _agent_id, _medium: False,
        external: ExternalCrm | None = None,
    ) -> None:
        self.engine = engine
        # Screen-pop lookups: the hot path of every arrival, on a pool tuned for it.
        self.reads = lookup_engine(engine)
        self.settings = settings
        self.clock = clock
        self.contacts = ContactStore(engine)
        self.cases = CaseStore(engine)
        self.notes = NoteStore(engine)
        self.pops = ScreenPops()
        self._agent_available = agent_available
        self._external = external

    async def start(self) -> None:
        if self._external is not None:
            await self._external.start()

    async def close(self) -> None:
        if self._external is not None:
            await self._external.close()
        if self.reads is not self.engine:
            await self.reads.dispose()

    def reconfigure(self, settings: CrmSettings) -> None:
        """Take a reloaded ``crm:`` section (the external connector is kept until restart)."""
        self.settings = settings

    # ---------------------------------------------------------------- recognition

    async def recognise(self, request: InteractionRequest) -> Recognition:
        """Match the arrival to a contact (creating a provisional one for an unknown
        identity), attach the customer's facts, class priority and preferred agent, and
        build its screen-pop. The external CRM is asked in parallel, within its timeout."""
        region = self.settings.default_region
        identities = identities_of(request, region=region)
        external_task = (
            asyncio.ensure_future(self._fetch_external(identities, request.customer_id))
            if self._external is not None and identities
            else None
        )
        local_error: str | None = None
        try:
            snapshot, recognised_by = await self._local(request, identities)
        except StoreError as exc:
            # The customer must still reach an agent: route without the record and say so.
            log.warning("interaction %s routed without its CRM record: %s", request.id, exc)
            snapshot, recognised_by, local_error = None, None, "the CRM could not be read"
        except BaseException:
            if external_task is not None:
                external_task.cancel()
            raise
        external = await external_task if external_task is not None else DISABLED
        if external_task is None and self._external is not None:
            external = ExternalResult(
                status="skipped", record={}, url=None, message="no identity to look up"
            )
        now = self.clock()
        pop = build_screen_pop(
            snapshot, recognised_by=recognised_by, external=external, at=now, error=local_error
        )
        routed = self._enrich(request, snapshot)
        contact_id = snapshot.contact.id if snapshot is not None else None
        return Recognition(routed, pop, contact_id, recognised_by, external)

    async def prepare(self, request: InteractionRequest) -> InteractionRequest:
        """Recognise ``request`` and keep its screen-pop for the offer; returns the
        request to route. Call :meth:`discard` if routing then refuses it."""
        found = await self.recognise(request)
        self.pops.put(
            request.id,
            found.pop,
            contact_id=found.contact_id,
            external=found.external,
            recognised_by=found.recognised_by,
        )
        return found.request

    def discard(self, interaction_id: str) -> None:
        self.pops.drop(interaction_id)

    async def _fetch_external(
        self, identities: Sequence[Identity], contact_id: str | None
    ) -> ExternalResult:
        assert self._external is not None
        values: dict[str, str] = {}
        for identity in identities:
            values.setdefault(identity.kind.value, identity.value)
        return await self._external.fetch(values, contact_id=contact_id)

    async def _local(
        self, request: InteractionRequest, identities: Sequence[Identity]
    ) -> tuple[ContactSnapshot | None, Identity | None]:
        size = self.settings.history_size
        if request.customer_id is not None:
            snapshot = await lookup(self.reads, contact_id=request.customer_id, history_size=size)
            if snapshot is not None:
                return snapshot, None
        if not identities:
            return None, None
        snapshot = await lookup(self.reads, identities=identities, history_size=size)
        if snapshot is None and self.settings.provisional_contacts:
            snapshot = await self._provisional(request, identities)
        if snapshot is None:
            return None, None
        owned = set(snapshot.contact.identities)
        return snapshot, next((i for i in identities if i in owned), identities[0])

    async def _provisional(
        self, request: InteractionRequest, identities: Sequence[Identity]
    ) -> ContactSnapshot | None:
        """A provisional contact for an unknown customer, to be completed or merged later."""
        try:
            contact = await self.contacts.create(
                name=name_of(request),
                identities=identities,
                provisional=True,
                now=self.clock(),
            )
        except IdentityTakenError:
            # Another arrival with the same identity created it first: use theirs.
            return await lookup(
                self.reads, identities=identities, history_size=self.settings.history_size
            )
        return ContactSnapshot(contact=contact)

    def _enrich(
        self, request: InteractionRequest, snapshot: ContactSnapshot | None
    ) -> InteractionRequest:
        if snapshot is None:
            return request
        contact = snapshot.contact
        facts = {
            "class": contact.customer_class,
            "value": contact.value,
            "language": contact.language,
            "open_cases": len(snapshot.open_cases),
            "known": not contact.provisional,
        }
        priority = request.priority + self.settings.class_priority.get(contact.customer_class, 0)
        preferred = request.preferred_agent or self._preferred_agent(snapshot, request.medium)
        return dataclasses.replace(
            request,
            customer_id=contact.id,
            customer={k: v for k, v in facts.items() if v is not None},
            priority=priority,
            preferred_agent=preferred,
        )

    def _preferred_agent(self, snapshot: ContactSnapshot, medium: Medium) -> str | None:
        """The first of the customer's last agent and account owner (in the configured
        order) who is ready now; the router gives them a bounded head start."""
        for source in self.settings.preferred_agents:
            if source == "last_agent":
                agent = next((h.agent_id for h in snapshot.history if h.agent_id), None)
            else:
                agent = snapshot.contact.owner
            if agent is not None and self._agent_available(agent, medium):
                return agent
        return None

    async def restore(self, open_interactions: Sequence[tuple[str, str | None]]) -> int:
        """Rebuild the screen-pops of interactions recovered after a restart, given as
        (interaction id, customer id); returns how many got one. The external part is
        not fetched again: the pop says it is missing."""
        restored = 0
        for interaction_id, customer_id in open_interactions:
            if customer_id is None or self.pops.get(interaction_id) is not None:
                continue
            try:
                snapshot = await lookup(
                    self.reads, contact_id=customer_id, history_size=self.settings.history_size
                )
            except StoreError as exc:
                log.warning("screen-pop of %s not restored: %s", interaction_id, exc)
                continue
            if snapshot is None:
                continue
            external = ExternalResult(
                status="skipped", record={}, url=None, message="not fetched after a restart"
            )
            pop = build_screen_pop(snapshot, recognised_by=None, external=external, at=self.clock())
            self.pops.put(interaction_id, pop, contact_id=snapshot.contact.id, external=external)
            restored += 1
        return restored

    # ------------------------------------------------------------ screen-pop refresh

    async def refresh(self, *contact_ids: str) -> None:
        """Rebuild the screen-pops of open interactions showing these contacts."""
        for contact_id in contact_ids:
            waiting = self.pops.interactions_of(contact_id)
            if not waiting:
                continue
            snapshot = await lookup(
                self.reads, contact_id=contact_id, history_size=self.settings.history_size
            )
            if snapshot is None:
                continue
            now = self.clock()
            for interaction_id in waiting:
                external, recognised_by = self.pops.origin(interaction_id)
                pop = build_screen_pop(
                    snapshot, recognised_by=recognised_by, external=external, at=now
                )
                # A merged contact's pops move to the survivor.
                self.pops.replace(interaction_id, pop, contact_id=snapshot.contact.id)

    # ---------------------------------------------------------------- CRM writes

    async def create_contact(self, **fields: Any) -> Contact:
        return await self.contacts.create(**fields, now=self.clock())

    async def update_contact(
        self, contact_id: str, changes: ContactChanges, *, expected_version: int | None = None
    ) -> Contact:
        contact = await self.contacts.update(
            contact_id, changes, expected_version=expected_version, now=self.clock()
        )
        await self.refresh(contact.id)
        return contact

    async def merge_contacts(self, into_id: str, from_ids: Sequence[str]) -> Contact:
        contact = await self.contacts.merge(into_id, from_ids, now=self.clock())
        await self.refresh(*from_ids, into_id)
        return contact

    async def add_note(
        self, contact_id: str, text: str, *, author: str, interaction_id: str | None = None
    ) -> Note:
        note = await self.notes.add(
            contact_id, text, author=author, now=self.clock(), interaction_id=interaction_id
        )
        await self.refresh(contact_id)
        return note

    async def create_case(
        self,
        *,
        contact_id: str,
        subject: str,
        by: str,
        description: str = "",
        priority: CasePriority = CasePriority.NORMAL,
        owner: str | None = None,
        interaction_id: str | None = None,
    ) -> Case:
        case = await self.cases.create(
            contact_id=contact_id,
            subject=subject,
            description=description,
            priority=priority,
            owner=owner,
            by=by,
            now=self.clock(),
            interaction_id=interaction_id,
        )
        await self.refresh(case.contact_id)
        return case

    async def update_case(self, case_id: int, changes: CaseChanges, *, by: str) -> Case:
        case = await self.cases.update(case_id, changes, by=by, now=self.clock())
        await self.refresh(case.contact_id)
        return case

    async def comment_case(self, case_id: int, text: str, *, by: str) -> CaseEntry:
        entry = await self.cases.comment(case_id, text, by=by, now=self.clock())
        await self.refresh(entry.contact_id)
        return entry

    async def link_case(self, case_id: int, interaction_id: str, *, by: str) -> Case:
        case = await self.cases.link(case_id, interaction_id, by=by, now=self.clock())
        await self.refresh(case.contact_id)
        return case

    async def delete_case(self, case_id: int) -> None:
        case = await self.cases.get(case_id)
        await self.cases.delete(case_id)
        await self.refresh(case.contact_id)

    async def link_wrap_up(
        self,
        interaction_id: str,
        *,
        contact_id: str | None,
        by: str,
        case_id: int | None = None,
        new_case: NewCase | None = None,
    ) -> Case | None:
        """Wrap-up's case work: link the interaction to an existing case or open a new one
        for the interaction's customer."""
        if case_id is not None:
            return await self.link_case(case_id, interaction_id, by=by)
        if new_case is None:
            return None
        if contact_id is None:
            raise InvalidRequestError(
                "this interaction has no customer to open a case for",
                details={"interaction_id": interaction_id},
            )
        return await self.create_case(
            contact_id=contact_id,
            subject=new_case.subject,
            description=new_case.description,
            priority=new_case.priority,
            by=by,
            owner=by,
            interaction_id=interaction_id,
        )
