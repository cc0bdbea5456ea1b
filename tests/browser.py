"""Chromium for the dashboard's browser tests: Debian's executable, driven by Playwright.

    @pytest_asyncio.fixture(scope="module", loop_scope="module")
    async def browser() -> AsyncIterator[Browser]:
        async with launched_chromium() as browser:
            yield browser

The executable is $CHROMIUM, else /usr/bin/chromium (`make test` installs Debian's chromium when
it can); Playwright's own browser download is never used. No executable: the tests skip, naming
the path. An executable that does not start fails the tests: a broken browser is not a reason to
skip.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

DEFAULT_CHROMIUM = Path("/usr/bin/chromium")


def chromium_path() -> Path:
    """Where the Chromium executable should be: $CHROMIUM, else Debian's."""
    return Path(os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM)


@asynccontextmanager
async def launched_chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for the current event loop, closed afterwards; skips the test when
    there is no executable."""
    path = chromium_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"no Chromium executable at {path}: install Debian's chromium "
                    "(`make test` does as root) or set CHROMIUM to one")
    async with async_playwright() as playwright:
        # --no-sandbox: the tests may run as root, where Chromium refuses its sandbox.
        browser = await playwright.chromium.launch(executable_path=str(path), headless=True,
                                                   args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()
