"""The SQL event record: every event appended in group commits, plus interaction snapshots."""

from __future__ import annotations

from trunkline.crm import schema as crm_schema  # noqa: F401 (registers its tables)
from trunkline.store import rollup_schema as rollup_schema  # registers its tables
from trunkline.store.errors import StoreError
from trunkline.store.event_store import EventStore, RecoveredInteraction
from trunkline.store.url import to_async_url
from trunkline.store.writer import EventWriter

__all__ = ["EventStore", "EventWriter", "RecoveredInteraction", "StoreError", "to_async_url"]
