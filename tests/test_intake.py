"""Raw intake read as an analyst reads it: furniture learned from a source's own documents, the
headline, the published date from the text, the source's readable name and default grade."""

from __future__ import annotations

from datetime import date

import pytest

from kunlun_nlp.document import Document
from kunlun_nlp.intake.dateline import published_date
from kunlun_nlp.intake.furniture import lines_of, masked
from kunlun_nlp.intake.profiles import SourceProfiles
from kunlun_nlp.intake.sources import SourceSettings
from kunlun_nlp.pipeline import Pipeline, PipelineConfig, StageConfig

INTAKE_STAGES = ("furniture", "source_name", "source_grade", "headline", "dateline", "report_text")
MENU = "HOME\nGET HELP\nREPORT A CRIME\nSkip to content\n"
FOOTER = "\nLatest posts\nFormulario de Denuncia en Línea de la Fiscalía\nCopyright 2024 County DA"


def _release(n: int, headline: str, day: str, body: str) -> str:
    return f"{headline} - The County District Attorney's Office\n{MENU}FOR IMMEDIATE RELEASE\n{day}\n{headline}\n{body}{FOOTER}"


RELEASES = [
    _release(1, "Man Charged With Selling Counterfeit Airbags", "Friday, February 20, 2015", "A Queens man was charged today with selling 300 counterfeit airbags."),
    _release(2, "Restaurant Owner Convicted Of Selling Tainted Oysters", "Monday, March 2, 2015", "The owner sold oysters harvested from closed waters."),
    _release(3, "Two Indicted For Illegal Dumping Of Asbestos", "Tuesday, March 3, 2015", "Two contractors dumped asbestos debris in a park."),
    _release(4, "Pharmacist Sentenced For Fake Insulin", "Wednesday, March 4, 2015", "The pharmacist sold counterfeit insulin pens."),
]


def _intake(**settings) -> Pipeline:
    return Pipeline(PipelineConfig(tuple(StageConfig(name, settings.get(name, {})) for name in INTAKE_STAGES)))


def _documents(source: str = "county_da") -> list[Document]:
    return [Document.create(text, title=text.splitlines()[0], id=f"r{i}", source=source) for i, text in enumerate(RELEASES)]


def _furniture_lines(tagged) -> set[str]:
    text = tagged.document.text
    return {line.text for line in lines_of(text) if any(s <= line.start and line.end <= e for s, e in tagged.furniture)}


def test_lines_recurring_across_a_sources_documents_are_furniture_and_blanked():
    tagged = _intake().tag(_documents())
    for t in tagged:
        furniture = _furniture_lines(t)
        assert {"HOME", "Skip to content", "FOR IMMEDIATE RELEASE", "Latest posts", "Formulario de Denuncia en Línea de la Fiscalía"} <= furniture
        body_line = t.document.text.splitlines()[-4]  # the release's own paragraph
        assert body_line not in furniture and t.document.title not in furniture


def test_furniture_needs_several_documents_of_the_same_source():
    one_each = [Document.create(d.text, title=d.title, id=d.id, source=f"site-{d.id}") for d in _documents()]
    for t in _intake().tag(one_each):
        assert "Skip to content" not in _furniture_lines(t)


def test_dates_on_their_own_line_and_copies_are_never_furniture():
    same_day = [Document.create(text.replace(text.split("\n")[6], "Friday, February 20, 2015"), id=f"d{i}", source="s") for i, text in enumerate(RELEASES)]
    for t in _intake().tag(same_day):
        assert "Friday, February 20, 2015" not in _furniture_lines(t)
    copies = [Document.create("Police seized fake honey.\nThree were held.", id=f"c{i}", source="s") for i in range(4)]
    assert all(not t.furniture for t in _intake().tag(copies))


def test_masking_keeps_offsets():
    text = "MENU\nPolice seized 3 t of gutter oil.\nShare this"
    body = masked(text, [(0, 4), (text.index("Share"), len(text))])
    assert len(body) == len(text) and body[5:] .startswith("Police seized") and "MENU" not in body and "Share" not in body


def test_profiles_persist_and_count_each_document_once(tmp_path):
    profiles = SourceProfiles(tmp_path / "profiles.sqlite3")
    for doc_id in ("a", "b", "a"):
        profiles.learn("site", doc_id, ["k1", "k2"])
    profiles.close()
    again = SourceProfiles(tmp_path / "profiles.sqlite3")
    assert again.counts("site", ["k1", "k3"]) == {"k1": 2}
    assert again.counts("other", ["k1"]) == {}


def test_headline_drops_the_site_suffix_and_never_is_a_menu_line_or_file_name():
    tagged = _intake().tag(_documents())
    assert [t.document.title for t in tagged] == [
        "Man Charged With Selling Counterfeit Airbags",
        "Restaurant Owner Convicted Of Selling Tainted Oysters",
        "Two Indicted For Illegal Dumping Of Asbestos",
        "Pharmacist Sentenced For Fake Insulin",
    ]
    skip_titled = [Document.create(d.text.split("\n", 1)[1], title="Skip to content", id=d.id, source="s") for d in _documents()]
    assert _intake().tag(skip_titled)[0].document.title == "Man Charged With Selling Counterfeit Airbags"
    stem = Document.create("Customs seized 40,000 fake watches at the port of Felixstowe on Monday.", title="2024_05_01_fake-watches")
    assert _intake().tag([stem])[0].document.title == "Customs seized 40,000 fake watches at the port of Felixstowe on Monday."


def test_the_site_name_becomes_the_source_unless_operators_name_it(tmp_path):
    assert {t.document.source for t in _intake().tag(_documents())} == {"The County District Attorney's Office"}
    settings_file = tmp_path / "sources.toml"
    settings_file.write_text('[sources.county_da]\nname = "County DA"\ngrade = "B2"\n', encoding="utf-8")
    sources = SourceSettings.load(settings_file)
    tagged = _intake().tag(_documents(), sources=sources)
    assert {(t.document.source, t.document.grade) for t in tagged} == {("County DA", "B2")}
    given = _intake().tag([Document.create("Fake honey seized.", source="county_da", grade="A1")], sources=sources)
    assert given[0].document.grade == "A1"  # a document's own grade wins
    settings_file.write_text('[sources.x]\ngrade = "Z9"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="source 'x'.*Z9"):
        SourceSettings.load(settings_file)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Skip to content\nFOR IMMEDIATE RELEASE\nFriday, February 20, 2015\nBody.", date(2015, 2, 20)),
        ("FOR IMMEDIATE RELEASE Thursday, November 13, 2014\nBody.", date(2014, 11, 13)),
        ("Published\nDecember 6, 2012\nBody.", date(2012, 12, 6)),
        ("Posted on 03/04/2019\nBody.", date(2019, 3, 4)),
        ("Admin | August 29, 2024\nBody.", date(2024, 8, 29)),
        ("HOUSTON (Jan. 5, 2016) – A man was charged with selling fake pills to students.", date(2016, 1, 5)),
        ("On Jan. 21, 2015, police seized fake pills.", None),
        ("Police seized fake pills. " * 10 + "\nRelated posts\nMay 13, 2026", None),  # after the body: another story's
    ],
)
def test_published_date_from_the_text(text, expected):
    assert published_date(lines_of(text)) == expected


def test_a_stated_date_fills_only_a_missing_one_and_says_where_it_came_from():
    found, given = _intake().tag([
        Document.create("FOR IMMEDIATE RELEASE\nMay 1, 2024\nFake honey seized.", id="a"),
        Document.create("FOR IMMEDIATE RELEASE\nMay 1, 2024\nFake honey seized.", id="b", published=date(2024, 5, 2)),
    ])
    assert (found.document.published, found.document.published_via) == (date(2024, 5, 1), "text")
    assert (given.document.published, given.document.published_via) == (date(2024, 5, 2), "given")


def test_a_byline_with_each_days_date_is_one_template_line():
    bylines = [
        Document.create(f"Admin | {day}\nPolice seized fake {goods} in a raid on a warehouse.", id=f"b{n}", source="miami")
        for n, (day, goods) in enumerate(
            [("August 29, 2024", "honey"), ("June 2, 2025", "insulin"), ("May 22, 2025", "handbags"), ("October 24, 2024", "pesticide")]
        )
    ]
    for t in _intake().tag(bylines):
        assert _furniture_lines(t) == {t.document.text.split("\n")[0]}
        assert t.document.published is not None  # the date is still read from it
