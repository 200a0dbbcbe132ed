"""The routing service over a real SQLite event record: routing, durability, recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.config.loader import load_config_text
from trunkline.domain.agent import AgentState
from trunkline.domain.events import InteractionOffered
from trunkline.domain.interaction import InteractionRequest, InteractionState
from trunkline.domain.media import Medium
from trunkline.router.errors import DuplicateInteractionError
from trunkline.service.routing import RoutingService
from trunkline.store.event_store import EventStore

CONFIG = """
skills: [english]
queues:
  support: {offer_timeout_s: 30, wrap_up: {mode: manual}}
agents:
  - {id: ann, skills: {english: 3}, queues: [support]}
wrap_up_codes:
  - {code: solved, label: Solved, resolved: true}
"""


async def open_service(db: Path) -> RoutingService:
    store = await EventStore.open(f"sqlite:///{db}")
    service = RoutingService(config=load_config_text(CONFIG, "test.yaml"), store=store)
    await service.start()
    return service


async def test_offer_reaches_the_bus_and_the_record(tmp_path: Path) -> None:
    service = await open_service(tmp_path / "t.db")
    with service.bus.subscribe(lambda e: isinstance(e, InteractionOffered)) as offers:
        await service.login("ann", ready=True)
        view = await service.submit(
            InteractionRequest(id="c1", medium=Medium.CHAT, queue="support", skills={"english": 2})
        )
        assert view is not None and view.state is InteractionState.OFFERED
        offer = await offers.get()
        assert isinstance(offer, InteractionOffered) and offer.agent_id == "ann"
    await service.accept("c1", "ann")
    await service.wrap_up("c1", "ann", disposition="solved", notes="done")
    record = await service.interaction_record("c1")
    assert record is not None and record["state"] == "completed"
    assert record["disposition"] == "solved"
    await service.stop()
    await service.store.close()


async def test_open_interactions_come_back_in_order_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    service = await open_service(db)
    for n, priority in enumerate([0, 0, 2, 0]):
        await service.submit(
            InteractionRequest(id=f"e{n}", medium=Medium.EMAIL, queue="support", priority=priority)
        )
    before = [v.id for v in service.interactions()]
    await service.stop()
    await service.store.close()

    again = await open_service(db)
    after = [v.id for v in again.interactions()]
    assert after == before
    assert after[0] == "e2"  # priority 2 ranks as if it had waited two minutes longer
    await again.login("ann", ready=True)
    assert again.interaction("e2").state is InteractionState.OFFERED
    await again.stop()
    await again.store.close()


async def test_a_closed_interactions_id_cannot_be_reused(tmp_path: Path) -> None:
    service = await open_service(tmp_path / "t.db")
    await service.login("ann", ready=True)
    request = InteractionRequest(id="c9", medium=Medium.CHAT, queue="support")
    await service.submit(request)
    await service.accept("c9", "ann")
    await service.wrap_up("c9", "ann", disposition="solved")
    with pytest.raises(DuplicateInteractionError):
        await service.submit(request)
    await service.stop()
    await service.store.close()


async def test_a_restart_records_that_agents_were_logged_out(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    service = await open_service(db)
    await service.login("ann", ready=True)
    await service.stop()
    await service.store.close()

    again = await open_service(db)
    recorded = await again.store.events(limit=1000)
    restart = [e for e in recorded if e.get("reason") == "restart"]
    assert [(e["type"], e.get("old"), e.get("new")) for e in restart] == [
        ("agent_state_changed", "ready", "logged_out"),
        ("agent_logged_out", None, None),
    ]
    assert again.agent("ann").state is AgentState.LOGGED_OUT
    await again.stop()
    await again.store.close()
