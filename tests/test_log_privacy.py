"""No personal value in any log line at any level, python-telegram-bot's and httpx's included.

The end-to-end test runs a real python-telegram-bot Application against the fake Bot API over
HTTP (so httpx logs real URLs with the token), at DEBUG, with an update full of distinctive
values: a handler fails with no error handler registered, a malformed update arrives, every Bot
API call is logged with its parameters. A second handler without the filter records the same
lines raw, which shows the values were there to leak.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
from collections.abc import Iterator

import pytest
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

import main
from bot import sample_files
from bot.fake_bot_api import FakeTelegram
from bot.fake_bot_server import FakeBotServer
from bot.log_privacy import (
    LOG_FORMAT,
    PersonalDataFilter,
    _pseudonymiser,
    configure_logging,
    install,
)
from settings import Settings

TOKEN = "7654321098:AAHk3vQ9xZ_r2Lm8Np-4Tb6Wc1Yd5Ue7Sf0"
USER = 987654321
NAME = "Zyxwvutsrq"
EMAIL = "zyx.q@example.org"
FILE_NAME = "Zyx_rijbewijs.pdf"
PHONE = "+32 470 12 34 56"
CONTACT_PHONE = "+32470998877"
USERNAME = "zyxwvu_q"
DISTINCTIVE = (NAME, EMAIL, FILE_NAME, "Zyx_rijbewijs", PHONE, "470 12 34 56", CONTACT_PHONE,
               USERNAME, str(USER), TOKEN, TOKEN.split(":")[1])
LOGGERS = ("telegram", "httpx", "httpcore")


def fake_pseudonym(value: str) -> str:
    return "h" + hashlib.sha256(b"k" + value.encode()).hexdigest()[:10]


PSEUDONYM = "id#" + fake_pseudonym(str(USER))


def scrub(text: str) -> str:
    return PersonalDataFilter(fake_pseudonym).scrub(text)


def _drop_filters() -> None:
    for handler in [*logging.getLogger().handlers, logging.lastResort]:
        if handler is not None:
            for old in [f for f in handler.filters if isinstance(f, PersonalDataFilter)]:
                handler.removeFilter(old)


@pytest.fixture
def logs() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """(scrubbed, raw): everything logged at DEBUG, through the installed filter and without."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *LOGGERS)}
    scrubbed, raw = io.StringIO(), io.StringIO()
    scrubbed_handler, raw_handler = logging.StreamHandler(scrubbed), logging.StreamHandler(raw)
    for handler in (scrubbed_handler, raw_handler):
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(scrubbed_handler)
    install(fake_pseudonym)
    root.handlers.insert(0, raw_handler)  # first, and without the filter: sees records unchanged
    for name in ("", *LOGGERS):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield scrubbed, raw
    finally:
        root.removeHandler(scrubbed_handler)
        root.removeHandler(raw_handler)
        _drop_filters()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_the_librarys_own_log_lines_carry_no_personal_value(logs):
    scrubbed, raw = logs
    tg = FakeTelegram(token=TOKEN)
    tg.add_user(USER, first_name=NAME, username=USERNAME)

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_user is not None
        await update.effective_message.reply_text(f"Dag {update.effective_user.first_name}")

    async def fail(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        document = message.document.file_name if message.document else None
        raise ValueError(f"cannot use {message.text!r} nor {document!r} (user_id={USER})")

    payloads = [
        tg.text_update(USER, f"Ik ben {NAME}, mail {EMAIL} of bel {PHONE}"),
        tg.document_update(USER, FILE_NAME, sample_files.pdf(), "application/pdf"),
        tg.message_update(USER, contact={"phone_number": CONTACT_PHONE, "first_name": NAME,
                                         "user_id": USER}),
    ]
    tg.updates.clear()
    handled: list[int] = []
    all_handled = asyncio.Event()

    async def count(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        handled.append(update.update_id)
        if len(handled) == len(payloads):
            all_handled.set()

    with FakeBotServer(tg) as server:
        app = (ApplicationBuilder().token(TOKEN).base_url(server.api_base_url)
               .base_file_url(server.file_base_url).updater(None).build())
        app.add_handler(MessageHandler(filters.ALL, reply), group=0)
        app.add_handler(MessageHandler(filters.ALL, fail), group=1)  # no error handler at all
        app.add_handler(MessageHandler(filters.ALL, count), group=2)
        async with app:
            await app.start()  # updates through the queue, as polling and webhooks deliver them
            for payload in payloads:
                await app.update_queue.put(Update.de_json(payload, app.bot))
            await asyncio.wait_for(all_handled.wait(), timeout=30)
            await app.stop()
            server.push_update({"message": {"message_id": 99, "date": "not a date",
                                            "chat": {"id": USER, "type": "private",
                                                     "first_name": NAME},
                                            "text": f"{NAME} {EMAIL}"}})
            with pytest.raises(TypeError):
                await app.bot.get_updates(timeout=0)

    raw_text, text = raw.getvalue(), scrubbed.getvalue()
    # The library did log what leaks: these are its own lines.
    for line in ("No error handlers are registered", "Error while parsing updates",
                 "Processing update", "Calling Bot API endpoint `sendMessage`", "HTTP Request: POST"):
        assert line in raw_text and line in text, line
    assert all(value in raw_text for value in DISTINCTIVE)
    assert [value for value in DISTINCTIVE if value in text] == []
    # Where the id was, its pseudonym is: the lines about one person can still be put together.
    processing = [line for line in text.splitlines() if "Processing update" in line]
    assert len(processing) == 3
    assert all(PSEUDONYM in line and "update_id=" in line for line in processing)
    send = next(line for line in text.splitlines() if "Calling Bot API endpoint `sendMessage`" in line)
    assert f"'chat_id': {PSEUDONYM}" in send
    assert f"user_id={PSEUDONYM}" in text
    assert "ValueError: cannot use" in text and 'raise ValueError(f"cannot use' in text
    assert "/bot<token>/getMe" in text


# ---------------------------------------------------------------------- one rule at a time


def test_a_bot_token_becomes_a_placeholder_also_inside_a_url():
    assert scrub(f"token {TOKEN} set") == "token <token> set"
    assert scrub(f"POST https://api.telegram.org/bot{TOKEN}/getMe") == (
        "POST https://api.telegram.org/bot<token>/getMe")


@pytest.mark.parametrize("address", ["zyx.q@example.org", "jan+jobs@stad.nieuwpoort.be",
                                     "A_B-c@sub-domain.example.co.uk"])
def test_an_email_address_becomes_a_placeholder(address):
    assert scrub(f"from {address}.") == "from <email>."


@pytest.mark.parametrize("number", ["+32 470 12 34 56", "+32470123456", "0470 12 34 56",
                                    "0470/12.34.56", "0470123456", "050 12 34 56",
                                    "0032 470 12 34 56", "+31 6 12345678", "06-12345678",
                                    "+32 (0)470 12 34 56"])
def test_a_phone_number_becomes_a_placeholder(number):
    assert scrub(f"bel {number} nu") == "bel <phone> nu"


@pytest.mark.parametrize("line", [
    "update 123456789 stored", "took 0.004123456 s", "at 2026-11-22 09:05:03,123",
    "outbox 12 failed: TimeoutError", "listening on 127.0.0.1:8443", "sha 0a1b2c3d4e5f60718293",
    "version 22.8, 1024 bytes", "dossier 40 deleted 2026-01-05",
])
def test_lines_without_personal_values_stay_as_they_are(line):
    assert scrub(line) == line


@pytest.mark.parametrize(("line", "expected"), [
    ("chat_id=987654321", "chat_id={p}"),
    ("User(first_name='<redacted>', id=987654321, is_bot=False)",
     "User(first_name='<redacted>', id={p}, is_bot=False)"),
    ("{'chat_id': 987654321, 'message_id': 5}", "{'chat_id': {p}, 'message_id': 5}"),
    ('{"id": 987654321, "type": "private"}', '{"id": {p}, "type": "private"}'),
    ("user_id=987654321 chat=987654321", "user_id={p} chat={p}"),
    ("candidate u:987654321 in c:987654321", "candidate {p} in {p}"),
    ("purge telegram:987654321", "purge {p}"),
    ("external_id='987654321'", "external_id={p}"),
])
def test_a_telegram_id_becomes_its_pseudonym(line, expected):
    assert scrub(line) == expected.replace("{p}", PSEUDONYM)


def test_a_group_id_keeps_its_sign_in_the_hash_and_distinct_ids_get_distinct_pseudonyms():
    assert scrub("chat_id=-100123456") == "chat_id=id#" + fake_pseudonym("-100123456")
    assert scrub("chat_id=123456") != scrub("chat_id=123457")


def test_string_values_of_telegram_objects_are_redacted_and_kinds_are_kept():
    line = ("Message(chat=Chat(first_name='Zyx', id=1, type=<ChatType.PRIVATE>, "
            "username='zyx'), document=Document(file_id='AbC', file_name=\"it's Zyx.pdf\", "
            "file_size=2048, mime_type='application/pdf'), caption='Zyx', message_id=7, "
            "location=Location(latitude=50.85, longitude=2.72))")
    assert scrub(line) == (
        "Message(chat=Chat(first_name='<redacted>', id=id#" + fake_pseudonym("1") + ", "
        "type=<ChatType.PRIVATE>, username='<redacted>'), document=Document(file_id='<redacted>', "
        "file_name=\"<redacted>\", file_size=2048, mime_type='application/pdf'), "
        "caption='<redacted>', message_id=7, "
        "location=Location(latitude=<redacted>, longitude=<redacted>))")
    assert scrub('{"last_name": "Zyx", "phone_number": "+32470", "email": "a"}') == (
        '{"last_name": "<redacted>", "phone_number": "<redacted>", "email": "<redacted>"}')
    assert scrub("text='it\\'s Zyx' next='x'") == "text='<redacted>' next='<redacted>'"


@pytest.mark.parametrize("dump", [
    "Update(message=Message(text='Zyx (a) [b]', from_user=User(first_name='Zyx', "
    "id=987654321)), update_id=42)",
    "{'update_id': 42, 'message': {'from': {'id': 987654321, 'first_name': 'Zy}x'}}}",
    '{"update_id": 42, "message": {"chat": {"id": 987654321}, "text": "Zyx \\" }"}}',
])
def test_a_whole_update_is_replaced_and_keeps_its_update_id_and_pseudonyms(dump):
    assert scrub(f"got [{dump}] then more") == (
        f"got [<update redacted: update_id=42; ids {PSEUDONYM}>] then more")


def test_a_truncated_update_is_redacted_to_the_end():
    assert scrub("data: Update(message=Message(text='Zyx, an") == (
        "data: <update redacted: update_id unknown>")


def test_sql_parameters_and_postgresql_key_details_are_redacted():
    line = ("(sqlite3.IntegrityError) UNIQUE constraint failed: candidate.email\n"
            "[SQL: INSERT INTO candidate (name) VALUES (?)]\n[parameters: ('Zyx', 5)]\n"
            "DETAIL:  Key (name, vacancy)=(Zyx, a-b) already exists.")
    assert scrub(line) == (
        "(sqlite3.IntegrityError) UNIQUE constraint failed: candidate.email\n"
        "[SQL: INSERT INTO candidate (name) VALUES (?)]\n[parameters: <redacted>]\n"
        "DETAIL:  Key (name, vacancy)=(<redacted>) already exists.")


# ---------------------------------------------------------------------- the filter on records


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    logger = logging.getLogger("tests.log_privacy")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataFilter(fake_pseudonym))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def _fails(text: str) -> None:
    raise KeyError(text)


def test_a_traceback_keeps_code_and_types_and_loses_the_messages(capture):
    logger, stream = capture
    try:
        try:
            _fails(NAME)
        except KeyError as error:
            raise RuntimeError(f"could not save {EMAIL} for chat_id={USER}") from error
    except RuntimeError:
        logger.exception("handler failed")
    out = stream.getvalue()
    assert NAME not in out and EMAIL not in out and str(USER) not in out
    assert "raise KeyError(text)" in out and "_fails(NAME)" in out
    assert "KeyError: '<redacted>'" in out
    assert f"RuntimeError: could not save <email> for chat_id={PSEUDONYM}" in out
    assert "The above exception was the direct cause" in out


def test_the_scrubbed_traceback_replaces_exc_info_for_every_later_handler(capture):
    logger, _stream = capture
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logger.addHandler(keep)  # after the filtered one: sees the record as rewritten
    try:
        try:
            _fails(NAME)
        except KeyError:
            logger.error("for %s", f"chat_id={USER}", exc_info=True)
    finally:
        logger.removeHandler(keep)
    (record,) = records
    assert record.exc_info is None and record.args == ()
    assert record.getMessage() == f"for chat_id={PSEUDONYM}"
    assert record.exc_text is not None and "KeyError: '<redacted>'" in record.exc_text
    assert NAME not in logging.Formatter().format(record)


def test_stack_info_and_a_bad_format_are_scrubbed_too(capture):
    logger, stream = capture
    logger.info("chat_id=%s %s", USER, stack_info=True)  # one argument short
    logger.warning("mail %s", EMAIL)
    out = stream.getvalue()
    assert "Stack (most recent call last)" in out
    assert str(USER) not in out and EMAIL not in out
    assert "mail <email>" in out
    assert "chat_id=%s %s <arguments redacted: they do not fit the format>" in out


def test_scrubbing_that_fails_leaves_nothing_of_the_record(capture):
    logger, stream = capture

    def broken(value: str) -> str:
        raise RuntimeError("no key")

    logger.handlers[0].filters[0] = PersonalDataFilter(broken)
    logger.info("chat_id=%s mail %s", USER, EMAIL)
    assert stream.getvalue() == "<log record redacted: scrubbing failed (RuntimeError)>\n"


def test_a_record_is_scrubbed_once_however_many_handlers_carry_the_filter():
    calls: list[str] = []

    def counting(value: str) -> str:
        calls.append(value)
        return "x" + value[::-1]

    privacy = PersonalDataFilter(counting)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "chat_id=%s", (USER,), None)
    assert privacy.filter(record) and privacy.filter(record)
    assert record.getMessage() == f"chat_id=id#x{str(USER)[::-1]}"
    assert calls == [str(USER)]


# ---------------------------------------------------------------------- installed by main


@pytest.fixture
def bare_root() -> Iterator[logging.Logger]:
    """The root logger without pytest's handlers, as a fresh process has it; restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level
              for name in ("telegram", "telegram.ext.AIORateLimiter", "httpx", "apscheduler",
                           "alembic", "transitions")}
    umask = os.umask(0o022)
    root.handlers = []
    try:
        yield root
    finally:
        root.handlers = handlers
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)
        _drop_filters()
        os.umask(umask)


def _privacy_filters(handler: logging.Handler) -> list[PersonalDataFilter]:
    return [f for f in handler.filters if isinstance(f, PersonalDataFilter)]


def test_configure_logging_puts_the_filter_on_every_root_handler(bare_root):
    configure_logging(Settings(_env_file=None))
    configure_logging(Settings(_env_file=None))  # again: still one filter per handler
    assert bare_root.handlers
    for handler in [*bare_root.handlers, logging.lastResort]:
        assert handler is not None and len(_privacy_filters(handler)) == 1


def test_main_installs_the_filter_and_a_private_umask(bare_root, capsys):
    assert main.main(["validate"]) == 0
    assert bare_root.handlers
    assert all(len(_privacy_filters(handler)) == 1 for handler in bare_root.handlers)
    current = os.umask(0o022)
    assert current == 0o077


def test_the_default_pseudonymiser_is_keyed_by_master_key():
    from storage.crypto import new_master_key

    key, other = new_master_key(), new_master_key()
    settings = Settings(_env_file=None, master_key=key)
    first, second = _pseudonymiser(settings), _pseudonymiser(settings)
    assert first(str(USER)) == second(str(USER))  # the same across processes
    assert len(first(str(USER))) == 12 and str(USER) not in first(str(USER))
    assert first(str(USER)) != first(str(USER + 1))
    assert _pseudonymiser(Settings(_env_file=None, master_key=other))(str(USER)) != first(str(USER))
    unset = Settings(_env_file=None, master_key="")
    assert _pseudonymiser(unset)(str(USER)) != _pseudonymiser(unset)(str(USER))


def test_dotted_answer_keys_and_ids_in_prose_are_scrubbed():
    privacy = PersonalDataFilter(lambda value: "h" + value[-2:])
    answers = privacy.scrub("{'candidate.name': 'Zoltar Quispelaere', 'diploma.level': 'master'}")
    assert "Zoltar" not in answers and "master" not in answers
    prose = privacy.scrub("Chat id 123456789 failed; user 987654321; update 12345678")
    assert "123456789" not in prose and "987654321" not in prose
    assert "id#h89" in prose and "update 12345678" in prose  # an update id is no person
