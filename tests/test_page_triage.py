"""The triage view (/ui/triage), rendered by the real app over a real embedded index of the sample
reports tagged by the real pipeline: the unreviewed reports in the order GET /triage gives, each
with its priority, reasons, domains and case cards; a trainer gets a note box and the review
button, a reader neither; a reviewed report leaves the queue; paging; odd input answered with a
message."""

from __future__ import annotations

import lxml.html
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kunlun_nlp.search.parse import parse_search_params
from kunlun_nlp.service import KunlunService
from tests.keys import key_headers
from tests.pages import client_as as signed_in
from tests.pages import page


@pytest.fixture
def service(corpus_service):
    return corpus_service


def client_as(service: KunlunService, role: str) -> TestClient:
    return signed_in(service, role, next_path="/ui/triage")




def items(tree: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return tree.xpath("//ol[@id='triage-list']/li[@data-nav-item]")


def test_the_queue_is_what_the_api_gives_with_priority_reasons_domains_and_case_cards(service, tagged_corpus):
    reader = client_as(service, "reader")
    tree = page(reader, "/ui/triage")
    api = reader.get("/triage", headers=key_headers(service.settings, "reader")).json()
    shown = items(tree)
    assert [li.get("data-id") for li in shown] == [h["id"] for h in api["hits"]]
    assert tree.xpath("string(//strong[@id='queue-count'])") == str(api["total"]) == str(len(tagged_corpus))
    priorities = [int(li.xpath("string(.//span[contains(@class, 'priority')])")) for li in shown]
    assert priorities == sorted(priorities, reverse=True) == [h["priority"] for h in api["hits"]]

    by_id = {t.id: t for t in tagged_corpus}
    for li, hit in zip(shown, api["hits"]):
        tagged = by_id[hit["id"]]
        assert li.xpath("string(.//h2/a/@href)") == f"/ui/documents/{hit['id']}"
        assert [r.text_content() for r in li.xpath(".//ul[contains(@class, 'reasons')]/li")] == hit["priority_reasons"]
        chips = li.xpath(".//p[@class='chips']/span[contains(@class, 'chip')]/@class")
        assert [c.split()[1] for c in chips if len(c.split()) > 1] == [d["label"] for d in hit["domains"]]
        rows = li.xpath(".//table[contains(@class, 'cards')]/tbody/tr")
        assert len(rows) == len(tagged.cases)
        for row, card in zip(rows, tagged.cases):
            cells = [c.text_content() for c in row.xpath("td")]
            assert cells[0].startswith(card.action)
            assert all(q.text in cells[1] for q in card.quantities) and all(m.text in cells[2] for m in card.money)
            assert all(p.text in cells[3] for p in card.places)
            assert all(p.name in cells[4] for p in card.organisations + card.persons)
    assert any(li.xpath(".//table[contains(@class, 'cards')]") for li in shown), "no report shows a case card"


def test_domains_a_correction_set_show_who_set_them_not_a_score(service):
    reader = client_as(service, "reader")
    first = items(page(reader, "/ui/triage"))[0].get("data-id")
    service.correct(first, by="ana", domains=[])  # none of the four, by a human: triaged again, lower
    (li,) = [li for li in items(page(reader, "/ui/triage?size=100")) if li.get("data-id") == first]
    (chip,) = li.xpath(".//p[@class='chips']/span[contains(@class, 'chip')]")
    assert chip.text_content() == "none of the four domains · set by ana" and "ana" in chip.get("title")


def test_a_reader_sees_no_review_controls_and_a_trainer_gets_a_labelled_note_box_and_the_button(service):
    reader_tree = page(client_as(service, "reader"), "/ui/triage")
    assert items(reader_tree)
    assert not reader_tree.xpath("//textarea") and not reader_tree.xpath("//button[contains(@class, 'mark-reviewed')]")
    assert "needs a trainer" in reader_tree.xpath("string(//main)")

    trainer_tree = page(client_as(service, "trainer"), "/ui/triage")
    for li in items(trainer_tree):
        box = li.xpath(".//textarea[contains(@class, 'review-note')]")[0]
        assert li.xpath(f".//label[@for='{box.get('id')}']"), "the note box has no label"
        assert box.get("maxlength") == "2000"
        assert li.xpath(".//button[contains(@class, 'mark-reviewed')]")
    assert trainer_tree.xpath("//script[@src='/ui/static/triage.js']")


def test_a_reviewed_report_leaves_the_queue(service):
    reader = client_as(service, "reader")
    first = items(page(reader, "/ui/triage"))[0].get("data-id")
    trainer = TestClient(create_app(service), base_url="http://localhost")
    answer = trainer.post(f"/documents/{first}/review", json={"note": "seen"}, headers=key_headers(service.settings, "trainer"))
    assert answer.status_code == 200, answer.text
    tree = page(reader, "/ui/triage")
    assert first not in [li.get("data-id") for li in items(tree)]
    assert tree.xpath("string(//strong[@id='queue-count'])") == str(service.index.search(parse_search_params({}, queue=True)).total)
    assert service.index.get(first).review.note == "seen"


def test_paging_and_domain_filters_follow_the_url(service, tagged_corpus):
    reader = client_as(service, "reader")
    first = page(reader, "/ui/triage?size=5")
    second = page(reader, "/ui/triage?size=5&page=2")
    assert len(items(first)) == len(items(second)) == 5
    assert not {li.get("data-id") for li in items(first)} & {li.get("data-id") for li in items(second)}
    assert second.xpath("string(//ol[@id='triage-list']/@start)") == "6"
    pager = first.xpath("//nav[contains(@class, 'pager')]")[0]
    assert pager.xpath("string(.//a[@rel='next']/@href)") == "/ui/triage?size=5&page=2"
    assert f"of {-(-len(tagged_corpus) // 5)}" in pager.text_content()

    link = first.xpath("//span[contains(@class, 'domain-filter')]/a[normalize-space()='Food']/@href")[0]
    food = page(reader, link)
    food_ids = [li.get("data-id") for li in items(food)]
    assert food_ids
    by_id = {t.id: t for t in tagged_corpus}
    assert all("FOOD" in {d.label for d in by_id[i].domains} for i in food_ids)
    assert food.xpath("//span[contains(@class, 'domain-filter')]/a[normalize-space()='Food']/@aria-current") == ["true"]


def test_odd_input_is_a_message_not_an_error_page_and_signed_out_goes_to_sign_in(service):
    reader = client_as(service, "reader")
    tree = page(reader, "/ui/triage?size=zero")
    assert "size" in tree.xpath("string(//p[@role='alert'])")
    tree = page(reader, "/ui/triage?sort=date")  # the queue's order is fixed: sort is not one of its parameters
    assert "unknown parameter" in tree.xpath("string(//p[@role='alert'])")
    anonymous = TestClient(create_app(service), base_url="http://localhost")
    answer = anonymous.get("/ui/triage?domain=FOOD", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/sign-in?next=%2Fui%2Ftriage%3Fdomain%3DFOOD"


def test_a_corrected_report_shows_the_priority_and_reasons_of_its_corrected_tags_at_once(service):
    reader = client_as(service, "reader")

    def reasons(li: lxml.html.HtmlElement) -> list[str]:
        return [r.text_content() for r in li.xpath(".//ul[contains(@class, 'reasons')]/li")]

    env = items(page(reader, "/ui/triage?domain=ENVIRONMENT"))[0]
    assert "environmental crime report" in reasons(env)
    corrected = service.correct(env.get("data-id"), by="ana", domains=["FOOD"])
    (li,) = [li for li in items(page(reader, "/ui/triage?domain=FOOD&size=100")) if li.get("data-id") == corrected.id]
    assert reasons(li) == corrected.priority.reasons and reasons(li)[0] == "food-safety report"
    assert "environmental crime report" not in reasons(li)
    assert int(li.xpath("string(.//span[contains(@class, 'priority')])")) == corrected.priority.score
