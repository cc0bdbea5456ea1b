"""Configuration, read once from the environment and `.env` (see .env.example)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
DEFAULTS: dict[str, Any] = {
    "database_url": f"sqlite:///{ROOT / 'data' / 'intake.sqlite3'}",
    "vacancies_dir": ROOT / "vacancies",
    "upload_dir": ROOT / "data" / "uploads",
    "port": 8443,
    "listen_address": "127.0.0.1",
    "webhook_max_body": 1_000_000,
    "telegram_timeout": 30.0,
    "telegram_max_rate": 30,
    "db_lock_timeout": 5.0,
    "db_statement_timeout": 30.0,
    "lease_seconds": 30.0,
    "reminder_days": (3, 1),
    "log_level": "INFO",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    telegram_file_base_url: str | None = None
    database_url: str = Field(default=DEFAULTS["database_url"])
    vacancies_dir: Path = DEFAULTS["vacancies_dir"]
    upload_dir: Path = DEFAULTS["upload_dir"]
    recruiter_chat_id: int | None = None
    # NoDecode: "111,222" in .env is a comma list, not JSON.
    recruiter_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # What recruiters read (summaries, lists, CSV): "nl" — Dutch as the employer's country
    # says it (nl_NL for a vacancy in the Netherlands) — or "en".
    recruiter_language: Literal["nl", "en"] = "nl"
    webhook_url: str | None = None
    # Where recruiters open the dashboard (bot/dashboard): its public address, e.g.
    # https://jobs.example.org/dashboard; served on PORT at that path, in polling mode too.
    # Unset: no dashboard, and /dashboard says so. Telegram opens Mini Apps over https only.
    dashboard_url: str | None = None
    # Minutes a dashboard session lasts at most, and without a request; minutes a /dashboard
    # sign-in link and a Mini App's signed start data (auth_date) stay valid.
    dashboard_session_minutes: int = Field(default=480, ge=5, le=24 * 60)
    dashboard_idle_minutes: int = Field(default=30, ge=5, le=24 * 60)
    dashboard_link_minutes: int = Field(default=10, ge=1, le=60)
    webhook_secret: SecretStr | None = None
    port: int = DEFAULTS["port"]
    # Where the webhook server binds: loopback behind a reverse proxy; 0.0.0.0 only on purpose.
    listen_address: str = DEFAULTS["listen_address"]
    webhook_max_body: int = Field(default=DEFAULTS["webhook_max_body"], ge=1024)
    # Seconds a Telegram call may take before it counts as failed (python-telegram-bot's 5 s
    # default turns a slow Telegram into duplicate messages).
    telegram_timeout: float = Field(default=DEFAULTS["telegram_timeout"], gt=0)
    # Messages per second the bot sends at most (Telegram's free limit is about 30; a bot with
    # paid broadcasts may go higher). 0: no limiter, for a fake Telegram in tests.
    telegram_max_rate: int = Field(default=DEFAULTS["telegram_max_rate"], ge=0)
    # Seconds a statement may wait for a database lock / run at all (PostgreSQL): one stuck
    # lock answers its own candidate late instead of freezing every worker thread.
    db_lock_timeout: float = Field(default=DEFAULTS["db_lock_timeout"], gt=0)
    db_statement_timeout: float = Field(default=DEFAULTS["db_statement_timeout"], gt=0)
    # How long a worker holds an inbox or outbox row before another worker may take it over
    # (renewed while it works; after a crash the row is free again within this time).
    lease_seconds: float = Field(default=DEFAULTS["lease_seconds"], ge=1)
    reminder_days: Annotated[tuple[int, ...], NoDecode] = DEFAULTS["reminder_days"]
    log_level: str = DEFAULTS["log_level"]
    # Base64 of 32 bytes; several, comma-separated, newest first, during a rotation
    # (storage/crypto.py). Unset: a key file beside the data (fine for a try-out, not for
    # production: a backup of the data folder would then hold the key too).
    master_key: SecretStr | None = None

    def keyring(self) -> Any:
        """The master keys as a `storage.crypto.Keyring`."""
        from storage.crypto import Keyring

        configured = self.master_key.get_secret_value() if self.master_key else None
        return Keyring.from_settings(configured, Path(self.upload_dir).parent)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_default(cls, data: Any) -> Any:
        # `.env.example` lists every variable with an empty value: empty means "the default".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    @field_validator("recruiter_user_ids", "reminder_days", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("dashboard_url")
    @classmethod
    def _dashboard_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        path = parts.path.rstrip("/")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("DASHBOARD_URL is an http(s) address, e.g. https://jobs.example.org/dashboard")
        if not path or parts.query or parts.fragment:
            raise ValueError("DASHBOARD_URL needs a path of its own (e.g. /dashboard), without ?query or #")
        if path in ("/healthz", "/metrics"):
            raise ValueError(f"DASHBOARD_URL's path {path} is taken by the health check or the metrics")
        if parts.username or parts.password or not parts.hostname:
            raise ValueError("DASHBOARD_URL has no user or password in it")
        # As a browser states its Origin: host in lower case (and IDNA), no default port.
        host = parts.hostname.encode("idna").decode("ascii")
        host = f"[{host}]" if ":" in host else host
        port = parts.port
        if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
            host = f"{host}:{port}"
        return f"{parts.scheme}://{host}{path}"

    @model_validator(mode="after")
    def _dashboard_beside_the_webhook(self) -> Settings:
        if self.dashboard_url and self.webhook_url:
            webhook = urlsplit(self.webhook_url).path.rstrip("/")
            dashboard = urlsplit(self.dashboard_url).path
            if webhook == dashboard or webhook.startswith(dashboard + "/"):
                raise ValueError("DASHBOARD_URL and WEBHOOK_URL need different paths")
        return self

    @field_validator("reminder_days")
    @classmethod
    def _positive_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 1 for day in value):
            raise ValueError("reminder days are whole days before the deadline, 1 or more")
        return tuple(sorted(set(value), reverse=True))
