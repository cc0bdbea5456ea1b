"""The recruiters' dashboard with many dossiers of one vacancy, against the chat's /dossiers and
the raw read.

    python -m bench.dashboard [--dossiers 600] [--runs 7] [--vacancy ID] [--profile]

One candidate applies through the bot (tests/bot_harness.py: the real Application, engine and
database on a SQLite file, the whole conversation of tests/test_bot.apply_fully: privacy, every
question, every upload), which gives one real submitted dossier (default: the Nieuwpoort
vacancy, the one with the most questions). It is then cloned N-1 times, each clone a candidate
of its own written through `store.unit_of_work` (`add_candidate`, `add_dossier`: the same
answers, state, status and verdict, sealed with the clone's own key as the bot writes them;
its times moved by a second each, so that sorting has an order). Clones have no documents: a
stored file is sealed with its candidate's key, and the list does not read documents.

Then a recruiter signs in (Mini App start data, `sign_init_data`) and each of these is timed
through the real ASGI app (httpx over ASGITransport: routing, session check, the views, the
templates), in turn, once per run; the figures are medians over the runs:

- the list of the vacancy: unfiltered; filtered and sorted by score with a filter every clone
  passes (`?open=no&sort=score` or `?open=yes&...`, whichever keeps the rows) and with one none
  passes (each dossier is still read and its verdict evaluated; no row is built or rendered);
- the real dossier's page and its first document, the overview (funnels of every vacancy), the
  CSV export.

The references, built here: the raw read `store.list_dossiers(vacancy)` alone (reading and
unsealing), `views.dossier_rows` called directly (the read, each verdict evaluated, the rows'
texts built; no HTTP, no HTML) and the /dossiers command's own work for the same vacancy
(`RecruiterCommands.dossiers([vacancy])`: its first page, 20 rows). Ratios are medians of the
ratios within a run: the machine is shared and noisy.

--profile: a cProfile of one unfiltered list request (the blocking calls the app hands to a
thread run inline, so that one profiler sees all), top 10 by cumulative time.

Needs the development dependencies (httpx, pytest: the harness is the tests'). Exits 1 when a
page did not answer 200 or shows another number of dossiers than stored.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

BASE = "http://testserver"
P = "/dashboard"
MASTER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # bytes 0..31: a bench key only
FIRST_CLONE = 5_000_000  # the clones' Telegram user ids start here
# Left out of the profile's top 10: the layers every request passes through on its way in.
WRAPPERS = r"^(?!.*(/httpx/|/starlette/|/anyio/|/asyncio/|contextlib|unittest/mock|bench/dashboard))"


# --------------------------------------------------------------------------- filling


def clone(store: Any, template: Any, person: Any, count: int) -> None:
    """`count` candidates, each with a copy of `template` (a submitted dossier) as their own,
    written as the bot writes them (one unit of work each, sealed with their own key)."""
    from flows.ports import CandidateRecord

    for n in range(1, count + 1):
        external = str(FIRST_CLONE + n)
        moved = timedelta(seconds=n)
        with store.unit_of_work("telegram", external) as uow:
            candidate = uow.add_candidate(CandidateRecord(
                None, "telegram", external, external, person.language, person.created_at + moved))
            dossier = uow.add_dossier(dataclasses.replace(
                template, id=None, candidate_id=candidate.id, version=0,
                answers=dict(template.answers), reminders_sent=list(template.reminders_sent),
                created_at=template.created_at + moved, updated_at=template.updated_at + moved,
                submitted_at=template.submitted_at and template.submitted_at + moved))
            if person.active_dossier_id == template.id:
                candidate.active_dossier_id = dossier.id
                uow.save_candidate(candidate)


# --------------------------------------------------------------------------- timing


@dataclasses.dataclass
class Case:
    name: str
    run: Callable[[], Awaitable[int]]  # does the work once; returns how many dossiers it showed
    times: list[float] = dataclasses.field(default_factory=list)  # seconds, one per run
    shown: int | None = None

    @property
    def ms(self) -> float:
        return statistics.median(self.times) * 1000


async def timed(case: Case) -> None:
    started = time.perf_counter()
    shown = await case.run()
    case.times.append(time.perf_counter() - started)
    if case.shown is not None and shown != case.shown:
        raise RuntimeError(f"{case.name}: {shown} dossiers, {case.shown} before")
    case.shown = shown


def ratio(cases: dict[str, Case], over: str, under: str) -> float:
    """The median of the within-run ratios."""
    return statistics.median(a / b for a, b in zip(cases[over].times, cases[under].times,
                                                   strict=True))


@contextmanager
def inline_threads():
    """`asyncio.to_thread` runs the call at once on the loop: one profiler sees all the work."""
    async def inline(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)
    with mock.patch.object(asyncio, "to_thread", inline):
        yield


# --------------------------------------------------------------------------- the bench


def blocking(call: Callable[[], Any], count: Callable[[Any], int]) -> Callable[[], Awaitable[int]]:
    """A reference: a blocking call, run on the loop's thread (nothing else runs meanwhile)."""
    async def run() -> int:
        return count(call())
    return run


def command_rows(answer: list[dict[str, Any]]) -> int:
    return len(re.findall(r"^#\d+", answer[0]["text"], re.M))


def table_rows(page: Any) -> int:
    return page.text.count("<tr data-dossier=")


def csv_rows(page: Any) -> int:
    return page.content.count(b"\n") - 1


async def sign_in(bot: Any) -> Any:
    """An httpx client on the bot's dashboard with a recruiter's session, as the Mini App opens
    one (start data signed with the bot's token)."""
    import httpx
    from starlette.applications import Starlette

    from bot.dashboard.init_data import sign_init_data
    from bot.dashboard.wiring import routes
    from tests.bot_harness import RECRUITER

    app = Starlette(routes=routes(bot.settings, bot.parts.dashboard))
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE,
                            headers={"origin": BASE}, follow_redirects=False)
    start_data = sign_init_data({
        "auth_date": str(int(bot.wall_clock().timestamp())), "query_id": "AAF",
        "user": json.dumps({"id": RECRUITER, "first_name": "Rita", "language_code": "nl"})},
        bot.settings.telegram_bot_token.get_secret_value())
    answer = await web.post(f"{P}/auth/telegram", data={"init_data": start_data})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in refused ({answer.status_code})")
    return web


async def bench(args: argparse.Namespace) -> int:
    from bot.dashboard import views
    from bot.recruiter_commands import PAGE_SIZE, RecruiterCommands
    from flows.dossier_summary import dossier_facts
    from storage.outbox import SqlOutbox
    from tests.bot_harness import CANDIDATE, RECRUITER_CHAT, TODAY, Clock, catalogue, running_bot
    from tests.test_bot import HARDENBERG, NIEUWPOORT, SCRIPTS, apply_fully

    vacancy_id = args.vacancy
    if vacancy_id not in SCRIPTS:
        print(f"no scripted application for {vacancy_id!r}; one of: {', '.join(sorted(SCRIPTS))}")
        return 2
    from tests.test_bot import HARDENBERG_OPEN, NIEUWPOORT_OPEN

    opens = {HARDENBERG: HARDENBERG_OPEN, NIEUWPOORT: NIEUWPOORT_OPEN}  # else open at TODAY
    vacancies = catalogue()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="intake-dashboard-") as tmp:
        async with running_bot(Path(tmp), Clock(opens.get(vacancy_id, TODAY)),
                               dashboard_url=BASE + P) as bot:
            started = time.perf_counter()
            await apply_fully(bot, CANDIDATE, vacancy_id)
            await bot.deliver()
            applied = time.perf_counter() - started
            store = bot.store
            template = bot.dossier(CANDIDATE)
            found = store.get_dossier(template.id)  # type: ignore[arg-type]
            assert found is not None and template.id is not None
            _, person, documents = found
            started = time.perf_counter()
            clone(store, template, person, args.dossiers - 1)
            filled = time.perf_counter() - started

            settings = bot.settings
            commands = RecruiterCommands(
                store, bot.engine.files, vacancies, settings.recruiter_user_ids,  # type: ignore[union-attr]
                RECRUITER_CHAT, SqlOutbox(store.engine, bot.wall_clock, store.keyring),
                lambda: bot.clock.now, settings.recruiter_language)
            web = await sign_in(bot)

            def get(path: str, count: Callable[[Any], int] = lambda _: 0
                    ) -> Callable[[], Awaitable[int]]:
                async def run() -> int:
                    got = await web.get(path)
                    if got.status_code != 200:
                        problems.append(f"GET {path}: {got.status_code}")
                    return count(got)
                return run

            # A filter every clone passes and one none passes: the template's own facts decide.
            open_now = bool(dossier_facts(vacancies[vacancy_id], template).outstanding)
            keeps, drops = ("yes", "no") if open_now else ("no", "yes")
            listing = f"{P}/vacancies/{vacancy_id}"
            cv = next(d.id for d in documents if d.stored_path)
            cases = {c.name: c for c in [
                Case("raw read", blocking(lambda: store.list_dossiers(vacancy_id), len)),
                Case("command", blocking(lambda: commands.dossiers([vacancy_id]), command_rows)),
                Case("rows", blocking(lambda: views.dossier_rows(
                    store, vacancies[vacancy_id], views.Filters(), "nl"), len)),
                Case("list", get(listing, table_rows)),
                Case("list kept", get(f"{listing}?open={keeps}&sort=score", table_rows)),
                Case("list dropped", get(f"{listing}?open={drops}&sort=score", table_rows)),
                Case("dossier", get(f"{P}/dossiers/{template.id}")),
                Case("document", get(f"{P}/dossiers/{template.id}/documents/{cv}")),
                Case("overview", get(f"{P}/")),
                Case("export", get(f"{listing}/export.csv", csv_rows)),
            ]}
            for case in cases.values():  # warm: templates compiled, caches filled
                await case.run()
            for n in range(args.runs):  # each case once a run, the order rotated
                order = list(cases.values())
                for case in order[n % len(order):] + order[:n % len(order)]:
                    await timed(case)
            profile = await profiled(web, listing) if args.profile else None
            await web.aclose()

    n = args.dossiers
    expected = {"raw read": n, "command": min(n, PAGE_SIZE), "rows": n, "list": n,
                "list kept": n, "list dropped": 0, "export": n}
    problems += [f"{name}: {cases[name].shown} dossiers shown, {shown} expected"
                 for name, shown in expected.items() if cases[name].shown != shown]
    print("\n".join(report(args, vacancy_id, cases, applied, filled, keeps, drops)))
    if profile is not None:
        print("\nthe unfiltered list page, one request, cProfile, top 10 by cumulative time "
              "(httpx, Starlette and asyncio's wrappers left out):")
        print(profile)
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems[:10]))
        return 1
    return 0


async def profiled(web: Any, path: str) -> str:
    profiler = cProfile.Profile()
    with inline_threads():
        profiler.enable()
        await web.get(path)
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(WRAPPERS, 10)
    return "\n".join(line.rstrip() for line in out.getvalue().strip().splitlines()
                     if line.strip() and not line.lstrip().startswith(("Ordered", "List")))


LABELS = {
    "raw read": "store.list_dossiers (the raw read)",
    "command": "/dossiers <vacancy>, its first page",
    "rows": "views.dossier_rows (no HTTP, no HTML)",
    "list": "GET list",
    "dossier": "GET dossier page (the real one)",
    "document": "GET its cv",
    "overview": "GET overview (every vacancy)",
    "export": "GET export.csv",
}


def report(args: argparse.Namespace, vacancy_id: str, cases: dict[str, Case], applied: float,
           filled: float, keeps: str, drops: str) -> list[str]:
    n = args.dossiers
    labels = {**LABELS, "list kept": f"GET list ?open={keeps}&sort=score",
              "list dropped": f"GET list ?open={drops}&sort=score"}
    lines = [f"{n} dossiers of {vacancy_id}: 1 applied through the bot ({applied:.1f} s), "
             f"{n - 1} cloned ({filled:.1f} s); median of {args.runs} runs",
             f"{'':42} {'ms':>9} {'min ms':>9} {'µs/dossier':>11} {'dossiers':>9}"]
    for name, case in cases.items():
        single = name in ("dossier", "document", "overview")
        per = " " * 11 if single else f"{case.ms * 1000 / n:11,.0f}"
        lines.append(f"{labels[name]:42} {case.ms:9,.1f} {min(case.times) * 1000:9,.1f} {per} "
                     f"{'' if single else case.shown:>9}")
    read, rows, page, command = (ratio(cases, "list", "raw read"), ratio(cases, "rows", "raw read"),
                                 ratio(cases, "list", "rows"), ratio(cases, "list", "command"))
    lines += [
        f"list page / raw read:          {read:7.1f}×",
        f"list page / /dossiers command: {ratio(cases, 'list', 'command'):7.1f}×",
        f"dossier_rows / raw read:       {rows:7.1f}×  (evaluating the verdicts, building the rows)",
        f"list page / dossier_rows:      {page:7.1f}×  (HTML, HTTP, the session)",
        f"filtered to none / raw read:   {ratio(cases, 'list dropped', 'raw read'):7.1f}×",
        f"summary: {n} dossiers: list page {cases['list'].ms:,.0f} ms = {read:.1f}× the raw read "
        f"({cases['raw read'].ms:,.1f} ms), {command:.1f}× /dossiers ({cases['command'].ms:,.1f} ms); "
        f"dossier page {cases['dossier'].ms:,.0f} ms, overview {cases['overview'].ms:,.0f} ms, "
        f"export {cases['export'].ms:,.0f} ms"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=600)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--vacancy", default="nieuwpoort-systeembeheerder-ict")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile one unfiltered list request; print the top 10")
    args = parser.parse_args(argv)
    if args.dossiers < 1 or args.runs < 1:
        parser.error("--dossiers and --runs must be at least 1")
    os.environ.setdefault("MASTER_KEY", MASTER_KEY)  # else a key file, and a warning about it
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
