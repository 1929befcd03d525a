"""The intake view (/ui/intake) on the real app, queue and embedded index: the latest jobs newest
first with their progress and failures (a document the index refuses, named with the reason), the
queue's health, and the upload form for the intake role only; a file posted as the form's script
posts it (session cookie and page header) becomes a job the view lists."""

from __future__ import annotations

import lxml.html
import pytest
from fastapi.testclient import TestClient

from api.auth import PAGE_HEADER
from kunlun_nlp.document import Document
from kunlun_nlp.index.base import MAX_KEYWORD_BYTES
from kunlun_nlp.readers.dispatch import SUPPORTED_SUFFIXES
from kunlun_nlp.service import KunlunService
from tests.pages import client_as as signed_in
from tests.pages import page as parsed


@pytest.fixture
def service(embedded_service):
    return embedded_service


def client_as(service: KunlunService, role: str) -> TestClient:
    return signed_in(service, role, next_path="/ui/intake")


def page(client: TestClient, url: str = "/ui/intake") -> lxml.html.HtmlElement:
    return parsed(client, url)


def rows(tree) -> dict[str, lxml.html.HtmlElement]:
    return {row.get("data-job"): row for row in tree.xpath("//table[@id='jobs']/tbody/tr[contains(@class, 'job')]")}


def cell(row, name: str) -> str:
    return " ".join(row.xpath(f"string(.//*[@data-field='{name}'])").split())


def test_jobs_newest_first_with_progress_failures_and_the_queue_health(service):
    refused = Document.create("Police seized fake honey in Lagos.", id="too-long-source", source="s" * (MAX_KEYWORD_BYTES + 1))
    finished = service.submit([Document.create("Customs seized 300 fake handbags at the port.", id="bags"), refused],
                              submitted_by="desk")
    service.work_here(finished, timeout=120)
    waiting = service.submit([Document.create("Inspectors found melamine in milk powder.", id="milk")], submitted_by="desk")

    tree = page(client_as(service, "reader"))
    shown = rows(tree)
    assert list(shown) == [waiting, finished]  # newest first

    done = shown[finished]
    assert cell(done, "state") == "done with failures" and cell(done, "submitted_by") == "desk"
    assert cell(done, "counts") == "1 of 2 stored" and cell(done, "failed") == "1"
    progress = done.xpath(".//progress")[0]
    assert (progress.get("value"), progress.get("max")) == ("2", "2")  # finished: stored or failed, every one
    failures = done.xpath(".//*[@data-field='failures']//li")
    assert len(failures) == 1 and "too-long-source" in failures[0].text_content()
    assert "source is longer than" in failures[0].text_content()  # the index's reason, as the job records it

    queued = shown[waiting]
    assert cell(queued, "state") == "queued" and cell(queued, "counts") == "0 of 1 stored"
    assert queued.get("data-finished") == "0" and done.get("data-finished") == "1"  # intake.js follows the unfinished
    assert tree.xpath("string(//dd[@id='queue-depth'])") == "1"  # the waiting job's one batch
    assert tree.xpath("string(//dd[@id='queue-workers'])") == "0"
    assert "No tagging workers" in tree.xpath("string(//section[contains(@class, 'health')])")


def test_the_upload_form_is_for_the_intake_role_and_its_post_becomes_a_listed_job(service):
    for role in ("reader", "trainer"):
        assert not page(client_as(service, role)).xpath("//form[@id='upload-form']"), role
    intake = client_as(service, "intake")
    tree = page(intake)
    form = tree.xpath("//form[@id='upload-form']")[0]
    picker = form.xpath(".//input[@type='file']")[0]
    assert picker.get("name") == "files" and picker.get("multiple") is not None
    assert picker.get("accept").split(",") == list(SUPPORTED_SUFFIXES)
    assert form.xpath(f".//label[@for='{picker.get('id')}']")
    assert tree.xpath("//template[@id='job-row']")  # the row intake.js fills for a new job
    assert "No intake jobs yet" in tree.xpath("string(//table[@id='jobs'])")

    # what intake.js sends: the form's files, the session cookie, the page's header
    files = [("files", ("a.txt", b"Police seized 2 t of gutter oil in Zhengzhou.")), ("files", ("b.txt", b"Customs seized fake pills."))]
    assert intake.post("/documents/files", files=files).status_code == 403  # no header: another site's form could do this
    accepted = intake.post("/documents/files", files=files, headers={PAGE_HEADER: "1"})
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()["job"]
    row = rows(page(intake))[job]
    assert cell(row, "counts") == "0 of 2 stored" and cell(row, "submitted_by").startswith("test-intake")
    service.work_here(job, timeout=120)
    row = rows(page(intake))[job]
    assert cell(row, "state") == "done" and cell(row, "counts") == "2 of 2 stored"
    assert page(client_as(service, "admin")).xpath("//form[@id='upload-form']")
