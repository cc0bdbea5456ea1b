"""Ready to deploy: the container's entry command, run here with the container's environment.

No container daemon runs on the test machine, so the Dockerfile's CMD/ENTRYPOINT and ENV and
compose's environment of a worker are read from the files and run as a subprocess: paths
inside the image mapped onto the checkout and a temporary folder, the database a throw-away
PostgreSQL database (SQLite when none is reachable), Telegram the fake Bot API over HTTP.
The process must come up (/healthz), take a webhook post, answer through the fake Telegram,
count it in /metrics, say its start-up line, and stop on SIGTERM with exit 0. The compose
file and the Caddyfile are checked for what the README promises.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import sample_files
from bot.dashboard.init_data import sign_init_data
from bot.fake_bot_api import BOT_USERNAME
from bot.fake_bot_server import FakeBotServer
from bot.webhook_server import SECRET_HEADER
from main import load_vacancies
from tests.db_fixtures import TemporaryPostgres, sqlite_url
from tests.deploy_files import (
    CADDYFILE,
    COMPOSE,
    ROOT,
    compose,
    dockerfile,
    interpolate,
    parse_metrics,
    sample,
    service_env,
    workers,
)
from tests.webhook_cluster import (
    Balancer,
    free_port,
    indexed_server,
    start_processes,
    stop_processes,
    wait_healthy,
    wait_reply,
    wait_until,
)

SECRET = "deploy-test-secret_1"
DOMAIN = "bot.example.org"
USER = 4242
VACANCY = "vera-projectcoordinator"
PRIVACY_NOTICE = "We bewaren niets tot je hieronder akkoord gaat"


def compose_variables(server: FakeBotServer) -> dict[str, str]:
    """What an operator puts in the .env beside compose.yaml (WEBHOOK_PATH left to its default)."""
    return {"TELEGRAM_BOT_TOKEN": server.telegram.token, "POSTGRES_PASSWORD": "unused-here",
            "DOMAIN": DOMAIN, "WEBHOOK_SECRET": SECRET, "MASTER_KEY": os.environ["MASTER_KEY"]}


def container_env(server: FakeBotServer, database_url: str, data: Path, port: int,
                  service: dict[str, Any] | None) -> dict[str, str]:
    """The image's ENV and the compose service's environment, with what only exists inside
    the container swapped for its local counterpart."""
    image = dockerfile()
    env = {**image.env, **(service_env(service, compose_variables(server)) if service else {})}
    for key, value in env.items():
        if value.startswith(image.workdir.rstrip("/") + "/"):
            env[key] = str(ROOT / value.removeprefix(image.workdir.rstrip("/") + "/"))
        elif value.startswith("/data/"):
            env[key] = str(data / value.removeprefix("/data/"))
    env.update({
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": database_url,  # not the compose network's `postgres` host
        "TELEGRAM_API_BASE_URL": server.api_base_url,
        "TELEGRAM_FILE_BASE_URL": server.file_base_url,
        "LISTEN_ADDRESS": "127.0.0.1",  # not every interface of a shared test machine
        "PORT": str(port),  # 8443 may be taken here
    })
    if service is None:  # `docker run` of the image alone: polling, token and key given
        env.update({"TELEGRAM_BOT_TOKEN": server.telegram.token,
                    "MASTER_KEY": os.environ["MASTER_KEY"]})
    return env


def entry_command() -> list[str]:
    command = dockerfile().command
    assert command[0] == "python", command
    return [sys.executable, *command[1:]]  # the image's python is this one's counterpart


def health_check(env: dict[str, str]) -> int:
    """The exit code of the Dockerfile's HEALTHCHECK command in the container's environment."""
    (check,) = dockerfile().all("HEALTHCHECK")
    command = json.loads(check.split(" CMD ", 1)[1])
    assert command[0] == "python"
    return subprocess.run([sys.executable, *command[1:]], env=env, cwd=ROOT, timeout=30,
                          capture_output=True).returncode


@pytest.fixture
def database(postgres: TemporaryPostgres, tmp_path: Path) -> str:
    return postgres.fresh_url() if postgres.error is None else sqlite_url(tmp_path)


class Running:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self.port = int(env["PORT"])
        with log.open("wb") as out:
            self.process = subprocess.Popen(entry_command(), cwd=ROOT, env=env,
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=out)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthy(self) -> bool:
        assert self.process.poll() is None, f"exited {self.process.returncode}:\n{self.log()}"
        try:
            return httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def metrics(self) -> dict[Any, float]:
        response = httpx.get(f"{self.base}/metrics", timeout=5)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        return parse_metrics(response.text)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(f"no clean stop within 20 s:\n{self.log()}") from None


@pytest.fixture
def server() -> Iterator[FakeBotServer]:
    with indexed_server() as fake:
        with fake.lock:
            fake.telegram.add_user(USER)
        yield fake


def start_line(mode: str, database_kind: str) -> str:
    vacancies = load_vacancies(ROOT / "vacancies")
    assert vacancies
    return (f"INFO main: starting: {mode} mode, bot @{BOT_USERNAME}, {database_kind} database, "
            f"{len(vacancies)} vacancies: {', '.join(sorted(vacancies))}")


def test_the_container_command_serves_the_webhook_health_and_metrics_and_stops_cleanly(
        server: FakeBotServer, database: str, tmp_path: Path):
    worker = next(iter(workers(compose()).values()))
    env = container_env(server, database, tmp_path, free_port(), worker)
    assert env["WEBHOOK_URL"] == f"https://{DOMAIN}/telegram" and env["LOG_LEVEL"] == "INFO"
    started = time.time()
    bot = Running(env, tmp_path / "bot.log")
    try:
        wait_until(bot.healthy, "GET /healthz to answer 200", 60)
        health = httpx.get(f"{bot.base}/healthz", timeout=5)
        assert health.headers["content-type"] == "application/json"
        assert health.json()["ok"] is True
        assert health_check(env) == 0  # the Dockerfile's HEALTHCHECK, run as Docker would
        with server.lock:
            calls = [params for method, params in server.telegram.calls if method == "setWebhook"]
        assert [(c["url"], c["secret_token"]) for c in calls] == [(env["WEBHOOK_URL"], SECRET)]

        # What Caddy forwards: the webhook path, with Telegram's secret header.
        with server.lock:
            update = server.telegram.text_update(USER, f"/start {VACANCY}")
            server.telegram.updates.clear()  # nothing polls in webhook mode
        # The dashboard beside the webhook (compose sets DASHBOARD_URL): its bare address goes
        # on to the first page, which without a session is the sign-in page and nothing more.
        bare = httpx.get(f"{bot.base}/dashboard", timeout=5)
        assert bare.status_code == 307 and bare.headers["location"] == "/dashboard/"
        first = httpx.get(f"{bot.base}/dashboard/", timeout=5)
        assert first.status_code == 401 and 'id="signin"' in first.text

        hook = f"{bot.base}/telegram"
        assert httpx.post(hook, json=update, headers={SECRET_HEADER: "wrong"}).status_code == 403
        assert httpx.post(hook, json=update, headers={SECRET_HEADER: SECRET}).status_code == 200
        wait_reply(server, USER, 0, PRIVACY_NOTICE, 30)

        # The reply is recorded as delivered just after it went out.
        wait_until(lambda: sample(bot.metrics(), "intake_messages_delivered_total",
                                  to="candidate") == 1, "the delivery to be counted", 20)
        metrics = bot.metrics()
        assert sample(metrics, "intake_updates_received_total") == 1
        assert sample(metrics, "intake_updates_handled_total", outcome="done") == 1
        for outcome in ("retried", "failed", "quarantined"):
            assert sample(metrics, "intake_updates_handled_total", outcome=outcome) == 0
        assert sample(metrics, "intake_messages_delivered_total", to="recruiters") == 0
        assert sample(metrics, "intake_dossiers_submitted_total") == 0
        assert sample(metrics, "intake_database_up") == 1
        assert sample(metrics, "intake_inbox_pending") == 0
        assert sample(metrics, "intake_outbox_pending") == 0
        assert sample(metrics, "intake_outbox_lag_seconds") == 0
        assert started - 1 <= sample(metrics, "intake_process_start_time_seconds") <= time.time()
        assert not [key for key in metrics if key[0] == "intake_errors_total"]
    finally:
        code = bot.terminate()
    log = bot.log()
    assert code == 0, log
    assert health_check(env) != 0  # stopped: unhealthy
    kind = "postgresql" if database.startswith("postgresql") else "sqlite"
    assert start_line("webhook", kind) in log, log
    assert "Traceback" not in log and "ERROR" not in log, log
    # Nothing of the configuration's secrets: no URL with a password, no token, no secret.
    for secret in (database, server.telegram.token, SECRET, os.environ["MASTER_KEY"]):
        assert secret not in log
    # Ours at INFO: the start-up line; not a line per candidate message.
    ours = [line for line in log.splitlines() if " INFO " in line and " telegram." not in line]
    assert len(ours) == 1 and ours[0].endswith(start_line("webhook", kind)), ours


def test_the_image_alone_polls_and_still_serves_health_and_metrics(server: FakeBotServer,
                                                                   tmp_path: Path):
    """`docker run` with a token and a key only: polling on the image's SQLite under /data;
    the health check the Dockerfile declares must answer all the same."""
    env = container_env(server, dockerfile().env["DATABASE_URL"], tmp_path, free_port(), None)
    assert env["DATABASE_URL"].startswith("sqlite:////data/")
    env["DATABASE_URL"] = "sqlite:///" + str(tmp_path / env["DATABASE_URL"].removeprefix(
        "sqlite:////data/"))
    env["DASHBOARD_URL"] = f"http://127.0.0.1:{env['PORT']}/dashboard"
    env["RECRUITER_USER_IDS"] = "999"
    bot = Running(env, tmp_path / "bot.log")
    try:
        wait_until(bot.healthy, "GET /healthz to answer 200", 60)
        # Polling, and the dashboard served on PORT all the same: a recruiter's Mini App
        # start data opens a session, and the overview lists the vacancies.
        signed = sign_init_data({"auth_date": str(int(time.time())),
                                 "user": json.dumps({"id": 999, "first_name": "Rita"})},
                                server.telegram.token)
        with httpx.Client(base_url=bot.base, timeout=10,
                          headers={"origin": bot.base}) as web:
            answer = web.post("/dashboard/auth/telegram", data={"init_data": signed})
            assert answer.status_code == 303, answer.text
            overview = web.get("/dashboard/")
            assert overview.status_code == 200 and f'data-vacancy="{VACANCY}"' in overview.text
        with server.lock:
            server.telegram.text_update(USER, f"/start {VACANCY}")
            server.lock.notify_all()
        wait_reply(server, USER, 0, PRIVACY_NOTICE, 30)
        wait_until(lambda: sample(bot.metrics(), "intake_updates_handled_total",
                                  outcome="done") == 1, "the update to be counted", 20)
        assert sample(bot.metrics(), "intake_updates_received_total") == 1
        assert httpx.post(f"{bot.base}/telegram", json={}, timeout=5).status_code == 404
    finally:
        code = bot.terminate()
    log = bot.log()
    assert code == 0, log
    assert start_line("polling", "sqlite") in log, log
    assert (tmp_path / "intake.sqlite3").exists()  # the database where the image keeps it
    assert "Traceback" not in log and "ERROR" not in log, log


# ---------------------------------------------------------------------------- the files


def test_the_image_runs_as_a_user_with_a_data_volume_and_a_health_check():
    image = dockerfile()
    assert image.all("FROM") == ["python:3.11-slim"]
    users = image.all("USER")
    assert users and users[-1] not in ("root", "0")
    assert any("pip install" in run and " ." in run for run in image.all("RUN"))
    assert any("/data" in volume for volume in image.all("VOLUME"))
    assert image.env["UPLOAD_DIR"].startswith("/data/")
    (check,) = image.all("HEALTHCHECK")
    assert "/healthz" in check and "PORT" in check
    assert image.command == ["python", "main.py", "run"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    for private in (".env", "data", ".git", ".venv"):
        assert private in ignored


def test_compose_runs_two_workers_on_postgresql_behind_caddy():
    spec = compose()
    services = spec["services"]
    bots = workers(spec)
    assert len(bots) >= 2 and {"postgres", "caddy"} <= set(services)
    variables = {"TELEGRAM_BOT_TOKEN": "t", "POSTGRES_PASSWORD": "p", "DOMAIN": DOMAIN,
                 "WEBHOOK_SECRET": "s", "MASTER_KEY": "k"}
    envs = [service_env(bot, variables) for bot in bots.values()]
    assert all(env == envs[0] for env in envs), "every worker the same configuration"
    env = envs[0]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:" in env[
        "DATABASE_URL"]
    assert env["WEBHOOK_URL"] == f"https://{DOMAIN}/telegram"
    assert int(env["TELEGRAM_MAX_RATE"]) * len(bots) <= 30  # Telegram's ~30 messages/s per bot
    for required in ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "MASTER_KEY", "POSTGRES_PASSWORD"):
        with pytest.raises(KeyError, match=required):
            service_env(next(iter(bots.values())), {**variables, required: ""})
    # One upload volume, shared, mounted where UPLOAD_DIR points; PostgreSQL keeps its data.
    for bot in bots.values():
        assert f"uploads:{env['UPLOAD_DIR']}" in bot["volumes"]
        assert "ports" not in bot, "workers are reached through Caddy only"
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert {"uploads", "pgdata"} <= set(spec["volumes"])
    assert any(v.startswith("pgdata:/var/lib/postgresql") for v in services["postgres"]["volumes"])
    # Caddy: TLS on 443, the Caddyfile from deploy/.
    caddy = services["caddy"]
    assert "443:443" in caddy["ports"]
    assert any(v.startswith("./deploy/Caddyfile:") for v in caddy["volumes"])
    assert interpolate(caddy["environment"]["WEBHOOK_PATH"], variables) == "telegram"


def test_the_caddyfile_forwards_only_the_webhook_and_the_dashboard_to_every_worker():
    text = re.sub(r"#[^\n]*", "", CADDYFILE.read_text(encoding="utf-8"))
    assert text.lstrip().startswith("{$DOMAIN} {"), "a site address: automatic HTTPS"
    handles = re.findall(r"^\s*handle\b([^\n]*)\{\s*$", text, re.MULTILINE)
    assert [h.strip() for h in handles] == ["/dashboard/*", "/{$WEBHOOK_PATH}", ""]
    port = service_env(next(iter(workers(compose()).values())), {
        "TELEGRAM_BOT_TOKEN": "t", "POSTGRES_PASSWORD": "p", "DOMAIN": DOMAIN,
        "WEBHOOK_SECRET": "s", "MASTER_KEY": "k"})
    assert port["DASHBOARD_URL"] == f"https://{DOMAIN}/dashboard"
    before, rest = text.split("handle {", 1)
    for block in before.split("handle ")[1:]:
        upstreams = re.search(r"reverse_proxy ([^{]+)\{", block)
        assert upstreams is not None
        assert sorted(upstreams.group(1).split()) == sorted(f"{name}:{port['PORT']}"
                                                            for name in workers(compose()))
        assert "lb_policy round_robin" in block and "health_uri /healthz" in block
    assert "reverse_proxy" not in rest and "respond 404" in rest
    assert "metrics" not in text
    assert "log" not in text.split(), "an access log would record the secret header"


def test_compose_file_is_what_the_readme_names():
    assert COMPOSE.name == "compose.yaml"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Deployment" in readme and "docker compose up" in readme


# ---------------------------------------------------------------------------- two workers

RECRUITER = 999  # the recruiters' chat: the recruiter's private chat (a group allows 20/min)
CANDIDATES = 6
UPLOADS = ("cv", "motivatie", "diploma")


def test_two_workers_on_one_postgresql_each_update_once_replies_in_order(
        postgres: TemporaryPostgres, tmp_path: Path):
    """Two workers with compose's settings; each candidate's updates alternate between them,
    and the pipelined ones (name then e-mail, the three documents) are posted without waiting
    for the reply: the inbox must handle them once each, in the order they were posted."""
    if postgres.error is not None:
        pytest.skip(postgres.skip_reason)
    url = postgres.fresh_url()
    users = [700_000 + i for i in range(CANDIDATES)]
    with indexed_server() as server:
        tg = server.telegram
        with server.lock:
            for user in (*users, RECRUITER):
                tg.add_user(user)
        worker = next(iter(workers(compose()).values()))
        settings = {k: v for k, v in service_env(worker, compose_variables(server)).items()
                    if k in ("TELEGRAM_MAX_RATE", "LOG_LEVEL", "RECRUITER_LANGUAGE")}
        processes = start_processes(server, url, tmp_path, 2, RECRUITER, **settings)
        balancer = Balancer(processes, duplicate_every=4)  # every 4th also to the other one
        try:
            wait_healthy(processes, 60)
            with ThreadPoolExecutor(CANDIDATES) as pool:
                list(pool.map(lambda i: apply(server, balancer, users[i], i), range(CANDIDATES)))
            wait_until(lambda: len(tg.by_chat[RECRUITER]) == 4 * CANDIDATES,
                       "every recruiter notification", 60, server)
            wait_until(lambda: all(sample(metrics_of(p), "intake_outbox_pending") == 0
                                   for p in processes), "the outbox to drain", 30)
            scraped = [metrics_of(p) for p in processes]
        finally:
            balancer.close()
            stop_processes(processes)
    logs = [p.log() for p in processes]
    assert [p.process.returncode for p in processes] == [0, 0], logs
    assert not any("Traceback" in log for log in logs), logs
    updates = CANDIDATES * len(CONVERSATION)
    assert balancer.posted == updates and balancer.duplicated > 0

    # Each update stored once, handled once (by one of the two), whatever was posted twice.
    def total(name: str, **labels: str) -> float:
        return sum(sample(s, name, **labels) for s in scraped)

    assert total("intake_updates_received_total") == updates
    assert total("intake_updates_handled_total", outcome="done") == updates
    assert all(sample(s, "intake_updates_handled_total", outcome="done") > 0 for s in scraped)
    assert total("intake_dossiers_submitted_total") == CANDIDATES
    assert total("intake_messages_delivered_total", to="recruiters") == CANDIDATES
    # The gauges are the shared database's: the same from either worker.
    assert {sample(s, "intake_inbox_pending") for s in scraped} == {0}

    # Replies in the order of the updates, each once.
    for user in users:
        said = [m.text or "" for m in tg.by_chat[user]]
        seen = [next(i for i, text in enumerate(said) if expect in text)
                for _, _, expect in CONVERSATION]
        assert seen == sorted(seen), (user, said)
        for _, _, expect in CONVERSATION:
            assert sum(expect in text for text in said) == 1, (user, expect, said)
    # The documents went to the dossier in the order sent: each file under its own kind.
    for document in (m.document for m in tg.by_chat[RECRUITER] if m.document is not None):
        kind = str(document["caption"]).rsplit(" · ", 1)[1]  # "cv", "motivatiebrief", ...
        sent_as = str(document["file_name"]).split("-")[0]  # "cv", "motivatie", "diploma"
        assert kind.startswith(sent_as), (document["caption"], document["file_name"])

    # The INFO lines: one per dossier submitted, one per recruiter notification delivered.
    joined = "\n".join(logs)
    assert len(re.findall(r"INFO bot\.metrics: dossier \d+ submitted for vacancy "
                          + VACANCY, joined)) == CANDIDATES
    assert len(re.findall(r"INFO bot\.metrics: outbox \d+ delivered: dossier_submitted to "
                          r"the recruiters, lag \d+ ms", joined)) == CANDIDATES


# (kind, value, what the reply says); "pipe": posted without waiting for the previous reply.
CONVERSATION = (
    ("text", f"/start {VACANCY}", PRIVACY_NOTICE), ("press", "Akkoord", "Hoe heet je?"),
    ("pipe", "Lena Peeters", "Op welk e-mailadres"),
    ("pipe", "lena@example.be", "hoogste behaalde diploma"),
    ("press", "Master", "buitenland"), ("press", "Nee", "Nederlandstalige opleiding"),
    ("press", "Ja", "Stuur nu je cv"),
    ("upload", "cv", "Stuur nu je motivatiebrief"),
    ("upload", "motivatie", "Stuur nu je kopie van je diploma"),
    ("upload", "diploma", "is volledig en doorgestuurd"),
)


def metrics_of(process: Any) -> dict[Any, float]:
    return parse_metrics(httpx.get(f"{process.base_url}/metrics", timeout=5).text)


def apply(server: FakeBotServer, balancer: Balancer, user: int, index: int) -> None:
    """One application; a pipelined run of updates is awaited by its last reply only."""
    tg = server.telegram
    group_start: int | None = None  # messages to the user before the first unanswered update
    for step, (kind, value, expect) in enumerate(CONVERSATION):
        with server.lock:
            before = len(tg.by_chat[user])
            if kind == "press":
                data = next(b["callback_data"] for m in reversed(tg.by_chat[user])
                            for row in m.buttons for b in row if value in b["text"])
                message = next(m for m in reversed(tg.by_chat[user])
                               if any(b["callback_data"] == data for row in m.buttons for b in row))
                update = tg.press_update(user, message, data)
            elif kind == "upload":
                update = tg.document_update(user, f"{value}-{user}.pdf",
                                            sample_files.pdf(f"{value} {user}"),
                                            "application/pdf")
            else:
                update = tg.text_update(user, value)
            tg.updates.clear()  # nothing polls in webhook mode
        group_start = before if group_start is None else group_start
        balancer.post(update, turn=index + step)  # A, B, A, ...: every other update
        following = CONVERSATION[step + 1][0] if step + 1 < len(CONVERSATION) else None
        if not (kind in ("pipe", "upload") and following == kind):
            wait_reply(server, user, group_start, expect, 30)
            group_start = None
