"""The recruiter dashboard in a real browser: Debian's Chromium opens it as Telegram opens a Mini
App (signed start data in the URL's fragment), reads a submitted dossier with its documents and
invites the candidate; forged, stale and strangers' start data see nothing; a document's address
gives nothing without a session. Screenshots of the list and the dossier go to docs/ with
`make screenshots`.

The bot is the real Application on the fake Bot API (tests/bot_harness.py); its dashboard
(BotParts.dashboard) is served on 127.0.0.1 in the test's event loop, as the bot serves it on
PORT. One Chromium per module (tests/browser.py), a fresh browser context (no cookies) per page.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import pytest
import pytest_asyncio
from PIL import Image, ImageDraw
from playwright.async_api import Browser, BrowserContext, Page, Request, Response, Route
from starlette.applications import Starlette

from bot.dashboard.init_data import sign_init_data
from bot.dashboard.wiring import routes
from bot.sample_files import page_pdf, text_pdf
from bot.webhook_server import serve
from tests.bot_harness import CANDIDATE, OTHER, RECRUITER, RECRUITER_CHAT, BotHarness, Clock
from tests.browser import launched_chromium
from tests.test_bot import (
    DOCX_MIME,
    EMAIL,
    MOTIVATION_DOCX,
    NAME,
    SCRIPTS,
    VERA,
    accept_privacy,
)
from tests.test_bot_decisions import decisions
from tests.webhook_cluster import free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")  # the module's Chromium lives in its loop

COOKIE = "intake_dashboard"
TIMEOUT_MS = 15_000  # Playwright waits this long for an element or a response (default 30 s)
# What a document route answers with its file (a Word letter is offered as a download).
FILE_TYPES = ("application/pdf", "image/", "application/octet-stream",
              "application/vnd.openxmlformats")


def photo() -> bytes:
    """A photo of a diploma a browser can decode (sample_files.jpeg() only looks like one)."""
    image = Image.new("RGB", (480, 320), (250, 247, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, 467, 307), outline=(20, 110, 140), width=6)
    for y, line in ((60, "DIPLOMA"), (130, "Master in de Bestuurskunde"), (170, "Jan Peeters"),
                    (250, "(voorbeeld, fictief)")):
        draw.text((240, y), line, fill=(30, 40, 50), anchor="mm", font_size=26 if y == 60 else 18)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


# The CV as a candidate would send it: a page of text (pdf.js draws it in the dossier page).
CV_PDF = text_pdf(["Curriculum vitae", "Jan Peeters (fictief)", "", "Opleiding",
                   "2019-2021  Master in de Bestuurskunde", "", "Ervaring",
                   "2021-2026  Projectmedewerker, gemeente (voorbeeld)"])


def scanned_pdf() -> bytes:
    """A scanned diploma as a scanner makes it: a black-and-white image, CCITT G4 compressed
    (pdf.js decodes it with the JavaScript decoder vendored beside it)."""
    image = Image.new("L", (800, 400), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 790, 390), outline=0, width=8)
    draw.text((400, 200), "SCANNED DIPLOMA", fill=0, anchor="mm", font_size=60)
    tiff = io.BytesIO()
    image.convert("1").save(tiff, "TIFF", compression="group4")
    strip = Image.open(io.BytesIO(tiff.getvalue())).tag_v2
    data = tiff.getvalue()[strip[273][0]:strip[273][0] + strip[279][0]]
    return page_pdf(b"q 500 0 0 250 40 500 cm /Im0 Do Q", b"/XObject << /Im0 5 0 R >>",
                    b"<< /Type /XObject /Subtype /Image /Width 800 /Height 400 /ColorSpace "
                    b"/DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode /DecodeParms << "
                    b"/K -1 /Columns 800 /Rows 400 /BlackIs1 false >> /Length %d >>\nstream\n"
                    % len(data) + data + b"\nendstream")


@dataclass
class Dashboard:
    """The bot with one submitted dossier (Jan Peeters, vera-projectcoordinator: a CV in PDF, a
    motivation letter in Word, a photo of the diploma), its dashboard served at `base`."""

    bot: BotHarness
    base: str  # http://127.0.0.1:<port>/dashboard, DASHBOARD_URL
    dossier_id: int
    external: list[str] = field(default_factory=list)  # requests leaving 127.0.0.1 (aborted)
    console: list[str] = field(default_factory=list)  # the pages' console errors and warnings

    def init_data(self, user_id: int = RECRUITER, first_name: str = "Rita",
                  auth_date: float | None = None) -> str:
        """Start data as Telegram signs it with the bot's token; auth_date now on the clock
        the dashboard checks it with (the wall clock, as leases: not the product's date)."""
        fields = {
            "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
            "user": json.dumps({"id": user_id, "first_name": first_name, "language_code": "nl"},
                               separators=(",", ":")),
            "auth_date": str(int(auth_date if auth_date is not None
                                 else self.bot.wall_clock().timestamp())),
        }
        return sign_init_data(fields, self.bot.tg.token)

    def mini_app_url(self, init_data: str) -> str:
        """How a Telegram client opens the Mini App: the start data in the fragment."""
        # DASHBOARD_URL itself, as Telegram's menu button opens it: the server sends it on to
        # the first page, and the browser keeps the fragment across that redirect.
        return (f"{self.base}#tgWebAppData={quote(init_data, safe='')}"
                "&tgWebAppVersion=8.0&tgWebAppPlatform=web")

    async def page(self, context: BrowserContext) -> Page:
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        origin = self.base.split("/dashboard")[0]

        # Hermetic: nothing leaves the machine (a script from telegram.org, fonts...); the page
        # must work without it. Recorded, so a failure can name it.
        async def local_only(route: Route, request: Request) -> None:
            if request.url.startswith(origin + "/"):
                await route.continue_()
            else:
                self.external.append(request.url)
                await route.abort()

        await page.route("**/*", local_only)
        # A CSP violation or pdf.js giving up (no worker, an image it cannot decode) is only a
        # console message: the page would still look drawn. Recorded, and checked.
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}")
                if message.type in ("error", "warning") else None)
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        return page

    def assert_quiet(self) -> None:
        troubles = [m for m in self.console if any(sign in m for sign in (
            "Content Security Policy", "fake worker", "Unable to decode", "wasmUrl",
            "pageerror"))]  # (the sign-in page itself answers 401: Chromium logs that too)
        assert troubles == [], troubles


async def apply_with_documents(bot: BotHarness, cv: bytes = CV_PDF) -> int:
    """Jan applies to VERA's vacancy to the end: a submitted dossier with three documents, all
    kept (a criminal-record extract, as the school asks, is deleted once it served)."""
    await accept_privacy(bot, CANDIDATE, VERA)
    await bot.answer_all(CANDIDATE, SCRIPTS[VERA])
    await bot.upload(CANDIDATE, "cv.pdf", cv, "application/pdf")
    await bot.upload(CANDIDATE, "motivatie.docx", MOTIVATION_DOCX, DOCX_MIME)
    await bot.photo(CANDIDATE, photo())
    dossier = bot.dossier(CANDIDATE)
    assert dossier.status == "submitted", bot.last(CANDIDATE)
    await bot.deliver()  # the recruiters' notification now: later messages are the decision's
    return dossier.id  # type: ignore[return-value]


async def more_candidates(bot: BotHarness) -> None:
    """A list worth a picture: a foreign diploma without its attestation yet (submitted, on a
    condition), a bachelor still sending documents, and someone who only accepted the notice."""
    for user, name, extra, documents in (
            (113, "Amira El Idrissi", {"diploma.foreign": "Ja", "diploma.equivalence": "Nee"}, True),
            (114, "Pieter Claes", {"diploma.level": "Bachelor"}, False)):
        bot.tg.add_user(user, name.split()[0], "nl")
        await accept_privacy(bot, user, VERA)
        await bot.answer_all(user, {**SCRIPTS[VERA], "candidate.name": name,
                                    "candidate.email": f"{name.split()[0].lower()}@example.org",
                                    **extra})
        if documents:
            await bot.upload(user, "cv.pdf", CV_PDF, "application/pdf")
            await bot.upload(user, "motivatie.docx", MOTIVATION_DOCX, DOCX_MIME)
            await bot.photo(user, photo())
    bot.tg.add_user(115, "Sofie", "nl")
    await accept_privacy(bot, 115, VERA)
    await bot.deliver()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with launched_chromium() as browser:
        yield browser


@pytest_asyncio.fixture(loop_scope="module")
async def dashboard(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Dashboard]:
    """`request.param`, where a test gives one: the CV's bytes."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/dashboard"
    bot = BotHarness(tmp_path, Clock(), dashboard_url=base)
    bot.add_users()
    await bot.open()
    stop, ready = asyncio.Event(), asyncio.Event()
    server: asyncio.Task[None] | None = None
    try:
        dossier_id = await apply_with_documents(bot, getattr(request, "param", CV_PDF))
        assert bot.parts is not None and bot.parts.dashboard is not None, \
            "build_application made no dashboard although settings.dashboard_url is set"
        # Mounted as the bot's own server mounts it (with the bare address's redirect).
        app = Starlette(routes=routes(bot.settings, bot.parts.dashboard))
        server = asyncio.create_task(serve(app, host="127.0.0.1", port=port, stop=stop,
                                           ready=ready))
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({server, waiting}, return_when=asyncio.FIRST_COMPLETED, timeout=10)
        waiting.cancel()
        if server.done():
            server.result()  # raises what stopped it (a port taken meanwhile...)
        assert ready.is_set(), "the dashboard's server did not start listening within 10 s"
        yield Dashboard(bot, base, dossier_id)
    finally:
        stop.set()
        if server is not None:
            await server
        await bot.close()


@pytest_asyncio.fixture(loop_scope="module")
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile: no cookies, a phone-sized window as in Telegram."""
    context = await browser.new_context(viewport={"width": 480, "height": 900})
    yield context
    await close(context)


async def close(context: BrowserContext) -> None:
    """Close a profile; a request still in our route handler then is no error of the test."""
    for page in context.pages:
        await page.unroute_all(behavior="ignoreErrors")
    await context.close()


# ---------------------------------------------------------------- helpers


async def open_mini_app(dash: Dashboard, page: Page, init_data: str) -> Response:
    """Open the Mini App with `init_data`; return the answer to the page's POST of it."""
    async with page.expect_response(
            lambda r: r.url.split("?")[0] == f"{dash.base}/auth/telegram"
            and r.request.method == "POST") as posted:
        await page.goto(dash.mini_app_url(init_data))
    return await posted.value


async def settled(page: Page) -> str:
    """The page's HTML once the sign-in's answer is shown: the refusal, or the sign-in page
    (its script posts nothing more: the start data left the address with the post)."""
    await page.wait_for_selector("main#refused, main#signin")
    await page.wait_for_load_state("load")
    return await page.content()


async def sign_in(dash: Dashboard, page: Page) -> Response:
    """A recruiter opens the Mini App: the overview with VERA's vacancy."""
    posted = await open_mini_app(dash, page, dash.init_data())
    if posted.status != 303:  # say why at once, rather than time out waiting for the overview
        sent = await posted.request.all_headers()
        raise AssertionError(
            f"the recruiter's Mini App sign-in answered {posted.status}, not 303 to the "
            f"overview; the browser sent Origin: {sent.get('origin')!r}; the page says: "
            f"{await page.locator('main').first.inner_text()!r}")
    await page.wait_for_selector(f'section.vacancy[data-vacancy="{VERA}"]')
    return posted


async def open_list(page: Page) -> None:
    await page.click(f'section.vacancy[data-vacancy="{VERA}"] a.open-list')
    await page.wait_for_selector("table#dossiers")


async def open_dossier(dash: Dashboard, page: Page) -> None:
    """From the list, open the dossier; return once its documents are shown."""
    await page.click(f'tr[data-dossier="{dash.dossier_id}"] a.open-dossier')
    await page.wait_for_selector(f'article#dossier[data-dossier="{dash.dossier_id}"]')
    await page.wait_for_load_state("load")  # images and frames included
    # A PDF is drawn by pdf.js into a ".pdf[data-src]" holder, which marks itself "drawn" or
    # "failed" (it draws when scrolled into view: all are, in a full-page screenshot or here
    # after scrolling); an image must be decoded.
    await page.evaluate("""() => document.querySelectorAll('figure.document')
                                  .forEach(f => f.scrollIntoView())""")
    await page.wait_for_function(
        """() => [...document.querySelectorAll('figure.document img')]
                     .every(i => i.complete)
              && [...document.querySelectorAll('figure.document .pdf[data-src]')]
                     .every(h => h.classList.contains('drawn') || h.classList.contains('failed'))""")


async def document_urls(page: Page) -> dict[str, list[str]]:
    """The absolute addresses of the documents shown: {"img": [...], "pdf": [...]}."""
    urls: dict[str, list[str]] = await page.evaluate(
        """() => {
            const all = selector => [...document.querySelectorAll(selector)];
            return {
                img: all('figure.document img').map(e => e.src),
                pdf: all('figure.document .pdf[data-src]').map(
                         e => new URL(e.dataset.src, location.href).href),
            };
        }""")
    return urls


async def assert_documents_shown(page: Page) -> None:
    """Every image decoded; every PDF drawn by pdf.js has its pages (none failed)."""
    images = await page.eval_on_selector_all(
        "figure.document img", "images => images.map(i => [i.src, i.naturalWidth])")
    assert all(width > 0 for _, width in images), f"an image did not load: {images}"
    holders = await page.eval_on_selector_all(
        "figure.document .pdf[data-src]",
        "hs => hs.map(h => [h.dataset.src, h.className, h.querySelectorAll('canvas').length])")
    assert holders and all("drawn" in kind and pages > 0 for _, kind, pages in holders), \
        f"a PDF was not drawn: {holders}"
    # Drawn is not blank: each first page has ink on it (text, or a scanned image decoded).
    inked = await page.eval_on_selector_all(
        "figure.document .pdf canvas:first-of-type",
        """cs => cs.map(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let dark = 0;
            for (let i = 0; i < d.length; i += 4) { if (d[i] + d[i + 1] + d[i + 2] < 300) dark++; }
            return dark;
        })""")
    assert inked and all(dark > 200 for dark in inked), f"a PDF page drew blank: {inked}"


def assert_no_dossier_data(html: str) -> None:
    for secret in (NAME, "Peeters", EMAIL, "data-dossier"):
        assert secret not in html, f"{secret!r} is on a page without a valid session"


def save_screenshot(image: bytes, name: str, tmp_path: Path) -> None:
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 1000, name
    (tmp_path / name).write_bytes(image)
    folder = os.environ.get("DASHBOARD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_bytes(image)


# ---------------------------------------------------------------- a) the recruiter's way


async def test_a_recruiter_reads_the_dossier_and_its_documents_and_invites(
        dashboard: Dashboard, context: BrowserContext):
    dash, bot = dashboard, dashboard.bot
    page = await dash.page(context)
    await sign_in(dash, page)
    overview = page.locator(f'section.vacancy[data-vacancy="{VERA}"]')
    assert await overview.locator("img.funnel").count() == 1
    cookie = next(c for c in await context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] in ("Strict", "Lax")
    assert cookie["path"].rstrip("/") == "/dashboard"

    await open_list(page)
    row = page.locator(f'table#dossiers tr[data-dossier="{dash.dossier_id}"]')
    assert await row.count() == 1
    assert NAME in await row.inner_text()
    assert await page.locator("form#filters").count() == 1

    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    await open_dossier(dash, page)
    article = page.locator(f'article#dossier[data-dossier="{dash.dossier_id}"]')
    text = await article.inner_text()
    assert NAME in text and EMAIL in text  # the answers
    urls = await document_urls(page)
    assert len(urls["img"]) == 1 and len(urls["pdf"]) == 1, urls  # the diploma photo, the CV
    assert await page.locator("figure.document").count() == 3  # and the letter, as a link
    await assert_documents_shown(page)  # the photo decoded, the CV drawn (pdf.js)
    # The CV was answered with the PDF itself, to be shown (not downloaded).
    [pdf] = [r for r in responses if r.url == urls["pdf"][0]]
    assert pdf.status == 200, pdf.status
    headers = await pdf.all_headers()
    assert headers["content-type"].startswith("application/pdf"), headers
    assert headers.get("x-content-type-options") == "nosniff", headers
    assert headers.get("content-disposition", "").startswith("inline"), headers
    assert (await (await context.request.get(pdf.url)).body()).startswith(b"%PDF")

    await page.click('form.decide button[name="kind"][value="invited"]')
    await page.wait_for_selector("form#confirm")
    assert decisions(bot) == []  # a preview decides nothing
    told_before = len(bot.texts(CANDIDATE))
    await page.click("#confirm-button")
    await page.wait_for_selector('p#decision[data-decision="invited"]')
    assert await article.count() == 1  # back on the dossier page
    assert decisions(bot) == [("invited", None, str(RECRUITER))]

    await bot.deliver()
    told = bot.texts(CANDIDATE)[told_before:]
    assert any("je bent uitgenodigd" in t for t in told), told
    assert any(t.startswith("✅ Uitgenodigd door Rita om ") for t in bot.texts(RECRUITER_CHAT)), \
        bot.texts(RECRUITER_CHAT)[-3:]
    dash.assert_quiet()  # no script error, no CSP violation, pdf.js in its worker
    assert dash.external == [], dash.external  # nothing from elsewhere (CDNs, telegram.org)


# ---------------------------------------------------------------- b) refused start data


def forged(init_data: str) -> str:
    fields = dict(parse_qsl(init_data, keep_blank_values=True))
    last = fields["hash"][-1]
    fields["hash"] = fields["hash"][:-1] + ("0" if last != "0" else "1")
    return urlencode(fields)


@pytest.mark.parametrize("who", ["forged", "stale", "candidate", "stranger"])
async def test_refused_start_data_shows_nothing_of_the_dossiers(
        dashboard: Dashboard, context: BrowserContext, who: str):
    dash = dashboard
    init_data = {
        "forged": lambda: forged(dash.init_data()),
        "stale": lambda: dash.init_data(
            auth_date=dash.bot.wall_clock().timestamp() - 2 * 24 * 3600),
        "candidate": lambda: dash.init_data(user_id=CANDIDATE, first_name="Jan"),
        "stranger": lambda: dash.init_data(user_id=OTHER, first_name="Els"),
    }[who]()
    page = await dash.page(context)
    posted = await open_mini_app(dash, page, init_data)
    assert posted.status in (303, 400, 401, 403), posted.status
    html = await settled(page)
    assert await page.locator("main#refused, main#signin").count() == 1, html
    assert_no_dossier_data(html)
    assert COOKIE not in [c["name"] for c in await context.cookies()]

    # Asking for the list with what this browser holds (its cookies: the page's own script
    # may not fetch at all, the CSP has no connect-src) gets nothing either.
    answer = await page.request.get(f"{dash.base}/vacancies/{VERA}", max_redirects=0)
    body = await answer.text()
    signin = answer.status in (302, 303, 307) and answer.headers["location"].rstrip("/") \
        in (dash.base, urlsplit(dash.base).path)
    assert answer.status in (401, 403) or signin, (answer.status, answer.headers)
    assert_no_dossier_data(body)


# ---------------------------------------------------------------- c) documents need a session


async def test_a_document_address_gives_nothing_without_a_session(
        dashboard: Dashboard, context: BrowserContext, browser: Browser):
    dash = dashboard
    page = await dash.page(context)
    await sign_in(dash, page)
    await open_list(page)
    await open_dossier(dash, page)
    urls = await document_urls(page)
    links = await page.eval_on_selector_all(
        "a[href*='/documents/']", "links => links.map(a => a.href)")
    addresses = sorted({*urls["img"], *urls["pdf"], *links})
    assert len(addresses) >= 3, addresses  # the CV, the letter, the photo
    for url in addresses:  # with the session: the file
        answer = await context.request.get(url)
        assert answer.status == 200 and answer.headers["content-type"].startswith(FILE_TYPES), \
            (url, answer.status, answer.headers)

    stranger = await browser.new_context()
    try:
        for url in addresses:
            answer = await stranger.request.get(url, max_redirects=0)
            body = await answer.body()
            assert answer.status in (401, 403), (url, answer.status)
            assert not answer.headers.get("content-type", "").startswith(FILE_TYPES), \
                answer.headers
            assert not body.startswith((b"%PDF", b"\xff\xd8", b"PK")), body[:20]
            assert_no_dossier_data(body.decode("utf-8", "replace"))
        # A different dossier number in the same address does not help either.
        other = urljoin(addresses[0], f"/dashboard/dossiers/{dash.dossier_id + 1}/documents/1")
        assert (await stranger.request.get(other, max_redirects=0)).status in (401, 403)
    finally:
        await close(stranger)


# ---------------------------------------------------------------- d) screenshots


async def test_screenshots_of_the_list_and_the_dossier(
        dashboard: Dashboard, browser: Browser, tmp_path: Path):
    """docs/dashboard-list.png and docs/dashboard-dossier.png with DASHBOARD_SCREENSHOTS=docs."""
    dash = dashboard
    await more_candidates(dash.bot)
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = await dash.page(context)
        await sign_in(dash, page)
        await open_list(page)
        save_screenshot(await page.screenshot(full_page=True), "dashboard-list.png", tmp_path)
        await open_dossier(dash, page)
        await assert_documents_shown(page)
        save_screenshot(await page.screenshot(full_page=True), "dashboard-dossier.png", tmp_path)
        dash.assert_quiet()
    finally:
        await close(context)
    assert (tmp_path / "dashboard-list.png").stat().st_size > 0
    assert (tmp_path / "dashboard-dossier.png").stat().st_size > 0


@pytest.mark.parametrize("dashboard", [scanned_pdf()], indirect=True, ids=["ccitt-scan"])
async def test_a_scanned_pdf_is_drawn_not_blank(dashboard: Dashboard, context: BrowserContext):
    """A black-and-white scan (CCITT G4, what scanners make of a diploma): drawn with ink."""
    page = await dashboard.page(context)
    await sign_in(dashboard, page)
    await open_list(page)
    await open_dossier(dashboard, page)
    await assert_documents_shown(page)
    dashboard.assert_quiet()
