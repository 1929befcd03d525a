"""The trends view (/ui/trends), rendered by the real app over a real embedded index of the sample
reports tagged by the real pipeline: the timeline has a column for every month (or week) from the
first report to the last, empty ones included, stacked by domain as the index counts them; the top
firms, places and products are bars linking to their reports; places with coordinates (resolved as
LOC entities are) are dots on the map, and every place is in the table; filters are the search's."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.page.views.trends import PLACES, TOP, column_values, filled
from kunlun_nlp.normalize import entity_details
from kunlun_nlp.search.request import EntityFilter, SearchRequest
from kunlun_nlp.search.results import DateBucket
from tests.pages import client_as, page


@pytest.fixture
def service(corpus_service):
    return corpus_service


@pytest.fixture
def reader(service) -> TestClient:
    return client_as(service, "reader", next_path="/ui/trends")




def columns(tree) -> list:
    return tree.xpath("//svg[@id='timeline']//*[local-name()='g'][@class='column']")


def test_filled_puts_in_the_empty_months_and_weeks_between_the_first_and_the_last():
    months = [DateBucket(date(2023, 11, 1), 2, {"FOOD": 2}), DateBucket(date(2024, 2, 1), 1, {"IP": 1})]
    assert [(b.start, b.count) for b in filled(months, "month")] == [
        (date(2023, 11, 1), 2), (date(2023, 12, 1), 0), (date(2024, 1, 1), 0), (date(2024, 2, 1), 1)]
    assert filled(months, "month")[0] is months[0]
    weeks = [DateBucket(date(2024, 12, 23), 1, {}), DateBucket(date(2025, 1, 13), 3, {})]
    assert [b.start for b in filled(weeks, "week")] == [date(2024, 12, 23), date(2024, 12, 30), date(2025, 1, 6), date(2025, 1, 13)]
    assert filled([], "week") == []
    years = [DateBucket(date(2019, 1, 1), 1, {}), DateBucket(date(2021, 1, 1), 1, {})]
    assert [b.start for b in filled(years, "year")] == [date(2019, 1, 1), date(2020, 1, 1), date(2021, 1, 1)]


def test_the_timeline_has_a_column_per_month_from_first_to_last_stacked_as_the_index_counts(service, reader, tagged_corpus):
    tree = page(reader, "/ui/trends")
    facets = service.index.search(SearchRequest(facets=True, size=1)).facets
    dated = sorted(t.document.published for t in tagged_corpus if t.document.published)
    first, last = dated[0], dated[-1]
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    drawn = columns(tree)
    assert len(drawn) == months  # empty months are columns too: gaps in time show
    assert drawn[0].get("data-label") == first.strftime("%b %Y") and drawn[-1].get("data-label") == last.strftime("%b %Y")
    counted = {b.start.strftime("%b %Y"): b for b in facets.published}
    drawn_values = {}
    for column in drawn:
        rects = {r.get("data-series"): int(r.get("data-value")) for r in column.xpath("./*[local-name()='rect'][@data-series]")}
        drawn_values[column.get("data-label")] = rects
        bucket = counted.get(column.get("data-label"))
        assert rects == (column_values(bucket) if bucket else {})
        if bucket:
            assert {k: v for k, v in rects.items() if k != "NONE"} == bucket.domains  # as the index counts them
            assert sum(rects.values()) >= bucket.count  # no report left out of its column
    # reports in none of the four domains are the grey part of their column, not a gap
    by_month: dict[str, list] = {}
    for tagged in tagged_corpus:
        if tagged.document.published:
            by_month.setdefault(tagged.document.published.strftime("%b %Y"), []).append(tagged)
    none_only = [m for m, reports in by_month.items() if not any(t.domains for t in reports)]
    assert none_only, "the sample dates a report of no domain alone in its month"
    assert all(drawn_values[m] == {"NONE": len(by_month[m])} for m in none_only)
    legend = tree.xpath("string(//svg[@id='timeline']//*[local-name()='g'][@class='legend'])")
    present = {d for b in facets.published for d in column_values(b)}
    assert len(tree.xpath("//svg[@id='timeline']//*[local-name()='g'][@class='legend']/*[local-name()='rect']")) == len(present)
    assert "Food" in legend and "None of the four" in legend
    svg = tree.xpath("//svg[@id='timeline']")[0]
    assert svg.get("role") == "img" and svg.xpath("string(./*[local-name()='title'])") == "Reports per domain by month"
    table = tree.xpath("//section[@aria-labelledby='timeline-heading']//details/table/tbody/tr")
    assert len(table) == len(facets.published)  # the text alternative: every month with reports
    total = len(tagged_corpus)
    undated = total - len(dated)
    summary = tree.xpath("string(//p[@class='summary'])")
    assert f"{total} reports match" in " ".join(summary.split())
    assert (f"{undated} without a date" in summary) == (undated > 0)


def test_by_week_the_columns_are_weeks_from_monday(reader, tagged_corpus):
    tree = page(reader, "/ui/trends?interval=week&published_from=2023-01-01&published_to=2023-12-31")
    dated = sorted(t.document.published for t in tagged_corpus if t.document.published and t.document.published.year == 2023)
    monday = dated[0] - timedelta(days=dated[0].weekday())
    weeks = (dated[-1] - monday).days // 7 + 1
    drawn = columns(tree)
    assert len(drawn) == weeks
    assert drawn[0].get("data-label") == monday.strftime("%-d %b %Y")
    assert tree.xpath("//select[@name='interval']/option[@selected]/@value") == ["week"]
    assert tree.xpath("//input[@name='published_from']/@value") == ["2023-01-01"]


def test_filters_are_the_searchs_and_the_top_bars_link_to_their_reports(service, reader):
    tree = page(reader, "/ui/trends?domain=FOOD&entity=LOC:China")
    request = SearchRequest(domains=("FOOD",), entities=(EntityFilter("LOC", "China"),),
                            facets=True, size=1, facet_size=PLACES)
    result = service.index.search(request)
    assert f"{result.total} reports match" in " ".join(tree.xpath("string(//p[@class='summary'])").split())
    assert sum(int(c.get("data-value") or 0) for c in tree.xpath("//svg[@id='timeline']//*[@data-series]")) == \
        sum(sum(b.domains.values()) for b in result.facets.published)
    # the filter the form does not show stays, as a hidden field and as a chip that removes it
    assert tree.xpath("//form[contains(@class, 'filters')]//input[@type='hidden'][@name='entity']/@value") == ["LOC:China"]
    assert tree.xpath("//p[@class='active-filters']/a/@href") == ["/ui/trends?domain=FOOD"]
    assert tree.xpath("//input[@name='domain'][@value='FOOD']/@checked")

    firms = result.facets.entities["ORG"][:TOP]
    bars = tree.xpath("//svg[@id='top-firms']//*[local-name()='g'][@class='bar']")
    assert [(b.get("data-label"), int(b.get("data-value"))) for b in bars] == [(f.value, f.count) for f in firms]
    if firms:
        link = tree.xpath("//svg[@id='top-firms']//*[local-name()='a']/@href")[0]
        assert urlsplit(link).path == "/ui/search"
        assert parse_qsl(urlsplit(link).query) == [("domain", "FOOD"), ("entity", "LOC:China"), ("entity", f"ORG:{firms[0].value}")]
    assert tree.xpath("string(//a[normalize-space()='Read them in search']/@href)") == "/ui/search?domain=FOOD&entity=LOC%3AChina"


def test_places_are_dots_where_they_resolve_and_all_are_in_the_table(service, reader):
    tree = page(reader, "/ui/trends")
    places = service.index.search(SearchRequest(facets=True, size=1, facet_size=PLACES)).facets.entities["LOC"]
    rows = tree.xpath("//table[contains(@class, 'place-table')]/tbody/tr")
    assert [(r.xpath("string(td[1])").strip(), int(r.xpath("string(td[3])"))) for r in rows] == [(p.value, p.count) for p in places]
    located = {p.value: entity_details("LOC", p.value) for p in places}
    on_map = {p for p, found in located.items() if found and found.get("lat") is not None}
    assert on_map and len(on_map) < len(places)  # the sample names places the gazetteer does not know
    dots = tree.xpath("//svg[@id='place-map']//*[local-name()='g'][@class='dot']")
    assert {d.get("data-name") for d in dots} == on_map
    for row in rows:
        name = row.xpath("string(td[1])").strip()
        assert ("not on the map" in row.xpath("string(td[2])")) == (name not in on_map)
    assert tree.xpath("//svg[@id='place-map']//*[local-name()='path'][@class='land']")
    top_places = tree.xpath("//svg[@id='top-places']//*[local-name()='g'][@class='bar']")
    assert len(top_places) == min(TOP, len(places))


def test_odd_input_is_a_message_and_no_chart(reader):
    tree = page(reader, "/ui/trends?interval=decade")
    assert "interval" in tree.xpath("string(//p[@role='alert'])")
    assert not tree.xpath("//svg")
    tree = page(reader, "/ui/trends?published_from=yesterday")
    assert "published_from" in tree.xpath("string(//p[@role='alert'])")


def test_the_forms_empty_fields_filter_nothing(reader):
    """A GET form sends every field, empty ones too: the page is the same as without them."""
    tree = page(reader, "/ui/trends?q=&published_from=&published_to=&interval=week")
    assert not tree.xpath("//p[@role='alert']")
    assert columns(tree) and tree.xpath("string(//h2[@id='timeline-heading'])") == "Reports per domain by week"
    assert tree.xpath("string(//a[normalize-space()='Read them in search']/@href)") == "/ui/search"


def test_each_bar_chart_has_its_numbers_as_a_table(service, reader):
    tree = page(reader, "/ui/trends")
    entities = service.index.search(SearchRequest(facets=True, size=1, facet_size=PLACES)).facets.entities
    for heading, label in (("Top firms and organisations", "ORG"), ("Top places", "LOC"), ("Top products", "PRODUCT")):
        section = tree.xpath(f"//section[@aria-label='{heading}']")[0]
        rows = section.xpath(".//details/table/tbody/tr")
        assert [(r.xpath("string(td[1])"), int(r.xpath("string(td[2])"))) for r in rows] == \
            [(v.value, v.count) for v in entities.get(label, [])[:TOP]], heading
        assert len(section.xpath(".//*[local-name()='g'][@class='bar']")) == len(rows)
