"""The reporting benchmark's generated month is a consistent centre: time-ordered events
in which every arrival is either answered and completed, or abandoned."""

from __future__ import annotations

from datetime import date

from trunkline.bench.reporting import month_of_events
from trunkline.config.loader import load_config_text
from trunkline.reporting.definitions import settings_from_config
from trunkline.reporting.fold import Fold, sum_queue_rows


def test_generated_month_is_time_ordered_and_every_arrival_ends() -> None:
    events = list(month_of_events(3000, date(2026, 10, 1), seed=7))
    assert [e.at for e in events] == sorted(e.at for e in events)
    settings = settings_from_config(load_config_text("queues: {q0: {}}\n", "bench.yaml"))
    fold = Fold(settings)
    fold.apply_all(events)
    totals = sum_queue_rows(fold.queue_rows())
    assert totals.offered > 0
    assert totals.offered == totals.answered + totals.abandoned + totals.short_abandoned
    assert totals.completed == totals.answered
