"""GET /export through a real client, on both backends: every match of a search (all pages, more
than one of the index's export batches), as CSV or JSONL, with the search's filters applied.

The index holds the synthetic corpus (kunlun_nlp.testing.synthetic), written straight to it: the
tagging pipeline plays no part in what an export is."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kunlun_nlp.config import Settings
from kunlun_nlp.index.base import EXPORT_BATCH
from kunlun_nlp.search.export import BYTE_ORDER_MARK, CSV_COLUMNS
from kunlun_nlp.service import KunlunService
from kunlun_nlp.testing.synthetic import SEED_ID, synthetic_corpus, synthetic_document
from tests.keys import authorize

PARCELS = EXPORT_BATCH + 137  # more than one batch of the index's export, and than any page of /search
FORMULA_TITLE = '=HYPERLINK("http://evil.example","open me")'


@pytest.fixture(params=["embedded", pytest.param("engine", marks=pytest.mark.engine)])
def client(request):
    index = request.getfixturevalue(f"{request.param}_index")
    corpus = synthetic_corpus()
    parcels = [synthetic_document(f"parcel-{i:04d}", f"Customs seized parcel {i} at the port.", not_tagged="bulk") for i in range(PARCELS)]
    formula = synthetic_document("formula-title", "A report whose title is a spreadsheet formula.", title=FORMULA_TITLE)
    assert not index.put([*corpus, *parcels, formula]).failed
    service = KunlunService(Settings(data_dir=Path(tempfile.mkdtemp(prefix="kunlun-export-"))), index=index)
    with authorize(TestClient(create_app(service), base_url="http://localhost"), "reader") as test_client:
        yield test_client


def search_ids(client: TestClient, params: dict) -> list[str]:
    """Every match's id, page by page, as /search gives them."""
    found, page = [], 1
    while True:
        body = client.get("/search", params={**params, "page": page, "size": 100}).json()
        found += [hit["id"] for hit in body["hits"]]
        if len(found) >= body["total"] or not body["hits"]:
            return found
        page += 1


def jsonl_records(client: TestClient, params: dict) -> list[dict]:
    response = client.get("/export", params={**params, "format": "jsonl"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return [json.loads(line) for line in response.text.splitlines()]


def csv_rows(client: TestClient, params: dict) -> list[dict[str, str]]:
    response = client.get("/export", params={**params, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text.startswith(BYTE_ORDER_MARK)  # spreadsheets then read the file as UTF-8
    reader = csv.DictReader(io.StringIO(response.text.removeprefix(BYTE_ORDER_MARK), newline=""))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


def test_export_returns_every_hit_of_a_search_in_both_formats(client):
    params = {"q": "parcel OR counterfeit", "sort": "date"}
    first_page = client.get("/search", params=params).json()
    assert first_page["total"] > len(first_page["hits"])  # more than one page
    expected = search_ids(client, params)
    assert len(expected) > PARCELS

    response = client.get("/export", params={**params, "format": "jsonl"})
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="kunlun-export-') and disposition.endswith('.jsonl"')
    records = jsonl_records(client, params)
    assert [r["id"] for r in records] == expected  # every hit, once, in the search's order
    assert all("embedding" not in r and r["text"] for r in records)

    rows = csv_rows(client, params)
    assert [row["id"] for row in rows] == expected
    csv_disposition = client.get("/export", params={**params, "format": "csv"}).headers["content-disposition"]
    assert csv_disposition.endswith('.csv"')


def test_export_applies_the_search_filters_and_ignores_paging(client):
    corpus = synthetic_corpus()
    for params in (
        {"q": "counterfeit -lagos", "domain": "MEDICINE"},
        {"source": ["wire", "ministry"], "sort": "priority"},
        {"language": "es", "published_from": "2024-03-01"},
        {"q": "-parcel", "reliability": ["A", "B"]},
        {"entity": "LOC:Lagos", "page": "7", "size": "3", "facets": "true"},  # page and size: checked, then ignored
    ):
        unpaged = {name: value for name, value in params.items() if name not in ("page", "size")}
        expected = search_ids(client, unpaged)
        assert expected and len(expected) < len(corpus), params
        assert [r["id"] for r in jsonl_records(client, params)] == expected, params
        assert [row["id"] for row in csv_rows(client, params)] == expected, params


def test_csv_rows_are_flat_and_safe_to_open(client):
    client.app.state.service.review(SEED_ID, "ana", note="campaign notice, filed")
    (seed,) = csv_rows(client, {"q": '"Kunlun campaign"'})
    assert seed == {
        **seed,
        "id": SEED_ID,
        "title": "Kunlun 2024 deployment",
        "published": "2024-04-01",
        "source": "ministry",
        "language": "en",
        "domains": "FOOD:0.80; INTELLECTUAL_PROPERTY:0.70; ENVIRONMENT:0.60",
        "subtypes": "FOOD.COUNTERFEIT:0.70",
        "priority": "100",
        "priority_reasons": "campaign notice; several domains",
        "grade": "F6",
        "reviewed_by": "ana",
        "review_note": "campaign notice, filed",
        "ORG": "Ministry of Public Security",
        "LOC": "",
        "cases": "1",
    }
    (formula,) = csv_rows(client, {"q": "spreadsheet formula"})
    assert formula["title"] == "'" + FORMULA_TITLE  # a spreadsheet shows it as text, never runs it
    (record,) = jsonl_records(client, {"q": "spreadsheet formula"})
    assert record["title"] == FORMULA_TITLE  # JSONL holds the data as it is


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "query.format"),
        ({"format": "xml"}, "query.format"),
        ({"format": "csv", "domain": "WEAPONS"}, "unknown domain 'WEAPONS'"),
        ({"format": "csv", "colour": "red"}, "unknown parameter(s) colour"),
        ({"format": "jsonl", "page": "200", "size": "100"}, "may not exceed 10000"),
    ],
)
def test_bad_exports_get_422_with_a_message(client, params, message):
    response = client.get("/export", params=params)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_export_needs_a_key(client):
    response = client.get("/export", params={"format": "csv"}, headers={"Authorization": ""})
    assert response.status_code == 401
