"""The dashboard's routes, request by request (httpx against the ASGI app, in the test's loop),
on a bot with a submitted dossier: who gets in, what they see, that it is what /dossiers,
/dossier, /export and /stats say, and that a decision here is the Telegram buttons' own.

The same in a real browser: tests/test_dashboard_browser.py."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.dashboard import views
from bot.dashboard.app import DOCUMENT_CSP
from bot.dashboard.init_data import sign_init_data
from bot.dashboard.wiring import routes
from flows import decisions as D
from flows.dossier_summary import csv_export
from flows.messages import catalogue
from storage.dashboard_access import SqlDashboardAccess
from tests.bot_harness import CANDIDATE, OTHER, RECRUITER, RECRUITER_CHAT, BotHarness, Clock, running_bot
from tests.test_bot import NIEUWPOORT, NIEUWPOORT_OPEN, accept_privacy, apply_fully

BASE = "http://testserver"
P = "/dashboard"
TEMPLATES = Path(__file__).resolve().parents[1] / "bot" / "dashboard" / "templates"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path, Clock(NIEUWPOORT_OPEN), dashboard_url=BASE + P) as harness:
        await apply_fully(harness, CANDIDATE, NIEUWPOORT)
        await accept_privacy(harness, OTHER, NIEUWPOORT)  # a draft beside the submitted one
        await harness.deliver()
        yield harness


def client(bot: BotHarness) -> httpx.AsyncClient:
    assert bot.parts is not None and bot.parts.dashboard is not None
    app = Starlette(routes=routes(bot.settings, bot.parts.dashboard))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE,
                             headers={"origin": BASE}, follow_redirects=False)


def init_data(bot: BotHarness, user_id: int = RECRUITER, age: timedelta = timedelta(0),
              language: str = "nl") -> str:
    token = bot.settings.telegram_bot_token.get_secret_value()  # type: ignore[union-attr]
    now = bot.wall_clock() - age
    return sign_init_data({"auth_date": str(int(now.timestamp())), "query_id": "AAF",
                           "user": json.dumps({"id": user_id, "first_name": "Rita",
                                               "language_code": language})}, token)


async def signed_in(bot: BotHarness, language: str = "nl") -> httpx.AsyncClient:
    web = client(bot)
    answer = await web.post(f"{P}/auth/telegram", data={"init_data": init_data(
        bot, language=language), "next": f"{P}/"})
    assert answer.status_code == 303, answer.text
    return web


def dossier_id(bot: BotHarness, user: int = CANDIDATE) -> int:
    found = bot.dossier(user).id
    assert found is not None
    return found


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


# --------------------------------------------------------------------------- who gets in


async def test_without_a_session_nothing_is_shown_and_no_file_leaves(bot: BotHarness):
    d = dossier_id(bot)
    doc = bot.store.get_dossier(d)[2][0]  # type: ignore[index]
    name = bot.dossier(CANDIDATE).answers["candidate.name"]
    async with client(bot) as web:
        for path in (f"{P}/", f"{P}/vacancies/{NIEUWPOORT}", f"{P}/dossiers/{d}"):
            answer = await web.get(path)
            assert answer.status_code == 401
            assert 'id="signin"' in answer.text
            assert name not in answer.text and "data-dossier" not in answer.text
            assert "data-vacancy" not in answer.text
        for path in (f"{P}/dossiers/{d}/documents/{doc.id}", f"{P}/vacancies/{NIEUWPOORT}/export.csv",
                     f"{P}/vacancies/{NIEUWPOORT}/funnel.png"):
            answer = await web.get(path)
            assert answer.status_code == 403 and answer.content == b""
            assert "content-disposition" not in answer.headers
        answer = await web.post(f"{P}/dossiers/{d}/decide", data={
            "kind": "invited", "version": "0", "nonce": "5"})
        assert answer.status_code == 403
    assert bot.store.decisions(d) == []


@pytest.mark.parametrize("case", ["forged", "stale", "stranger", "other_bot", "garbage"])
async def test_forged_stale_or_strangers_start_data_opens_nothing(bot: BotHarness, case: str,
                                                                 monkeypatch: pytest.MonkeyPatch):
    from bot import metrics

    counters = metrics.Counters()
    monkeypatch.setattr(metrics, "PROCESS", counters)
    data = {"forged": init_data(bot).replace("Rita", "Rito"),
            "stale": init_data(bot, age=timedelta(days=2)),
            "stranger": init_data(bot, user_id=CANDIDATE),
            "other_bot": sign_init_data({"auth_date": str(int(bot.wall_clock().timestamp())),
                                         "user": json.dumps({"id": RECRUITER})}, "1:OTHER"),
            "garbage": "hash=abc&&&"}[case]
    async with client(bot) as web:
        answer = await web.post(f"{P}/auth/telegram", data={"init_data": data})
        assert answer.status_code == 403 and 'id="refused"' in answer.text
        assert "set-cookie" not in answer.headers
        assert (await web.get(f"{P}/")).status_code == 401
    # Counted for the operator, by why (a burst of forged start data is someone trying).
    why = {"forged": "forged", "stale": "stale", "stranger": "not_recruiter",
           "other_bot": "forged", "garbage": "malformed"}[case]
    assert +counters.sign_ins == {why: 1}


async def test_a_valid_start_data_opens_a_strict_session_cookie(bot: BotHarness):
    async with client(bot) as web:
        answer = await web.post(f"{P}/auth/telegram", data={
            "init_data": init_data(bot), "next": f"{P}/dossiers/{dossier_id(bot)}"})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{P}/dossiers/{dossier_id(bot)}"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and f"path={P}" in cookie
        overview = await web.get(f"{P}/")
        assert overview.status_code == 200 and f'data-vacancy="{NIEUWPOORT}"' in overview.text


async def test_over_https_the_cookie_is_secure_and_works_in_telegrams_web_frame(tmp_path: Path):
    async with running_bot(tmp_path, dashboard_url="https://jobs.example.org/intake") as bot:
        app = Starlette(routes=routes(bot.settings, bot.parts.dashboard))  # type: ignore[union-attr]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="https://jobs.example.org",
                                     headers={"origin": "https://jobs.example.org"}) as web:
            answer = await web.post("/intake/auth/telegram", data={"init_data": init_data(bot)})
            assert answer.status_code == 303 and answer.headers["location"] == "/intake/"
            cookie = answer.headers["set-cookie"].lower()
            assert "secure" in cookie and "samesite=none" in cookie and "partitioned" in cookie
            assert "path=/intake" in cookie
            assert (await web.get("/intake/")).status_code == 200


async def test_sign_in_never_redirects_elsewhere(bot: BotHarness):
    async with client(bot) as web:
        for target in ("https://evil.example/", "//evil.example/x", f"{P}/..//evil", "/other"):
            answer = await web.post(f"{P}/auth/telegram", data={"init_data": init_data(bot),
                                                                "next": target})
            assert answer.headers["location"] in (f"{P}/",), target


async def test_a_post_from_another_site_is_refused(bot: BotHarness, caplog: pytest.LogCaptureFixture):
    async with client(bot) as web:
        answer = await web.post(f"{P}/auth/telegram", data={"init_data": init_data(bot)},
                                headers={"origin": "https://evil.example"})
        assert answer.status_code == 403 and "set-cookie" not in answer.headers
    # Said in the log, with both addresses: a DASHBOARD_URL other than where browsers reach
    # the bot would refuse every sign-in.
    assert any("https://evil.example" in r.getMessage() and BASE in r.getMessage()
               for r in caplog.records if r.levelname == "WARNING")


async def test_a_one_time_link_signs_in_once(bot: BotHarness):
    access = SqlDashboardAccess(bot.store.engine, bot.wall_clock)
    token = access.issue_link(RECRUITER, "Rita", "en", timedelta(minutes=10))
    async with client(bot) as web:
        page = await web.get(f"{P}/login/{token}")  # what a link preview would fetch
        assert page.status_code == 200 and "set-cookie" not in page.headers
        first = await web.post(f"{P}/login", data={"token": token})
        assert first.status_code == 303 and "set-cookie" in first.headers
        assert "Vacancies" in (await web.get(f"{P}/")).text  # the link's language: English
    async with client(bot) as other:
        again = await other.post(f"{P}/login", data={"token": token})
        assert again.status_code == 403 and "set-cookie" not in again.headers


async def test_sessions_end_when_idle_and_when_the_recruiter_is_removed(bot: BotHarness):
    web = await signed_in(bot)
    assert (await web.get(f"{P}/")).status_code == 200
    bot.advance_wall(31 * 60)  # DASHBOARD_IDLE_MINUTES is 30
    assert (await web.get(f"{P}/")).status_code == 401
    web = await signed_in(bot)
    cookies = dict(web.cookies)
    # A new process whose RECRUITER_USER_IDS no longer names her: her session opens nothing.
    await bot.close()
    bot.settings_overrides["recruiter_user_ids"] = str(OTHER)
    await bot.open()
    async with client(bot) as after:
        after.cookies.update(cookies)
        assert (await after.get(f"{P}/")).status_code == 401


async def test_sign_out_ends_the_session_and_signing_in_again_ends_the_old_one(bot: BotHarness):
    web = await signed_in(bot)
    kept = dict(web.cookies)
    page = (await web.get(f"{P}/")).text
    answer = await web.post(f"{P}/logout", data={"csrf": csrf(page)})
    assert answer.status_code == 303
    assert "max-age=0" in answer.headers["set-cookie"].lower()
    # The old cookie no longer opens anything, even when replayed.
    async with client(bot) as replay:
        replay.cookies.update(kept)
        assert (await replay.get(f"{P}/")).status_code == 401
    web = await signed_in(bot)
    first = dict(web.cookies)
    await web.post(f"{P}/auth/telegram", data={"init_data": init_data(bot)})
    async with client(bot) as replay:
        replay.cookies.update(first)
        assert (await replay.get(f"{P}/")).status_code == 401
    assert (await web.get(f"{P}/")).status_code == 200


# --------------------------------------------------------------------------- what is shown


async def test_the_overview_shows_the_funnel_of_stats(bot: BotHarness):
    from flows.flow import Flow
    from storage.funnel_queries import funnel_of

    figures = funnel_of(bot.store, Flow(bot.engine.vacancies[NIEUWPOORT]))
    web = await signed_in(bot, "en")
    page = (await web.get(f"{P}/")).text
    section = page[page.index(f'data-vacancy="{NIEUWPOORT}"'):]
    section = section[:section.index("</section>")]
    for step in ("started", "accepted", "excluded", "submitted", "withdrawn"):
        row = re.search(rf'class="step-{step}">.*?class="count">(\d+)<', section, re.S)
        assert row is not None and int(row.group(1)) == figures.figure(step), step
    assert figures.submitted == 1 and figures.accepted == 2
    chart = await web.get(f"{P}/vacancies/{NIEUWPOORT}/funnel.png")
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    assert chart.headers["cache-control"] == "no-store"


async def test_the_list_filters_and_sorts(bot: BotHarness):
    web = await signed_in(bot)
    every = (await web.get(f"{P}/vacancies/{NIEUWPOORT}")).text
    submitted, draft = dossier_id(bot), dossier_id(bot, OTHER)
    assert f'data-dossier="{submitted}"' in every and f'data-dossier="{draft}"' in every
    only = (await web.get(f"{P}/vacancies/{NIEUWPOORT}?status=submitted")).text
    assert f'data-dossier="{submitted}"' in only and f'data-dossier="{draft}"' not in only
    undecided = (await web.get(f"{P}/vacancies/{NIEUWPOORT}?decision=invited")).text
    assert "data-dossier=" not in undecided
    rows = views.dossier_rows(bot.store, bot.engine.vacancies[NIEUWPOORT],
                              views.Filters(sort="created", descending=False), "nl")
    assert [r.id for r in rows] == [submitted, draft]
    newest = (await web.get(f"{P}/vacancies/{NIEUWPOORT}?sort=created&order=desc")).text
    assert newest.index(f'data-dossier="{draft}"') < newest.index(f'data-dossier="{submitted}"')
    # The same dossiers /dossiers lists, by the same store function.
    listed = {d.id for d in bot.store.list_dossiers(NIEUWPOORT, None)}
    assert {r.id for r in rows} == listed


async def test_the_dossier_page_shows_everything_and_is_audited(bot: BotHarness):
    d = dossier_id(bot)
    web = await signed_in(bot)
    answer = await web.get(f"{P}/dossiers/{d}")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "frame-ancestors" in answer.headers["content-security-policy"]
    page = answer.text
    found = bot.store.get_dossier(d)
    assert found is not None
    dossier, _candidate, documents = found
    assert dossier.answers["candidate.name"] in page
    assert page.count('class="document"') == len(documents) > 0
    assert 'name="kind" value="invited"' in page
    trail = [e for e in bot.store.audit_trail(d) if e.event == "dashboard_view"]
    assert [e.detail for e in trail] == [{"by": RECRUITER}]
    # The history on the page is the audit trail, this view included.
    assert "bekeken op het dashboard" in (await web.get(f"{P}/dossiers/{d}")).text


async def test_a_document_comes_only_through_its_route_with_safe_headers(bot: BotHarness):
    d = dossier_id(bot)
    _dossier, _c, every = bot.store.get_dossier(d)  # type: ignore[misc]
    # A criminal-record extract is deleted once the recruiters had it: no file to serve.
    documents = [doc for doc in every if doc.stored_path]
    gone = [doc for doc in every if not doc.stored_path]
    assert documents and gone
    web = await signed_in(bot)
    for doc in documents:
        answer = await web.get(f"{P}/dossiers/{d}/documents/{doc.id}")
        assert answer.status_code == 200
        found = bot.store.open_document(doc.id)
        assert answer.content == bot.engine.files.read(doc.stored_path, found[1])  # type: ignore[index]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["content-disposition"].startswith(("inline;", "attachment;"))
        assert answer.headers["content-security-policy"] == DOCUMENT_CSP
        assert answer.headers["cross-origin-resource-policy"] == "same-origin"
        # Asked by another site's page (an <img>, a link): refused, and not audited.
        elsewhere = await web.get(f"{P}/dossiers/{d}/documents/{doc.id}",
                                  headers={"sec-fetch-site": "cross-site"})
        assert elsewhere.status_code == 403 and elsewhere.content == b""
    for doc in gone:
        assert (await web.get(f"{P}/dossiers/{d}/documents/{doc.id}")).status_code == 404
    # Another dossier's number in the address does not open the file.
    other = dossier_id(bot, OTHER)
    assert (await web.get(f"{P}/dossiers/{other}/documents/{documents[0].id}")).status_code == 404
    seen = [e.detail for e in bot.store.audit_trail(d) if e.event == "dashboard_document"]
    assert seen == [{"by": RECRUITER, "document": doc.id} for doc in documents]


async def test_the_export_is_the_export_command_s_csv(bot: BotHarness):
    from bot.recruiter_commands import RecruiterCommands

    web = await signed_in(bot)
    answer = await web.get(f"{P}/vacancies/{NIEUWPOORT}/export.csv")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="{NIEUWPOORT}.csv"'
    commands = RecruiterCommands(bot.store, bot.engine.files, bot.engine.vacancies,
                                 frozenset({RECRUITER}), RECRUITER_CHAT, None, lambda: None)  # type: ignore[arg-type]
    data, count = commands.export_rows(bot.engine.vacancies[NIEUWPOORT])
    assert answer.content == data and count == 2
    # And what the dossiers are, read one by one as /dossier reads them.
    one_by_one = [bot.store.get_dossier(d.id) for d in bot.store.list_dossiers(NIEUWPOORT)]
    assert answer.content == csv_export(bot.engine.vacancies[NIEUWPOORT], one_by_one)  # type: ignore[arg-type]
    assert {e.dossier_id for e in _audit(bot, "dashboard_export")} == {
        dossier_id(bot), dossier_id(bot, OTHER)}


async def test_pages_speak_english_or_dutch(bot: BotHarness):
    web = await signed_in(bot, "en")
    page = (await web.get(f"{P}/dossiers/{dossier_id(bot)}")).text
    assert "<h2>History</h2>" in page and "Geschiedenis" not in page
    answer = await web.post(f"{P}/language", data={"csrf": csrf(page), "language": "nl",
                                                     "next": f"{P}/dossiers/{dossier_id(bot)}"})
    assert answer.status_code == 303
    assert "<h2>Geschiedenis</h2>" in (await web.get(answer.headers["location"])).text


def test_every_text_of_the_pages_is_in_both_catalogues():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""t\(["']([\w.]+)["']""", template.read_text()))
    assert len(used) > 40
    families = {"dash.refused.": ("signin", "link", "csrf", "unknown"),
                "dash.said.": views_said(), "dash.verdict.": views.VERDICTS,
                "dash.sort.": views.SORTS, "dash.decision.": ("none", *D.KINDS),
                "rec.status.": views.STATUSES, "rec.decide.btn_": D.KINDS,
                "dash.decide.choose_": ("reason", "document")}
    for prefix, names in families.items():
        used |= {prefix + n for n in names}
    for lang in ("nl", "en"):
        missing = sorted(k for k in used if k not in catalogue(lang) and not k.endswith((".", "_")))
        assert missing == [], lang


def views_said() -> tuple[str, ...]:
    from bot.dashboard.app import SAID
    return SAID


# --------------------------------------------------------------------------- deciding


async def test_inviting_on_the_dashboard_tells_the_candidate_and_the_chat(bot: BotHarness):
    d = dossier_id(bot)
    web = await signed_in(bot)
    preview = await web.get(f"{P}/dossiers/{d}/decide", params={"kind": "invited", "version": "0"})
    assert preview.status_code == 200 and 'id="confirm"' in preview.text
    # What the candidate will read is what Telegram's confirmation shows (the same preview).
    found = bot.store.get_dossier(d)
    shown = D.preview(bot.engine.vacancies[NIEUWPOORT], found[0], found[1], found[2], [],  # type: ignore[index]
                      D.Press(d, 0, D.INVITED))
    told_first = shown.told[0]
    from flows.messages import render
    assert render(told_first, shown.locale).split("\n")[0][:40] in preview.text.replace("&#39;", "'")
    form = {"csrf": csrf(preview.text), "version": "0", "kind": "invited", "argument": "",
            "nonce": re.search(r'name="nonce" value="(\d+)"', preview.text).group(1)}  # type: ignore[union-attr]
    before = len(bot.tg.messages_to(CANDIDATE))
    answer = await web.post(f"{P}/dossiers/{d}/decide", data=form)
    assert answer.status_code == 303 and answer.headers["location"].endswith("said=decided")
    await bot.deliver()
    told = [m.text for m in bot.tg.messages_to(CANDIDATE)[before:]]
    assert len(told) == 1 and "uitgenodigd" in told[0].lower()
    assert any("Rita" in (m.text or "") and f"#{d}" in (m.text or "")
               for m in bot.tg.messages_to(RECRUITER_CHAT))
    # The same form again (a double click): decided once.
    again = await web.post(f"{P}/dossiers/{d}/decide", data=form)
    assert again.headers["location"].endswith("said=duplicate")
    await bot.deliver()
    assert len(bot.tg.messages_to(CANDIDATE)) == before + 1
    assert [x.kind for x in bot.store.decisions(d)] == ["invited"]
    page = (await web.get(f"{P}/dossiers/{d}")).text
    assert 'data-decision="invited"' in page
    # The notification's buttons in Telegram (version 0) are stale now.
    from tests.test_bot_decisions import notification
    note = notification(bot)
    await bot.press_data(RECRUITER, note, D.token(d, 0, D.REVIEWED, "", D.CONFIRM))
    assert [x.kind for x in bot.store.decisions(d)] == ["invited"]


async def test_a_decision_taken_in_telegram_shows_and_stales_the_dashboard(bot: BotHarness):
    d = dossier_id(bot)
    web = await signed_in(bot)
    preview = (await web.get(f"{P}/dossiers/{d}/decide", params={"kind": "reviewed",
                                                                 "version": "0"})).text
    from tests.test_bot_decisions import notification
    await bot.press_data(RECRUITER, notification(bot), D.token(d, 0, D.INVITED, "", D.CONFIRM))
    assert [x.kind for x in bot.store.decisions(d)] == ["invited"]
    page = (await web.get(f"{P}/dossiers/{d}")).text
    # Decided by her (Rita, signed in here): her name, not her Telegram id.
    assert 'data-decision="invited"' in page and "door Rita" in page
    form = {"csrf": csrf(preview), "version": "0", "kind": "reviewed", "argument": "",
            "nonce": "12345"}
    answer = await web.post(f"{P}/dossiers/{d}/decide", data=form)
    assert answer.headers["location"].endswith("said=stale")
    assert [x.kind for x in bot.store.decisions(d)] == ["invited"]


async def test_declining_asks_the_reason_the_buttons_offer(bot: BotHarness):
    d = dossier_id(bot)
    web = await signed_in(bot)
    seen = len([e for e in bot.store.audit_trail(d) if e.event == "dashboard_view"])
    page = (await web.get(f"{P}/dossiers/{d}/decide", params={"kind": "declined",
                                                              "version": "0"})).text
    offered = re.findall(r'name="argument" value="(\w+)"', page)
    # The preview shows the candidate's name: a view, audited like the dossier page.
    assert len([e for e in bot.store.audit_trail(d) if e.event == "dashboard_view"]) == seen + 1
    assert offered == [D.parse(c.token).argument for c in  # type: ignore[union-attr]
                       D.reason_choices(D.Press(d, 0, D.DECLINED))]


async def test_a_post_without_the_session_token_changes_nothing(bot: BotHarness):
    d = dossier_id(bot)
    web = await signed_in(bot)
    form = {"version": "0", "kind": "invited", "argument": "", "nonce": "77"}
    assert (await web.post(f"{P}/dossiers/{d}/decide", data=form)).status_code == 403
    page = (await web.get(f"{P}/dossiers/{d}")).text
    forged = {**form, "csrf": csrf(page)}
    answer = await web.post(f"{P}/dossiers/{d}/decide", data=forged,
                            headers={"origin": "https://evil.example"})
    assert answer.status_code == 403
    assert bot.store.decisions(d) == []


def _audit(bot: BotHarness, event: str) -> list:
    from sqlalchemy import select

    from storage.tables import audit_table
    with bot.store.engine.connect() as connection:
        return list(connection.execute(select(audit_table).where(audit_table.c.event == event)))


async def test_the_bare_address_and_odd_ids_answer_without_error(bot: BotHarness):
    from bot.webhook_server import build_status_app

    async def health() -> dict:
        return {"ok": True}

    # On the bot's real server: DASHBOARD_URL itself (what Telegram's buttons open) goes on.
    app = build_status_app(health=health, extra=routes(bot.settings, bot.parts.dashboard))  # type: ignore[union-attr]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as web:
        answer = await web.get(P)
        assert answer.status_code == 307 and answer.headers["location"] == f"{P}/"
        assert (await web.get("/healthz")).json() == {"ok": True}
    web = await signed_in(bot)
    for path in (f"{P}/dossiers/99999999999999999999999", f"{P}/dossiers/2147483648",
                 f"{P}/dossiers/1/documents/99999999999"):
        assert (await web.get(path)).status_code == 404, path


async def test_documents_of_many_dossiers_are_read_in_chunks_as_one_by_one(
        tmp_path: Path, migrated_database_url: str, monkeypatch: pytest.MonkeyPatch):
    """The export's read (every dossier with its documents) equals `get_dossier` per dossier,
    across chunks and candidates' keys."""
    from storage import dossier_repository

    async with running_bot(tmp_path, Clock(NIEUWPOORT_OPEN),
                           database_url=migrated_database_url) as bot:
        await apply_fully(bot, CANDIDATE, NIEUWPOORT)
        await apply_fully(bot, OTHER, NIEUWPOORT)
        monkeypatch.setattr(dossier_repository, "READ_CHUNK", 1)  # each dossier a chunk
        together = bot.store.dossiers_with_documents(NIEUWPOORT)
        one_by_one = [bot.store.get_dossier(d.id) for d in bot.store.list_dossiers(NIEUWPOORT)]
        assert [(d.id, docs) for d, docs in together] == \
            [(f[0].id, f[2]) for f in one_by_one]  # type: ignore[index]
        assert sum(len(docs) for _d, docs in together) >= 4
        assert len({d.candidate_id for d, _docs in together}) == 2


def test_dashboard_url_must_be_an_address_with_a_path_of_its_own():
    from pydantic import ValidationError

    from settings import Settings

    assert Settings(_env_file=None, dashboard_url="https://x.org/intake/").dashboard_url == \
        "https://x.org/intake"
    # As a browser states its Origin: the checks compare them character for character.
    assert Settings(_env_file=None, dashboard_url="https://Jobs.Example.ORG:443/d").dashboard_url \
        == "https://jobs.example.org/d"
    assert Settings(_env_file=None, dashboard_url="http://127.0.0.1:8443/d").dashboard_url \
        == "http://127.0.0.1:8443/d"
    for wrong in ("https://x.org", "https://x.org/", "x.org/dashboard", "https://x.org/healthz",
                  "https://x.org/d?a=1"):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, dashboard_url=wrong)
    with pytest.raises(ValidationError):
        Settings(_env_file=None, dashboard_url="https://x.org/d", webhook_url="https://x.org/d/tg")


def test_every_event_of_the_audit_trail_has_words():
    """The history on a dossier page reads every event the engine records."""
    root = Path(__file__).resolve().parents[1]
    source = "\n".join(p.read_text() for p in (root / "flows").glob("*.py"))
    source += (root / "storage" / "retention.py").read_text()
    source += (root / "bot" / "dashboard" / "app.py").read_text()
    moves = set(re.findall(r'self\.move\("(\w+)", [^,\n]+(?:, f?"(\w+))?', source))
    events = {event or trigger for trigger, event in moves}
    events |= set(re.findall(r'\.audit\(\[?[\w.]+\]?, "(\w+)"', source))
    assert {"accept", "submit", "answer", "decision", "upload", "dashboard_view"} <= events
    for lang in ("nl", "en"):
        assert sorted(e for e in events if f"dash.audit.{e}" not in catalogue(lang)) == [], lang
    assert {k.removeprefix("dash.audit.") for k in views.AUDIT_KEYS} >= events

async def test_the_whole_round_on_each_database(tmp_path: Path, migrated_database_url: str):
    """Sign in, list, open, view a document, invite — on SQLite and on the real PostgreSQL
    (several workers share it: sessions and links live in the database)."""
    async with running_bot(tmp_path, Clock(NIEUWPOORT_OPEN), dashboard_url=BASE + P,
                           database_url=migrated_database_url) as bot:
        await apply_fully(bot, CANDIDATE, NIEUWPOORT)
        await bot.deliver()
        d = dossier_id(bot)
        web = await signed_in(bot)
        listed = (await web.get(f"{P}/vacancies/{NIEUWPOORT}")).text
        assert f'data-dossier="{d}"' in listed
        page = (await web.get(f"{P}/dossiers/{d}")).text
        doc = next(x for x in bot.store.get_dossier(d)[2] if x.stored_path)  # type: ignore[index]
        assert (await web.get(f"{P}/dossiers/{d}/documents/{doc.id}")).status_code == 200
        exported = (await web.get(f"{P}/vacancies/{NIEUWPOORT}/export.csv")).content.decode("utf-8-sig")
        name = bot.dossier(CANDIDATE).answers["candidate.name"]
        assert name in exported and "cv" in exported  # the row and its documents, one query
        form = {"csrf": csrf(page), "version": "0", "kind": "invited", "argument": "",
                "nonce": "424242"}
        answer = await web.post(f"{P}/dossiers/{d}/decide", data=form)
        assert answer.headers["location"].endswith("said=decided")
        await bot.deliver()
        assert "uitgenodigd" in bot.tg.messages_to(CANDIDATE)[-1].text.lower()
        events = [e.event for e in bot.store.audit_trail(d)]
        assert {"dashboard_view", "dashboard_document", "decision"} <= set(events)
        # Ids past PostgreSQL's int4 name nothing: a 404, not a database error.
        for path in (f"{P}/dossiers/2147483648", f"{P}/dossiers/{d}/documents/99999999999"):
            assert (await web.get(path)).status_code == 404, path
        await web.aclose()


async def test_housekeeping_deletes_ended_sign_ins(bot: BotHarness):
    from sqlalchemy import func, select

    from storage.tables import dashboard_link_table, dashboard_session_table

    access = SqlDashboardAccess(bot.store.engine, bot.wall_clock)
    access.issue_link(RECRUITER, "Rita", "nl", timedelta(minutes=10))
    await signed_in(bot)

    def rows() -> tuple[int, int]:
        with bot.store.engine.connect() as connection:
            return (connection.execute(select(func.count()).select_from(dashboard_link_table)).scalar_one(),
                    connection.execute(select(func.count()).select_from(dashboard_session_table)).scalar_one())

    assert rows() == (1, 1)
    await bot.runtime.run_jobs_once()
    assert rows() == (1, 1)  # nothing has ended yet
    bot.advance_wall(9 * 3600)  # past the link's 10 minutes and the session's 8 hours
    await bot.runtime.run_jobs_once()
    assert rows() == (0, 0)


async def test_the_list_comes_in_pages_that_keep_the_filters(bot: BotHarness,
                                                            monkeypatch: pytest.MonkeyPatch):
    from bot.dashboard import app as dashboard_app

    monkeypatch.setattr(dashboard_app, "PAGE_ROWS", 1)
    submitted, draft = dossier_id(bot), dossier_id(bot, OTHER)
    web = await signed_in(bot)
    first = (await web.get(f"{P}/vacancies/{NIEUWPOORT}?sort=created&order=asc")).text
    assert f'data-dossier="{submitted}"' in first and f'data-dossier="{draft}"' not in first
    assert "2 sollicitaties" in first and "pagina 1 van 2" in first
    following = re.search(r'rel="next" href="([^"]+)"', first)
    assert following is not None
    link = following.group(1).replace("&amp;", "&")
    assert "sort=created" in link and "order=asc" in link and "page=2" in link
    second = (await web.get(link)).text
    assert f'data-dossier="{draft}"' in second and f'data-dossier="{submitted}"' not in second
    assert 'rel="next"' not in second and 'rel="prev"' in second
    past = (await web.get(f"{P}/vacancies/{NIEUWPOORT}?sort=created&order=asc&page=99")).text
    assert f'data-dossier="{draft}"' in past  # past the last page: the last page
    for odd in ("0", "-1", "x", "٣"):
        assert (await web.get(f"{P}/vacancies/{NIEUWPOORT}?page={odd}")).status_code == 200


async def test_a_link_sign_in_lands_where_the_browser_wanted_to_go(bot: BotHarness):
    """A notification's "open in the dashboard" in a group opens a browser without a session;
    after /dashboard's link, the recruiter lands on that dossier, not on the overview."""
    d = dossier_id(bot)
    access = SqlDashboardAccess(bot.store.engine, bot.wall_clock)
    async with client(bot) as web:
        first = await web.get(f"{P}/dossiers/{d}")
        assert first.status_code == 401 and "intake_dashboard_next" in first.headers["set-cookie"]
        token = access.issue_link(RECRUITER, "Rita", "nl", timedelta(minutes=10))
        answer = await web.post(f"{P}/login", data={"token": token})
        assert answer.status_code == 303 and answer.headers["location"] == f"{P}/dossiers/{d}"
        assert "intake_dashboard_next=;" in ";".join(answer.headers.get_list("set-cookie"))
        assert (await web.get(answer.headers["location"])).status_code == 200
    async with client(bot) as web:  # an address that is not a plain path sets nothing
        odd = await web.get(f"{P}/vacancies/x%3B%20Domain%3Devil.example")
        assert odd.status_code == 401 and "set-cookie" not in odd.headers
        unicode = await web.get(f"{P}/vacancies/%E2%9C%85")
        assert unicode.status_code == 401 and "set-cookie" not in unicode.headers
