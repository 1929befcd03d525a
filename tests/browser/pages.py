"""What the browser tests do with a page: open it signed in as a role, record what it asked the
network for and which script errors it raised, and weigh a page load."""

from __future__ import annotations

from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from playwright.sync_api import Browser, BrowserContext, Page, Request

from api.auth import SESSION_COOKIE
from tests.browser.live import LiveService

TIMEOUT_MS = 10_000  # a wait that fails, fails in seconds, not in Playwright's default 30
VIEWPORT = {"width": 1280, "height": 900}
# Schemes that are no request to anyone: inline images and fonts, script-made objects, blank pages.
LOCAL_SCHEMES = ("data:", "blob:", "about:")


@dataclass
class Record:
    """What a browser context did: every URL it asked for, in order, those its pages' Content
    Security Policy refused before sending, and every script error."""

    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


_records: WeakKeyDictionary[BrowserContext, Record] = WeakKeyDictionary()


def new_page(browser: Browser, **context_options) -> Page:
    """A page in a fresh context (own cookies, own cache) whose requests and errors are recorded."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="UTC", **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    record = _records[context] = Record()
    context.on("request", lambda request: record.requests.append(request.url))
    context.on("requestfailed", lambda request: record.refused.append(request.url) if request.failure == "csp" else None)
    page = context.new_page()
    _watch_errors(page, record)
    context.on("page", lambda opened: _watch_errors(opened, record))  # a popup or a new tab
    return page


def _watch_errors(page: Page, record: Record) -> None:
    page.on("pageerror", lambda error: record.errors.append(f"{page.url}: uncaught {error}"))
    page.on("console", lambda message: record.errors.append(f"{page.url}: console.error {message.text}")
            if message.type == "error" else None)


def sign_in(page: Page, live: LiveService, role: str) -> Page:
    """Sign in through the page's own form, as an analyst does: the role's key pasted into
    /ui/sign-in and posted. The session cookie is then in the page's context."""
    page.goto(live.at("/ui/sign-in"))
    page.locator("form[action='/ui/sign-in'] input[name=key]").fill(live.keys[role])
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == live.at("/ui/sign-in")) as posted:
        page.locator("form[action='/ui/sign-in'] [type=submit]").click()
    assert posted.value.status == 303, f"signing in as {role} answered {posted.value.status}, not a redirect"
    page.wait_for_load_state()
    cookies = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookies and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict", cookies
    return page


def requests_of(page: Page) -> list[str]:
    """Every URL the page's context requested so far (its other pages' too), in order."""
    return list(_records[page.context].requests)


def refused_of(page: Page) -> list[str]:
    """The URLs the page's context asked for that its Content Security Policy refused: never sent."""
    return list(_records[page.context].refused)


def errors_of(page: Page) -> list[str]:
    """Uncaught script errors and console.error messages in the page's context so far."""
    return list(_records[page.context].errors)


def assert_offline(page: Page, live: LiveService) -> None:
    """Nothing the page's context asked for left the live service (no CDN, no fonts site), unless
    the browser refused it by the page's Content Security Policy before sending it."""
    record = _records[page.context]
    elsewhere = [url for url in record.requests
                 if not url.startswith((live.url + "/", *LOCAL_SCHEMES)) and url not in record.refused]
    assert not elsewhere, f"requests that left {live.url}: {elsewhere}"


@dataclass(frozen=True)
class PageWeight:
    url: str
    bytes: int  # response bodies as transferred (encoded), every request of the load
    responses: dict[str, int]  # URL -> its body's bytes

    def __str__(self) -> str:
        return f"{self.bytes / 1024:.1f} KB in {len(self.responses)} responses"


def weigh(page: Page, url: str, *, ready: str | None = None) -> PageWeight:
    """What loading `url` costs a browser with an empty cache: the sum of the response bodies of
    every request until the network is idle, in a fresh context holding the page's cookies (so
    signed in as it is), leaving `page` itself where it was. `ready`: a selector the page shows
    once its scripts have fetched what they fetch at start (idle alone can come first on a busy
    machine, while a large script is still being compiled)."""
    context = page.context.browser.new_context(viewport=VIEWPORT, storage_state=page.context.storage_state())
    try:
        finished: list[Request] = []
        fresh = context.new_page()
        fresh.on("requestfinished", lambda request: finished.append(request))
        fresh.goto(url, wait_until="networkidle", timeout=TIMEOUT_MS * 2)
        if ready is not None:
            fresh.locator(ready).first.wait_for()
            fresh.wait_for_load_state("networkidle")
        sizes: dict[str, int] = {}
        for request in finished:
            sizes[request.url] = sizes.get(request.url, 0) + max(request.sizes()["responseBodySize"], 0)
        return PageWeight(url, sum(sizes.values()), sizes)
    finally:
        context.close()
