"""The metrics: the exposition format, the queue gauges from a real database of each kind, the
hooks' counters, and the INFO lines the log privacy filter lets through as they are."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot import metrics
from bot.log_privacy import PersonalDataFilter
from flows.events import Reply
from main import start_line
from settings import Settings
from storage.inbox import Received, SqlInbox
from storage.outbox import RECRUITERS, OutboxItem, SqlOutbox
from tests.deploy_files import parse_metrics, sample

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def counters(monkeypatch: pytest.MonkeyPatch) -> metrics.Counters:
    fresh = metrics.Counters(started=1_700_000_000.5)
    monkeypatch.setattr(metrics, "PROCESS", fresh)
    return fresh


def test_the_exposition_before_anything_happened(counters: metrics.Counters):
    samples = parse_metrics(metrics.render(counters, metrics.QueueGauges(0, 0, 0, 0.0)))
    assert sample(samples, "intake_process_start_time_seconds") == 1_700_000_000.5
    for outcome in metrics.OUTCOMES:
        assert sample(samples, "intake_updates_handled_total", outcome=outcome) == 0
    assert sample(samples, "intake_messages_delivered_total", to="candidate") == 0
    assert sample(samples, "intake_database_up") == 1
    assert not [key for key in samples if key[0] == "intake_errors_total"]
    for outcome in metrics.SIGN_INS:
        assert sample(samples, "intake_dashboard_sign_ins_total", outcome=outcome) == 0


def test_the_hooks_count_and_a_database_that_does_not_answer_is_said(counters: metrics.Counters):
    metrics.received(3)
    metrics.handled("done")
    metrics.handled("retried", "OperationalError")
    metrics.handled("quarantined", "ValueError")
    metrics.error("outbox", "RetryAfter")
    metrics.error("webhook", 'Odd"Name')
    samples = parse_metrics(metrics.render(counters, None))
    assert sample(samples, "intake_updates_received_total") == 3
    assert sample(samples, "intake_updates_handled_total", outcome="retried") == 1
    assert sample(samples, "intake_errors_total", source="inbox", kind="OperationalError") == 1
    assert sample(samples, "intake_errors_total", source="outbox", kind="RetryAfter") == 1
    assert sample(samples, "intake_errors_total", source="webhook", kind='Odd\\"Name') == 1
    assert sample(samples, "intake_database_up") == 0
    assert not [key for key in samples if key[0].startswith(("intake_inbox", "intake_outbox"))]


def test_queue_gauges_on_each_database(engine: Engine):
    inbox, outbox = SqlInbox(engine), SqlOutbox(engine)
    inbox.receive([Received(1, "u:1", {"update_id": 1}), Received(2, "u:2", {"update_id": 2})])
    outbox.queue("111", [{"text": "a"}], NOW - timedelta(seconds=90))  # due, waiting 90 s
    outbox.queue("222", [{"text": "b"}], NOW + timedelta(seconds=60))  # not due yet
    outbox.queue("333", [{"text": "c"}], NOW - timedelta(seconds=10))
    gauges = metrics.queue_gauges(engine, NOW)
    assert (gauges.inbox_pending, gauges.outbox_pending) == (2, 3)
    assert gauges.outbox_lag_seconds == pytest.approx(90)
    (first,) = [item for item in outbox.claim("me", NOW, timedelta(seconds=30)) if
                item.chat_key == "111"]
    assert first.created_at is not None
    outbox.sent(first.id, NOW)
    gauges = metrics.queue_gauges(engine, NOW)
    assert (gauges.outbox_pending, gauges.outbox_lag_seconds) == (2, pytest.approx(10))
    # Chats nobody sends to (no recruiters' chat configured) are no backlog.
    assert metrics.queue_gauges(engine, NOW, ("222", "333")) == metrics.QueueGauges(2, 0, 0, 0.0)


def test_delivered_and_submitted(counters: metrics.Counters, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="bot.metrics")
    metrics.delivered(OutboxItem(5, "message", "111", None, {}, 0, NOW), NOW)
    metrics.delivered(OutboxItem(7, "dossier_submitted", RECRUITERS, 12, {}, 0,
                                 (NOW - timedelta(seconds=1.5)).replace(tzinfo=None)), NOW)
    metrics.submitted_in([Reply("nl", ()), Reply("nl", (), meta={"submitted": "vera",
                                                                 "dossier_id": 12})])
    assert counters.delivered == {"candidate": 1, "recruiters": 1} and counters.submitted == 1
    assert [r.getMessage() for r in caplog.records] == [
        "outbox 7 delivered: dossier_submitted to the recruiters, lag 1500 ms",
        "dossier 12 submitted for vacancy vera"]


@pytest.mark.parametrize("line", [
    "outbox 73219 delivered: dossier_submitted to the recruiters, lag 1500 ms",
    "outbox 7 delivered: question_notice to the recruiters, lag 0 ms",
    "dossier 123456 submitted for vacancy sint-pieters-leeuw-projectmedewerker-samenleven",
    "dossier 1234567890 submitted for vacancy hardenberg-medewerker-intern-service-punt",
])
def test_the_event_lines_pass_the_privacy_filter_unchanged(line: str):
    assert PersonalDataFilter(lambda value: "x").scrub(line) == line


@pytest.mark.parametrize("url, kind", [
    ("postgresql+psycopg://intake:s3cret-pw@postgres:5432/intake", "postgresql"),
    ("sqlite:////data/intake.sqlite3", "sqlite")])
def test_the_start_up_line_names_the_database_kind_only_and_passes_the_filter(url: str, kind: str):
    settings = Settings(_env_file=None, database_url=url, webhook_url="https://x.org/tg")
    vacancies = dict.fromkeys(["vera-projectcoordinator", "school-ict-coordinator"])
    line = start_line(settings, "intake_bot", vacancies)  # type: ignore[arg-type]
    assert line == (f"starting: webhook mode, bot @intake_bot, {kind} database, 2 vacancies: "
                    "school-ict-coordinator, vera-projectcoordinator")
    assert PersonalDataFilter(lambda value: "x").scrub(line) == line
