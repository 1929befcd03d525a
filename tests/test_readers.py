"""Readers on the real sample files and on .docx and .eml files the tests build, the failure paths
(a bad file or line is a ReadFailure), the intake limits (split or refuse), and what a folder walk
ignores on purpose."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from kunlun_nlp import limits
from kunlun_nlp.document import Document, content_id
from kunlun_nlp.limits import MAX_TEXT_CHARS, MAX_TITLE_CHARS, is_valid_id
from kunlun_nlp.readers import (
    IGNORE_FILE,
    ReadFailure,
    Unsupported,
    dispatch,
    document_from_record,
    fit_to_limit,
    iter_input_files,
    parse_date,
    read_file,
    scan_inputs,
    split_text,
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
    assert doc.source == "files"  # the folder: one site's pages share it
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
    assert docs[0].source == path.parent.name
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


def test_iter_input_files_recursive_sorted_unsupported_listed(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "deep").mkdir(parents=True)
    wanted = [
        tmp_path / "a" / "deep" / "z.pdf",
        tmp_path / "a" / "notes.docx",
        tmp_path / "a" / "x.HTML",
        tmp_path / "b" / "mail.eml",
        tmp_path / "b" / "r.jsonl",
        tmp_path / "c.md",
        tmp_path / "d.htm",
        tmp_path / "e.txt",
    ]
    unsupported = [tmp_path / "b" / "data.csv", tmp_path / "noext"]
    for path in wanted + unsupported:
        path.write_text("x", encoding="utf-8")
    results = list(iter_input_files([tmp_path]))
    assert [r for r in results if isinstance(r, Path)] == sorted(wanted)
    listed = [r for r in results if not isinstance(r, Path)]
    assert all(isinstance(r, Unsupported) for r in listed)
    assert [(r.path, r.reason) for r in listed] == [
        (str(tmp_path / "b" / "data.csv"), "unsupported format .csv"),
        (str(tmp_path / "noext"), "unsupported format (no extension)"),
    ]
    # in walk order: the folder's files sorted as sorted(rglob) sorts them
    assert results.index(Unsupported.of(str(tmp_path / "b" / "data.csv"), "data.csv")) == 3


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
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04")
    result = read_one(path)
    assert isinstance(result, Unsupported) and isinstance(result, ReadFailure)
    assert result.reason == "unsupported format .xlsx"


def test_corrupt_docx_is_failure_not_exception(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    result = read_one(path)
    assert isinstance(result, ReadFailure) and not isinstance(result, Unsupported)
    assert result.path == str(path) and result.reason


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


# -- .docx (built here with python-docx) ----------------------------------------------------------------------


def write_docx(path: Path, *, title: str = "", created: datetime | None = None, table: bool = True) -> Path:
    import docx

    word = docx.Document()
    word.add_heading("Jinan police seize counterfeit rabies vaccine", level=1)
    word.add_paragraph("Officers in Jinan seized 4,000 doses of counterfeit rabies vaccine from a clinic.")
    word.add_paragraph("   ")  # an empty paragraph adds nothing
    if table:
        grid = word.add_table(rows=2, cols=3)
        for col, value in enumerate(("Item", "Quantity", "Value")):
            grid.cell(0, col).text = value
        for col, value in enumerate(("Rabies vaccine", "4,000 doses", "CNY 1.2 million")):
            grid.cell(1, col).text = value
    word.add_paragraph("The clinic's owner, Zhao Minghui, was detained.")
    if title:
        word.core_properties.title = title
    if created:
        word.core_properties.created = created
        word.core_properties.modified = created
    word.save(path)
    return path


def test_docx_paragraphs_tables_title_and_created_date(tmp_path):
    path = write_docx(
        tmp_path / "jinan.docx", title="Jinan vaccine case", created=datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
    )
    doc = read_doc(path)
    assert doc.title == "Jinan vaccine case"
    assert doc.published == date(2024, 5, 2)
    assert doc.published_via == "docx-meta"
    assert doc.source == path.parent.name
    # paragraphs and the table's rows, in the body's order
    assert doc.text.splitlines()[0] == "Jinan police seize counterfeit rabies vaccine"
    assert "Rabies vaccine | 4,000 doses | CNY 1.2 million" in doc.text
    assert doc.text.index("Item | Quantity | Value") < doc.text.index("Zhao Minghui")


def test_docx_without_properties_takes_first_line_and_no_template_date(tmp_path):
    """python-docx's blank template carries a 2013 creation stamp: no date beats a wrong one."""
    doc = read_doc(write_docx(tmp_path / "plain.docx", table=False))
    assert doc.title == "Jinan police seize counterfeit rabies vaccine"
    assert doc.published is None and doc.published_via == ""


def test_docx_modified_date_when_no_created(tmp_path):
    import docx

    path = write_docx(tmp_path / "m.docx")
    word = docx.Document(path)
    word.core_properties.created = datetime(2013, 12, 23, 23, 15, tzinfo=UTC)  # the template's stamp
    word.core_properties.modified = datetime(2025, 1, 9, 12, 0, tzinfo=UTC)
    word.save(path)
    assert read_doc(path).published == date(2025, 1, 9)


def test_docx_without_text_is_failure(tmp_path):
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(path)
    result = read_one(path)
    assert isinstance(result, ReadFailure) and "no text" in result.reason


# -- .eml (built here with email.message.EmailMessage) --------------------------------------------------------


SENT = datetime(2024, 3, 4, 10, 30, tzinfo=UTC)


def email_message(*, plain: str | None = None, html: str | None = None, date_header: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "FW: Lagos customs seize pangolin scales"
    message["From"] = "Nigeria Customs Press Office <press@customs.example>"
    message["To"] = "desk@kunlun.example"
    message["Date"] = date_header if date_header is not None else format_datetime(SENT)
    if plain is not None:
        message.set_content(plain)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return message


def test_eml_plain_body_subject_date_and_sender(tmp_path):
    message = email_message(
        plain="Customs officers at Apapa port seized 7.2 tonnes of pangolin scales.\n",
        html="<html><body><p>HTML copy: <b>should not be used</b></p></body></html>",
    )
    path = tmp_path / "press.eml"
    path.write_bytes(bytes(message))
    doc = read_doc(path)
    assert doc.title == "FW: Lagos customs seize pangolin scales"
    assert doc.text == "Customs officers at Apapa port seized 7.2 tonnes of pangolin scales."
    assert doc.published == date(2024, 3, 4) and doc.published_via == "email-date"
    assert doc.source == "Nigeria Customs Press Office <press@customs.example>"


def test_eml_html_only_body_goes_through_the_html_reader(tmp_path):
    html = (
        "<html><body><nav>Home | Contact</nav><article><p>Customs officers at Apapa port seized 7.2 tonnes "
        "of pangolin scales hidden in a cashew shipment bound for Haiphong.</p><p>Two clearing agents "
        "were arrested and the exporter's licence was suspended.</p></article></body></html>"
    )
    path = tmp_path / "html.eml"
    path.write_bytes(bytes(email_message(html=html)))
    doc = read_doc(path)
    assert "pangolin scales hidden in a cashew shipment" in doc.text
    assert "<p>" not in doc.text and "<b>" not in doc.text


def test_eml_attachments_are_documents_of_their_own(tmp_path):
    message = email_message(plain="See the attached case files.\n")
    docx_path = write_docx(tmp_path / "vaccine case.docx", title="Inner title", created=datetime(2020, 1, 1))
    message.add_attachment(
        docx_path.read_bytes(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="vaccine case.docx",
    )
    pdf_bytes = (FILES / "changzhou_hazardous_waste_case.pdf").read_bytes()
    message.add_attachment(pdf_bytes, maintype="application", subtype="pdf", filename="bulletin.pdf")
    message.add_attachment(b"Notes: 30 boxes of fake sildenafil.\n", maintype="text", subtype="plain", filename="notes.txt")
    message.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="seizures.csv")
    path = tmp_path / "case.eml"
    path.write_bytes(bytes(message))

    results = list(read_file(path))
    docs = [r for r in results if isinstance(r, Document)]
    assert [d.title for d in docs] == [
        "FW: Lagos customs seize pangolin scales",
        "vaccine case.docx",
        "bulletin.pdf",
        "notes.txt",
    ]
    for attachment in docs[1:]:
        # the e-mail's date and sender, not the file's own metadata
        assert attachment.published == date(2024, 3, 4) and attachment.published_via == "email-date"
        assert attachment.source == "Nigeria Customs Press Office <press@customs.example>"
    assert "Zhao Minghui" in docs[1].text
    assert "Jiangsu Ruitai Fine Chemical" in docs[2].text
    assert docs[3].text.startswith("Notes: 30 boxes")
    (unsupported,) = [r for r in results if not isinstance(r, Document)]
    assert unsupported == Unsupported(f"{path}#seizures.csv", "unsupported format .csv")


def test_eml_forwarded_message_inside_is_read_too(tmp_path):
    inner = email_message(plain="The original report: 12 drums of solvent were dumped in the Huai river.\n")
    del inner["Subject"]
    inner["Subject"] = "Dumping on the Huai"
    outer = email_message(plain="Forwarding this one.\n")
    outer.add_attachment(inner)
    path = tmp_path / "fwd.eml"
    path.write_bytes(bytes(outer))
    docs = [r for r in read_file(path) if isinstance(r, Document)]
    assert [d.title for d in docs] == ["FW: Lagos customs seize pangolin scales", "Dumping on the Huai"]
    assert "12 drums of solvent" in docs[1].text


def test_eml_bad_date_header_means_no_date(tmp_path):
    path = tmp_path / "nodate.eml"
    path.write_bytes(bytes(email_message(plain="Seizure of fake honey in Harbin.\n", date_header="sometime last week")))
    doc = read_doc(path)
    assert doc.published is None and doc.published_via == ""


def test_eml_without_body_or_attachments_is_failure(tmp_path):
    message = EmailMessage()
    message["Subject"] = "empty"
    path = tmp_path / "empty.eml"
    path.write_bytes(bytes(message))
    result = read_one(path)
    assert isinstance(result, ReadFailure) and "no readable text body" in result.reason


# -- dates from HTML meta tags and the PDF info dictionary --------------------------------------------------------


PAGE = """<html><head><title>Fake honey seized in Harbin | Wire</title>{meta}</head><body>
<article><h1>Fake honey seized in Harbin</h1>
<p>Market regulators in Harbin seized 3 tonnes of syrup sold as wild honey from a warehouse in Daoli district.</p>
<p>The seller, Heilongjiang Fengmi Trading Co., faces a fine of up to ten times the goods' value.</p>
</article></body></html>"""


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ('<meta property="article:published_time" content="2024-07-09T08:15:00+08:00">', date(2024, 7, 9)),
        ('<meta name="DC.date" content="2023-11-30">', date(2023, 11, 30)),
        ('<meta name="date" content="20220105">', date(2022, 1, 5)),
        ('<meta property="og:published_time" content="2021-02-03">', date(2021, 2, 3)),
        # the most specific tag wins over a generic one, whatever their order
        ('<meta name="date" content="2020-01-01"><meta property="article:published_time" content="2024-07-09">', date(2024, 7, 9)),
    ],
)
def test_html_meta_dates(tmp_path, meta, expected):
    path = tmp_path / "page.html"
    path.write_text(PAGE.format(meta=meta), encoding="utf-8")
    doc = read_doc(path)
    assert doc.published == expected
    assert doc.published_via == "html-meta"


def test_html_without_any_date(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(PAGE.format(meta='<meta name="date" content="not a date">'), encoding="utf-8")
    doc = read_doc(path)
    assert doc.published is None and doc.published_via == ""


def test_html_time_element_date_is_html_meta_too():
    doc = read_doc(FILES / "hyderabad_counterfeit_cancer_drug.html")
    assert doc.published == date(2024, 6, 14) and doc.published_via == "html-meta"


def test_html_in_a_legacy_charset_is_read(tmp_path):
    path = tmp_path / "gbk.html"
    page = PAGE.format(meta='<meta charset="gbk">').replace("Daoli district", "道里区")
    path.write_bytes(page.encode("gbk"))
    assert "道里区" in read_doc(path).text


def test_pdf_creation_date_is_pdf_info():
    doc = read_doc(FILES / "changzhou_hazardous_waste_case.pdf")
    assert doc.published == date(2026, 11, 29)  # the sample's /CreationDate D:20261129093155Z
    assert doc.published_via == "pdf-info"


# -- limits: split at paragraphs, refuse only what is not text ----------------------------------------------------


def prose(size: int, seed: int = 5) -> str:
    """Paragraphs of varied sentences, about `size` characters."""
    rng = random.Random(seed)
    words = (
        "customs officers seized counterfeit medicine shipment port police arrested suspects warehouse "
        "tonnes illegal pesticide river dumping vaccine trademark labels invoices"
    ).split()
    paragraphs, total = [], 0
    while total < size:
        sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(6, 18))).capitalize() + "." for _ in range(rng.randint(2, 9))]
        paragraphs.append(" ".join(sentences))
        total += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs)


def folded(text: str) -> str:
    return " ".join(text.split())


def test_five_megabyte_txt_in_a_folder_is_split_and_the_others_read(tmp_path):
    folder = tmp_path / "intake"
    folder.mkdir()
    big_text = "Provincial inspection log, 2024\n\n" + prose(5_000_000)
    (folder / "big.txt").write_text(big_text, encoding="utf-8")
    assert (folder / "big.txt").stat().st_size > 5_000_000
    (folder / "small.txt").write_text("Fake wine seized in Yantai\n\nOfficers seized 900 bottles.\n", encoding="utf-8")
    (folder / "note.md").write_text("# Pesticide raid\n\nBanned paraquat found in Hebei.\n", encoding="utf-8")

    splits: list[tuple[str, int]] = []
    results = {}
    for path in iter_input_files([folder]):
        results[path.name] = list(read_file(path, on_split=lambda where, n: splits.append((where, n))))

    assert [d.title for d in results["small.txt"]] == ["Fake wine seized in Yantai"]
    assert [d.title for d in results["note.md"]] == ["Pesticide raid"]
    parts = results["big.txt"]
    count = len(parts)
    assert splits == [(str(folder / "big.txt"), count)]
    assert count == pytest.approx(len(big_text) / MAX_TEXT_CHARS, abs=2)
    assert all(isinstance(p, Document) for p in parts)
    assert all(len(p.text) <= MAX_TEXT_CHARS for p in parts)
    whole_id = content_id(big_text)
    assert [p.id for p in parts] == [f"{whole_id}-part{n}" for n in range(1, count + 1)]
    assert all(is_valid_id(p.id) for p in parts)
    assert [p.title for p in parts] == [f"Provincial inspection log, 2024 (part {n} of {count})" for n in range(1, count + 1)]
    assert {p.source for p in parts} == {folder.name}
    # cut at paragraph ends only, nothing lost or repeated
    paragraphs = set(big_text.split("\n\n"))
    for part in parts:
        assert part.text.split("\n\n")[0] in paragraphs and part.text.split("\n\n")[-1] in paragraphs
    assert folded(" ".join(p.text for p in parts)) == folded(big_text)


def test_split_prefers_paragraphs_then_sentences_then_spaces():
    paragraphs = ["a" * 40 + ".", "b" * 40 + ".", "c" * 40 + "."]
    assert split_text("\n\n".join(paragraphs), 90) == ["\n\n".join(paragraphs[:2]), paragraphs[2]]
    one_paragraph = "First sentence here. Second sentence here. Third sentence here."
    assert split_text(one_paragraph, 45) == ["First sentence here. Second sentence here.", "Third sentence here."]
    no_stops = "word " * 30
    parts = split_text(no_stops, 42)
    assert all(len(p) <= 42 for p in parts) and all(p.split() == ["word"] * len(p.split()) for p in parts)
    assert sum(len(p.split()) for p in parts) == 30
    cjk = "海关查获假药。" * 20
    assert all(len(p) <= 50 and p.endswith("。") for p in split_text(cjk, 50))


def test_refused_binary_junk_and_unbroken_runs():
    junk = Document.create("\x00\x01\x02 data " * 100)
    (refused,) = fit_to_limit(junk, "junk.txt", limit=100)
    assert isinstance(refused, ReadFailure) and refused.path == "junk.txt"
    assert "over the 100 limit" in refused.reason and "binary data" in refused.reason

    blob = Document.create("A" * 500)
    (refused,) = fit_to_limit(blob, "blob.txt", limit=100)
    assert isinstance(refused, ReadFailure) and "without a space" in refused.reason

    small = Document.create("\x00\x01 fits")
    assert list(fit_to_limit(small, "small.txt", limit=100)) == [small]  # under the limit: untouched


def test_oversized_file_refused_with_reason_in_the_run(tmp_path):
    path = tmp_path / "dump.txt"
    path.write_text("\x00\x07\x1b" * 100_000 + "text", encoding="utf-8")
    result = read_one(path)
    assert isinstance(result, ReadFailure) and result.reason.startswith("refused: 300,004 characters")


def test_jsonl_record_over_the_limit_keeps_its_id_and_metadata_in_parts(tmp_path):
    text = prose(MAX_TEXT_CHARS + 50_000, seed=9)
    path = tmp_path / "export.jsonl"
    record = {"id": "rep-7", "text": text, "title": "Long report", "published": "2024-02-02", "grade": "B2"}
    path.write_text(json.dumps(record) + "\n" + json.dumps({"id": "rep-8", "text": "Short."}) + "\n", encoding="utf-8")
    results = list(read_file(path))
    assert [d.id for d in results] == ["rep-7-part1", "rep-7-part2", "rep-8"]
    assert [d.title for d in results[:2]] == ["Long report (part 1 of 2)", "Long report (part 2 of 2)"]
    assert all(d.published == date(2024, 2, 2) and d.grade == "B2" for d in results[:2])


def test_part_ids_that_would_break_the_id_pattern_are_refused():
    doc = Document.create("Para one.\n\nPara two.", id="x" * 128)
    (refused,) = fit_to_limit(doc, "long-id.jsonl", limit=12)
    assert isinstance(refused, ReadFailure) and "too long" in refused.reason


def test_records_obey_the_api_id_and_title_limits():
    with pytest.raises(ValueError, match="id"):
        document_from_record({"id": "has spaces/and slashes", "text": "x"})
    with pytest.raises(ValueError, match="title"):
        document_from_record({"text": "x", "title": "t" * (MAX_TITLE_CHARS + 1)})
    assert document_from_record({"text": "x", "title": "t" * MAX_TITLE_CHARS}).title == "t" * MAX_TITLE_CHARS


def test_long_heading_or_subject_is_cut_to_the_title_limit(tmp_path):
    md = tmp_path / "t.md"
    md.write_text("# " + "Seizure " * 400 + "\n\nBody.\n", encoding="utf-8")
    eml = tmp_path / "t.eml"
    message = email_message(plain="Body.\n")
    message.replace_header("Subject", "Seizure " * 400)
    eml.write_bytes(bytes(message))
    for path in (md, eml):
        title = read_doc(path).title
        assert len(title) <= MAX_TITLE_CHARS and title.endswith("Seizure…"), path


def test_api_and_readers_share_one_set_of_limits():
    from api import schemas

    assert schemas.MAX_TEXT_CHARS is limits.MAX_TEXT_CHARS == 200_000
    assert schemas.MAX_TITLE_CHARS is limits.MAX_TITLE_CHARS == 1_000
    assert schemas.ID_PATTERN is limits.ID_PATTERN
    fields = schemas.DocumentIn.model_fields
    assert any(getattr(m, "max_length", None) == limits.MAX_TEXT_CHARS for m in fields["text"].metadata)
    assert any(getattr(m, "max_length", None) == limits.MAX_TITLE_CHARS for m in fields["title"].metadata)
    assert any(getattr(m, "pattern", None) == limits.ID_PATTERN for m in fields["id"].metadata)
    # the readers' split size is the same constant: spaCy's E088 limit is far above it
    assert dispatch.MAX_TEXT_CHARS is limits.MAX_TEXT_CHARS < 1_000_000


# -- ignored on purpose: hidden files and .kunlunignore --------------------------------------------------------------


def test_hidden_and_kunlunignore_are_counted_not_read(tmp_path):
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "blob.txt").write_text("x", encoding="utf-8")
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "d.txt").write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    for name in (".DS_Store", "keep.txt", "scrape.log", "sub/page.html", "sub/old.txt", "sub/.hidden.md", "sub/important.log"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / IGNORE_FILE).write_text("# scraper leftovers\ndrafts/\n*.log\n!important.log\n/sub/old.txt\n", encoding="utf-8")

    scan = scan_inputs([tmp_path])
    assert scan.files == [tmp_path / "keep.txt", tmp_path / "sub" / "page.html"]
    assert scan.unsupported == [Unsupported(str(tmp_path / "sub" / "important.log"), "unsupported format .log")]
    assert scan.failures == []
    by_name = {i.path.name: (i.why, i.folder) for i in scan.ignored}
    assert by_name == {
        ".git": ("hidden", True),  # a folder counts once; its files are not walked
        ".DS_Store": ("hidden", False),
        ".hidden.md": ("hidden", False),
        "drafts": (IGNORE_FILE, True),
        "scrape.log": (IGNORE_FILE, False),
        "old.txt": (IGNORE_FILE, False),
    }


def test_a_path_named_explicitly_is_never_ignored(tmp_path):
    hidden = tmp_path / ".report.txt"
    hidden.write_text("x", encoding="utf-8")
    folder = tmp_path / ".cache"
    folder.mkdir()
    (folder / "a.txt").write_text("x", encoding="utf-8")
    scan = scan_inputs([hidden, folder])
    assert scan.files == [hidden, folder / "a.txt"] and scan.ignored == []


def test_missing_path_is_a_failure_in_the_scan(tmp_path):
    scan = scan_inputs([tmp_path / "nope"])
    assert scan.files == [] and [f.reason for f in scan.failures] == ["no such file or folder"]
