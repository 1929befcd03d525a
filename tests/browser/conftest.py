"""Browser-test fixtures: one live service per session (real app, uvicorn thread on 127.0.0.1, an
embedded index of real reports tagged by the shipped model, a key per role), one headless Chromium
(Debian's chromium-headless-shell from `scripts/browser`, driven by Playwright), and pages signed in
through the page's own sign-in form.

    def test_search_lists_reports(reader_page, live, screenshot):
        reader_page.goto(live.at("/ui/search?q=ghee"))
        expect(reader_page.get_by_role("article")).not_to_have_count(0)
        screenshot(reader_page, "search-ghee")

Fixtures: `live` (tests/browser/live.py LiveService: .url, .at(path), .service, .keys[role],
.documents), `browser`, `page_as(role or None)` (a new signed-in page each call), `reader_page`,
`intake_page`, `trainer_page`, `admin_page`, `anonymous_page`, `screenshot(page, name)` (a full-page
PNG, listed at the end of the run), `page_weight(page, url)` (pages.PageWeight of an empty-cache
load, listed at the end of the run). Helpers in tests/browser/pages.py: requests_of, errors_of,
assert_offline, weigh, sign_in.

The service is shared by the session: a test that writes (corrects, reviews, ingests) picks a
document no other test reads, or reads what it wrote only.

Every test here is marked `browser` (pytest -m browser / -m "not browser"). A missing Chromium
fails the tests, never skips them: install it with `scripts/browser path` (scripts/test does).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.live import LiveService, start_live_service
from tests.browser.pages import TIMEOUT_MS, PageWeight, new_page, sign_in, weigh
from tests.browser.reports import real_reports

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass
class BrowserRun:
    """What the terminal summary reports: set-up times, screenshots taken, pages weighed."""

    timings: dict[str, float] = field(default_factory=dict)
    screenshot_dir: Path | None = None
    screenshots: list[Path] = field(default_factory=list)
    weights: list[PageWeight] = field(default_factory=list)


RUN = pytest.StashKey[BrowserRun]()
expect.set_options(timeout=TIMEOUT_MS)  # as long as the pages' other waits (Playwright's own default: 5 s)


def _run(config: pytest.Config) -> BrowserRun:
    return config.stash.setdefault(RUN, BrowserRun())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    run = config.stash.get(RUN, None)
    if run is None:
        return
    terminalreporter.section("browser tests")
    if run.timings:
        steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in run.timings.items())
        terminalreporter.write_line(f"set-up: {steps}")
    if run.screenshot_dir is not None:
        terminalreporter.write_line(f"screenshots ({len(run.screenshots)}) in {run.screenshot_dir}")
        for path in run.screenshots:
            terminalreporter.write_line(f"  {path.name}")
    for weight in run.weights:
        terminalreporter.write_line(f"page weight {weight.url}: {weight}")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The headless Chromium: KUNLUN_CHROMIUM, else the Debian package's, as scripts/browser finds it."""
    found = subprocess.run([ROOT / "scripts" / "browser", "status"], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail(f"no headless Chromium for the browser tests: {found.stderr.strip()} (scripts/test installs it; "
                    "or set KUNLUN_CHROMIUM to a Chromium binary)", pytrace=False)
    return found.stdout.strip()


@pytest.fixture(scope="session")
def live(request, tmp_path_factory) -> LiveService:
    began = time.monotonic()
    reports = real_reports()
    timings = _run(request.config).timings
    timings["read reports"] = time.monotonic() - began
    service = start_live_service(tmp_path_factory.mktemp("live-service"), reports)
    timings.update(service.timings)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def browser(request, chromium_executable) -> Browser:
    began = time.monotonic()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_executable)
        _run(request.config).timings["launch Chromium"] = time.monotonic() - began
        yield launched
        launched.close()


@pytest.fixture
def page_as(browser, live):
    """page_as("trainer"): a new page signed in with the trainer's key (None: not signed in), in
    a context of its own (cookies, cache); closed after the test."""
    contexts = []

    def open_page(role: str | None = None) -> Page:
        page = new_page(browser)
        contexts.append(page.context)
        return sign_in(page, live, role) if role else page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def anonymous_page(page_as) -> Page:
    return page_as(None)


@pytest.fixture
def reader_page(page_as) -> Page:
    return page_as("reader")


@pytest.fixture
def intake_page(page_as) -> Page:
    return page_as("intake")


@pytest.fixture
def trainer_page(page_as) -> Page:
    return page_as("trainer")


@pytest.fixture
def admin_page(page_as) -> Page:
    return page_as("admin")


@pytest.fixture(scope="session")
def screenshot(request):
    """screenshot(page, "search-results"): the page as <folder>/search-results.png (the whole
    page; full_page=False: the window only); the path. The folder is KUNLUN_SCREENSHOTS, else a
    new one under the system's temporary folder (not pytest's, which later runs delete); the run's
    summary names it."""
    run = _run(request.config)
    folder = Path(os.environ.get("KUNLUN_SCREENSHOTS") or tempfile.mkdtemp(prefix="kunlun-screenshots-"))
    folder.mkdir(parents=True, exist_ok=True)
    run.screenshot_dir = folder.resolve()

    def take(page: Page, name: str, *, full_page: bool = True) -> Path:
        path = run.screenshot_dir / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', name)}.png"
        page.screenshot(path=path, full_page=full_page)
        if path not in run.screenshots:
            run.screenshots.append(path)
        return path

    return take


@pytest.fixture(scope="session")
def page_weight(request):
    """page_weight(page, url, ready=selector): pages.weigh (an empty-cache load of url with the
    page's cookies), listed in the run's summary."""
    run = _run(request.config)

    def measure(page: Page, url: str, *, ready: str | None = None) -> PageWeight:
        weight = weigh(page, url, ready=ready)
        run.weights.append(weight)
        return weight

    return measure
