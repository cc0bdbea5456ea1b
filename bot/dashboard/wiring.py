"""The dashboard, put together from the settings and the bot's own parts (store, engine, files,
vacancies), ready to mount on the bot's web server; None when DASHBOARD_URL is not set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from bot.dashboard.app import DashboardConfig, build_dashboard
from flows.engine import Engine
from flows.ports import FileStore
from flows.vacancy import Vacancy
from settings import Settings
from storage.dashboard_access import SqlDashboardAccess
from storage.dossier_repository import SqlDossierStore


def dashboard_config(settings: Settings) -> DashboardConfig | None:
    if not settings.dashboard_url or settings.telegram_bot_token is None:
        return None
    return DashboardConfig(
        base_url=settings.dashboard_url.rstrip("/"),
        bot_token=settings.telegram_bot_token.get_secret_value(),
        recruiters=settings.recruiter_user_ids,
        session=timedelta(minutes=settings.dashboard_session_minutes),
        idle=timedelta(minutes=settings.dashboard_idle_minutes),
        start_data=timedelta(minutes=settings.dashboard_link_minutes))


def build(settings: Settings, *, store: SqlDossierStore, engine: Engine, files: FileStore,
          vacancies: dict[str, Vacancy], access: SqlDashboardAccess,
          wall_clock: Callable[[], datetime], decided: Callable[[], None]) -> ASGIApp | None:
    config = dashboard_config(settings)
    if config is None:
        return None
    return build_dashboard(config, store=store, engine=engine, files=files, vacancies=vacancies,
                           access=access, wall_clock=wall_clock, decided=decided)


def routes(settings: Settings, app: ASGIApp | None) -> list[BaseRoute]:
    """The dashboard as routes of the bot's web server (none without one). The bare
    DASHBOARD_URL, which Telegram's buttons open, goes on to its first page; a browser keeps the
    address's fragment (a Mini App's signed start data) across the redirect."""
    config = dashboard_config(settings)
    if app is None or config is None:
        return []

    async def to_first_page(request: Request) -> Response:
        return RedirectResponse(f"{config.path}/", status_code=307)

    return [Route(config.path, to_first_page, methods=["GET"]), Mount(config.path, app=app)]
