"""Two real `python main.py run` processes in webhook mode on ONE PostgreSQL database.

Both are started at the same moment on an empty database (they migrate concurrently) and both
come up. The test is then the load balancer: a candidate's consecutive updates alternate between the
two processes (and so, over everyone, do all updates), and every 10th update is
posted to the other process too, at the same moment (Telegram retrying a webhook). 80
candidates apply at once, each waiting for the bot's reply before the next step, as a person
does. Afterwards every dossier, reply and recruiter notification exists exactly once. Last,
4 unauthenticated 50 MB posts leave the real process's memory flat.

The recruiters' chat here is the recruiter's private chat, not a group: python-telegram-bot's
AIORateLimiter holds a group to Telegram's 20 messages a minute (per process), so the 320
notification messages of 80 dossiers would take some 8 minutes to reach a group. The path
through the outbox is the same. What bounds this test is the other limit, 30 messages a second
per process: 80 applications are about 1,700 rate-limited Bot API calls, 28 s at 2 x 30/s.
(Throughput at scale is the load benchmark's: `python -m bench.load --processes 2`.)
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from bot import sample_files
from bot.fake_bot_api import Sent
from bot.fake_bot_server import FakeBotServer
from bot.webhook_server import SECRET_HEADER
from storage.database import MIGRATIONS_DIR
from tests.db_fixtures import TemporaryPostgres
from tests.webhook_cluster import (
    SECRET,
    Balancer,
    BotProcess,
    IndexedTelegram,
    indexed_server,
    start_processes,
    stop_processes,
    wait_healthy,
    wait_reply,
    wait_until,
)

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/status").exists(),
                       reason="reads process memory and CPU time from /proc"),
    # Under pytest-xdist (--dist loadgroup) every test here runs on one worker: one cluster
    # (with test_durability's 80 candidates at once, so the two load runs never overlap).
    pytest.mark.xdist_group("load-runs"),
]

VACANCY = "vera-projectcoordinator"
RECRUITER = 999
RECRUITERS = RECRUITER  # the recruiters' chat: the recruiter's private chat (see above)
CANDIDATES = 80
IN_FLIGHT = 40  # candidates applying at the same moment
FIRST_USER = 500_000
DOCUMENTS = ("cv", "motivatie", "diploma")
# Hang guards, not speed claims (speed is the load benchmark's).
STEP_SECONDS = 30.0  # one reply, under the full load
LOAD_SECONDS = 180.0  # every reply to the concurrent applications (a hang guard)
SETTLE_SECONDS = 90.0  # after that, the recruiters' notifications drained
# What each step's reply says (the conversation of tests/test_end_to_end.py); each is said
# exactly once in a whole application.
EXPECT = ("We bewaren niets tot je hieronder akkoord gaat", "Hoe heet je?",
          "Op welk e-mailadres", "hoogste behaalde diploma", "buitenland",
          "Nederlandstalige opleiding", "Stuur nu je cv", "Stuur nu je motivatiebrief",
          "Stuur nu je kopie van je diploma", "is volledig en doorgestuurd")


@dataclass
class Cluster:
    server: FakeBotServer
    tg: IndexedTelegram
    processes: list[BotProcess]
    balancer: Balancer
    db: Engine
    started_seconds: float

    def scalar(self, sql: str) -> Any:
        with self.db.connect() as connection:
            return connection.execute(text(sql)).scalar()

    def rows(self, sql: str) -> list[Any]:
        with self.db.connect() as connection:
            return list(connection.execute(text(sql)).all())

    def settled(self) -> bool:
        """Every stored update handled, every queued message sent."""
        return (self.scalar("SELECT count(*) FROM inbox WHERE status = 'pending'") == 0
                and self.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0)

    def to(self, chat: int) -> list[Sent]:
        with self.server.lock:
            return list(self.tg.by_chat[chat])


@pytest.fixture(scope="module")
def cluster(postgres: TemporaryPostgres, tmp_path_factory: pytest.TempPathFactory,
            ) -> Iterator[Cluster]:
    if postgres.error is not None:
        pytest.skip(postgres.skip_reason)
    url = postgres.fresh_url()  # an empty database: not a single table
    folder = tmp_path_factory.mktemp("cluster")
    db = create_engine(url, poolclass=NullPool)
    with indexed_server() as server:
        tg = server.telegram
        assert isinstance(tg, IndexedTelegram)
        with server.lock:
            tg.add_user(RECRUITER)
        started = time.monotonic()
        # The fake Telegram has no throughput limit to respect: without the limiter the run
        # measures the two processes, not 30 messages a second (exactly-once is the point).
        processes = start_processes(server, url, folder, 2, RECRUITERS, TELEGRAM_MAX_RATE="0")
        balancer = Balancer(processes, duplicate_every=10)
        try:
            wait_healthy(processes, seconds=60)
            yield Cluster(server, tg, processes, balancer, db, time.monotonic() - started)
        finally:
            balancer.close()
            stop_processes(processes)  # SIGTERM; SIGKILL after 15 s
            db.dispose()
            for p in processes:
                log = p.log()
                assert "Traceback" not in log, f"{p.name}:\n{log[-5000:]}"
                assert p.process.returncode == 0, f"{p.name} exit {p.process.returncode}"


# ---------------------------------------------------------------------------- the candidates


def surname(index: int) -> str:
    """Aaa, Aab, ...: names without digits."""
    return "".join(chr(ord("a") + (index // 26 ** k) % 26) for k in (2, 1, 0)).capitalize()


@dataclass(frozen=True)
class Candidate:
    user: int
    index: int

    @property
    def name(self) -> str:
        return f"Lena {surname(self.index)}"

    @property
    def email(self) -> str:
        return f"lena.{surname(self.index).lower()}@example.be"

    def file(self, kind: str) -> tuple[str, bytes]:
        return f"{kind}-{self.user}.pdf", sample_files.pdf(f"{kind} of {self.user}")

    def normalised(self, messages: list[Sent]) -> list[str]:
        """What the candidate was told (texts and buttons), their name, e-mail and every
        number masked: the same for every candidate."""
        out = []
        for m in messages:
            said = (m.text or "").replace(self.name, "<name>").replace(self.email, "<email>")
            out.append(re.sub(r"\d+", "#", said) + f" {m.labels()}")
        return out


def press(c: Cluster, user: int, label: str) -> tuple[dict[str, Any], int]:
    with c.server.lock:
        before = len(c.tg.by_chat[user])
        for message in reversed(c.tg.by_chat[user]):
            for row in message.buttons:
                for button in row:
                    if label in button["text"]:
                        return c.tg.press_update(user, message, button["callback_data"]), before
    raise AssertionError(f"no button {label!r} for {user}")


def apply(c: Cluster, candidate: Candidate, abort: threading.Event | None = None) -> list[float]:
    """One whole application; each update is posted once the reply to the previous one
    arrived. Returns how long each reply took."""
    user, tg = candidate.user, c.tg
    steps: list[tuple[str, str]] = [
        ("text", f"/start {VACANCY}"), ("press", "Akkoord"), ("text", candidate.name),
        ("text", candidate.email), ("press", "Master"), ("press", "Nee"), ("press", "Ja"),
        *(("upload", kind) for kind in DOCUMENTS)]
    waited = []
    for step, ((kind, value), expect) in enumerate(zip(steps, EXPECT, strict=True)):
        if abort is not None and abort.is_set():
            raise RuntimeError("aborted: another candidate failed")
        if kind == "press":
            update, before = press(c, user, value)
        else:
            with c.server.lock:
                before = len(tg.by_chat[user])
                if kind == "text":
                    update = tg.text_update(user, value)
                else:
                    name, data = candidate.file(value)
                    update = tg.document_update(user, name, data, "application/pdf")
                tg.updates.clear()  # nothing polls in webhook mode
        started = time.monotonic()
        c.balancer.post(update, turn=candidate.index + step)  # A, B, A, ... or B, A, B, ...
        wait_reply(c.server, user, before, expect, STEP_SECONDS)
        waited.append(time.monotonic() - started)
    return waited


def apply_all(c: Cluster, candidates: list[Candidate]) -> list[list[float]]:
    """Everyone at once, IN_FLIGHT at a time; the first failure stops the others."""
    abort = threading.Event()
    deadline = time.monotonic() + LOAD_SECONDS
    pool = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="candidate")
    futures: list[Future[list[float]]] = [pool.submit(apply, c, cand, abort)
                                          for cand in candidates]
    try:
        return [f.result(timeout=max(0.1, deadline - time.monotonic())) for f in futures]
    except BaseException:
        abort.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # each running step ends within 30 s


# ---------------------------------------------------------------------------- the tests


def test_two_processes_started_together_on_an_empty_database_both_come_up(cluster: Cluster):
    c = cluster
    # Both answered GET /healthz (the fixture waited for that) and both set their webhook.
    assert all(p.process.poll() is None for p in c.processes)
    with c.server.lock:
        webhooks = [params.get("url") for method, params in c.tg.calls if method == "setWebhook"]
    assert sorted(webhooks) == sorted(p.hook_url for p in c.processes)
    # One schema, at the newest revision.
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert [tuple(r) for r in c.rows("SELECT version_num FROM alembic_version")] == [(head,)]
    assert c.scalar("SELECT count(*) FROM inbox") == 0
    for p in c.processes:
        health = httpx.get(f"{p.base_url}/healthz", timeout=5).json()
        assert health == {"ok": True, "inbox_pending": 0, "inbox_quarantined": 0,
                          "inbox_failed": 0}
        assert "Traceback" not in p.log() and "ERROR" not in p.log(), p.log()
    print(f"\nboth processes up (migrated, listening) {c.started_seconds:.1f} s after the spawn")


def test_80_candidates_through_two_processes_everything_exactly_once(cluster: Cluster):
    c = cluster
    candidates = [Candidate(FIRST_USER + i, i) for i in range(CANDIDATES)]
    with c.server.lock:
        for cand in candidates:
            c.tg.add_user(cand.user, first_name="Lena")
    cpu_before = [p.cpu_seconds() for p in c.processes]

    # 1. The reference: the first candidate alone, through the same two processes.
    apply(c, candidates[0])
    wait_until(lambda: len(c.to(RECRUITERS)) == 4 and c.settled(), "the reference to settle",
               SETTLE_SECONDS, c.server)
    reference = candidates[0].normalised(c.to(candidates[0].user))
    for expect in EXPECT:
        assert sum(expect in said for said in reference) == 1, (expect, reference)

    # 2. The other 199, at once.
    posted, started = c.balancer.posted, time.monotonic()
    waits = apply_all(c, candidates[1:])
    answered = time.monotonic() - started
    wait_until(lambda: len(c.to(RECRUITERS)) >= 4 * CANDIDATES and c.settled(),
               "every notification to be sent", SETTLE_SECONDS, c.server)
    settled = time.monotonic() - started
    updates = c.balancer.posted - posted
    replies = sorted(w for ws in waits for w in ws)
    cpu = [round(p.cpu_seconds() - before) for p, before in zip(c.processes, cpu_before,
                                                                 strict=True)]
    print(f"\n{len(candidates) - 1} concurrent applications, {updates} updates "
          f"(+{c.balancer.duplicated} duplicate posts in all): every reply after {answered:.1f} s "
          f"({updates / answered:.0f} updates/s), everything sent after {settled:.1f} s; "
          f"reply latency median {replies[len(replies) // 2]:.2f} s, "
          f"p99 {replies[int(len(replies) * 0.99)]:.2f} s, max {replies[-1]:.2f} s; "
          f"posts per process {[p.posts for p in c.processes]}, CPU s per process {cpu}")

    # Every candidate was told the same things as the reference: each once, in order.
    for cand in candidates:
        told = cand.normalised(c.to(cand.user))
        assert told == reference, (cand.user, told, reference)

    # The database: every dossier submitted with 3 documents each, nothing left pending.
    per_dossier = dict(c.rows("SELECT d.id, count(doc.id) FROM dossier d "
                              "LEFT JOIN document doc ON doc.dossier_id = d.id "
                              "WHERE d.status = 'submitted' GROUP BY d.id"))
    assert c.scalar("SELECT count(*) FROM dossier") == len(per_dossier) == CANDIDATES
    assert set(per_dossier.values()) == {3}
    # Each distinct update stored once, whichever process(es) it was posted to, and handled.
    assert c.scalar("SELECT count(*) FROM inbox") == CANDIDATES * len(EXPECT)
    assert c.rows("SELECT status, count(*) FROM inbox GROUP BY status") == [
        ("done", CANDIDATES * len(EXPECT))]
    assert c.scalar("SELECT count(*) FROM outbox WHERE last_error IS NOT NULL") == 0

    # The recruiters: per dossier one summary and its three documents, nothing twice, nothing
    # of one candidate under another's dossier.
    recruiters = c.to(RECRUITERS)
    summaries = [m.text or "" for m in recruiters if m.document is None]
    documents = [m.document for m in recruiters if m.document is not None]
    assert len(summaries) == CANDIDATES and len(documents) == 3 * CANDIDATES
    owner: dict[int, Candidate] = {}
    for summary in summaries:
        found = re.search(r"Dossier #(\d+)", summary)
        assert found is not None, summary
        named = [cand for cand in candidates if f"{cand.name} <{cand.email}>" in summary]
        assert len(named) == 1 and int(found.group(1)) not in owner, summary
        owner[int(found.group(1))] = named[0]
    assert set(owner) == set(per_dossier)
    assert sorted(cand.user for cand in owner.values()) == [cand.user for cand in candidates]
    captions = [str(d["caption"]) for d in documents]
    assert len(set(captions)) == 3 * CANDIDATES
    kinds: dict[int, set[str]] = {}
    for document in documents:
        # "#12 · Lena Peeters · cv": the dossier, whose document, which document.
        found = re.fullmatch(r"#(\d+) · (.+) · (.+)", str(document["caption"]))
        assert found is not None, document["caption"]
        dossier = int(found.group(1))
        assert found.group(2) == owner[dossier].name, document["caption"]
        kinds.setdefault(dossier, set()).add(found.group(3))
        sent = (document["file_name"], document["data"])
        assert sent in {owner[dossier].file(kind) for kind in DOCUMENTS}, (dossier, sent[0])
    assert {dossier: len(k) for dossier, k in kinds.items()} == dict.fromkeys(owner, 3)

    # Both processes took posts (and any process may handle any stored update); both are idle.
    assert all(p.posts > CANDIDATES * len(EXPECT) // 3 for p in c.processes)
    for p in c.processes:
        assert httpx.get(f"{p.base_url}/healthz", timeout=5).json()["inbox_pending"] == 0
        assert "Traceback" not in p.log(), p.log()[-5000:]


POST_SIZE = 50 * 1024 * 1024


def big_body() -> Iterator[bytes]:
    block = bytes(1024 * 1024)  # one block sent 50 times: the test holds 1 MiB
    for _ in range(POST_SIZE // len(block)):
        yield block


def test_50_mb_unauthenticated_posts_leave_the_real_process_memory_flat(cluster: Cluster):
    c = cluster
    target, user = c.processes[0], 990_001
    with c.server.lock:
        c.tg.add_user(user)
    with httpx.Client(timeout=30) as http:
        # Warm up (first-request allocations) before the baseline.
        refused = http.post(target.hook_url, json={"update_id": 1}, headers={SECRET_HEADER: "x"})
        assert refused.status_code == 403
        before = target.rss_kib()
        for attempt in range(4):
            headers = {SECRET_HEADER: "wrong"} if attempt % 2 else {}  # wrong or missing
            if attempt < 2:
                headers["Content-Length"] = str(POST_SIZE)  # else chunked
            started = time.monotonic()
            try:
                response = http.post(target.hook_url, content=big_body(), headers=headers)
            except httpx.TimeoutException:
                raise
            except httpx.TransportError:
                pass  # answered and closed while we were still sending: a reset
            else:
                assert response.status_code == 403
            assert time.monotonic() - started < 20
        grown_mib = (target.rss_kib() - before) / 1024
        print(f"\nRSS of process {target.name} (pid {target.pid}) grew by {grown_mib:.1f} MiB "
              f"over 4 unauthenticated 50 MB posts")
        assert grown_mib < 30, f"RSS grew by {grown_mib:.1f} MiB"

        # It still takes a real update, and answers it.
        with c.server.lock:
            update = c.tg.text_update(user, f"/start {VACANCY}")
        response = http.post(target.hook_url, json=update, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200
    wait_reply(c.server, user, 0, EXPECT[0], STEP_SECONDS)
