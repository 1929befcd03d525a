"""Triage: date resolution, case cards, priority with reasons, source grades."""

from __future__ import annotations

import re
import tarfile
from datetime import date
from pathlib import Path

import pytest

from kunlun_nlp.document import Document, DomainScore, Entity, TaggedDocument
from kunlun_nlp.normalize import entity_details
from kunlun_nlp.numbers import non_count_spans
from kunlun_nlp.triage.cards import build_cards
from kunlun_nlp.triage.dates import resolve_date
from kunlun_nlp.triage.grading import default_grade
from kunlun_nlp.vocabulary import SourceGrade
from kunlun_nlp.pipeline import Pipeline, PipelineConfig, StageConfig
from kunlun_nlp.triage.priority import DEFAULT_CONFIG, PriorityScorer, count_harm, load_priority_scorer
from kunlun_nlp.triage.triage import Prioritiser, Scored

WEDNESDAY = date(2024, 3, 6)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("on Tuesday", date(2024, 3, 5)),
        ("Wednesday", WEDNESDAY),  # the publication day itself
        ("last Wednesday", date(2024, 2, 28)),
        ("yesterday", date(2024, 3, 5)),
        ("two days ago", date(2024, 3, 4)),
        ("last week", date(2024, 2, 28)),
        ("last month", date(2024, 2, 1)),
        ("earlier this month", date(2024, 3, 1)),
        ("in February", date(2024, 2, 1)),
        ("in April", date(2023, 4, 1)),  # April 2024 would be after publication
        ("March 3", date(2024, 3, 3)),
        ("3 March 2023", date(2023, 3, 3)),
        ("December 31", date(2023, 12, 31)),
        ("Feb. 29", date(2024, 2, 29)),
        ("2024-01-05", date(2024, 1, 5)),
        ("in 2022", date(2022, 1, 1)),
        ("the past year", None),
        ("February 30", None),
    ],
)
def test_dates_resolve_against_publication(phrase, expected):
    assert resolve_date(phrase, WEDNESDAY) == expected


def test_dates_without_publication_date_need_a_year():
    assert resolve_date("on Tuesday", None) is None
    assert resolve_date("March 2021", None) == date(2021, 3, 1)
    assert resolve_date("5 May 2020", None) == date(2020, 5, 5)


def _entities(text: str, spans: list[tuple[str, str]]) -> list[Entity]:
    out = []
    for mention, label in spans:
        start = text.index(mention)
        out.append(Entity(label, mention, start, start + len(mention), mention, entity_details(label, mention)))
    return sorted(out, key=lambda e: e.start)


ROUND_UP = (
    "Police in Zhengzhou seized 12 tonnes of gutter oil on Tuesday and arrested four suspects.\n\n"
    "In a separate case, customs officers in Ningbo confiscated 3,400 boxes of counterfeit Viagra worth $1.2 million.\n\n"
    "A court in Kunming sentenced a trader to six years for selling pangolin scales."
)


def test_round_up_gives_one_card_per_case_with_its_own_details():
    entities = _entities(
        ROUND_UP,
        [
            ("Zhengzhou", "LOC"), ("12 tonnes", "QUANTITY"), ("gutter oil", "PRODUCT"), ("Tuesday", "DATE"),
            ("Ningbo", "LOC"), ("3,400 boxes", "QUANTITY"), ("counterfeit Viagra", "PRODUCT"), ("$1.2 million", "MONEY"),
            ("Kunming", "LOC"), ("six years", "DATE"), ("pangolin scales", "SUBSTANCE"),
        ],
    )
    cards = build_cards(ROUND_UP, entities, WEDNESDAY)
    actions = [c.action for c in cards]
    assert actions == ["arrest", "seizure", "seizure", "conviction"]
    first_seizure = cards[1]
    assert first_seizure.products == ["gutter oil"] and _texts(first_seizure.quantities) == ["12 tonnes"]
    assert _texts(first_seizure.places) == ["Zhengzhou"] and first_seizure.date == date(2024, 3, 5)
    assert first_seizure.quantities[0].details["base_value"] == pytest.approx(12000)
    viagra = cards[2]
    assert viagra.products == ["counterfeit Viagra"] and _texts(viagra.money) == ["$1.2 million"]
    assert viagra.money[0].details == {"amount": pytest.approx(1.2e6), "currency": "USD"}
    assert _texts(viagra.places) == ["Ningbo"]
    assert cards[3].substances == ["pangolin scales"] and _texts(cards[3].places) == ["Kunming"]


def _texts(values) -> list[str]:
    return [v.text for v in values]


def test_details_named_after_the_action_join_its_card():
    text = "Inspectors raided a warehouse in Lagos. They found 300 cartons of expired tomato paste."
    entities = _entities(text, [("Lagos", "LOC"), ("300 cartons", "QUANTITY"), ("tomato paste", "PRODUCT")])
    (card,) = build_cards(text, entities, None)
    assert card.action == "raid" and _texts(card.quantities) == ["300 cartons"] and card.products == ["tomato paste"]


def test_a_place_and_its_region_are_listed_most_specific_first():
    text = "Police seized 300 cartons of fake formula from a warehouse in Duluth, Ga."
    entities = _entities(text, [("Duluth, Ga.", "LOC"), ("300 cartons", "QUANTITY"), ("fake formula", "PRODUCT")])
    (card,) = build_cards(text, entities, None)
    assert _texts(card.places) == ["Duluth", "Ga."]
    # the town keeps the resolution its state gave it: Duluth, Georgia, not Duluth, Minnesota
    assert [p.details["admin1"] for p in card.places] == ["Georgia", "Georgia"]
    assert [p.details["kind"] for p in card.places] == ["city", "admin1"]


def test_agencies_and_suspects_get_roles():
    text = "The Guangdong Provincial Public Security Department arrested the owner of Huaxin Trading Co., Ltd."
    entities = _entities(text, [("Guangdong Provincial Public Security Department", "ORG"), ("Huaxin Trading Co., Ltd.", "ORG")])
    (card,) = build_cards(text, entities, None)
    assert [(p.name, p.role) for p in card.organisations] == [
        ("Guangdong Provincial Public Security Department", "agency"),
        ("Huaxin Trading Co., Ltd.", "suspect"),
    ]


def test_seed_notice_cards_invent_no_seizures(pipeline, seed_document):
    (tagged,) = pipeline.tag([seed_document])
    assert all(not card.quantities and not card.money for card in tagged.cases)
    assert all(card.action not in ("seizure", "arrest", "conviction") for card in tagged.cases)


@pytest.mark.parametrize(
    ("text", "deaths", "ill"),
    [
        ("Two people died and 23 others were hospitalised after drinking the liquor.", 2, 23),
        ("Fourteen people were admitted to hospital.", 0, 14),
        ("No one was hurt.", 0, 0),
        ("The death toll rose as 11 villagers died.", 11, 0),
        ("The 2008 scandal killed at least six infants and sickened 300,000 children.", 6, 300_000),
    ],
)
def test_harm_counts(text, deaths, ill):
    assert count_harm(text) == (deaths, ill)


def _score(text: str, domains=("FOOD",), entities=(), published=WEDNESDAY, grade="F6", new_firms=()):
    return PriorityScorer().score(
        text=text, domains=list(domains), entities=list(entities), published=published, event_dates=[],
        today=WEDNESDAY, grade=SourceGrade.parse(grade), new_firms=list(new_firms),
    )


# --- Priority reads text as a person would (issue 11, item 8) ----------------------------------------


@pytest.mark.parametrize(
    ("text", "deaths", "ill"),
    [
        # dates and years: "On Jan. 21, 2015, …" once gave "2015 ill or hospitalised"
        ("On Jan. 21, 2015, three people were hospitalised.", 0, 3),
        ("In 2023, 28 people were killed in 26 DUI crashes.", 28, 0),
        ("He struck again in November 2001, when he killed 26-year-old Ana Ruiz.", 1, 0),
        ("So far in 2024,\nthere have been nine people killed.", 9, 0),
        ("Twenty-five people died.", 25, 0),
        # case numbers
        ("In case number 19-4471 two children were poisoned.", 0, 2),
        ("Case No. 2019-12345: the victim died.", 1, 0),
        # phone numbers
        ("Anyone with information can call 714-347-8408 or (714) 347-8405 after a worker was hospitalised.", 0, 1),
        # addresses
        ("A woman at the 3000 block of Elm was hospitalised.", 0, 1),
        # ages
        ("The victim, 46, was hospitalised.", 0, 1),
        ("A man aged 46 died.", 1, 0),
        ("Gilberto Sotelo, 38, was pronounced dead at the scene.", 1, 0),
        ("Jacob Ivascu, and Drake Ruiz, all 16, were killed.", 1, 0),
        # money
        ("The scheme cost victims $25,000 and left two people hospitalised.", 0, 2),
        # times
        ("At 10 pm four workers were hospitalised.", 0, 4),
        # durations, repetitions and percentages
        ("Houston Man Sentenced to 30 years for Fatal Crash", 1, 0),
        ("Mario Lopez was shot approximately eight times and pronounced dead.", 1, 0),
        ("About 21 percent were hospitalised.", 0, 1),
        # real counts beside words that also start addresses or ages
        ("He told us 3 people died.", 3, 0),
        ("All 3 passengers were killed.", 3, 0),
        # harm denied, or words that only look like it
        ("It is fortunate that no one was killed.", 0, 0),
        ("When we run into a dead end, we ask the public.", 0, 0),
        ("The defendant has admitted today that she sold the pills.", 0, 0),
        ("Police arrested two men in the fatal shooting.", 1, 0),
    ],
)
def test_numbers_that_are_not_counts_are_never_read_as_harm(text, deaths, ill):
    assert count_harm(text) == (deaths, ill)


def test_a_date_is_never_a_count_in_the_real_release():
    """The release that gave "2015 ill or hospitalised": the woman admitted herself to hospital on
    Jan. 1, 2015 and died on Jan. 21, 2015; one death, at most one person in hospital."""
    text = ("On Jan. 1, 2015, De La Riva admitted herself into Kaiser Hospital in Garden Grove and was then transferred "
            "to Kaiser Hospital in Anaheim to be treated for a respiratory problem, where she later died on Jan. 21, 2015.")
    deaths, ill = count_harm(text)
    assert deaths == 1 and ill <= 1
    assert not [r for r in _score(text).reasons if "2015" in r or "21 " in r]


@pytest.mark.parametrize(
    ("text", "written", "kind"),
    [
        ("On Jan. 21, 2015, the plant closed.", "Jan. 21, 2015", "date"),
        ("It reopened on 13 July 2011.", "13 July 2011", "date"),
        ("DOB: 2-20-89.", "2-20-89", "date"),
        ("See Case No. 2019-12345.", "Case No. 2019-12345", "case number"),
        ("He is charged (Case No.20CF1682) with murder.", "Case No.20CF1682", "case number"),
        ("Call 714-347-8408.", "714-347-8408", "phone"),
        ("Call (714) 347-8405.", "(714) 347-8405", "phone"),
        ("It happened in the 3000 block of Main Street.", "3000 block", "address"),
        ("A 46-year-old man was arrested.", "46-year-old", "age"),
        ("Goods worth $1.2 million were seized.", "$1.2 million", "money"),
        ("At 10:30 p.m. officers arrived.", "10:30 p.m.", "time"),
        ("Crime fell 21% last year.", "21%", "percent"),
        ("In 2023, 28 people were killed.", "2023", "year"),
    ],
)
def test_numbers_that_name_something_else_are_found_by_kind(text, written, kind):
    start = text.index(written)
    assert (kind, start, start + len(written)) in [(s.kind, s.start, s.end) for s in non_count_spans(text)]


def test_counts_are_not_taken_for_other_numbers():
    text = "In 2023, 28 people were killed and 1,200 fell ill."
    assert [text[s.start:s.end] for s in non_count_spans(text)] == ["2023"]


@pytest.mark.parametrize(
    "text",
    [
        "The investigation was lead by detectives of the Santa Ana Police Department.",
        "Lead detective Ana Ruiz said the case was solved.",
        "Lead Prosecutor Kevin Brooks told the jury the evidence was clear.",
        "The DA's office will take the lead in the investigation.",
        "Multiple arrests lead to the charging of an alleged trafficker.",
        "Resources: Project LEAD, Community Resource Calendar.",
        "He filed false claims with Mercury Insurance.",
        "He stole a 2004 Mercury Grand Marquis.",
        "The probe passed the planet Mercury.",
        "Refugees from Sudan were defrauded.",
        "The scam spread through the Chromium browser.",
        "Counterfeit PCB assemblies were seized.",
        "A DNP nurse practitioner was charged.",
    ],
)
def test_dangerous_substance_homonyms_are_not_substances(text):
    priority = _score(text)
    assert not [r for r in priority.reasons if r.startswith("dangerous substance")]
    assert "dangerous_substances" not in priority.factors


@pytest.mark.parametrize(
    ("text", "substance"),
    [
        ("The toys were covered in lead paint.", "lead"),
        ("Tests found high levels of lead in the syrup.", "lead"),
        ("Two children were treated for lead poisoning.", "lead"),
        ("The spice was contaminated with lead.", "lead"),
        ("Inspectors found lead-based paint.", "lead"),
        ("He dumped used lead acid batteries.", "lead"),
        ("The cream contained mercury.", "mercury"),
        ("The fish had elevated mercury levels.", "mercury"),
        ("The chilli powder was tainted with Sudan I dye.", "sudan"),
        ("Transformers containing PCBs were dumped in the river.", "PCB"),
        ("The capsules were chromium-contaminated.", "chromium"),
        ("The liquor was laced with methanol.", "methanol"),  # not a homonym: any mention counts
        ("Arsenic was found in the rice.", "arsenic"),
    ],
)
def test_dangerous_substances_named_as_substances_count(text, substance):
    assert f"dangerous substance: {substance}" in _score(text).reasons


def test_a_substance_entity_makes_a_homonym_a_substance():
    text = "Tests of the syrup found lead."
    assert "dangerous substance: lead" in _score(text, entities=_entities(text, [("lead", "SUBSTANCE")])).reasons
    assert "dangerous substance: PCB" in _score("Dumped PCBs.", entities=_entities("Dumped PCBs.", [("PCBs", "PRODUCT")])).reasons
    # a firm's name is not a substance, whatever it is called
    insurer = "He defrauded Mercury Insurance."
    assert not [r for r in _score(insurer, entities=_entities(insurer, [("Mercury Insurance", "ORG")])).reasons if "substance" in r]
    # nor is a homonym the NER took for one where the words around it make it the everyday word
    for text in ("Ignoring the Need for a Permit Can Lead to Jail Time", "The investigation was lead by detectives.",
                 "Lead Prosecutor Kevin Brooks said.", "He defrauded Mercury Insurance."):
        mention = re.search(r"lead|mercury", text, re.I).group()
        assert not [r for r in _score(text, entities=_entities(text, [(mention, "SUBSTANCE")])).reasons if "substance" in r], text


@pytest.mark.parametrize(
    ("domains", "reason"),
    [
        (("FOOD",), "food-safety report"),
        (("MEDICINE",), "medicine report"),
        (("ENVIRONMENT",), "environmental crime report"),
        (("INTELLECTUAL_PROPERTY",), "intellectual-property report"),
        (("MEDICINE", "INTELLECTUAL_PROPERTY"), "medicine and intellectual-property report (2 domains at once)"),
    ],
)
def test_in_domain_base_points_have_a_reason(domains, reason):
    priority = _score("Inspectors seized the goods.", domains=domains, published=date(2019, 1, 1))
    assert priority.score > 0 and priority.reasons == [reason]


# Each factor and the reason it gives.
_FACTOR_REASONS = {
    "domains": r" report\b",
    "harm": r" deaths? reported$| ill or hospitalised$",
    "deaths": r" deaths? reported$",
    "illnesses": r" ill or hospitalised$",
    "dangerous_substances": r"^dangerous substance: ",
    "quantity": r" seized or involved$",
    "money": r"^about US\$",
    "recency": r"^within the last ",
    "novelty": r" new to the index: ",
    "grade": r"^source graded ",
}


def test_every_factor_that_scores_gives_its_reason():
    text = "Two people died and 23 others were hospitalised after drinking liquor laced with methanol; police seized 12 tonnes worth $2 million."
    entities = _entities(text, [("12 tonnes", "QUANTITY"), ("$2 million", "MONEY")])
    for grade in ("A1", "E5"):  # points given and points taken away
        priority = PriorityScorer().score(
            text=text, domains=["FOOD", "MEDICINE"], entities=entities, published=WEDNESDAY, event_dates=[],
            today=WEDNESDAY, grade=SourceGrade.parse(grade), new_firms=["Huaxin Trading"], new_products=["Moutai"],
        )
        assert set(priority.factors) == set(_FACTOR_REASONS)
        for factor, reason in _FACTOR_REASONS.items():
            assert any(re.search(reason, r) for r in priority.reasons), (factor, priority.reasons)


PRESS_RELEASES = Path(__file__).resolve().parents[2] / "shared" / "data" / "prosecutor_press_releases" / "text.tar.gz"
RELEASE_COUNTIES = ("harris_tx", "kings_ny", "orange_ca", "riverside_ca", "san_diego_ca")
RELEASES_PER_COUNTY = 12
JAN_21_2015_RELEASE = (
    "text/orange_ca/press_law-enforcement-seeks-potential-additional-victims-of-defendant-charged-with-illegally-"
    "performing-cosmetic-surgery.txt"
)


@pytest.fixture(scope="module")
def press_releases() -> dict[str, str]:
    """Real US prosecutors' press releases, read from the shared archive (never copied into the
    project): the first RELEASES_PER_COUNTY of each county in RELEASE_COUNTIES, by name, and the
    release that once gave "2015 ill or hospitalised"."""
    with tarfile.open(PRESS_RELEASES) as archive:
        members = {m.name: m for m in archive.getmembers() if m.isfile() and m.name.endswith(".txt")}
        chosen = [name for county in RELEASE_COUNTIES for name in sorted(n for n in members if n.startswith(f"text/{county}/"))[:RELEASES_PER_COUNTY]]
        return {name: archive.extractfile(members[name]).read().decode("utf-8", "replace") for name in [*chosen, JAN_21_2015_RELEASE]}


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# Written independently of kunlun_nlp.numbers: what a reader sees as a date, phone or case number.
_NOT_A_COUNT = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,\s*\d{{4}})?|\b\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|\b{_MONTH}\s+\d{{4}}"
    r"|\b\d{1,4}[/-]\d{1,2}[/-]\d{2,4}\b"
    r"|(?:\(\d{3}\)\s*|\b\d{3}[-.])\d{3}[-.]\d{4}\b"
    r"|\b(?:case|docket)\s*(?:no\.?|number|#)\s*[\w-]+|\b[\w]*\d+(?:-[\w]+)+",
    re.I,
)
_COUNT_WORDS = dict(enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
                              "seventeen eighteen nineteen".split()))
_COUNT_WORDS |= {10 * t: w for t, w in zip(range(2, 10), "twenty thirty forty fifty sixty seventy eighty ninety".split())}
_COUNT_WORDS |= {10 * t + u: f"{_COUNT_WORDS[10 * t]}-{_COUNT_WORDS[u]}" for t in range(2, 10) for u in range(1, 10)}
_COUNT_WORDS |= {12: "dozen", 24: "dozens", 40: "scores", 200: "hundreds"}


def _written_as_a_count(text: str, n: int) -> bool:
    """Whether `text` writes `n` somewhere other than inside a date, phone or case number (or
    reports a harm without a number, which counts 1)."""
    if n == 1 or (n in _COUNT_WORDS and re.search(rf"\b{_COUNT_WORDS[n]}\b", text, re.I)):
        return True
    inside = [m.span() for m in _NOT_A_COUNT.finditer(text)]
    for m in re.finditer(rf"(?<![\d,.]){n:,}(?![\d]|[,.]\d)|(?<![\d,.]){n}(?![\d]|[,.]\d)", text):
        if not any(a <= m.start() and m.end() <= b for a, b in inside):
            return True
    return False


def test_real_press_releases_are_read_as_a_person_would(press_releases):
    assert len(press_releases) > 50
    prioritiser = Prioritiser(load_priority_scorer())
    for name, text in press_releases.items():
        document = Document.create(text, id=name)
        for domains in ([], ["FOOD"]):  # as it is (none of the domains) and as if it were in one
            priority = prioritiser.priority(document, domains, [], [], index=None, today=WEDNESDAY)
            assert priority.reasons or not any(priority.factors.values()), (name, priority)
            if domains:
                assert "food-safety report" in priority.reasons, name
            for reason in priority.reasons:
                claimed = re.match(r"([\d,]+) (?:deaths? reported|ill or hospitalised)$", reason)
                if claimed:
                    n = int(claimed.group(1).replace(",", ""))
                    assert not 1900 <= n <= 2100, (name, reason)
                    assert _written_as_a_count(text, n), (name, reason)
                assert reason != "dangerous substance: lead" or re.search(r"lead (?:paint|poisoning|acid|content|levels?)|(?:levels|traces) of lead", text, re.I), (name, reason)
    assert "1 death reported" in prioritiser.priority(
        Document.create(press_releases[JAN_21_2015_RELEASE]), ["MEDICINE"], [], [], index=None, today=WEDNESDAY
    ).reasons


def test_priority_reasons_read_like_an_analysts():
    text = "Two people died after drinking liquor laced with methanol; police seized 12 tonnes."
    entities = _entities(text, [("12 tonnes", "QUANTITY")])
    priority = _score(text, entities=entities, new_firms=["Huaxin Trading"])
    assert "2 deaths reported" in priority.reasons
    assert "dangerous substance: methanol" in priority.reasons
    assert "12 t seized or involved" in priority.reasons
    assert "firm new to the index: Huaxin Trading" in priority.reasons
    assert "within the last week" in priority.reasons
    assert 0 <= priority.score <= 100


@pytest.mark.parametrize(
    ("more", "less"),
    [
        (dict(text="Three consumers died after eating the oil."), dict(text="Inspectors seized oil.")),
        (dict(text="The milk powder contained melamine."), dict(text="The milk powder was mislabelled.")),
        (dict(text="Police seized counterfeit drugs.", domains=("MEDICINE",)), dict(text="Police seized heroin.", domains=())),
        (dict(text="Seized.", domains=("MEDICINE", "INTELLECTUAL_PROPERTY")), dict(text="Seized.", domains=("MEDICINE",))),
        (dict(text="Seized.", published=WEDNESDAY), dict(text="Seized.", published=date(2019, 1, 1))),
        (dict(text="Seized.", grade="A1"), dict(text="Seized.", grade="E5")),
    ],
)
def test_priority_orders_crafted_pairs(more, less):
    assert _score(**more).score > _score(**less).score


def test_priority_scale_bands_quantity_and_money():
    big_text, small_text = "Seized 40 tonnes.", "Seized 40 kg."
    big = _score(big_text, entities=_entities(big_text, [("40 tonnes", "QUANTITY")]))
    small = _score(small_text, entities=_entities(small_text, [("40 kg", "QUANTITY")]))
    assert big.score > small.score
    assert "40 t seized or involved" in big.reasons and "40 kg seized or involved" not in small.reasons  # below the bands
    huge_text = "Seized 1,160 tonnes."
    huge = _score(huge_text, entities=_entities(huge_text, [("1,160 tonnes", "QUANTITY")]))
    assert "1,160 t seized or involved" in huge.reasons
    money_text = "Goods worth RMB 30 million."
    money = _score(money_text, entities=_entities(money_text, [("RMB 30 million", "MONEY")]))
    assert any(r.startswith("about US$4.2 million") for r in money.reasons)


def test_none_of_the_domains_stays_below_any_in_domain_report():
    worst_in_domain = _score("Seized.", published=date(2015, 1, 1), grade="E5")
    best_none = _score("Five people died; methanol.", domains=(), grade="A1")
    assert best_none.score < worst_in_domain.score and best_none.score <= 15


def test_weights_live_in_one_config_file(tmp_path):
    assert set(PriorityScorer().config) >= {"domains", "harm", "dangerous_substances", "scale", "recency", "novelty", "grade"}
    custom = tmp_path / "priority.toml"
    custom.write_text(DEFAULT_CONFIG.read_text().replace("per_death = 12", "per_death = 1"))
    reweighed = PriorityScorer(custom).score(
        text="Two people died.", domains=["FOOD"], entities=[], published=None, event_dates=[], today=WEDNESDAY,
        grade=SourceGrade.parse("F6"),
    )
    assert reweighed.factors["deaths"] == 2


def test_grades_parse_and_default_per_source():
    assert SourceGrade.parse("b2") == SourceGrade("B", 2)
    for bad in ("G1", "A7", "", "AA", "1A"):
        with pytest.raises(ValueError):
            SourceGrade.parse(bad)
    config = {"grade": {"default_reliability": "F", "default_credibility": "6", "sources": {"Xinhua": "B2"}}}
    assert default_grade("Xinhua", config).code == "B2"
    assert default_grade("unknown blog", config).code == "F6"


def _graded(doc_id: str, text: str, grade: str | None = None) -> Document:
    """Through a pipeline declared with the grading stage alone."""
    grading = Pipeline(PipelineConfig((StageConfig("source_grade"),)))
    (tagged,) = grading.tag([Document.create(text, id=doc_id, grade=grade)])
    return tagged.document


def _priority(document: Document, firm: str, index):
    start = document.text.index(firm)
    entity = Entity("ORG", firm, start, start + len(firm), "Huaxin Trading")
    return Prioritiser(load_priority_scorer()).priority(document, ["FOOD"], [entity], [], index=index, today=WEDNESDAY)


def test_grading_and_novelty_against_the_index(embedded_index):
    first = _graded("one", "Police seized fake formula made by Huaxin Trading Co., Ltd.")
    assert first.grade == "F6"
    assert "firm new to the index: Huaxin Trading" in _priority(first, "Huaxin Trading Co., Ltd.", embedded_index).reasons
    start = first.text.index("Huaxin")
    entity = Entity("ORG", "Huaxin Trading Co., Ltd.", start, start + 24, "Huaxin Trading")
    embedded_index.put([TaggedDocument(first, [DomainScore("FOOD", 0.9)], [DomainScore("FOOD", 0.9)], [entity], [1.0] + [0.0] * 383)])
    second = _graded("two", "HUAXIN TRADING CO LTD was fined again.", grade="b2")
    assert second.grade == "B2"
    reasons = _priority(second, "HUAXIN TRADING CO LTD", embedded_index).reasons
    assert not [r for r in reasons if "new to the index" in r]
    assert "source graded B2" in reasons
    # judged against other reports only: re-scoring the first report does not make its firm "known"
    assert "firm new to the index: Huaxin Trading" in _priority(first, "Huaxin Trading Co., Ltd.", embedded_index).reasons


def test_novelty_of_a_batch_is_judged_in_one_request_as_one_by_one(embedded_index):
    """The priority stage asks the index once per batch; each report is still judged against the
    others stored, never against itself."""
    stored = _graded("one", "Police seized fake formula made by Huaxin Trading Co., Ltd.")
    start = stored.text.index("Huaxin")
    huaxin = Entity("ORG", "Huaxin Trading Co., Ltd.", start, start + 24, "Huaxin Trading")
    embedded_index.put([TaggedDocument(stored, [DomainScore("FOOD", 0.9)], [DomainScore("FOOD", 0.9)], [huaxin], [1.0] + [0.0] * 383)])
    again = _graded("two", "HUAXIN TRADING CO LTD was fined again.")
    fresh = _graded("three", "Oduya Agro Export Ltd. shipped fake honey.")

    def named(document: Document, firm: str, normalized: str) -> Scored:
        begin = document.text.index(firm)
        return Scored(document, ["FOOD"], [Entity("ORG", firm, begin, begin + len(firm), normalized)], [])

    batch = [named(stored, "Huaxin Trading Co., Ltd.", "Huaxin Trading"), named(again, "HUAXIN TRADING CO LTD", "Huaxin Trading"),
             named(fresh, "Oduya Agro Export Ltd.", "Oduya Agro Export")]
    prioritiser = Prioritiser(load_priority_scorer())
    together = prioritiser.priorities(batch, index=embedded_index, today=WEDNESDAY)
    one_by_one = [prioritiser.priority(r.document, r.domains, r.entities, r.cases, index=embedded_index, today=WEDNESDAY) for r in batch]
    assert together == one_by_one
    new = [[reason for reason in p.reasons if "new to the index" in reason] for p in together]
    assert new == [["firm new to the index: Huaxin Trading"], [], ["firm new to the index: Oduya Agro Export"]]
