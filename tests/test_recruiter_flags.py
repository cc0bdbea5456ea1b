"""What recruiters see of a verdict's firmness: assumed conditions and points the employer
judges are flagged in the summary and the CSV, not mixed with firm conditions."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from flows import replies as R
from flows.dossier_summary import csv_export, summary
from flows.eligibility import evaluate
from flows.ports import CandidateRecord, DossierRecord
from tests.conversation import shipped_vacancies

CATALOGUE = shipped_vacancies()
SPL = CATALOGUE["sint-pieters-leeuw-projectmedewerker-samenleven"]
NIEUWPOORT = CATALOGUE["nieuwpoort-systeembeheerder-ict"]
SPL_NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)
NIEUWPOORT_NOW = datetime(2025, 7, 15, 8, tzinfo=UTC)
WHO = {"candidate.name": "Nadia Haddou", "candidate.email": "nadia@example.be"}


def dossier(vacancy_id: str, answers: dict, now: datetime, verdict: dict) -> DossierRecord:
    return DossierRecord(id=7, candidate_id=1, vacancy_id=vacancy_id, state="submitted",
                         status="submitted", answers=answers, language="nl", consented_at=now,
                         privacy_version="1", created_at=now, updated_at=now, verdict=verdict,
                         submitted_at=now)


def rows(vacancy, answers: dict, now: datetime) -> tuple[DossierRecord, list[dict[str, str]]]:
    verdict = R.verdict_summary(evaluate(vacancy, answers, now))
    record = dossier(vacancy.id, answers, now, verdict)
    candidate = CandidateRecord(1, "telegram", "1", "1", "nl", now)
    text = csv_export(vacancy, [(record, candidate, [])]).decode("utf-8-sig")
    return record, list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_a_condition_of_an_assumed_rule_is_flagged_as_such():
    # SPL's language rule is ours: the seed says nothing about knowledge of Dutch.
    answers = {**WHO, "diploma.level": "master", "diploma.foreign": False,
               "language.dutch_education": False, "language.certificate": False}
    record, (row,) = rows(SPL, answers, SPL_NOW)
    assert row["Oordeel van de bot"].startswith("komt in aanmerking; openstaande punten steunen")
    assert row["Nog open"].startswith("Kennis van het Nederlands: geen diploma uit")
    assert row["Steunt op een aanname van de bot"] == "Ja"
    text = summary(SPL, record, [])
    assert ("Oordeel van de bot: komt in aanmerking; openstaande punten steunen op een aanname"
            in text)
    assert ("⚠️ Kennis van het Nederlands: geen diploma uit Nederlandstalig onderwijs en nog geen "
            "taalattest Nederlands; de kandidaat moet het nog behalen. (aanname van de bot, staat "
            "niet in de vacaturetekst)") in text


def test_a_stated_condition_is_not_flagged_and_a_mention_is_for_the_employer_to_judge():
    answers = {**WHO, "diploma.level": "bachelor", "diploma.foreign": False,
               "language.dutch_education": False, "language.certificate": False,
               "civil_rights": True, "record.has_extract": True,
               "record.issued_on": date(2025, 7, 1).isoformat(), "record.mention": True,
               "record.explain": True}
    record, (row,) = rows(NIEUWPOORT, answers, NIEUWPOORT_NOW)
    # The brochure states the language law: a firm condition; the mention: the college judges.
    assert row["Nog open"].split(" | ")[0].startswith("Kennis van het Nederlands")
    assert row["Nog open"].split(" | ")[1].startswith("Strafregister: ongunstige vermelding")
    assert row["Steunt op een aanname van de bot"] == "Nee"
    text = summary(NIEUWPOORT, record, [])
    assert "⚠️ Kennis van het Nederlands" in text and "aanname van de bot" not in text
    assert ("⚖️ Strafregister: ongunstige vermelding op het uittreksel, met een schriftelijke "
            "toelichting van de kandidaat. Of het gedrag past bij de functie, beoordeelt Stad en "
            "OCMW Nieuwpoort zelf.") in text
