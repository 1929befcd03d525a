"""/docs (Swagger UI) and /redoc (ReDoc) render in the browser from the assets installed with the
project: the API's operations are listed, no request leaves the service, no key is needed."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.pages import assert_offline, errors_of, refused_of, requests_of


def test_swagger_ui_lists_the_operations_offline(anonymous_page, live, screenshot):
    page = anonymous_page
    page.goto(live.at("/docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Kunlun NLP")
    search = page.locator(".opblock-summary-path[data-path='/search']")
    expect(search).to_be_visible()  # drawn from /openapi.json by the installed swagger-ui-bundle.js
    assert page.locator(".opblock").count() >= 20
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()  # the Bearer key scheme
    page.wait_for_load_state("networkidle")
    screenshot(page, "docs-swagger-ui", full_page=False)  # the top of the operations list; the whole page is 8,000 px

    search.click()  # an operation opens with its parameters
    expect(page.locator(".opblock", has=search).locator(".parameters tr[data-param-name='q']")).to_be_visible()

    assert live.at("/docs-assets/swagger-ui-bundle.js") in requests_of(page)
    assert_offline(page, live)
    assert errors_of(page) == []


def test_redoc_renders_the_api_offline(anonymous_page, live, screenshot):
    page = anonymous_page
    page.goto(live.at("/redoc"))
    expect(page.locator("h1", has_text="Kunlun NLP")).to_be_visible()  # drawn by the installed redoc.standalone.js
    expect(page.get_by_role("menuitem", name="search", exact=True)).to_be_visible()  # the API's tags make the menu
    expect(page.get_by_text("/search/semantic").first).to_be_attached()  # an operation's path, in its panel
    page.wait_for_load_state("networkidle")
    screenshot(page, "docs-redoc", full_page=False)

    assert live.at("/docs-assets/redoc.standalone.js") in requests_of(page)
    assert_offline(page, live)
    # ReDoc's menu asks cdn.redoc.ly for a logo: the docs' Content Security Policy refuses it unsent
    # (the menu hides a logo that does not load), and Chromium reports the refusal on the console.
    assert refused_of(page) == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]
    assert [e for e in errors_of(page) if "violates the following Content Security Policy" not in e] == []
