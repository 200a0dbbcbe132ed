"""The rollup core's pieces: what the Fold tells it, report periods, the CSV cells and
the rebuild progress bar."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from trunkline.cli_progress import ProgressBar
from trunkline.domain.events import InteractionCancelled, InteractionTransferred
from trunkline.domain.media import Medium
from trunkline.reporting.definitions import ReportingSettings
from trunkline.reporting.fold import Fold, QueueCounters, QueueKey
from trunkline.reporting.reports import periods
from trunkline.store.rollup_schema import QUEUE_COUNTER_COLUMNS

T0 = datetime(2024, 1, 15, 9, 0, tzinfo=UTC).timestamp()
I0 = int(T0)


def test_rollup_columns_are_the_queue_counters() -> None:
    assert QUEUE_COUNTER_COLUMNS == tuple(f.name for f in dataclasses.fields(QueueCounters))


def test_remember_open_gives_later_events_their_medium() -> None:
    fold = Fold(ReportingSettings())
    assert fold.remember_open("e1", medium=Medium.EMAIL, queue="support")
    assert fold.remember_open("e2", medium=Medium.EMAIL, queue="support", answered=True)
    assert not fold.remember_open("e1", medium=Medium.VOICE, queue="x")  # known: unchanged
    fold.apply(InteractionCancelled(at=T0, interaction_id="e1", queue="support", reason="x"))
    fold.apply(InteractionCancelled(at=T0, interaction_id="e2", queue="support", reason="x"))
    fold.apply(
        InteractionTransferred(
            at=T0, interaction_id="gone", from_agent="a", from_queue="support", to_queue="s"
        )
    )
    rows = fold.queue_rows()
    assert list(rows) == [QueueKey(I0, "support", Medium.EMAIL)]
    assert rows[QueueKey(I0, "support", Medium.EMAIL)].cancelled == 1  # e2 was answered


def test_take_changed_and_forget_before() -> None:
    fold = Fold(ReportingSettings())
    for n, at in enumerate((T0, T0 + 900, T0 + 1800)):
        fold.remember_open(f"i{n}", medium=Medium.CHAT, queue="q")
        fold.apply(InteractionCancelled(at=at, interaction_id=f"i{n}", queue="q", reason="x"))
    queues, agents = fold.take_changed()
    assert [k.interval for k in queues] == [I0, I0 + 900, I0 + 1800] and agents == []
    assert fold.take_changed() == ([], [])
    fold.forget_before(I0 + 900)
    assert [k.interval for k in fold.queue_rows()] == [I0 + 900, I0 + 1800]
    assert fold.queue_row(QueueKey(I0, "q", Medium.CHAT)) == QueueCounters()


def test_periods_follow_the_local_calendar() -> None:
    london = ReportingSettings(timezone="Europe/London")
    assert len(periods(date(2024, 10, 27), date(2024, 10, 27), "interval", london)) == 100
    [day] = periods(date(2024, 10, 27), date(2024, 10, 27), "day", london)
    assert day.end - day.start == 25 * 3600
    weeks = periods(date(2024, 1, 3), date(2024, 1, 16), "week", london)  # Wed to Tue
    assert [round((w.end - w.start) / 86400) for w in weeks] == [5, 7, 2]
    months = periods(date(2024, 1, 20), date(2024, 3, 31), "month", london)
    assert [round((m.end - m.start) / 3600) for m in months] == [12 * 24, 29 * 24, 31 * 24 - 1]


def test_progress_bar_shows_done_total_and_percent() -> None:
    assert ProgressBar.render(25, 100) == "[" + "#" * 8 + "." * 22 + "] 25/100 events  25.0%"
    assert ProgressBar.render(0, 0).endswith("0/0 events 100.0%")
