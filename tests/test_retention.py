"""Retention: dossiers are deleted (rows and files) when the privacy notice says they go."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import sample_files
from bot.telegram_app import RETENTION_INTERVAL
from flows.engine import Engine
from flows.events import Inbound, Sender, Upload
from flows.ports import DossierRecord
from flows.retention import keep_until, kept
from flows.vacancy import Vacancy
from storage.database import make_engine, migrate
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore
from storage.job_lease import take_job_lease
from storage.retention import Purged, PurgePlan, plan_purge, purge_expired
from tests.bot_harness import CANDIDATE, running_bot
from tests.conversation import shipped_vacancies

ROOT = Path(__file__).resolve().parents[1]
VACANCIES = shipped_vacancies()


def _dossier(vacancy_id: str, created: datetime, status: str = "submitted") -> DossierRecord:
    return DossierRecord(id=1, candidate_id=1, vacancy_id=vacancy_id, state=status,
                         status=status, answers={}, language="nl", consented_at=created,
                         privacy_version="x", created_at=created, updated_at=created)


def test_every_vacancy_says_how_long_from_the_seed_or_as_our_setting():
    """Nieuwpoort's seed gives a two-year reserve; the others give nothing, so their period is
    the employer's configuration in the vacancy file, an assumption (the notice says: ours)."""
    nieuwpoort = VACANCIES["nieuwpoort-systeembeheerder-ict"]
    assert nieuwpoort.reserve is not None and nieuwpoort.reserve.stated
    assert nieuwpoort.reserve.months == 24 and nieuwpoort.retention is None
    for vacancy in VACANCIES.values():
        if vacancy is not nieuwpoort:
            assert vacancy.reserve is None and vacancy.retention is not None, vacancy.id
            assert (vacancy.retention.months, vacancy.retention.stated) == (12, False), vacancy.id


def test_a_configured_period_counts_from_the_application_and_is_said_as_ours():
    hardenberg = VACANCIES["hardenberg-medewerker-intern-service-punt"]
    how = kept(hardenberg, _dossier(hardenberg.id, datetime(2026, 7, 1, 8, tzinfo=UTC)))
    assert (how.until, how.rule, how.months, how.ours) == (
        datetime(2027, 7, 1, 8, tzinfo=UTC), "period", 12, True)
    assert how.reason("submitted") == (
        "submitted; the retention of 12 months after the application (2026-07-01; our "
        "setting, not in the vacancy text) ended 2027-07-01")


def test_a_period_the_vacancy_text_gives_is_its_own():
    data = VACANCIES["vera-projectcoordinator"].model_dump(by_alias=True)
    data["retention"] = {"months": 6, "source": "Je gegevens worden 6 maanden bewaard."}
    vera = Vacancy.model_validate(data)
    how = kept(vera, _dossier(vera.id, datetime(2026, 3, 1, 10, tzinfo=UTC)))
    # Counted on the local calendar and clock, across the change to summer time.
    brussels = ZoneInfo("Europe/Brussels")
    assert (how.until, how.ours) == (datetime(2026, 9, 1, 11, tzinfo=brussels), False)
    assert "the vacancy's own" in how.reason("submitted")


def test_an_application_never_submitted_goes_when_the_dated_procedure_ends():
    hardenberg = VACANCIES["hardenberg-medewerker-intern-service-punt"]  # interviews 20/7/2026
    started = datetime(2026, 7, 1, 8, tzinfo=UTC)
    for status in ("draft", "ineligible", "collecting", "withdrawn", "expired"):
        how = kept(hardenberg, _dossier(hardenberg.id, started, status))
        assert how.until == datetime(2026, 7, 20, 23, 59, tzinfo=ZoneInfo("Europe/Amsterdam"))
        assert how.reason(status) == f"{status}, never submitted; the procedure ended 2026-07-20"
    # Where the vacancy dates nothing, the period is all there is.
    vera = VACANCIES["vera-projectcoordinator"]
    assert kept(vera, _dossier(vera.id, started, "draft")).until == datetime(2027, 7, 1, 8,
                                                                             tzinfo=UTC)


def test_with_a_reserve_kept_until_the_reserve_ends_after_the_last_selection_step():
    vacancy = VACANCIES["nieuwpoort-systeembeheerder-ict"]  # reserve two years; tests 16/9/2025
    until = keep_until(vacancy, _dossier(vacancy.id, datetime(2025, 7, 1, tzinfo=UTC)))
    assert until == datetime(2027, 9, 16, 23, 59, tzinfo=ZoneInfo("Europe/Brussels"))
    how = kept(vacancy, _dossier(vacancy.id, datetime(2025, 7, 1, tzinfo=UTC)))
    assert how.reason("submitted") == ("submitted; the recruitment reserve of 24 months after "
                                       "the procedure (2025-09-16) ended 2027-09-16")
    draft = kept(vacancy, _dossier(vacancy.id, datetime(2025, 7, 1, tzinfo=UTC), "draft"))
    assert draft.reason("draft") == "draft, never submitted; the procedure ended 2025-09-16"


def test_without_a_reserve_at_most_one_year():
    vacancy = VACANCIES["vera-projectcoordinator"]
    created = datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert keep_until(vacancy, _dossier(vacancy.id, created)) == datetime(2027, 2, 28, 10, tzinfo=UTC)


def test_purge_expired_deletes_rows_and_files_and_keeps_the_rest(migrated_database_url, tmp_path):
    clock = [datetime(2026, 11, 22, 10, tzinfo=UTC)]
    db = make_engine(migrated_database_url)
    migrate(db)
    store = SqlDossierStore(db, clock=lambda: clock[0])
    files = LocalFileStore(tmp_path / "files")
    engine = Engine(VACANCIES, store, files, lambda: clock[0])
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(sample_files.pdf())

    def apply(user: str) -> None:
        me = Sender("terminal", user)
        privacy = engine.handle(me, Inbound.start("vera-projectcoordinator"))[-1]
        engine.handle(me, Inbound.press(privacy.choices[0].token))
        for text in ("Lena Peeters", "lena@example.be", "Master", "nee", "ja"):
            engine.handle(me, Inbound.say(text))
        engine.handle(me, Inbound.send_file(Upload("cv.pdf", "application/pdf", 9, pdf)))

    apply("early")
    clock[0] = datetime(2027, 3, 1, 10, tzinfo=UTC)
    apply("late")
    assert len(list((tmp_path / "files").rglob("*.pdf"))) == 2

    before, after = datetime(2027, 11, 22, 9, tzinfo=UTC), datetime(2027, 11, 22, 11, tzinfo=UTC)
    assert plan_purge(store, VACANCIES, before) == PurgePlan((), (), 0)
    assert purge_expired(store, files, VACANCIES, before) == Purged(0, 0, 0)
    [going] = plan_purge(store, VACANCIES, after).dossiers
    assert (going.vacancy_id, going.status, going.files) == ("vera-projectcoordinator",
                                                             "collecting", 1)
    assert going.reason == ("collecting; the retention of 12 months after the application "
                            "(2026-11-22; our setting, not in the vacancy text) ended 2027-11-22")
    assert plan_purge(store, VACANCIES, after).candidates == (going.candidate_id,)
    assert len(list((tmp_path / "files").rglob("*.pdf"))) == 2  # the plan deletes nothing
    assert purge_expired(store, files, VACANCIES, after) == Purged(1, 1, 1)
    left = store.list_dossiers(None, None)
    assert [d.answers["candidate.email"] for d in left] == ["lena@example.be"]
    assert len(list((tmp_path / "files").rglob("*.pdf"))) == 1
    with store.unit_of_work("terminal", "early") as uow:
        assert uow.candidate() is None  # nothing of them is left
    db.dispose()


def test_a_re_application_since_the_plan_is_not_purged(migrated_database_url, tmp_path,
                                                       monkeypatch):
    """The plan is read without locks; each dossier is judged again under its candidate's lock,
    so one withdrawn and applied for again in between (the same row, a new consent) stays."""
    clock = [datetime(2026, 11, 22, 10, tzinfo=UTC)]
    db = make_engine(migrated_database_url)
    migrate(db)
    store = SqlDossierStore(db, clock=lambda: clock[0])
    files = LocalFileStore(tmp_path / "files")
    engine = Engine(VACANCIES, store, files, lambda: clock[0])
    me = Sender("terminal", "lena")
    privacy = engine.handle(me, Inbound.start("vera-projectcoordinator"))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))
    engine.handle(me, Inbound.say("Lena Peeters"))
    clock[0] = datetime(2027, 11, 23, 10, tzinfo=UTC)  # a draft of a year and a day
    stale = plan_purge(store, VACANCIES, clock[0])
    assert len(stale.dossiers) == 1

    confirm = engine.handle(me, Inbound.do("withdraw"))[-1]
    engine.handle(me, Inbound.press(confirm.choices[0].token))
    assert store.list_dossiers(None, None)[0].status == "withdrawn"
    privacy = engine.handle(me, Inbound.start("vera-projectcoordinator"))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))  # applies again: a new consent

    import storage.retention
    monkeypatch.setattr(storage.retention, "plan_purge", lambda *_: stale)
    assert purge_expired(store, files, VACANCIES, clock[0]) == Purged(0, 0, 0)
    [dossier] = store.list_dossiers(None, None)
    assert (dossier.status, dossier.consented_at) == ("draft", clock[0])
    db.dispose()


# ---------------------------------------------------------------- the bot's daily run


def test_the_bot_runs_the_retention_at_least_daily():
    """Every six hours; when the process holding the job's lease dies, the lease (two
    intervals) lapses and another process's next try takes it: within a day of the last run."""
    assert 3 * RETENTION_INTERVAL <= timedelta(days=1).total_seconds()


async def test_the_retention_job_runs_under_its_lease_and_logs_counts_only(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path) as bot:
        await bot.send(CANDIDATE, "/start vera-projectcoordinator")
        await bot.press(CANDIDATE, "Akkoord")
        await bot.send(CANDIDATE, "Lena Peeters")
        await bot.send(CANDIDATE, "lena.peeters@example.be")
        [job] = [job for job in bot.runtime.jobs if job.name == "retention"]
        assert job.interval == RETENTION_INTERVAL

        await bot.runtime.run_job(job)  # within the year: kept
        assert len(bot.dossiers_of(CANDIDATE)) == 1
        # Another process cannot run it meanwhile: the lease is this one's.
        db = bot.store.engine
        assert not take_job_lease(db, "retention", "another:process", timedelta(hours=1))

        bot.clock.advance(days=366)
        await bot.runtime.run_job(job)
        assert bot.dossiers_of(CANDIDATE) == []
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retention:")]
    assert lines == ["retention: 0 dossiers, 0 files, 0 candidates, 0 unused keys deleted",
                     "retention: 1 dossiers, 0 files, 1 candidates, 0 unused keys deleted"]
    for secret in ("Lena", "lena.peeters", str(CANDIDATE), "vera-projectcoordinator"):
        assert secret not in "\n".join(lines)
