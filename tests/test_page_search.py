"""The search view (/ui/search), rendered by the real app over a real embedded index of the sample
reports tagged by the real pipeline: what a hit shows, facet links that add and remove filters
(the URL holds the whole state), paging, sort, export links, and odd input answered with a
message, never an error page."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import lxml.html
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.page.render import DOMAIN_NAMES
from kunlun_nlp.document import DomainScore
from kunlun_nlp.search.parse import parse_search_params
from kunlun_nlp.search.request import SearchRequest
from kunlun_nlp.service import KunlunService
from tests.keys import key_headers
from tests.pages import client_as, page


@pytest.fixture
def service(corpus_service):
    return corpus_service


@pytest.fixture
def reader(service) -> TestClient:
    return client_as(service, "reader")




def hit_ids(tree: lxml.html.HtmlElement) -> list[str]:
    return [a.get("href").removeprefix("/ui/documents/") for a in tree.xpath("//li[@data-nav-item]/h2/a")]


def total_of(tree: lxml.html.HtmlElement) -> str:
    return tree.xpath("string(//h1[@id='results-heading'])").strip()


def facet_links(tree: lxml.html.HtmlElement, heading: str) -> dict[str, lxml.html.HtmlElement]:
    """The links of one facet section, by the text they show."""
    links = tree.xpath(f"//section[contains(@class, 'facet')][h3[normalize-space()='{heading}']]//li/a")
    return {a.text_content().strip(): a for a in links}


def request_of(url: str) -> SearchRequest:
    """The search a page link asks for, as the view parses it."""
    lists: dict[str, list[str]] = {}
    for name, value in parse_qsl(urlsplit(url).query):
        lists.setdefault(name, []).append(value)
    return parse_search_params(lists)


def expected_ids(service: KunlunService, url: str) -> list[str]:
    return [hit.id for hit in service.index.search(request_of(url)).hits]


def test_a_hit_shows_its_title_snippet_domains_priority_entities_and_date(reader, service, tagged_corpus):
    tree = page(reader, "/ui/search?q=clenbuterol")
    found = service.index.search(SearchRequest(text="clenbuterol"))
    assert found.total > 0 and hit_ids(tree) == [hit.id for hit in found.hits]
    assert total_of(tree) == f"{found.total} report{'s' if found.total != 1 else ''}"
    first_hit, tagged = found.hits[0], next(t for t in tagged_corpus if t.id == found.hits[0].id)
    item = tree.xpath("//li[@data-nav-item]")[0]
    assert item.xpath("string(h2/a)") == first_hit.title
    assert "clenbuterol" in item.xpath("string(.//p[@class='snippet']/mark)").lower()  # the pre-escaped snippet, marked
    chips = [c.text_content() for c in item.xpath(".//p[@class='tags']/span[contains(@class, 'chip')]")]
    assert first_hit.domains and chips == [f"{DOMAIN_NAMES[d.label]} {round(100 * d.score)}%" for d in first_hit.domains]
    assert f"priority {first_hit.priority}" in item.xpath("string(.//span[contains(@class, 'priority')])")
    for reason in first_hit.priority_reasons:
        assert reason in item.text_content()
    names = item.xpath(".//p[@class='ents']/a")
    assert names and {a.text_content() for a in names} <= {e.normalized or e.text for e in tagged.entities}
    for a in names:  # each name narrows the search to the reports naming it
        assert ("entity", f"{a.get('class').split()[-1]}:{a.text_content()}") in parse_qsl(urlsplit(a.get("href")).query)
    assert first_hit.published.isoformat() == item.xpath("string(.//time/@datetime)")
    assert first_hit.source in item.xpath("string(.//p[@class='meta'])")


def test_facet_links_add_a_filter_and_the_same_link_then_removes_it(reader, service):
    start = page(reader, "/ui/search?q=police")
    everything = hit_ids(start)
    for heading in ("Domain", "Places", "Source", "Language"):
        links = facet_links(start, heading)
        assert links, f"no {heading} facet"
        shown, link = next(iter(links.items()))
        count = int(link.getparent().xpath("string(span[@class='count'])"))
        narrowed = page(reader, link.get("href"))
        query = parse_qsl(urlsplit(link.get("href")).query)
        assert ("q", "police") in query and "page" not in dict(query)
        assert hit_ids(narrowed) == expected_ids(service, link.get("href"))
        assert service.index.search(request_of(link.get("href"))).total == count  # the count said how many it would show
        # the filter is on: marked in the facet, shown as a chip, and the same facet link now removes it
        on = facet_links(narrowed, heading)[shown]
        assert on.get("aria-current") == "true"
        chip = narrowed.xpath("//ul[@class='active-filters']/li/a[contains(@class, 'chip')]")
        assert len(chip) == 1 and chip[0].get("href") == on.get("href")
        assert hit_ids(page(reader, on.get("href"))) == everything


def test_two_filters_combine_and_the_query_form_keeps_them(reader, service):
    start = page(reader, "/ui/search")
    domain_link = next(iter(facet_links(start, "Domain").values())).get("href")
    narrowed = page(reader, domain_link)
    place_link = next(iter(facet_links(narrowed, "Places").values())).get("href")
    both = page(reader, place_link)
    query = parse_qsl(urlsplit(place_link).query)
    assert {name for name, _ in query} == {"domain", "entity"}
    assert hit_ids(both) == expected_ids(service, place_link)
    hidden = {(i.get("name"), i.get("value")) for i in both.xpath("//form[@role='search']/input[@type='hidden']")}
    assert hidden == set(query)  # a new query keeps the filters
    assert len(both.xpath("//ul[@class='active-filters']/li/a[contains(@class, 'chip')]")) == 2


def test_the_date_histogram_links_each_month_and_week(reader, service):
    tree = page(reader, "/ui/search")
    result = service.index.search(SearchRequest(facets=True))
    bars = tree.xpath("//svg[contains(@class, 'histogram')]/a")
    assert len(bars) == len(result.facets.published) > 1
    first = result.facets.published[0]
    link = bars[0].get("href")
    assert dict(parse_qsl(urlsplit(link).query))["published_from"] == first.start.isoformat()
    month = page(reader, link)
    assert service.index.search(request_of(link)).total == first.count
    assert hit_ids(month) == expected_ids(service, link)
    assert month.xpath("//svg[contains(@class, 'histogram')]/a/rect[@class='on']")  # the month on is marked
    weekly = page(reader, tree.xpath("//p[@class='interval']/a[normalize-space()='week']/@href")[0])
    weeks = service.index.search(SearchRequest(facets=True, interval="week")).facets.published
    assert len(weekly.xpath("//svg[contains(@class, 'histogram')]/a")) == len(weeks)
    assert all(bucket.start.weekday() == 0 for bucket in weeks)


def test_paging_sort_and_export_links_keep_the_state(reader, service):
    url = "/ui/search?domain=FOOD&size=3"
    assert service.index.search(request_of(url)).total > 3  # more than one page
    tree = page(reader, url)
    assert tree.xpath("string(//nav[@class='pager']/span)").startswith("Page 1 of ")
    second = tree.xpath("//nav[@class='pager']/a[@rel='next']/@href")[0]
    assert dict(parse_qsl(urlsplit(second).query)) == {"domain": "FOOD", "size": "3", "page": "2"}
    assert hit_ids(page(reader, second)) == expected_ids(service, second)
    by_date = tree.xpath("//p[@class='sort']/a[normalize-space()='date']/@href")[0]
    assert hit_ids(page(reader, by_date)) == expected_ids(service, by_date)
    dates = [service.index.get(i).document.published for i in expected_ids(service, by_date)]
    assert dates == sorted(dates, reverse=True)
    exports = tree.xpath("//p[@class='export']/a/@href")
    assert [dict(parse_qsl(urlsplit(link).query)) for link in exports] == [
        {"format": "csv", "domain": "FOOD"}, {"format": "jsonl", "domain": "FOOD"}]  # every match: no page or size


@pytest.mark.parametrize(("query", "message"), [
    ("page=x", "page: 'x' is not a whole number"),
    ("published_from=yesterday", "published_from: 'yesterday' is not a date"),
    ("domain=WEAPONS", "unknown domain 'WEAPONS'"),
    ("entity=ORG", "must look like LABEL:value"),
    ("sort=sideways", "sort must be one of"),
    ("colour=red", "unknown parameter(s) colour"),
])
def test_bad_input_is_a_message_on_the_page_not_an_error_page(reader, query, message):
    answer = reader.get(f"/ui/search?{query}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    tree = lxml.html.fromstring(answer.text)
    assert message in tree.xpath("string(//p[@role='alert'])")
    assert tree.xpath("//form[@role='search']//input[@type='search']")  # the box is there to try again


@pytest.mark.parametrize("text", ['"unclosed', "OR", "-", "*", "--x", "a OR", "(", "<script>alert(1)</script>"])
def test_odd_query_text_is_searched_and_shown_escaped(reader, text):
    answer = reader.get("/ui/search", params={"q": text})
    assert answer.status_code == 200
    assert "<script>alert(1)</script>" not in answer.text
    tree = lxml.html.fromstring(answer.text)
    assert tree.xpath("string(//input[@type='search']/@value)") == text
    assert total_of(tree).endswith(("report", "reports"))


def test_markup_in_a_report_is_shown_as_text(reader, service, tagged_corpus):
    original = tagged_corpus[0].document
    marked = replace(tagged_corpus[0], document=replace(
        original, id="markup", title="<b>bold</b> & <i>zebrafinch</i>", text=original.text + "\n<script>alert('zebrafinch')</script>"))
    service.index.put([marked])
    answer = reader.get("/ui/search", params={"q": "zebrafinch"})
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;" in answer.text and "<b>bold</b>" not in answer.text
    assert "&lt;script&gt;" in answer.text and "<script>alert" not in answer.text
    assert hit_ids(lxml.html.fromstring(answer.text)) == ["markup"]


def test_the_search_page_needs_a_signed_in_key(service):
    client = TestClient(create_app(service), base_url="http://localhost")
    answer = client.get("/ui/search?q=pork&domain=FOOD", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/sign-in?next=%2Fui%2Fsearch%3Fq%3Dpork%26domain%3DFOOD"


def test_keyboard_and_help_are_on_the_page(reader):
    tree = page(reader, "/ui/search?q=pork")
    box = tree.xpath("//input[@type='search']")[0]
    assert tree.xpath(f"//label[@for='{box.get('id')}']")  # labelled
    help_text = tree.xpath("string(//details[contains(@class, 'help')])")
    for syntax in ('"a phrase"', "OR", "-word", "prefix*"):
        assert syntax in help_text
    assert tree.xpath("//ol[@data-nav-list]/li[@data-nav-item]")
    assert "/ui/static/nav-list.js" in tree.xpath("//script/@src")


def test_a_reviewed_report_is_marked_in_the_results_and_on_its_page(reader, service):
    service.review("sample-001", "grace", note="Passed to the provincial bureau <urgent>.")
    item = page(reader, "/ui/search?q=clenbuterol").xpath("//li[@data-nav-item][h2/a[@href='/ui/documents/sample-001']]")[0]
    assert "✓ reviewed by grace" in item.xpath("string(.//span[@class='reviewed'])")
    review = page(reader, "/ui/documents/sample-001").xpath("//section[h2[@id='review-heading']]")[0]
    assert "Reviewed by grace" in review.text_content()
    assert review.xpath("string(.//blockquote)") == "Passed to the provincial bureau <urgent>."


def test_domains_a_correction_set_show_who_set_them_not_a_score(reader, service):
    def chips_of(url: str) -> dict[str, list[lxml.html.HtmlElement]]:
        tree = page(reader, url)
        items = tree.xpath("//li[@data-nav-item]")
        return {doc_id: li.xpath(".//p[@class='tags']/span[contains(@class, 'chip')]") for doc_id, li in zip(hit_ids(tree), items)}

    service.correct("sample-001", by="ana", domains=["FOOD"])
    (chip,) = chips_of("/ui/search?q=clenbuterol")["sample-001"]
    assert chip.text_content() == "Food · set by ana" and "FOOD" in chip.get("class").split()
    assert "ana" in chip.get("title") and "correction" in chip.get("title")
    others = [c for doc_id, chips in chips_of("/ui/search").items() if doc_id != "sample-001" for c in chips if c.get("title")]
    assert others and all(c.text_content().endswith("%") and c.get("title") == "model score" for c in others)  # the model's
    api = reader.get("/search?q=clenbuterol", headers=key_headers(service.settings, "reader")).json()
    hit = next(h for h in api["hits"] if h["id"] == "sample-001")
    assert (hit["corrected_by"], hit["human_domains"], hit["domains"]) == ("ana", True, [{"label": "FOOD", "score": 1.0}])


def test_a_sub_type_link_keeps_the_reports_of_that_sub_type(reader, service, tagged_corpus):
    """The baseline model gives no sub-types: two reports are stored with one, as a trained model tags them."""
    marked = [replace(t, subtypes=[DomainScore("FOOD.ADULTERATION", 0.9)]) for t in tagged_corpus[:2]]
    service.index.put(marked)
    start = page(reader, "/ui/search")
    link = facet_links(start, "Sub-type")["adulteration food"]
    assert int(link.getparent().xpath("string(span[@class='count'])")) == 2
    narrowed = page(reader, link.get("href"))
    assert sorted(hit_ids(narrowed)) == sorted(t.document.id for t in marked)
    assert ("subtype", "FOOD.ADULTERATION") in parse_qsl(urlsplit(link.get("href")).query)
    assert facet_links(narrowed, "Sub-type")["adulteration food"].get("aria-current") == "true"
