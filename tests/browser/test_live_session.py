"""The browser tests' own footing: the live service holds the real reports, tagged and searchable;
each role signs in through the page's form and its page then calls the JSON API with the session
cookie alone; a page's weight is what the browser really received."""

from __future__ import annotations

from api.docs import assets_dir
from kunlun_nlp.keys import ROLES
from tests.browser.pages import requests_of

SEARCH_FROM_THE_PAGE = """async (query) => {
    const answer = await fetch("/search?" + new URLSearchParams({q: query, facets: "true"}));
    return {status: answer.status, body: await answer.json()};
}"""


def test_every_role_signs_in_and_its_page_calls_the_api_with_the_cookie(page_as, live):
    for role in ROLES:
        page = page_as(role)
        assert not any(live.keys[role] in url for url in requests_of(page)), "the key went into a URL"
        answer = page.evaluate(SEARCH_FROM_THE_PAGE, "ghee")
        assert answer["status"] == 200, (role, answer)
        hits = answer["body"]["hits"]
        assert hits and all(hit["id"] in live.documents for hit in hits), role
        assert {"FOOD"} <= {bucket["value"] for bucket in answer["body"]["facets"]["domains"]}

    anonymous = page_as(None)
    anonymous.goto(live.at("/health"))
    assert anonymous.evaluate(SEARCH_FROM_THE_PAGE, "ghee")["status"] == 401


def test_the_reports_are_tagged_by_the_shipped_model_with_dates_and_furniture(live):
    stored = [live.service.index.get(doc_id) for doc_id in live.documents]
    assert len(stored) >= 20 and all(stored)
    versions = {document.model for document in stored}
    assert len(versions) == 1 and versions != {"zero-shot"}, versions  # the active shipped version
    domains = {score.label for document in stored for score in document.domains}
    assert {"FOOD", "MEDICINE", "ENVIRONMENT", "INTELLECTUAL_PROPERTY"} <= domains
    assert sum(document.document.published is not None for document in stored) >= 5  # the press releases' datelines
    assert sum(bool(document.furniture) for document in stored) >= 3  # their menus and contact blocks


def test_page_weight_counts_every_response_body(anonymous_page, live, page_weight):
    weight = page_weight(anonymous_page, live.at("/docs"), ready=".opblock")  # drawn once /openapi.json is in
    bundle = (assets_dir() / "swagger-ui-bundle.js").stat().st_size
    travelled = weight.responses[live.at("/docs-assets/swagger-ui-bundle.js")]
    assert 0 < travelled < bundle / 2  # the bytes that travelled: gzip-compressed (api/app.py), not the file's size
    assert live.at("/openapi.json") in weight.responses  # fetched by the page's script, counted too
    assert weight.bytes == sum(weight.responses.values()) > travelled
    assert anonymous_page.url == "about:blank"  # weighed in a context of its own: the page stays put
