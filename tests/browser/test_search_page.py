"""The search view in headless Chromium against the live service: facet clicks change the results
and a second click undoes them, the date histogram narrows to a month, j/k and Enter move through
the results, export downloads every hit (more than a page), the page stays light."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Page, expect

from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.search.request import SearchRequest
from tests.browser.pages import assert_offline, errors_of

MAX_FIRST_PAGE_BYTES = 300 * 1024


def total(page: Page) -> int:
    heading = page.locator("#results-heading").inner_text()
    return int(re.search(r"[\d,]+", heading).group().replace(",", ""))


def hit_ids(page: Page) -> list[str]:
    return [href.removeprefix("/ui/documents/") for href in page.locator("li[data-nav-item] h2 a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")]


def query_of(page: Page) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in parse_qsl(urlsplit(page.url).query):
        found.setdefault(name, []).append(value)
    return found


def test_facet_clicks_change_the_results_and_a_second_click_undoes_them(reader_page, live, screenshot):
    page = reader_page
    page.goto(live.at("/ui/search"))
    everything, all_ids = total(page), hit_ids(page)
    assert everything == live.service.index.count()  # every report (other tests may have ingested more)

    domains = page.locator("section.facet", has=page.get_by_role("heading", name="Domain")).get_by_role("link")
    domain = domains.first
    label = domain.inner_text().strip()
    count = int(domain.locator("xpath=../span[@class='count']").inner_text())
    domain.click()
    expect(page).to_have_url(re.compile(r"domain="))
    assert total(page) == count < everything
    chosen = query_of(page)["domain"][0]
    hits = page.locator("li[data-nav-item]")
    for i in range(hits.count()):  # every hit carries the domain clicked
        expect(hits.nth(i).locator(f".tags .chip.{chosen}")).to_have_count(1)
    expect(page.get_by_role("link", name=f"Remove filter Domain: {label}")).to_be_visible()

    place = page.locator("section.facet", has=page.get_by_role("heading", name="Places")).get_by_role("link").first
    place_name = place.inner_text().strip()
    place.click()
    expect(page).to_have_url(re.compile(r"entity=LOC"))
    narrowed = hit_ids(page)
    assert narrowed and total(page) <= count
    for doc_id in narrowed:
        key = entity_key(normalize_entity("LOC", place_name))
        assert any(e.label == "LOC" and entity_key(e.normalized) == key for e in live.service.index.get(doc_id).entities)
    screenshot(page, "search-two-facets")

    # the domain's facet link is now marked on, and clicking it again removes that filter alone
    on = page.locator("section.facet a.on", has_text=label)
    expect(on).to_have_attribute("aria-current", "true")
    on.click()
    assert "domain" not in query_of(page) and query_of(page)["entity"] == [f"LOC:{place_name}"]
    page.get_by_role("link", name=re.compile(r"^Remove filter LOC")).click()
    assert total(page) == everything and hit_ids(page) == all_ids and query_of(page) == {}
    assert errors_of(page) == []


def test_the_date_histogram_narrows_to_a_month(reader_page, live):
    page = reader_page
    page.goto(live.at("/ui/search"))
    bars = page.locator("svg.histogram a")
    assert bars.count() >= 1
    bar = bars.first
    said = bar.get_attribute("aria-label")  # "Mar 2021: 3 reports"
    count = int(re.search(r": (\d+) report", said).group(1))
    bar.click()
    expect(page).to_have_url(re.compile(r"published_from=\d{4}-\d{2}-01&published_to="))
    assert total(page) == count
    start, end = query_of(page)["published_from"][0], query_of(page)["published_to"][0]
    for doc_id in hit_ids(page):
        published = live.service.index.get(doc_id).document.published
        assert published is not None and start <= published.isoformat() <= end
    expect(page.locator("svg.histogram rect.on")).to_have_count(1)


def test_query_syntax_help_keys_and_the_first_page_weight(reader_page, live, screenshot, page_weight):
    page = reader_page
    page.goto(live.at("/ui/search"))
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search reports")).to_be_focused()
    page.keyboard.type("counterfeit OR fake -zzzz")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=counterfeit\+OR\+fake"))
    wanted = live.service.index.search(SearchRequest(text="counterfeit OR fake -zzzz"))
    assert total(page) == wanted.total > 0 and hit_ids(page) == [h.id for h in wanted.hits]
    expect(page.locator("li[data-nav-item] .snippet mark").first).to_be_visible()

    page.get_by_text("How to search").click()
    expect(page.locator("details.help")).to_contain_text("prefix*")
    screenshot(page, "search-help")
    page.get_by_text("How to search").click()

    page.locator("main").click(position={"x": 5, "y": 5})  # away from the box: j/k are for the list
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("li[data-nav-item].current")).to_have_count(1)
    second = hit_ids(page)[1]
    expect(page.locator("li[data-nav-item]").nth(1)).to_have_class(re.compile("current"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(live.at(f"/ui/documents/{second}"))

    page.goto(live.at("/ui/search"))  # ten hits, every facet: the first page an analyst opens
    screenshot(page, "search")
    weight = page_weight(page, live.at("/ui/search"))
    assert 0 < weight.bytes < MAX_FIRST_PAGE_BYTES, weight
    assert set(weight.responses) >= {live.at("/ui/search"), live.at("/ui/static/page.css"), live.at("/ui/static/page.js")}
    assert_offline(page, live)
    assert errors_of(page) == []


def test_odd_input_is_a_message_on_the_page(reader_page, live):
    page = reader_page
    page.goto(live.at("/ui/search?q=%22unclosed+OR&published_from=last+week"))
    expect(page.get_by_role("alert")).to_contain_text("published_from: 'last week' is not a date")
    page.goto(live.at("/ui/search?q=%22unclosed+OR"))  # odd query text alone is searched as its plain words
    expect(page.locator("#results-heading")).to_contain_text("report")


def test_export_downloads_every_hit_not_just_the_page(reader_page, live):
    page = reader_page
    page.goto(live.at("/ui/search?size=5&sort=date"))
    everything = total(page)
    assert everything > 5 and page.locator("li[data-nav-item]").count() == 5  # more than one page
    wanted = {h.id for h in live.service.index.search(SearchRequest(size=100)).hits}
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(csv_download.value.path(), encoding="utf-8-sig").read())))
    assert len(rows) == everything and {row["id"] for row in rows} == wanted
    with page.expect_download() as jsonl_download:
        page.get_by_role("link", name="JSONL").click()
    lines = open(jsonl_download.value.path(), encoding="utf-8").read().splitlines()
    assert len(lines) == everything and {json.loads(line)["id"] for line in lines} == wanted

    page.goto(live.at("/ui/search?size=5"))
    page.locator("section.facet", has=page.get_by_role("heading", name="Domain")).get_by_role("link").first.click()
    narrowed = total(page)
    with page.expect_download() as filtered:
        page.get_by_role("link", name="CSV").click()
    assert len(list(csv.DictReader(open(filtered.value.path(), encoding="utf-8-sig")))) == narrowed < everything
