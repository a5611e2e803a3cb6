"""Fixtures for the browser checks: the cast, one live server, one Chromium, one session per role.

The checks drive Debian's `chromium` through Playwright (Playwright's own browser download
cannot work on a machine without internet) and inject axe-core from npm into every page.

Everything expensive happens once per test session: the cast is written to the test database
once, the live server and Chromium start once, and each role signs in once, through the real
sign-in and two-factor pages, into a browser context that all of that role's tests reuse. The
language is chosen per test with the `django_language` cookie, so one signed-in context serves
both Swedish and English.

The live server is pytest-django's `LiveServer`, started here rather than through the
`live_server` fixture: that fixture makes every test flush the database afterwards, which
would throw the cast and the signed-in sessions away after the first test. Instead the tests
are marked `django_db`, so each runs in a transaction that is rolled back afterwards. On
SQLite (as CI runs them) the server thread shares the test's in-memory connection, as in
Django's own LiveServerTestCase, so it sees the cast and what the test changes, and a test's
changes (the unit made by the keyboard flow) do not leak into the next test; on PostgreSQL
the server's own writes commit and are removed with the cast at the end. The cast and the
sign-ins are committed before the first test, outside those transactions.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROLE_PEOPLE,
    ROLES,
    Cast,
    build_cast,
    new_context,
    set_language,
    sign_in,
)


@pytest.fixture(scope="session")
def cast(django_db_setup: None, django_db_blocker: Any) -> Iterator[Cast]:
    """The cast, written once. Database access stays on for the rest of the browser session.

    The live server answers in its own thread, so access cannot be switched on per test.
    Afterwards the tables are emptied, so no later test inherits the cast.
    """
    with django_db_blocker.unblock():
        yield build_cast()
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="session")
def server(cast: Cast) -> Iterator[LiveServer]:
    """The app on a free local port, serving static files from STATICFILES_DIRS (npm)."""
    live = LiveServer(os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"))
    live._live_server_modified_settings.enable()
    yield live
    live._live_server_modified_settings.disable()
    live.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Session:
    """A browser context, signed in as one role, and its one open tab."""

    role: str
    context: BrowserContext
    page: Page


@pytest.fixture(scope="session")
def sessions(
    chromium: Browser, server: LiveServer, cast: Cast
) -> Iterator[Callable[[str], Session]]:
    """`sessions(role)`: the browser session of `role`, signed in.

    Everyone signs in here, before the first test, so that the sessions are committed and
    survive the rollback that ends each test.
    """
    opened: dict[str, Session] = {}
    for role in ROLES:
        context = new_context(chromium, server.url)
        page = context.new_page()
        if role != "anonymous":
            username = ROLE_PEOPLE[role]
            sign_in(page, username, cast.devices.get(username))
        opened[role] = Session(role, context, page)
    yield opened.__getitem__
    for session in opened.values():
        session.context.close()


@pytest.fixture(scope="session")
def server_url(server: LiveServer) -> str:
    return server.url


@pytest.fixture
def page(request: pytest.FixtureRequest, chromium: Browser, server_url: str) -> Iterator[Page]:
    """A fresh, signed-out tab in Swedish (a module's LANGUAGE may choose another).

    The browser's own locale is sv-SE; a module sets BROWSER_LOCALE = "en-US" where its date
    fields should take month, day and year.
    """
    context = new_context(
        chromium, server_url, locale=getattr(request.module, "BROWSER_LOCALE", "sv-SE")
    )
    set_language(context, server_url, getattr(request.module, "LANGUAGE", "sv"))
    page = context.new_page()
    yield page
    context.close()
