"""Triage: date resolution, case cards, priority with reasons, source grades."""

from __future__ import annotations

from datetime import date

import pytest

from kunlun_nlp.document import Document, DomainScore, Entity, TaggedDocument
from kunlun_nlp.normalize import entity_details
from kunlun_nlp.triage.cards import build_cards
from kunlun_nlp.triage.dates import resolve_date
from kunlun_nlp.triage.grading import default_grade
from kunlun_nlp.vocabulary import SourceGrade
from kunlun_nlp.pipeline import Pipeline, PipelineConfig, StageConfig
from kunlun_nlp.triage.priority import DEFAULT_CONFIG, PriorityScorer, count_harm, load_priority_scorer
from kunlun_nlp.triage.triage import Prioritiser

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
    ],
)
def test_harm_counts(text, deaths, ill):
    assert count_harm(text) == (deaths, ill)


def _score(text: str, domains=("FOOD",), entities=(), published=WEDNESDAY, grade="F6", new_firms=()):
    return PriorityScorer().score(
        text=text, domains=list(domains), entities=list(entities), published=published, event_dates=[],
        today=WEDNESDAY, grade=SourceGrade.parse(grade), new_firms=list(new_firms),
    )


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
