"""The command line: run | chat | validate | simulate | diagram | export | purge | inbox | links.

Without a command: the product — the Telegram bot when TELEGRAM_BOT_TOKEN is set, else the
terminal chat. `run` is strictly the bot and refuses clearly without a usable token.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.log_privacy import configure_logging
from flows.engine import Engine
from flows.events import Sender
from flows.vacancy import Vacancy
from flows.vacancy_loader import CatalogueError, load_catalogue
from settings import Settings


def vacancy_cache(settings: Settings) -> Path:
    """Where validated vacancy models are kept between runs: beside the data, never in git."""
    return Path(settings.upload_dir).parent / "cache" / "vacancies"


def load_vacancies(folder: Path, cache: Path | None = None) -> dict[str, Vacancy] | None:
    """The catalogue, or None after printing every problem (the product will not start).
    `cache`: reuse models of unchanged files (`validate` passes none: it checks everything)."""
    try:
        return load_catalogue(folder, cache)
    except CatalogueError as exc:
        print(f"The vacancy catalogue in {folder} is not valid:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def fixed_or_system_clock(now: str | None) -> Callable[[], datetime]:
    if now is None:
        return lambda: datetime.now(UTC)
    fixed = datetime.fromisoformat(now)
    if fixed.tzinfo is None:
        raise SystemExit("--now needs an offset or Z, e.g. 2026-07-01T10:00+02:00")
    return lambda: fixed


def build_engine(settings: Settings, vacancies: dict[str, Vacancy],
                 clock: Callable[[], datetime]) -> Engine:
    from storage.database import make_engine, migrate
    from storage.dossier_repository import SqlDossierStore
    from storage.file_store import LocalFileStore

    db = make_engine(settings.database_url, lock_timeout=settings.db_lock_timeout,
                     statement_timeout=settings.db_statement_timeout, pool_size=16)
    migrate(db)
    return Engine(vacancies, SqlDossierStore(db, clock=clock, keyring=settings.keyring()),
                  LocalFileStore(settings.upload_dir), clock)


def cmd_validate(settings: Settings, args: argparse.Namespace) -> int:
    folder = Path(args.folder) if args.folder else settings.vacancies_dir
    vacancies = load_vacancies(folder)
    if vacancies is None:
        return 1
    print(f"{len(vacancies)} vacancies valid in {folder}:")
    for vacancy in vacancies.values():
        closes = vacancy.closes_at()
        when = closes.isoformat() if closes else "not stated in the seed"
        print(f"  {vacancy.id:48} {vacancy.country}  closes {when}")
    return 0


def cmd_chat(settings: Settings, vacancies: dict[str, Vacancy], args: argparse.Namespace) -> int:
    from bot.terminal_chat import run_chat

    engine = build_engine(settings, vacancies, fixed_or_system_clock(args.now))
    sender = Sender("terminal", args.user, chat_id=None, language_code=args.lang)
    return run_chat(engine, sender, args.vacancy)


async def telegram_username(settings: Settings) -> tuple[str | None, str | None]:
    """The bot's username from one getMe (through TELEGRAM_API_BASE_URL), or why not: before
    starting, a clear line instead of python-telegram-bot's retry log."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    assert settings.telegram_bot_token is not None
    kwargs = {}
    if settings.telegram_api_base_url:
        kwargs["base_url"] = settings.telegram_api_base_url
    if settings.telegram_file_base_url:
        kwargs["base_file_url"] = settings.telegram_file_base_url
    bot = Bot(settings.telegram_bot_token.get_secret_value(), **kwargs)
    try:
        await bot.initialize()  # calls getMe
        return bot.username, None
    except InvalidToken:
        return None, "Telegram rejected TELEGRAM_BOT_TOKEN: check the token from @BotFather in .env."
    except NetworkError as exc:
        return None, (f"Cannot reach the Telegram Bot API ({type(exc).__name__}): check the "
                      "network or TELEGRAM_API_BASE_URL.")
    finally:
        try:
            await bot.shutdown()
        except Exception:
            pass


def cmd_run(settings: Settings, vacancies: dict[str, Vacancy]) -> int:
    from telegram.error import InvalidToken, NetworkError

    from bot.telegram_app import build_application, run

    if settings.telegram_bot_token is None:
        print("TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in .env "
              "(see .env.example), or try the bot with `python main.py chat`.", file=sys.stderr)
        return 2
    if settings.webhook_url and settings.webhook_secret is None:
        print("WEBHOOK_URL is set but WEBHOOK_SECRET is not: set a long random secret in .env "
              "(without it anyone could post updates to the bot).", file=sys.stderr)
        return 2
    username, problem = asyncio.run(telegram_username(settings))
    if problem:
        print(problem, file=sys.stderr)
        return 2 if "rejected" in problem else 3
    clock = fixed_or_system_clock(None)
    engine = build_engine(settings, vacancies, clock)
    parts = build_application(settings, engine, engine.store, engine.files,  # type: ignore[arg-type]
                              vacancies, clock)
    logging.getLogger("main").info(start_line(settings, username, vacancies))
    try:
        run(parts, settings)
    except InvalidToken:
        print("Telegram rejected TELEGRAM_BOT_TOKEN: check the token from @BotFather in .env.",
              file=sys.stderr)
        return 2
    except NetworkError as exc:
        print(f"Cannot reach the Telegram Bot API ({type(exc).__name__}): check the network "
              "or TELEGRAM_API_BASE_URL.", file=sys.stderr)
        return 3
    return 0


def start_line(settings: Settings, username: str | None, vacancies: dict[str, Vacancy]) -> str:
    """The start-up INFO line: what runs, against which kind of database (never its URL, which
    may hold a password), with which vacancies."""
    from sqlalchemy import make_url

    mode = "webhook" if settings.webhook_url else "polling"
    database = make_url(settings.database_url).get_backend_name()
    return (f"starting: {mode} mode, bot @{username}, {database} database, "
            f"{len(vacancies)} vacancies: {', '.join(sorted(vacancies))}")


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:

    from bot.simulation import ScriptError, junit_xml, load_script, run_script, script_paths

    paths = script_paths(args.paths)
    if not paths:
        print("simulate: no scripts found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    scripts, problems = [], []
    for path in paths:
        try:
            scripts.append((path, load_script(path)))
        except ScriptError as exc:
            problems.append(str(exc))
    if problems:
        print("These scripts are not valid:", file=sys.stderr)
        for problem in problems:
            print("  " + problem.replace("\n", "\n  "), file=sys.stderr)
        return 2
    results = []
    for path, script in scripts:
        result = asyncio.run(run_script(script, path, settings.vacancies_dir))
        results.append(result)
        status = "✓" if result.ok else "✗"
        print(f"\n=== {status} {script.name}  ({path})")
        print("\n".join(result.transcript))
    failed = [r for r in results if not r.ok]
    checks = sum(len(r.checks) for r in results)
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed "
          f"({checks} expectations in {len(results)} scripts)")
    if args.junit:
        Path(args.junit).write_text(junit_xml(results), encoding="utf-8")
    if args.stats:
        from bot.simulation_stats import report

        table, _within = report([(r.path.name, r.candidate_texts) for r in results])
        print("\nMessages to candidates, in characters:\n" + table)
    return 1 if failed else 0


def _store(settings: Settings, vacancies: dict[str, Vacancy]) -> Engine:
    return build_engine(settings, vacancies, fixed_or_system_clock(None))


def cmd_export(settings: Settings, vacancies: dict[str, Vacancy], args: argparse.Namespace) -> int:
    """CSV per vacancy, and the recruiter notifications that were not delivered to a chat."""
    from bot.recruiter_commands import export_rows
    from flows.dossier_summary import erased_notice, question_notice, summary
    from flows.engine import QUESTION_NOTICE
    from storage.outbox import RECRUITERS

    if _unknown_vacancies("export", args.vacancy, vacancies):
        return 2
    engine = _store(settings, vacancies)
    store = engine.store
    out = Path(args.out)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)  # a folder we create: ours only
    for vacancy_id in args.vacancy or list(vacancies):
        data, ids = export_rows(store, vacancies[vacancy_id],  # type: ignore[arg-type]
                                settings.recruiter_language)
        path = out / f"{vacancy_id}.csv"
        _write_private(path, data)
        print(f"{path}: {len(ids)} dossiers")
    # Recruiter notifications only: replies to candidates are not the recruiters' business.
    pending = store.pending_outbox(datetime.max.replace(tzinfo=UTC), 1000,  # type: ignore[attr-defined]
                                   chat_key=RECRUITERS)
    print(f"\n{len(pending)} recruiter notifications not delivered to a chat:")
    for message in pending:
        if message.kind == QUESTION_NOTICE:
            # Only what the candidate agreed to send, as the recruiters' chat would show it.
            asked = store.question_with_dossier(message.payload["question_id"])  # type: ignore[attr-defined]
            if asked is not None and asked[1].vacancy_id in vacancies:
                question, dossier = asked
                print("\n" + question_notice(vacancies[dossier.vacancy_id], dossier, question,
                                             settings.recruiter_language))
            continue
        if message.kind == "candidate_erased":
            # An erasure: which dossiers, so that copies taken from earlier exports go too.
            titles = [(int(i), vacancies[v].title if v in vacancies else v)
                      for i, v, _status in message.payload.get("dossiers", [])]
            if titles:
                print("\n" + erased_notice(titles, 0, len(message.payload.get("delete", []))
                                           + int(message.payload.get("older", 0)), "nl"))
            continue
        found = store.get_dossier(message.dossier_id) if message.dossier_id else None  # type: ignore[attr-defined]
        if found is None or found[0].vacancy_id not in vacancies:
            continue
        dossier, _candidate, documents = found
        print("\n" + summary(vacancies[dossier.vacancy_id], dossier, documents,
                              settings.recruiter_language))
        for doc in documents:
            if doc.stored_path:
                print(f"    file: {_export_document(store, engine.files, doc, out)}")
    return 0


def _export_document(store: Any, files: Any, doc: Any, out: Path) -> Path:
    """A readable copy of a stored (sealed) document in the export folder, 0600; the file
    name is the dossier number and document kind, never the candidate's own file name."""
    opened = store.open_document(doc.id)
    data = files.read(doc.stored_path, opened[1] if opened else None)
    folder = out / "files"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{doc.dossier_id}-{doc.kind}-{doc.id}{Path(doc.stored_path).suffix}"
    _write_private(path, data)
    return path


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by the service user only: 0600 before the first byte is written,
    also over an older, more open file."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        target.write(data)


def _unknown_vacancies(command: str, asked: list[str], vacancies: dict[str, Vacancy]) -> bool:
    """Say which asked vacancy ids are not in the catalogue (True when any)."""
    unknown = [v for v in asked if v not in vacancies]
    if unknown:
        print(f"{command}: unknown vacancy {', '.join(unknown)}; known: {', '.join(vacancies)}",
              file=sys.stderr)
    return bool(unknown)


def cmd_rotate_keys(settings: Settings) -> int:
    """Re-wrap every candidate's key with the first MASTER_KEY (see storage/crypto.py)."""
    from storage.database import make_engine, migrate
    from storage.dossier_repository import write_transaction
    from storage.subject_keys import rewrap_all

    keyring = settings.keyring()
    db = make_engine(settings.database_url)
    migrate(db)
    with write_transaction(db) as connection:
        count = rewrap_all(connection, keyring)
    print(f"re-wrapped {count} keys with master key {keyring.current_master}; once no backup "
          "needs the old master key, remove it from MASTER_KEY and destroy it")
    return 0


def cmd_purge(settings: Settings, vacancies: dict[str, Vacancy], args: argparse.Namespace) -> int:
    """Erase one candidate completely (rows and files): the right to erasure; or, with
    --expired, every dossier past the retention the privacy notice promises (--dry-run: only
    say which and why)."""
    if args.candidate and (args.expired or args.dry_run):
        print("purge: --candidate erases one candidate; --expired and --dry-run are about the "
              "retention: give one or the other", file=sys.stderr)
        return 2
    if args.now and not args.dry_run:
        # Deleting before the notice's date would break its promise: --now only looks ahead.
        print("purge: --now only with --dry-run (what would go on that day)", file=sys.stderr)
        return 2
    if args.expired or args.dry_run:
        from storage.retention import plan_purge, purge_expired

        engine = _store(settings, vacancies)
        store = engine.store
        if args.dry_run:
            when = fixed_or_system_clock(args.now)()
            plan = plan_purge(store, vacancies, when)  # type: ignore[arg-type]
            for item in plan.dossiers:
                print(f"would purge {item.line()}")
            for candidate_id in plan.candidates:
                print(f"would remove candidate {candidate_id}: no dossier left")
            print(f"dry run: {len(plan.dossiers)} dossiers "
                  f"({sum(d.files for d in plan.dossiers)} files) and "
                  f"{len(plan.candidates)} candidates would be purged; nothing was deleted")
            if plan.retired:
                print(f"kept: {plan.retired} dossiers of vacancies no longer in the catalogue "
                      "(their retention is unknown; purge --candidate erases one)")
            return 0
        purged = purge_expired(store, engine.files, vacancies, engine.clock())  # type: ignore[arg-type]
        print(f"purged {purged.dossiers} dossiers past their retention, {purged.files} files, "
              f"{purged.candidates} candidates with no dossier left")
        return 0
    from flows.turn_privacy import queue_erasure_notice

    if not args.candidate:
        print("purge: give --candidate CHANNEL:ID, --expired or --dry-run", file=sys.stderr)
        return 2
    channel, _, external_id = args.candidate.partition(":")
    if not external_id:
        print("purge: give the candidate as CHANNEL:ID, e.g. telegram:123456789", file=sys.stderr)
        return 2
    engine = _store(settings, vacancies)
    with engine.store.unit_of_work(channel, external_id) as uow:
        candidate = uow.candidate()
        if candidate is None or candidate.id is None:
            print(f"purge: no candidate {args.candidate}")
            return 1
        # The same erasure as the candidate's own /delete: rows, key, and the recruiters told.
        erasure = uow.erase_candidate()
        queue_erasure_notice(uow, erasure)
    for path in erasure.stored_paths:
        engine.files.delete(path)
    print(f"purged {args.candidate}: {len(erasure.dossiers)} dossiers, "
          f"{len(erasure.stored_paths)} files")
    return 0


def cmd_inbox(settings: Settings, vacancies: dict[str, Vacancy]) -> int:
    """What the inbox holds: updates per state, and the quarantined ones by id — never their
    content, which is personal data (a developer reads it in the database if they must)."""
    from storage.inbox import SqlInbox

    engine = _store(settings, vacancies)
    inbox = SqlInbox(engine.store.engine, keyring=engine.store.keyring)  # type: ignore[attr-defined]
    counts = inbox.counts()
    print("inbox: " + (", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
                       or "empty"))
    quarantined = inbox.quarantined()
    if quarantined:
        print(f"\n{len(quarantined)} quarantined (the library could not read them):")
        for update_id, received_at, error, size in quarantined:
            print(f"  update {update_id}  received {received_at:%Y-%m-%d %H:%M}  {error}  "
                  f"{size} bytes")
    return 0


def cmd_diagram(vacancies: dict[str, Vacancy], args: argparse.Namespace) -> int:
    """Write docs/flows/<vacancy>.md (Mermaid), or with --check say which are stale."""
    from flows.diagram import document
    from flows.flow import Flow

    out = Path(args.out)
    stale = []
    for vacancy in vacancies.values():
        path = out / f"{vacancy.id}.md"
        text = document(Flow(vacancy))
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if stale:
        print("stale flow diagrams (run `python main.py diagram`): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


def cmd_links(settings: Settings, vacancies: dict[str, Vacancy], args: argparse.Namespace) -> int:
    """Each open vacancy's deep link, and a QR code of it as a PNG (for posters and the
    employer's web page)."""
    from bot.vacancy_links import fits_deep_link, start_link, valid_username, write_qr

    username = (args.username or "").removeprefix("@") or None
    if username is None:
        if settings.telegram_bot_token is None:
            print("Which bot? Pass --username NAME (the bot's username, from @BotFather), or set "
                  "TELEGRAM_BOT_TOKEN in .env to ask Telegram.", file=sys.stderr)
            return 2
        username, problem = asyncio.run(telegram_username(settings))
        if problem or username is None:
            print(problem or "Telegram gave no username for this bot.", file=sys.stderr)
            return 2 if problem and "rejected" in problem else 3
    if not valid_username(username):
        print(f"{username!r} is not a bot username (5-32 letters, digits and _).", file=sys.stderr)
        return 2
    now = fixed_or_system_clock(args.now)()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    open_ones = [v for v in vacancies.values() if v.is_open(now)]
    print(f"{len(open_ones)} open vacancies of {len(vacancies)}; deep links to @{username} "
          f"and QR codes in {out}:")
    unfit = 0
    for vacancy in open_ones:
        if not fits_deep_link(vacancy.id):
            print(f"  {vacancy.id}: no deep link possible (at most 64 letters, digits, _ and -)",
                  file=sys.stderr)
            unfit += 1
            continue
        link = start_link(username, vacancy.id)
        path = out / f"{vacancy.id}.png"
        write_qr(link, path)
        print(f"  {vacancy.id:48} {link}  {path}")
    closed = sorted(v.id for v in vacancies.values() if not v.is_open(now))
    if closed:
        print(f"closed (no link): {', '.join(closed)}")
    return 1 if unfit else 0


def cmd_product(settings: Settings, vacancies: dict[str, Vacancy]) -> int:
    if settings.telegram_bot_token is None:
        print("No TELEGRAM_BOT_TOKEN: starting the terminal chat (set one in .env for "
              "Telegram).", file=sys.stderr)
        return cmd_chat(settings, vacancies, argparse.Namespace(vacancy=None, user="local",
                                                                lang=None, now=None))
    return cmd_run(settings, vacancies)


def cmd_stats(settings: Settings, vacancies: dict[str, Vacancy], args: argparse.Namespace) -> int:
    """The funnel of each vacancy (the same figures as /stats), and its chart with --png."""
    from bot.stats_chart import funnel_chart
    from flows.flow import Flow
    from flows.funnel import STEPS, step_label, summary_lines
    from flows.messages import render
    from flows.replies import locale_of
    from storage.funnel_queries import funnel_of

    if _unknown_vacancies("stats", args.vacancy, vacancies):
        return 2
    store = _store(settings, vacancies).store
    for vacancy_id in args.vacancy or sorted(vacancies):
        flow = Flow(vacancies[vacancy_id])
        figures = funnel_of(store, flow)  # type: ignore[arg-type]
        locale = locale_of(flow.vacancy, args.lang)
        labels = [render(step_label(step), locale) for step in STEPS]
        width = max(len(label) for label in labels)
        print(f"{render(flow.vacancy.title, locale)} ({vacancy_id})")
        for label, step in zip(labels, STEPS, strict=True):
            print(f"  {label:<{width}}  {figures.figure(step):>5}")
        print(*(f"  {line}" for line in summary_lines(flow, figures, locale)), sep="\n")
        if args.png:
            folder = Path(args.png)
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = folder / f"stats-{vacancy_id}.png"
            _write_private(path, funnel_chart(flow, figures, locale))
            print(f"  {path}")
        print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    validate = sub.add_parser("validate", help="check a folder of vacancy files")
    validate.add_argument("folder", nargs="?", help="default: VACANCIES_DIR")
    sub.add_parser("run", help="run the Telegram bot (polling, or webhook with WEBHOOK_URL)")
    chat = sub.add_parser("chat", help="apply in the terminal (same engine and database)")
    chat.add_argument("--vacancy", help="go straight into this vacancy (like a deep link)")
    chat.add_argument("--user", default="local", help="who you are in the database")
    chat.add_argument("--lang", choices=("nl", "en"), help="language (default Dutch)")
    chat.add_argument("--now", help="pretend it is this moment (ISO 8601 with offset)")
    export = sub.add_parser("export", help="CSV of dossiers; undelivered recruiter notifications")
    export.add_argument("vacancy", nargs="*", help="vacancy ids (default: all)")
    export.add_argument("--out", default="data/exports", help="folder for the CSV files")
    sub.add_parser("new-master-key", help="print a fresh MASTER_KEY value")
    sub.add_parser("rotate-keys", help="re-wrap every candidate's key with the first MASTER_KEY")
    purge = sub.add_parser("purge", help="erase a candidate completely, files included; or "
                                         "every dossier past its retention")
    purge.add_argument("--candidate", help="CHANNEL:ID, e.g. telegram:123456789")
    purge.add_argument("--expired", action="store_true",
                       help="delete every dossier past its retention (also done daily by the bot)")
    purge.add_argument("--dry-run", action="store_true",
                       help="with or without --expired: list the dossiers past their retention "
                            "and why (ids, vacancy, status, date), delete nothing")
    purge.add_argument("--now", help="with --dry-run: as on this moment (ISO 8601 with offset)")
    sub.add_parser("inbox", help="updates stored per state; quarantined ones, without content")
    stats = sub.add_parser("stats", help="the funnel of each vacancy, as /stats shows it")
    stats.add_argument("vacancy", nargs="*", help="vacancy ids (default: all)")
    stats.add_argument("--lang", choices=("nl", "en"), default="nl", help="default Dutch")
    stats.add_argument("--png", metavar="DIR", help="also write each chart to DIR/stats-<id>.png")
    links = sub.add_parser("links", help="each open vacancy's deep link, and a QR code PNG of it")
    links.add_argument("--username", help="the bot's username (default: asked from Telegram "
                                          "with TELEGRAM_BOT_TOKEN)")
    links.add_argument("--out", default="data/links", help="folder for the QR code PNGs")
    links.add_argument("--now", help="open as on this moment (ISO 8601 with offset)")
    diagram = sub.add_parser("diagram", help="write the flow diagram of every vacancy")
    diagram.add_argument("--out", default=str(Path(__file__).parent / "docs" / "flows"))
    diagram.add_argument("--check", action="store_true", help="only say which are stale")
    simulate = sub.add_parser("simulate", help="run scripted conversations against the bot")
    simulate.add_argument("paths", nargs="+", help="script files or folders of *.yaml")
    simulate.add_argument("--junit", help="also write a JUnit XML report to this file")
    simulate.add_argument("--stats", action="store_true",
                          help="print per scenario the messages sent to candidates and their "
                               "longest and median length")
    return parser


def main(argv: list[str] | None = None) -> int:
    # Every file the service writes (database, WAL, uploads, exports, logs) is readable by the
    # service user only: candidates' personal data is not for other accounts on the machine.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    settings = Settings()
    # Logging at LOG_LEVEL, with every record (the libraries' too) scrubbed of personal data.
    configure_logging(settings)
    if args.command == "new-master-key":
        from storage.crypto import new_master_key

        print(new_master_key())
        return 0
    if args.command == "rotate-keys":
        return cmd_rotate_keys(settings)
    if args.command == "validate":
        return cmd_validate(settings, args)
    vacancies = load_vacancies(settings.vacancies_dir, vacancy_cache(settings))
    if vacancies is None:
        return 1
    if args.command == "chat":
        return cmd_chat(settings, vacancies, args)
    if args.command == "run":
        return cmd_run(settings, vacancies)
    if args.command == "simulate":
        return cmd_simulate(settings, args)
    if args.command == "diagram":
        return cmd_diagram(vacancies, args)
    if args.command == "export":
        return cmd_export(settings, vacancies, args)
    if args.command == "purge":
        return cmd_purge(settings, vacancies, args)
    if args.command == "inbox":
        return cmd_inbox(settings, vacancies)
    if args.command == "stats":
        return cmd_stats(settings, vacancies, args)
    if args.command == "links":
        return cmd_links(settings, vacancies, args)
    return cmd_product(settings, vacancies)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
