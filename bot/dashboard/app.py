"""The recruiters' dashboard as an ASGI app, mounted on the bot's own web server at the path of
DASHBOARD_URL: who may come in, and what each route answers.

Coming in: a Telegram Mini App posts its signed start data (checked against the bot token,
fresh, for a user in RECRUITER_USER_IDS: `init_data.py`), or a recruiter posts the one-time
token of a /dashboard link. Either opens a server-side session (`storage/dashboard_access.py`)
held in an HttpOnly cookie; it ends after a fixed time, when idle, or at sign-out, and a user no
longer in RECRUITER_USER_IDS loses it on the next request. Without one, every route answers the
sign-in page or a refusal: no list, no count, no document.

Safe by construction: every state-changing request is a POST carrying the session's CSRF token
and coming from our own origin; documents come only through the authorised document route, with
Content-Disposition and nosniff; pages with personal data are never cached; every view of a
dossier, a document or an export is audited; a strict Content Security Policy (no inline
script or style, nothing from elsewhere) is on every answer.

Decisions are the Telegram buttons' own: the preview is `flows.decisions.preview`, the decision
`Engine.decide` — the candidate's message, the recruiters' chat line and the stale-button check
are the same, whichever screen a recruiter pressed.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import metrics
from bot.dashboard import views
from bot.dashboard.init_data import WebAppUser, verify_init_data
from bot.recruiter_commands import export_rows
from flows import decisions as D
from flows.dossier_summary import recruiter_locale
from flows.engine import Engine
from flows.events import Reply
from flows.messages import Msg, normalise_language, render
from flows.ports import FileStore
from flows.text_cleaning import display_name
from flows.vacancy import Vacancy
from storage.dashboard_access import Grant, Session, SqlDashboardAccess
from storage.dossier_repository import SqlDossierStore

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
COOKIE = "intake_dashboard"
# Where a browser without a session wanted to go (a notification's "open in the dashboard" in a
# group): after it signs in with a /dashboard link, it lands there. A path, nothing personal.
NEXT_COOKIE = "intake_dashboard_next"
PAGE_ROWS = 100  # dossiers on one page of the list: a phone renders that comfortably
PLAIN_PATH = re.compile(r"[A-Za-z0-9/_.\-]{1,200}")
FORM_MAX = 16 * 1024  # the largest form we take: Mini App start data are a few hundred bytes
SAID = ("decided", "stale", "gone", "invalid", "duplicate")  # outcomes a page may announce
TELEGRAM_WEB = "https://web.telegram.org"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       # The PDF viewer (static/documents.mjs) fetches a document and draws it in a worker.
       "connect-src 'self'; worker-src 'self'; "
       "form-action 'self'; base-uri 'none'; "
       # Telegram's web client shows a Mini App in a frame; its phone apps in a web view.
       f"frame-ancestors 'self' {TELEGRAM_WEB}")
# A document opened on its own (the page draws PDFs itself): nothing of its own runs, and no
# other page frames it.
DOCUMENT_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
LARGEST_ID = 2 ** 31 - 1  # ids are int4 on PostgreSQL: a larger one names nothing


@dataclass(frozen=True)
class DashboardConfig:
    base_url: str  # DASHBOARD_URL, as recruiters' browsers reach it
    bot_token: str
    recruiters: frozenset[int]
    session: timedelta
    idle: timedelta
    start_data: timedelta  # how old a link or a Mini App's start data may be

    @property
    def path(self) -> str:
        """Where the app is mounted: the path of DASHBOARD_URL."""
        return urlsplit(self.base_url).path.rstrip("/") or "/dashboard"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def secure(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"


class SecurityHeaders:
    """CSP, nosniff, a same-origin referrer and resource policy on every answer; no-store on
    all but the static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith(f"{scope.get('root_path', '')}/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = {b"content-security-policy": CSP.encode(),
                         b"x-content-type-options": b"nosniff",
                         # Not "no-referrer": under it Chromium sends `Origin: null` on
                         # our own form posts, and the Origin check refuses them.
                         b"referrer-policy": b"same-origin",
                         b"cross-origin-resource-policy": b"same-origin",
                         b"cache-control": b"no-cache" if static else b"no-store"}
                headers += [(k, v) for k, v in extra.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


def build_dashboard(config: DashboardConfig, *, store: SqlDossierStore, engine: Engine,
                    files: FileStore, vacancies: dict[str, Vacancy], access: SqlDashboardAccess,
                    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                    decided: Callable[[], None] = lambda: None) -> ASGIApp:
    """The dashboard app. `wall_clock` checks start data; `decided` wakes the outbox sender
    after a decision (its messages wait in the outbox)."""
    pages = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True), auto_reload=False)
    base = config.path

    def page(template: str, lang: str, status: int = 200, **values: Any) -> HTMLResponse:
        def t(key: str, **parts: Any) -> str:
            return render(Msg(key, parts), lang)
        html = pages.get_template(template).render(t=t, base=base, lang=lang, **values)
        return HTMLResponse(html, status_code=status)

    def refused(lang: str, reason: str, status: int = 403) -> HTMLResponse:
        return page("refused.html", lang, status, reason=reason)

    def signin(request: Request) -> HTMLResponse:
        """The only thing shown without a session: how to come in; the Mini App's script
        posts its start data from here, and a /dashboard link's sign-in comes back here."""
        lang = _browser_language(request)
        response = page("signin.html", lang, 401, next=request.url.path)
        wanted = _safe_next(request.url.path, base)
        # Only a plain path goes into a cookie (a ";" there would add attributes of its own).
        if wanted != f"{base}/" and PLAIN_PATH.fullmatch(wanted):
            cookie(response, wanted, int(config.start_data.total_seconds()) + 300, NEXT_COOKIE)
        return response

    async def session_of(request: Request) -> tuple[str, Session] | None:
        token = request.cookies.get(COOKIE, "")
        if not token or len(token) > 128:
            return None
        found = await asyncio.to_thread(access.session, token)
        if found is None or found.user_id not in config.recruiters:
            return None
        return token, found

    def signed_in(handler: Callable[[Request, Session], Awaitable[Response]], *,
                  page: bool = False) -> Callable[[Request], Awaitable[Response]]:
        """`handler` for a signed-in recruiter only. Without a session a `page` answers the
        sign-in page; files, exports and posts a bare 403."""
        async def guarded(request: Request) -> Response:
            if any(isinstance(v, int) and not 0 < v <= LARGEST_ID
                   for v in request.path_params.values()):
                return refused(_browser_language(request), "unknown", 404)
            if not page and request.method == "GET" and \
                    request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                # A file, an export or a chart is asked by our own pages only: another site
                # (a sibling subdomain too) must not make a recruiter's browser fetch, and
                # audit, personal data.
                return Response(status_code=403)
            held = await session_of(request)
            if held is None:
                if request.method == "GET" and (page or request.headers.get(
                        "sec-fetch-dest") == "document"):
                    return signin(request)  # a page, or a file opened as one: how to come in
                return Response(status_code=403)  # files, exports, posts: nothing at all
            if request.method == "POST":
                form = await _form(request)
                if form is None or not _same_origin(request, config, log) or not hmac.compare_digest(
                        form.get("csrf", "").encode(), held[1].csrf.encode()):
                    log.info("dashboard: a post refused (no valid CSRF token or origin)")
                    return refused(held[1].language, "csrf")
                request.state.form = form
            request.state.token = held[0]
            return await handler(request, held[1])
        return guarded

    def cookie(response: Response, token: str, max_age: int, name: str = COOKIE) -> None:
        # Over https: SameSite=None and partitioned, for Telegram's web client, which shows the
        # Mini App in a frame of web.telegram.org (a Lax cookie is not sent there). Posts are
        # guarded by the CSRF token and the Origin check, not by SameSite. The same attributes
        # to delete it: a cookie is replaced only by one set the same way.
        parts = [f"{name}={token}", f"Max-Age={max_age}", f"Path={base}", "HttpOnly"]
        parts += ["Secure", "SameSite=None", "Partitioned"] if config.secure else ["SameSite=Lax"]
        response.raw_headers.append((b"set-cookie", "; ".join(parts).encode("latin-1")))

    async def start(request: Request, grant: Grant, next_path: str) -> Response:
        earlier = request.cookies.get(COOKIE, "")
        if earlier and len(earlier) <= 128:  # signing in again: the old session ends
            await asyncio.to_thread(access.close_session, earlier)
        opened = await asyncio.to_thread(access.open_session, grant, config.session, config.idle)
        response = RedirectResponse(_safe_next(next_path, base), status_code=303)
        cookie(response, opened.token, int(config.session.total_seconds()))
        return response

    # ------------------------------------------------------------------ coming in

    async def sign_in_form(request: Request) -> tuple[dict[str, str] | None, str]:
        """A sign-in's form, when it is one posted from our own origin (else None, counted),
        and the language to answer in."""
        form = await _form(request)
        if form is None or not _same_origin(request, config, log):
            metrics.dashboard_sign_in("origin" if form is not None else "malformed")
            form = None
        return form, _browser_language(request)

    async def telegram_signin(request: Request) -> Response:
        form, lang = await sign_in_form(request)
        if form is None:
            return refused(lang, "signin")
        user = verify_init_data(form.get("init_data", ""), config.bot_token,
                                wall_clock(), config.start_data)
        if not isinstance(user, WebAppUser) or user.id not in config.recruiters:
            why = str(user) if not isinstance(user, WebAppUser) else "not_recruiter"
            log.info("dashboard: Mini App sign-in refused (%s)", why)
            metrics.dashboard_sign_in(why)
            return refused(lang, "signin")
        grant = Grant(user.id, user.first_name, normalise_language(user.language_code))
        metrics.dashboard_sign_in("accepted")
        return await start(request, grant, form.get("next", ""))

    async def link_page(request: Request) -> Response:
        # A page with a button, not the sign-in itself: link previews and scanners that fetch
        # the link must not use it up.
        token = request.path_params["token"]
        return page("login.html", _browser_language(request), token=token)

    async def link_signin(request: Request) -> Response:
        form, lang = await sign_in_form(request)
        if form is None:
            return refused(lang, "signin")
        grant = await asyncio.to_thread(access.redeem_link, form.get("token", "")[:128])
        if grant is None or grant.user_id not in config.recruiters:
            log.info("dashboard: a sign-in link refused (unknown, used or expired)")
            metrics.dashboard_sign_in("link" if grant is None else "not_recruiter")
            return refused(lang, "link")
        metrics.dashboard_sign_in("accepted")
        response = await start(request, grant, request.cookies.get(NEXT_COOKIE, ""))
        cookie(response, "", 0, NEXT_COOKIE)
        return response

    async def sign_out(request: Request, session: Session) -> Response:
        await asyncio.to_thread(access.close_session, request.state.token)
        response = RedirectResponse(f"{base}/", status_code=303)
        cookie(response, "", 0)
        return response

    async def language(request: Request, session: Session) -> Response:
        chosen = normalise_language(request.state.form.get("language"))
        await asyncio.to_thread(access.set_language, request.state.token, chosen)
        return RedirectResponse(_safe_next(request.state.form.get("next", ""), base),
                                status_code=303)

    # ------------------------------------------------------------------ the pages

    async def overview(request: Request, session: Session) -> Response:
        cards = await asyncio.to_thread(views.overview, store, vacancies, session.language)
        return page("overview.html", session.language, session=session, cards=cards,
                    here=request.url.path)

    def vacancy_of(request: Request) -> Vacancy | None:
        return vacancies.get(request.path_params["vacancy_id"])

    async def dossier_list(request: Request, session: Session) -> Response:
        vacancy = vacancy_of(request)
        if vacancy is None:
            return refused(session.language, "unknown", 404)
        query = dict(request.query_params)
        filters = views.Filters.parse(query)
        rows = await asyncio.to_thread(views.dossier_rows, store, vacancy, filters,
                                       session.language)
        pages = max(1, -(-len(rows) // PAGE_ROWS))
        number = query.get("page", "1")
        shown = min(int(number), pages) if _digits(number) and 0 < len(number) < 6 and \
            int(number) > 0 else 1

        def page_url(n: int) -> str:  # the same filters, another page
            return f"{request.url.path}?{urlencode({**query, 'page': str(n)})}"
        locale = recruiter_locale(vacancy, session.language)
        return page("list.html", session.language, session=session,
                    rows=rows[(shown - 1) * PAGE_ROWS:shown * PAGE_ROWS], total=len(rows),
                    page_number=shown, pages=pages,
                    previous=page_url(shown - 1) if shown > 1 else None,
                    following=page_url(shown + 1) if shown < pages else None,
                    filters=filters, kinds=D.KINDS, vacancy=vacancy,
                    title=render(vacancy.title, locale), views=views, here=request.url.path)

    async def funnel_png(request: Request, session: Session) -> Response:
        vacancy = vacancy_of(request)
        if vacancy is None:
            return Response(status_code=404)

        from bot.stats_chart import vacancy_chart  # matplotlib: only when a chart is asked

        png = await asyncio.to_thread(vacancy_chart, store, vacancy,
                                      recruiter_locale(vacancy, session.language))
        return Response(png, media_type="image/png")

    async def export(request: Request, session: Session) -> Response:
        vacancy = vacancy_of(request)
        if vacancy is None:
            return Response(status_code=404)

        def rows() -> bytes:
            data, ids = export_rows(store, vacancy, session.language)  # /export's own
            store.audit(ids, "dashboard_export", {"by": session.user_id})
            return data
        data = await asyncio.to_thread(rows)
        return Response(data, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{vacancy.id}.csv"'})

    async def dossier(request: Request, session: Session) -> Response:
        dossier_id = request.path_params["dossier_id"]

        def read() -> views.DossierPage | None:
            found = store.get_dossier(dossier_id)
            if found is None or found[0].vacancy_id not in vacancies:
                return None
            store.audit([dossier_id], "dashboard_view", {"by": session.user_id})
            return views.dossier_page(store, vacancies[found[0].vacancy_id], found[0], found[2],
                                      session.language, {str(session.user_id): session.name})
        shown = await asyncio.to_thread(read)
        if shown is None:
            return refused(session.language, "unknown", 404)
        said = request.query_params.get("said")
        return page("dossier.html", session.language, session=session, d=shown,
                    said=said if said in SAID else None, here=request.url.path)

    async def document(request: Request, session: Session) -> Response:
        dossier_id, document_id = request.path_params["dossier_id"], request.path_params["document_id"]

        def read() -> tuple[bytes, Any] | None:
            found = store.open_document(document_id)
            if found is None or found[0].dossier_id != dossier_id:
                return None
            doc, sealer = found
            if not doc.stored_path:
                return None  # deleted after it served (a criminal-record extract)
            data = files.read(doc.stored_path, sealer)
            store.audit([dossier_id], "dashboard_document",
                        {"by": session.user_id, "document": document_id})
            return data, doc
        got = await asyncio.to_thread(read)
        if got is None:
            return Response(status_code=404)
        data, doc = got
        viewable = doc.media_type in views.VIEWABLE
        name = display_name(doc.original_name)
        disposition = "inline" if viewable else "attachment"
        return Response(data, media_type=doc.media_type if viewable else "application/octet-stream",
                        headers={"Content-Disposition":
                                 f"{disposition}; filename*=UTF-8''{quote(name, safe='')}",
                                 "Content-Security-Policy": DOCUMENT_CSP})

    # ------------------------------------------------------------------ deciding

    def press_from(values: dict[str, str], dossier_id: int, stage: str = "") -> D.Press | None:
        kind, version = values.get("kind", ""), values.get("version", "")
        if kind not in D.CODES or not _digits(version) or len(version) > 9:
            return None
        return D.parse(f"{D.PREFIX}:{dossier_id}:{version}:{D.CODES[kind]}:"
                       f"{values.get('argument', '')}:{stage}")

    async def decide_page(request: Request, session: Session) -> Response:
        dossier_id = request.path_params["dossier_id"]
        press = press_from(dict(request.query_params), dossier_id)
        if press is None:
            return refused(session.language, "unknown", 400)

        def read() -> tuple[D.Preview, Any, Vacancy | None]:
            found = store.get_dossier(dossier_id)
            if found is None:
                return D.Preview("gone"), None, None
            vacancy = vacancies.get(found[0].vacancy_id)
            shown = D.preview(vacancy, found[0], found[1], found[2], store.decisions(dossier_id),
                              press)
            if shown.stage not in ("gone", "stale"):  # else the dossier page shows (and audits)
                # It shows the candidate's name and the message to them: a view.
                store.audit([dossier_id], "dashboard_view", {"by": session.user_id})
            return shown, found, vacancy
        shown, found, vacancy = await asyncio.to_thread(read)
        if shown.stage in ("gone", "stale") or vacancy is None:
            return RedirectResponse(f"{base}/dossiers/{dossier_id}?said={shown.stage}",
                                    status_code=303)
        locale = recruiter_locale(vacancy, session.language)
        choices = [(D.parse(c.token).argument, render(c.label, locale))  # type: ignore[union-attr]
                   for c in shown.choices]
        told = (Reply(found[1].language, shown.told, locale=shown.locale).text()
                if shown.stage == "confirm" else "")
        return page("decide.html", session.language, session=session, press=press,
                    stage=shown.stage, choices=choices, told=told,
                    what=render(shown.what, locale) if shown.what else "",
                    title=render(vacancy.title, locale), name=views.dossier_name(found[0], locale),
                    nonce=secrets.randbelow(2 ** 62) + 1, here=request.url.path)

    async def decide(request: Request, session: Session) -> Response:
        dossier_id = request.path_params["dossier_id"]
        form = request.state.form
        press = press_from(form, dossier_id, D.CONFIRM)
        nonce = form.get("nonce", "")
        if press is None or not _digits(nonce) or not 0 < int(nonce) < 2 ** 62:
            return refused(session.language, "unknown", 400)

        def apply() -> str:
            found = store.get_dossier(dossier_id)
            if found is None:
                return "gone"
            candidate = found[1]
            # The form's nonce, negated, is the decision's event id: a form sent twice (a
            # double click, a retry) decides once; Telegram's update ids are positive.
            return engine.decide(candidate.channel, candidate.external_id, press,
                                 str(session.user_id), session.name, event_id=-int(nonce))
        outcome = await asyncio.to_thread(apply)
        log.info("dashboard: decision %s on dossier %s %s", press.kind, dossier_id, outcome)
        decided()
        return RedirectResponse(f"{base}/dossiers/{dossier_id}?said={outcome}", status_code=303)

    routes = [
        Route("/", signed_in(overview, page=True), methods=["GET"]),
        Route("/auth/telegram", telegram_signin, methods=["POST"]),
        Route("/login/{token:str}", link_page, methods=["GET"]),
        Route("/login", link_signin, methods=["POST"]),
        Route("/logout", signed_in(sign_out), methods=["POST"]),
        Route("/language", signed_in(language), methods=["POST"]),
        Route("/vacancies/{vacancy_id:str}", signed_in(dossier_list, page=True), methods=["GET"]),
        Route("/vacancies/{vacancy_id:str}/funnel.png", signed_in(funnel_png), methods=["GET"]),
        Route("/vacancies/{vacancy_id:str}/export.csv", signed_in(export), methods=["GET"]),
        Route("/dossiers/{dossier_id:int}", signed_in(dossier, page=True), methods=["GET"]),
        Route("/dossiers/{dossier_id:int}/documents/{document_id:int}", signed_in(document),
              methods=["GET"]),
        Route("/dossiers/{dossier_id:int}/decide", signed_in(decide_page, page=True), methods=["GET"]),
        Route("/dossiers/{dossier_id:int}/decide", signed_in(decide), methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.router.redirect_slashes = False
    return SecurityHeaders(app)



async def _form(request: Request) -> dict[str, str] | None:
    """A small url-encoded form, read with a cap; None when it is too big or not a form."""
    if request.headers.get("content-type", "").split(";")[0].strip() != \
            "application/x-www-form-urlencoded":
        return None
    length = request.headers.get("content-length")
    if length is not None and (not length.isdecimal() or int(length) > FORM_MAX):
        return None
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > FORM_MAX:
                return None
    except ClientDisconnect:
        return None
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20))
    except (UnicodeDecodeError, ValueError):
        return None


def _same_origin(request: Request, config: DashboardConfig, log: logging.Logger) -> bool:
    """A post from our own pages: the browser's Origin is DASHBOARD_URL's (not whatever the Host
    header claims); a browser that sends none must not call the request cross-site."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    if origin == config.origin:
        return True
    # Addresses, no person: a DASHBOARD_URL other than where browsers reach the bot refuses
    # every sign-in, and this line says why.
    log.warning("dashboard: a post from %s refused; DASHBOARD_URL's origin is %s",
                origin[:100], config.origin)
    return False


def _digits(text: str) -> bool:
    """ASCII digits only (str.isdecimal also takes other scripts' digits)."""
    return text.isascii() and text.isdigit()


def _safe_next(path: str, base: str) -> str:
    """Where to go after signing in: a page of ours, never elsewhere (no open redirect)."""
    if path.startswith(f"{base}/") and "//" not in path and "\\" not in path and len(path) < 200:
        return path
    return f"{base}/"


def _browser_language(request: Request) -> str:
    """Before a session: the browser's first language, Dutch unless it asks for English."""
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "nl"
