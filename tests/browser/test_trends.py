"""Trends in the browser: the page draws its charts from the live index's facets: a timeline column
for every month (then every week) from the first dated report to the last, one stacked bar per
domain count (and a grey one for reports in none), a legend entry per series; as many firm, place and product bars as the facets hold
(up to ten); a dot for every place with coordinates. All drawn on the server, visible, offline."""

from __future__ import annotations

from dataclasses import replace

from playwright.sync_api import expect

from api.page.views.trends import MAX_COLUMNS, PLACES, TOP, column_values, filled
from kunlun_nlp.normalize import entity_details
from kunlun_nlp.search.request import SearchRequest
from tests.browser.pages import assert_offline, errors_of


def test_the_trends_page_draws_its_charts_for_the_data(reader_page, live, screenshot, page_weight):
    page = reader_page
    page.goto(live.at("/ui/trends"))
    request = SearchRequest(facets=True, size=1, facet_size=PLACES)
    facets = live.service.index.search(request).facets
    assert facets.published, "the live reports have dates"

    timeline = page.locator("svg#timeline")
    expect(timeline).to_be_visible()
    assert timeline.get_attribute("role") == "img"
    months = filled(facets.published, "month")
    expect(timeline.locator("g.column")).to_have_count(len(months))
    stacked = [(d, n) for b in months for d, n in column_values(b).items() if n]  # the domains, and grey for none
    expect(timeline.locator("rect[data-series]")).to_have_count(len(stacked))
    assert sorted(int(v) for v in timeline.locator("rect[data-series]").evaluate_all("rs => rs.map(r => r.dataset.value)")) == \
        sorted(n for _, n in stacked)
    series = {d for b in facets.published for d in column_values(b)}
    expect(timeline.locator("g.legend rect")).to_have_count(len(series))
    tallest = timeline.locator("rect[data-series]").evaluate_all("rs => Math.max(...rs.map(r => r.getBoundingClientRect().height))")
    assert tallest > 5, "the bars are drawn with a height on screen"

    for chart, label in (("top-firms", "ORG"), ("top-places", "LOC"), ("top-products", "PRODUCT")):
        values = facets.entities.get(label, [])[:TOP]
        if values:
            bars = page.locator(f"svg#{chart} g.bar")
            expect(bars).to_have_count(len(values))
            assert bars.first.get_attribute("data-label") == values[0].value
    located = [p for p in facets.entities.get("LOC", []) if (entity_details("LOC", p.value) or {}).get("lat") is not None]
    expect(page.locator("svg#place-map g.dot")).to_have_count(len(located))
    expect(page.locator("table.place-table tbody tr")).to_have_count(len(facets.entities.get("LOC", [])))
    page.locator("svg#timeline").scroll_into_view_if_needed()
    screenshot(page, "trends")

    page.select_option("select[name=interval]", "week")  # the form: by week
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/ui/trends?*interval=week*")
    weeks = filled(live.service.index.search(replace(request, interval="week")).facets.published, "week")
    expect(page.locator("svg#timeline g.column")).to_have_count(min(len(weeks), MAX_COLUMNS))
    expect(page.locator("#timeline-heading")).to_have_text("Reports per domain by week")

    assert_offline(page, live)
    assert errors_of(page) == []
    page_weight(page, live.at("/ui/trends"))
