"""The document view (/ui/documents/{id}) and the label-next view (/ui/label-next), rendered by the
real app over a real embedded index of the sample reports tagged by the real pipeline: the text as
pieces carrying their offsets (entities, furniture and evidence marked on exactly their
characters), tags, case cards, similar reports and the correction history; edit controls for a
trainer only, and the corrections they post through the JSON API shown at once."""

from __future__ import annotations

from dataclasses import replace

import lxml.html
import pytest
from fastapi.testclient import TestClient

from api.auth import PAGE_HEADER
from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.search.request import SearchRequest
from tests.pages import client_as, page


@pytest.fixture
def service(corpus_service):
    return corpus_service




@pytest.fixture
def reader(service) -> TestClient:
    return client_as(service, "reader")


@pytest.fixture
def trainer(service) -> TestClient:
    return client_as(service, "trainer", "ada")




def pieces(tree: lxml.html.HtmlElement) -> list[tuple[int, str, lxml.html.HtmlElement]]:
    return [(int(p.get("data-start")), p.text_content(), p) for p in tree.xpath("//div[@id='doc-text']//span[@data-start]")]


def rich_document(tagged_corpus: list[TaggedDocument]) -> TaggedDocument:
    """The sample report with the most entity types."""
    return max(tagged_corpus, key=lambda t: len({e.label for e in t.entities}))


def test_the_text_is_pieces_that_carry_the_offsets_of_the_stored_text(reader, tagged_corpus):
    tagged = rich_document(tagged_corpus)
    tree = page(reader, f"/ui/documents/{tagged.id}")
    text = tagged.document.text
    found = pieces(tree)
    assert "".join(piece for _, piece, _ in found) == text  # nothing lost, nothing added
    for start, piece, _ in found:
        assert text[start:start + len(piece)] == piece
    drawn = tree.xpath("//div[@id='doc-text']/span[contains(@class, 'ent')]")
    assert {(e.get("data-label"), e.get("data-ent"), e.text_content()) for e in drawn} == {
        (e.label, f"{e.start}:{e.end}", text[e.start:e.end]) for e in tagged.entities}
    legend = {box.get("data-toggle-label") for box in tree.xpath("//input[@data-toggle-label]")}
    assert legend == {e.label for e in tagged.entities}  # a box per entity type shown
    for box in tree.xpath("//input[@data-toggle-label] | //input[@data-toggle-evidence]"):
        assert box.getparent().tag == "label"  # each box is labelled


def test_evidence_and_furniture_mark_exactly_their_characters(reader, service, tagged_corpus):
    base = rich_document(tagged_corpus)
    text = base.document.text
    sentence = text[: text.index(".") + 1]  # the first sentence as the evidence of two domains
    furniture = (len(text) - 40, len(text))
    doc = replace(base, document=replace(base.document, id="marked"), furniture=[furniture],
                  evidence={"FOOD": [sentence], "MEDICINE": [sentence, "a sentence no longer in the text"]})
    service.index.put([doc])
    tree = page(reader, "/ui/documents/marked")
    for start, piece, element in pieces(tree):
        end = start + len(piece)
        assert (element.get("data-ev") or "").split() == (["FOOD", "MEDICINE"] if end <= len(sentence) else [])
        assert ("furniture" in (element.get("class") or "")) == (start >= furniture[0])
    assert [box.get("data-toggle-evidence") for box in tree.xpath("//input[@data-toggle-evidence]")] == ["FOOD", "MEDICINE"]
    assert tree.xpath("//div[@id='doc-text']/@class")[0].split() == ["doc-text", "show-ev-FOOD", "show-ev-MEDICINE"]


def test_a_carriage_return_ends_a_piece_so_offsets_hold_in_the_browser(reader, service, tagged_corpus):
    base = tagged_corpus[0]
    text = "Police seized fake pork.\r\nSecond line\rthird line with <markup> & more."
    service.index.put([replace(base, document=replace(base.document, id="crlf", text=text), entities=[], evidence={}, furniture=[])])
    found = pieces(page(reader, "/ui/documents/crlf"))
    # an HTML parser reads "\r\n" as one "\n" (a character fewer) and a lone "\r" as "\n" (as many):
    # cut after each "\r", no piece holds "\r\n", and every piece keeps the length of its stored text
    stored = [(0, "Police seized fake pork.\r"), (25, "\nSecond line\r"), (38, "third line with <markup> & more.")]
    assert [(start, piece) for start, piece, _ in found] == [(start, piece.replace("\r", "\n")) for start, piece in stored]


def test_tags_priority_cases_similar_and_the_model_version(reader, service, tagged_corpus):
    tagged = next(t for t in tagged_corpus if t.cases and t.domains and t.priority)
    tree = page(reader, f"/ui/documents/{tagged.id}")
    tags = tree.xpath("string(//section[h2[@id='tags-heading']])")
    assert f"Tagged by model {tagged.model}" in " ".join(tags.split())
    for domain in tagged.domains:
        assert f"{round(100 * domain.score)}%" in tags
    priority = tree.xpath("//section[h2[starts-with(@id, 'priority')]]")[0]
    assert str(tagged.priority.score) in priority.xpath("string(h2)")
    assert [li.text_content() for li in priority.xpath(".//li")] == tagged.priority.reasons
    rows = tree.xpath("//table[@class='cards']/tbody/tr")
    assert [r.xpath("string(td[1]/strong)") for r in rows] == [card.action for card in tagged.cases]
    similar = service.index.similar(tagged.id, size=5)
    assert similar and tree.xpath("//ul[@class='similar']/li/a/@href") == [f"/ui/documents/{h.id}" for h in similar]
    assert tree.xpath("string(//section[h2[@id='review-heading']])").count("Not reviewed yet") == 1


def test_a_reader_gets_no_edit_controls_and_the_api_refuses_their_write(reader, trainer, tagged_corpus):
    tagged = rich_document(tagged_corpus)
    as_reader = page(reader, f"/ui/documents/{tagged.id}")
    assert not as_reader.xpath("//*[@id='label-menu'] | //form[@id='correct-domains'] | //*[@role='button'] | //*[@id='edit-hint']")
    as_trainer = page(trainer, f"/ui/documents/{tagged.id}")
    assert as_trainer.xpath("//*[@id='label-menu']") and as_trainer.xpath("//form[@id='correct-domains']")
    assert len(as_trainer.xpath("//div[@id='doc-text']/span[@role='button'][@tabindex='0']")) == len(tagged.entities)
    ticked = {box.get("value") for box in as_trainer.xpath("//form[@id='correct-domains']//input[@name='domain'][@checked]")}
    assert ticked == {d.label for d in tagged.domains}
    # the page's writes go through the JSON API, signed in by the cookie, with the page's header
    body = {"domains": ["FOOD"]}
    refused = reader.post(f"/documents/{tagged.id}/corrections", json=body, headers={PAGE_HEADER: "1"})
    assert refused.status_code == 403 and "trainer" in refused.json()["detail"]
    assert trainer.post(f"/documents/{tagged.id}/corrections", json=body).status_code == 403  # no header: another site's form
    assert trainer.post(f"/documents/{tagged.id}/corrections", json=body, headers={PAGE_HEADER: "1"}).status_code == 201


def test_a_correction_shows_at_once_in_the_page_and_its_history(trainer, service, tagged_corpus):
    tagged = rich_document(tagged_corpus)
    entity = tagged.entities[0]
    text = tagged.document.text
    start = text.index(" ", entity.end + 1) + 1  # a word after the first entity that is no entity
    while any(e.start <= start < e.end for e in tagged.entities):
        start = text.index(" ", start) + 1
    end = text.index(" ", start)
    body = {"domains": ["ENVIRONMENT"], "subtypes": ["ENVIRONMENT.WASTE"], "add": [{"start": start, "end": end, "label": "PRODUCT"}],
            "relabel": [{"start": entity.start, "end": entity.end, "label": "LAW"}]}
    assert trainer.post(f"/documents/{tagged.id}/corrections", json=body, headers={PAGE_HEADER: "1"}).status_code == 201
    tree = page(trainer, f"/ui/documents/{tagged.id}")
    drawn = {e.get("data-ent"): e.get("data-label") for e in tree.xpath("//div[@id='doc-text']/span[contains(@class, 'ent')]")}
    assert drawn[f"{start}:{end}"] == "PRODUCT" and drawn[f"{entity.start}:{entity.end}"] == "LAW"
    ticked = {box.get("value") for box in tree.xpath("//form[@id='correct-domains']//input[@checked]")}
    assert ticked == {"ENVIRONMENT", "ENVIRONMENT.WASTE"}
    history = tree.xpath("//ol[@class='history']/li")
    assert len(history) == 1
    said = " ".join(history[0].text_content().split())
    assert said.startswith("ada corrected on")
    assert f"added {text[start:end]} as PRODUCT" in said and f"relabelled {entity.text} as LAW" in said
    assert "corrected by ada" in tree.xpath("string(//section[h2[@id='tags-heading']])")
    assert tagged.id in {hit.id for hit in service.index.search(SearchRequest(domains=("ENVIRONMENT",), size=100)).hits}


def test_an_unknown_document_is_a_page_that_says_so(reader):
    tree = page(reader, "/ui/documents/no-such-report", status=404)
    assert "no-such-report" in tree.xpath("string(//p[@role='alert'])")


def test_label_next_lists_candidates_with_why_and_offers_the_next_after_a_correction(trainer, reader, service):
    tree = page(trainer, "/ui/label-next")
    candidates = service.label_next(20)
    assert len(candidates) > 2
    links = tree.xpath("//ol[@data-nav-list]/li/h2/a/@href")
    assert links == [f"/ui/documents/{c.id}?from=label-next" for c in candidates]
    why = " ".join(tree.xpath("string(//ol[@data-nav-list]/li[1])").split())
    first = candidates[0]
    assert f"scored {round(100 * first.score)}% against its threshold of {round(100 * first.threshold)}%" in why

    opened = page(trainer, links[0])
    following = opened.xpath("//a[@id='next-document']/@href")
    assert following == [f"/ui/documents/{candidates[1].id}?from=label-next"]  # never itself
    assert trainer.post(f"/documents/{first.id}/corrections", json={"domains": []}, headers={PAGE_HEADER: "1"}).status_code == 201
    after = page(trainer, links[0])  # the reload after saving
    assert after.xpath("//a[@id='next-document']/@href")[0] != links[0]
    assert links[0] not in page(trainer, "/ui/label-next").xpath("//ol[@data-nav-list]/li/h2/a/@href")  # corrected: off the list

    assert "needs an API key with the role trainer or admin" in page(reader, "/ui/label-next", status=403).text_content()
    assert not page(reader, links[1]).xpath("//a[@id='next-document']")  # a reader is offered nothing to label
