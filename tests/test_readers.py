"""Readers on the real sample files, plus the failure paths: a bad file or line is a ReadFailure."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest

from kunlun_nlp.document import Document, content_id
from kunlun_nlp.readers import (
    ReadFailure,
    document_from_record,
    iter_input_files,
    parse_date,
    read_file,
)

SAMPLE = Path(__file__).resolve().parents[1] / "corpora" / "sample"
FILES = SAMPLE / "files"


def read_one(path: Path) -> Document | ReadFailure:
    results = list(read_file(path))
    assert len(results) == 1, results
    return results[0]


def read_doc(path: Path) -> Document:
    result = read_one(path)
    assert isinstance(result, Document), result
    return result


# -- single-document readers on the sample files ---------------------------------------------------


def test_txt_title_is_first_line():
    doc = read_doc(FILES / "luoyang_waste_oil_inspection.txt")
    assert doc.title == "Inspection Report LY-SJ-2023-0412: Illegal recycling of kitchen waste oil, Yichuan County"
    assert "Ma Xinsheng" in doc.text
    assert doc.source.endswith("luoyang_waste_oil_inspection.txt")
    assert doc.id == content_id(doc.text)


def test_second_txt_title():
    doc = read_doc(FILES / "ningbo_work_conference_notice.txt")
    assert doc.title == "Notice on Convening the 2025 Municipal Market Regulation Work Conference"
    assert "Ningbo International Conference Centre" in doc.text


def test_md_title_is_heading_without_hashes():
    doc = read_doc(FILES / "lagos_pangolin_scales.md")
    assert doc.title == "Lagos customs seize 7.2 tonnes of pangolin scales hidden in cashew shipment"
    assert not doc.title.startswith("#")
    assert "Oduya Agro Export Ltd." in doc.text


def test_md_heading_found_after_leading_lines(tmp_path):
    path = tmp_path / "later_heading.md"
    path.write_text("*Wire, 1 May 2024*\n\n# The real heading\n\nBody text here.\n", encoding="utf-8")
    assert read_doc(path).title == "The real heading"


def test_html_hyderabad_main_text_without_page_chrome():
    doc = read_doc(FILES / "hyderabad_counterfeit_cancer_drug.html")
    assert doc.title.startswith("Fake vials of cancer drug 'Tavoruzel' seized in Hyderabad")
    assert "Deccan Health Chronicle" not in doc.title  # the site name after " | " is not the headline
    for present in ("Telangana Drugs Control Administration", "Kiran Babu Pothula", "Trade Marks Act, 1999"):
        assert present in doc.text
    for absent in (
        "Related stories",  # sidebar
        "Most read",  # sidebar
        "Metro phase 2 alignment finalised",  # sidebar link
        "Monsoon: health department issues dengue alert",  # sidebar link
        "Advertisement",  # ad slot
        "E-paper",  # top bar
        "Subscribe",  # top bar
        "Privacy policy",  # footer
        "Contact the newsroom",  # footer
        "All rights reserved",  # footer
    ):
        assert absent not in doc.text, absent
    assert doc.published == date(2024, 6, 14)


def test_html_long_beach_main_text_without_page_chrome():
    doc = read_doc(FILES / "long_beach_counterfeit_sneakers.html")
    assert doc.title.startswith("Two Charged After $31 Million in Counterfeit Sneakers")
    for present in ("Westgate Pacific Imports LLC", "Derek Yuen", "18 U.S.C."):
        assert present in doc.text
    for absent in (
        "Skip to main content",
        "Report a Violation",  # nav
        "Careers",  # nav
        "Task force warns consumers about counterfeit airbags",  # aside
        "Annual seizure statistics released",  # aside
        "Office of Public Affairs",  # footer
        "FOIA",  # footer
        "Content on this page is provided for public information",  # footer
    ):
        assert absent not in doc.text, absent


def test_html_published_date_is_not_taken_from_a_sidebar_link():
    """BUG: the page is dated Thursday, August 17, 2023; trafilatura's metadata search picks up
    the sidebar link /news/2023/03/annual-seizure-statistics and the reader stores 2023-03-01.
    A missing date would be acceptable; a wrong one misplaces the report in date filters."""
    doc = read_doc(FILES / "long_beach_counterfeit_sneakers.html")
    assert doc.published in (date(2023, 8, 17), None), doc.published


def test_pdf_text_layer_extracted():
    doc = read_doc(FILES / "changzhou_hazardous_waste_case.pdf")
    assert "Jiangsu Ruitai Fine Chemical" in doc.text
    assert "distillation residues" in doc.text
    assert "Case Bulletin" in doc.title


# -- JSONL ---------------------------------------------------------------------------------------------


def test_sample_reports_jsonl():
    results = list(read_file(SAMPLE / "reports.jsonl"))
    failures = [r for r in results if isinstance(r, ReadFailure)]
    assert failures == []
    assert len(results) == 34
    assert [d.id for d in results] == [f"sample-{n:03d}" for n in range(1, 35)]
    first = results[0]
    assert first.title == "Police in Zhumadian break up clenbuterol pork ring, 14 detained"
    assert "clenbuterol" in first.text
    assert isinstance(first.published, date)
    assert first.source and first.source != str(SAMPLE / "reports.jsonl")  # the record's own source wins
    assert first.language == "en"


def test_jsonl_bad_lines_become_failures_with_line_numbers(tmp_path):
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"id": "good-1", "text": "Officers seized fake milk powder."}),  # 1
        "{not json",  # 2
        json.dumps({"id": "no-text", "title": "Only a title"}),  # 3
        "",  # 4: blank lines are skipped, not failures
        json.dumps({"text": "Title is a number here.", "title": 42}),  # 5
        json.dumps({"text": "   "}),  # 6: blank text
        json.dumps(["a", "list"]),  # 7
        json.dumps({"text": "Second good report about illegal dumping.", "extra": {"x": 1}}),  # 8
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = list(read_file(path))
    docs = [r for r in results if isinstance(r, Document)]
    failures = [r for r in results if isinstance(r, ReadFailure)]

    assert [d.id for d in docs] == ["good-1", content_id("Second good report about illegal dumping.")]
    assert docs[0].source == str(path)
    assert [f.path for f in failures] == [f"{path}:{n}" for n in (2, 3, 5, 6, 7)]
    by_line = {f.path.rsplit(":", 1)[1]: f.reason for f in failures}
    assert "text" in by_line["3"]
    assert "title" in by_line["5"]
    assert "text" in by_line["6"]
    assert all(f.reason for f in failures)


def test_document_from_record_keeps_explicit_id_and_ignores_unknown_fields():
    doc = document_from_record({"id": 17, "text": "Some text.", "foo": "bar", "published": "2024-01-02"})
    assert doc.id == "17"
    assert doc.published == date(2024, 1, 2)
    with pytest.raises(ValueError):
        document_from_record({"id": {"nested": 1}, "text": "x"})


# -- folder expansion ------------------------------------------------------------------------------------


def test_iter_input_files_recursive_sorted_supported_only(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "deep").mkdir(parents=True)
    wanted = [
        tmp_path / "a" / "deep" / "z.pdf",
        tmp_path / "a" / "x.HTML",
        tmp_path / "b" / "r.jsonl",
        tmp_path / "c.md",
        tmp_path / "d.htm",
        tmp_path / "e.txt",
    ]
    ignored = [tmp_path / "a" / "notes.docx", tmp_path / "b" / "data.csv", tmp_path / "noext"]
    for path in wanted + ignored:
        path.write_text("x", encoding="utf-8")
    results = list(iter_input_files([tmp_path]))
    assert results == sorted(wanted)
    assert all(isinstance(r, Path) for r in results)


def test_iter_input_files_on_sample_folder():
    results = list(iter_input_files([FILES]))
    assert [p.name for p in results] == sorted(p.name for p in FILES.iterdir())
    assert len(results) == 6


def test_iter_input_files_missing_and_unsupported(tmp_path):
    missing = tmp_path / "nope"
    unsupported = tmp_path / "sheet.csv"
    unsupported.write_text("a,b\n", encoding="utf-8")
    good = tmp_path / "ok.txt"
    good.write_text("hello", encoding="utf-8")
    results = list(iter_input_files([missing, unsupported, good]))
    assert len(results) == 3
    assert isinstance(results[0], ReadFailure) and results[0].path == str(missing)
    assert "no such" in results[0].reason
    assert isinstance(results[1], ReadFailure) and results[1].path == str(unsupported)
    assert ".csv" in results[1].reason
    assert results[2] == good


def test_read_file_unsupported_suffix_is_failure(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04")
    result = read_one(path)
    assert isinstance(result, ReadFailure)
    assert ".docx" in result.reason


# -- bad files never raise ---------------------------------------------------------------------------------


def test_corrupt_pdf_is_failure_not_exception(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(random.Random(1234).randbytes(4096))
    result = read_one(path)
    assert isinstance(result, ReadFailure)
    assert result.path == str(path)
    assert result.reason


def test_truncated_real_pdf_is_failure_not_exception(tmp_path):
    path = tmp_path / "truncated.pdf"
    path.write_bytes((FILES / "changzhou_hazardous_waste_case.pdf").read_bytes()[:300])
    result = read_one(path)
    assert isinstance(result, ReadFailure)


def test_empty_txt_is_failure(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("", encoding="utf-8")
    result = read_one(path)
    assert isinstance(result, ReadFailure)
    assert "empty" in result.reason


def test_whitespace_only_md_is_failure(tmp_path):
    path = tmp_path / "blank.md"
    path.write_text("  \n\n\t\n", encoding="utf-8")
    assert isinstance(read_one(path), ReadFailure)


def test_non_utf8_txt_is_failure(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\xe9 seized".encode("latin-1"))
    assert isinstance(read_one(path), ReadFailure)


def test_html_without_main_text_is_failure(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>x</title></head><body></body></html>", encoding="utf-8")
    assert isinstance(read_one(path), ReadFailure)


# -- content ids --------------------------------------------------------------------------------------------


def test_content_id_folds_whitespace():
    a = Document.create("Officers seized   fake\nwine in Yantai.")
    b = Document.create("  Officers seized fake wine\tin\n\nYantai.  ")
    assert a.id == b.id
    assert len(a.id) == 24


def test_content_id_differs_for_different_text():
    assert Document.create("Officers seized fake wine.").id != Document.create("Officers seized fake beer.").id


def test_explicit_id_kept():
    assert Document.create("Some text.", id="report-7").id == "report-7"


def test_same_file_read_twice_same_id(tmp_path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("Title line\n\nBody of the report.\n", encoding="utf-8")
    b.write_text("Title   line\nBody of the\nreport.", encoding="utf-8")
    assert read_doc(a).id == read_doc(b).id


# -- dates ---------------------------------------------------------------------------------------------------


def test_parse_date_forms():
    assert parse_date("2024-03-05") == date(2024, 3, 5)
    assert parse_date("2024-03-05T10:00:00") == date(2024, 3, 5)
    assert parse_date(" 2024-03-05 ") == date(2024, 3, 5)
    assert parse_date(None) is None
    assert parse_date("") is None


@pytest.mark.parametrize("garbage", ["yesterday", "2024-13-40", "05/03/2024", 20240305])
def test_parse_date_garbage_raises(garbage):
    with pytest.raises(ValueError):
        parse_date(garbage)
